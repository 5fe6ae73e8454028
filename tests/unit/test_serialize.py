"""to_jsonable: what `--json` and the gateway print for engine values."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from pathlib import PurePosixPath

from autodevai.engine.breaker import BreakerSnapshot, BreakerState
from autodevai.engine.errors import Attempt
from autodevai.engine.reports import CheckResult, SelfTestReport
from autodevai.engine.serialize import to_jsonable
from autodevai.engine.types import ChatRequest, ModelInfo, ModelRef, Preference, RouteDecision
from autodevai.engine.workflows import StepResult, WorkflowResult


def test_dataclass_becomes_dict_with_json_properties() -> None:
    report = SelfTestReport((CheckResult("store", True, "writable", 1.5), CheckResult("sim", False, "refused")))
    out = to_jsonable(report)
    assert out == {
        "checks": [
            {"name": "store", "ok": True, "detail": "writable", "elapsed_ms": 1.5},
            {"name": "sim", "ok": False, "detail": "refused", "elapsed_ms": 0.0},
        ],
        "ok": False,
    }
    assert to_jsonable(SelfTestReport((CheckResult("store", True, "ok"),)))["ok"] is True


def test_workflow_result_reports_ok() -> None:
    result = WorkflowResult("auto", 0.3, (StepResult("answer", "ok", "42", "m", 0.001, 10.0),), "42", 0.001, 10.0)
    out = to_jsonable(result)
    assert out["ok"] is True
    assert out["steps"][0]["output"] == "42"


def test_pydantic_model_enums_and_tuples() -> None:
    info = ModelInfo(id="acme/m", provider="sim", price_in=1e-6, input_modalities=("text", "image"))
    out = to_jsonable(info)
    assert out["id"] == "acme/m"
    assert out["input_modalities"] == ["text", "image"]
    assert out["price_in"] == 1e-6
    request = ChatRequest.from_prompt("hi", preference="cost")
    req = to_jsonable(request)
    assert req["preference"] == "cost"
    assert req["messages"] == [
        {"role": "user", "content": "hi", "name": None, "tool_calls": None, "tool_call_id": None}
    ]


def test_enums_become_their_values() -> None:
    class Color(enum.Enum):
        RED = 1

    assert to_jsonable(Color.RED) == 1
    assert to_jsonable(Preference.SPEED) == "speed"
    assert to_jsonable(BreakerState.HALF_OPEN) == "half_open"
    assert json.dumps(to_jsonable([Preference.SPEED, BreakerState.OPEN])) == '["speed", "open"]'


def test_nested_values() -> None:
    decision = RouteDecision(
        Preference.COST,
        (ModelRef("sim", "a"), ModelRef("sim", "b")),
        ("cheapest that fits",),
        scores=(("sim:a", 0.9),),
        excluded=(("context too small", 3),),
    )
    out = to_jsonable({"route": decision, "attempts": (Attempt("sim", "a", "ok", latency_ms=12.5),)})
    assert out["route"]["preference"] == "cost"
    assert out["route"]["candidates"] == [{"provider": "sim", "model": "a"}, {"provider": "sim", "model": "b"}]
    assert out["route"]["scores"] == [["sim:a", 0.9]]
    assert out["attempts"][0] == {"provider": "sim", "model": "a", "outcome": "ok", "detail": "", "latency_ms": 12.5}


def test_non_finite_floats_become_null() -> None:
    snap = BreakerSnapshot(BreakerState.OPEN, 10, math.nan, math.inf, 5.0, -math.inf, 1)
    out = to_jsonable(snap)
    assert out["failure_rate"] is None
    assert out["slow_rate"] is None
    assert out["retry_in_s"] is None
    assert out["open_until"] == 5.0
    # Strict JSON: no NaN / Infinity tokens that other tools refuse.
    text = json.dumps(out, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


def test_mapping_keys_become_strings_and_other_objects_text() -> None:
    out = to_jsonable({1: frozenset({"a"}), Preference.COST: PurePosixPath("x/y")})
    assert out == {"1": ["a"], "cost": "x/y"}


def test_scalars_pass_through() -> None:
    assert to_jsonable(None) is None
    assert to_jsonable(True) is True
    assert to_jsonable(3) == 3
    assert to_jsonable(2.5) == 2.5
    assert to_jsonable("s") == "s"


def test_json_dumps_of_result_works_for_a_mixed_value() -> None:
    @dataclass(frozen=True)
    class Row:
        name: str
        values: tuple[float, ...]
        state: BreakerState

    value = [Row("x", (1.0, math.nan), BreakerState.CLOSED), {"k": (1, 2)}]
    assert json.loads(json.dumps(to_jsonable(value), allow_nan=False)) == [
        {"name": "x", "values": [1.0, None], "state": "closed"},
        {"k": [1, 2]},
    ]
