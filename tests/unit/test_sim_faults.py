"""Fault rules: the header/CLI syntax, defaults, counting down, probability and model globs."""

from __future__ import annotations

import pytest

from autodevai.sim import FaultKind, FaultRule, parse_fault_spec
from autodevai.sim.faults import FaultSet


def test_parse_full_spec() -> None:
    rule = parse_fault_spec("http_error; status=503; retry_after=1.5; delay=2; after=3; model=openai/*; times=4; p=0.5")
    assert rule.kind is FaultKind.HTTP_ERROR and rule.http_status == 503 and rule.retry_after == 1.5
    assert rule.delay == 2 and rule.chunks == 3 and rule.model == "openai/*" and rule.times == 4
    assert rule.probability == 0.5


def test_kind_defaults() -> None:
    assert parse_fault_spec("rate_limit").http_status == 429
    assert parse_fault_spec("http_error").http_status == 500
    assert parse_fault_spec("timeout").delay >= 60
    assert parse_fault_spec("cut_stream").chunks == 2


@pytest.mark.parametrize("spec", ["", "boom", "http_error;status", "http_error;colour=red", "http_error;status=x"])
def test_bad_specs_raise_value_error_that_explains(spec: str) -> None:
    with pytest.raises(ValueError, match="bad fault spec"):
        parse_fault_spec(spec)


def test_times_count_down_and_spent_rules_disappear() -> None:
    faults = FaultSet([FaultRule(kind=FaultKind.RESET, times=2)])
    assert [faults.pick("a/b") is not None for _ in range(3)] == [True, True, False]
    assert faults.rules() == []


def test_model_glob_and_order() -> None:
    faults = FaultSet([FaultRule(kind=FaultKind.RESET, model="anthropic/*"), FaultRule(kind=FaultKind.MALFORMED)])
    hit = faults.pick("anthropic/claude-3.5-sonnet")
    other = faults.pick("openai/gpt-4o")
    assert hit is not None and hit.kind is FaultKind.RESET
    assert other is not None and other.kind is FaultKind.MALFORMED


def test_probability_draws_from_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        faults = FaultSet([FaultRule(kind=FaultKind.RESET, probability=0.25)], seed=seed)
        return [faults.pick("m") is not None for _ in range(400)]

    assert run(5) == run(5) and run(5) != run(6)
    assert 60 <= sum(run(5)) <= 140
