"""Bad input meets a clear, typed error everywhere, and nothing is lost: money that is not a finite, bounded
amount, text that is not valid Unicode, nesting deep enough to overflow a parser, a config directory that cannot be
written, and a bug inside the engine (stored as a failed request, raised as ``InternalError``)."""

from __future__ import annotations

import os
import random
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from autodevai.compose import save_settings_file
from autodevai.engine import Engine
from autodevai.engine import errors as E
from autodevai.engine.budget import BudgetLedger, to_nano
from autodevai.engine.input_limits import check_request, storable, user_message
from autodevai.engine.settings import Settings, load_settings, parse_settings, set_path
from autodevai.engine.types import ChatRequest, ModelInfo
from tests.fakes.clock import ManualClock
from tests.fakes.memory_store import MemoryStore
from tests.fakes.scripted_provider import ScriptedProvider

MODEL = ModelInfo(id="v1/alpha", provider="fake", vendor="v1", context_length=8000, price_in=1e-6, price_out=2e-6)


def _nested(depth: int) -> dict[str, object]:
    root: dict[str, object] = {}
    node = root
    for _ in range(depth):
        child: dict[str, object] = {}
        node["a"] = [child]
        node = child
    return root


# ---- money -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("inf"), tomllib.loads("v = 1e400")["v"], float("nan"), 1e300, -1.0])
def test_a_budget_cap_must_be_a_finite_bounded_amount(value: float) -> None:
    with pytest.raises(E.ConfigError) as info:
        set_path(Settings(), "budget.daily_usd", value)
    assert info.value.field == "budget.daily_usd"


def test_prices_are_finite_and_bounded_too() -> None:
    provider = {"name": "local", "base_url": "http://127.0.0.1:1", "price_in_per_m": float("inf")}
    with pytest.raises(E.ConfigError, match="price_in_per_m"):
        parse_settings({"providers": [provider]})


def test_the_ledger_counts_any_finite_amount_without_overflow() -> None:
    ledger = BudgetLedger(Settings().budget, now_wall=1_700_000_000.0)
    reservation = ledger.reserve(1e300, 1_700_000_000.0)  # a catalog price gone mad: held, not an OverflowError
    ledger.settle(reservation, 1e300, 1_700_000_000.0)
    assert to_nano(1e300) == to_nano(1e9)


async def test_configure_refuses_inf_and_saves_nothing_and_the_config_stays_usable(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    clock = ManualClock()
    settings = parse_settings({"providers": [{"name": "fake", "base_url": "http://127.0.0.1:9"}]})
    save_settings_file(path, settings)
    before = path.read_bytes()
    engine = Engine(
        settings,
        provider_factory=lambda ps: ScriptedProvider("fake", [MODEL], clock),
        store=MemoryStore(),
        clock=clock,
        save_settings=lambda s: save_settings_file(path, s),
    )
    await engine.initialize_enhanced_orchestration(refresh="wait")
    try:
        for bad in (float("inf"), tomllib.loads("v = 1e400")["v"]):
            with pytest.raises(E.ConfigError, match="daily_usd"):
                await engine.configure_enhanced_orchestration({"budget": {"daily_usd": bad}})
        assert path.read_bytes() == before  # never saved
        assert engine.settings.budget.daily_usd is None  # nor applied
        await engine.configure_enhanced_orchestration({"budget": {"daily_usd": 5}})  # the fix goes through
        assert load_settings(path).budget.daily_usd == 5
        response = await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi", model="v1/alpha"))
        assert response.content == "ok"
    finally:
        await engine.aclose()


def test_a_file_holding_inf_is_a_config_error_that_a_patch_can_repair(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[budget]\ndaily_usd = inf\nmonthly_usd = 1e400\n", encoding="utf-8")  # an older version's file
    with pytest.raises(E.ConfigError, match="daily_usd"):
        load_settings(path)
    repaired = load_settings(path, {"budget": {"daily_usd": 3, "monthly_usd": None}})
    assert (repaired.budget.daily_usd, repaired.budget.monthly_usd) == (3, None)


# ---- files -------------------------------------------------------------------------------------------------


def test_deeply_nested_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(E.ConfigError, match="nested too deeply"):
        load_settings(path)


def _read_only_dir(tmp_path: Path) -> Path:
    """A directory nobody can create files in: a 0555 dir, or (for root, whom modes do not stop) sysfs."""
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    if os.access(d, os.W_OK):
        return Path("/sys")
    return d


def test_a_read_only_config_dir_is_a_config_error_and_leaves_the_file_alone(tmp_path: Path) -> None:
    directory = _read_only_dir(tmp_path)
    with pytest.raises(E.ConfigError, match="cannot write the settings file") as info:
        save_settings_file(directory / "config.toml", Settings())
    assert "nothing was changed" in info.value.hint
    missing_parent = directory / "sub" / "config.toml"
    with pytest.raises(E.ConfigError):
        save_settings_file(missing_parent, Settings())


# ---- text and nesting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [("hi \ud800 there", "lone UTF-16 surrogate"), ("\udcff", "invalid UTF-8 (the byte 0xff)")],
)
def test_text_that_is_not_valid_unicode_is_refused_naming_the_field(text: str, what: str) -> None:
    request = ChatRequest.from_prompt(text)
    with pytest.raises(E.InvalidRequest, match=r"messages\[0\]\.content") as info:
        check_request(request)
    assert what in str(info.value)
    assert info.value.field == "messages[0].content"
    with pytest.raises(E.InvalidRequest, match="content"):
        user_message(text)


def test_surrogates_in_other_fields_and_keys_are_found() -> None:
    with pytest.raises(E.InvalidRequest, match="extra_body"):
        check_request(ChatRequest.from_prompt("ok", extra_body={"note": "\udc80"}))
    with pytest.raises(E.InvalidRequest, match="tools"):
        tool = {"type": "function", "function": {"name": "f", "description": "bad \ud83d"}}
        check_request(ChatRequest.from_prompt("ok", tools=[tool]))
    check_request(ChatRequest.from_prompt("emoji are fine: \U0001f600"))  # a real pair is one code point


def test_nesting_too_deep_for_a_json_encoder_is_refused() -> None:
    with pytest.raises(E.InvalidRequest, match="nested more than 128 levels"):
        check_request(ChatRequest.from_prompt("ok", extra_body={"x": _nested(2000)}))


def test_storable_text_escapes_lone_surrogates_only() -> None:
    assert storable("a\ud800b") == "a\\ud800b"
    assert storable("plain \U0001f600") == "plain \U0001f600"


# ---- the engine: refused requests and bugs are stored ----------------------------------------------------------


async def _engine(store: MemoryStore, provider: ScriptedProvider, clock: ManualClock) -> Engine:
    engine = Engine(
        parse_settings({"providers": [{"name": "fake", "base_url": "http://127.0.0.1:9"}]}),
        provider_factory=lambda ps: provider,
        store=store,
        clock=clock,
        rng=random.Random(3),
    )
    await engine.initialize_enhanced_orchestration(refresh="wait")
    return engine


async def test_a_lone_surrogate_is_a_typed_error_and_the_request_is_stored() -> None:
    clock, store = ManualClock(), MemoryStore()
    provider = ScriptedProvider("fake", [MODEL], clock)
    engine = await _engine(store, provider, clock)
    try:
        with pytest.raises(E.InvalidRequest, match="surrogate") as info:
            await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("say \ud800"))
        assert info.value.field == "messages[0].content"
        assert provider.calls == []  # nothing was sent
        assert [r.status for r in store.requests] == ["InvalidRequest"]
        with pytest.raises(E.InvalidRequest, match="nested"):
            await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("ok", extra_body={"x": _nested(500)}))
        assert len(store.requests) == 2
    finally:
        await engine.aclose()


async def test_an_unexpected_exception_is_stored_as_failed_and_raised_as_internal_error() -> None:
    clock, store = ManualClock(), MemoryStore()
    provider = ScriptedProvider("fake", [MODEL], clock)
    provider.script("v1/alpha", KeyError("a bug in a provider"))
    engine = await _engine(store, provider, clock)
    try:
        with pytest.raises(E.InternalError, match="KeyError") as info:
            await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi", model="v1/alpha", fallbacks=[]))
        assert isinstance(info.value.__cause__, KeyError)
        assert store.requests[-1].status == "InternalError"
        assert store.requests[-1].model == "v1/alpha"
        assert engine.settings is not None and (await engine.get_enhanced_system_status()).in_flight == 0
        assert (await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi"))).content == "ok"
    finally:
        await engine.aclose()


def test_a_pydantic_shape_error_still_comes_first_for_a_bad_message() -> None:
    with pytest.raises(ValidationError):
        user_message({"not": "a message"})
