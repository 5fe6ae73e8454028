"""The engine against the real simulator over HTTP: fallbacks, Retry-After, breakers, deadlines, typed errors."""

from __future__ import annotations

import time

import pytest

from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState
from autodevai.engine.types import ChatRequest
from autodevai.sim.server import SimServer
from tests.fakes.clock import ManualClock

from .conftest import BIG, CHEAP, MINI, MakeEngine


def ask(model: str | None = None, **kw: object) -> ChatRequest:
    return ChatRequest.from_prompt("What is 12*12?", model=model, max_tokens=32, **kw)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_error", "status": 500},
        {"kind": "timeout", "delay_s": 30},
        {"kind": "reset"},
        {"kind": "http_error", "status": 503, "retry_after": 0},
    ],
    ids=["500", "timeout", "reset", "503"],
)
async def test_falls_back_when_first_model_fails(sim: SimServer, make_engine: MakeEngine, fault: dict) -> None:
    app = await make_engine(resilience={"read_timeout_s": 0.5, "retries_per_model": 0})
    sim.add_fault({**fault, "model": BIG})
    t0 = time.monotonic()
    response = await app.engine.execute_enhanced_ai_request(ask(BIG, fallbacks=[MINI]))
    assert response.model == MINI
    assert response.fell_back
    assert response.attempts[0].model == BIG and response.attempts[0].outcome != "ok"
    assert response.attempts[-1].outcome == "ok"
    assert "144" in response.content or response.content  # the fallback really answered
    assert time.monotonic() - t0 < 5


async def test_retry_after_is_honored(sim: SimServer, make_engine: MakeEngine) -> None:
    clock = ManualClock()
    app = await make_engine(clock=clock, resilience={"retries_per_model": 2})
    sim.add_fault({"kind": "rate_limit", "model": MINI, "times": 1, "retry_after": 1})
    response = await app.engine.execute_enhanced_ai_request(ask(MINI, fallbacks=[]))
    assert response.model == MINI
    assert [a.outcome for a in response.attempts] == ["RateLimited", "ok"]
    assert clock.slept == [1.0], "the engine waits exactly what the server's Retry-After says, then retries"


async def test_a_503_retry_after_is_honored_too(sim: SimServer, make_engine: MakeEngine) -> None:
    clock = ManualClock()
    app = await make_engine(clock=clock, resilience={"retries_per_model": 1})
    sim.add_fault({"kind": "http_error", "status": 503, "model": MINI, "times": 1, "retry_after": 3})
    response = await app.engine.execute_enhanced_ai_request(ask(MINI, fallbacks=[]))
    assert [a.outcome for a in response.attempts] == ["ProviderUnavailable", "ok"]
    assert clock.slept == [3.0]


async def test_breaker_opens_then_closes_through_half_open(sim: SimServer, make_engine: MakeEngine) -> None:
    clock = ManualClock()
    app = await make_engine(
        clock=clock,
        resilience={
            "retries_per_model": 0,
            "breaker": {
                "window": 4,
                "min_calls": 3,
                "failure_rate": 0.5,
                "open_s": 0.4,
                "open_jitter": 0,
                "half_open_probes": 1,
            },
        },
    )
    engine = app.engine
    sim.add_fault({"kind": "http_error", "status": 502, "model": CHEAP})
    for _ in range(3):
        with pytest.raises(E.ProviderUnavailable):
            await engine.execute_enhanced_ai_request(ask(CHEAP, fallbacks=[]))
    status = await engine.get_enhanced_system_status()
    row = next(b for b in status.breakers if b.model == CHEAP)
    assert row.snapshot.state is BreakerState.OPEN
    calls_before = sim.stats.by_model.get(CHEAP, 0)
    with pytest.raises(E.NoRouteAvailable) as info:
        await engine.execute_enhanced_ai_request(ask(CHEAP, fallbacks=[]))
    assert "CircuitOpen" in str(info.value)
    assert sim.stats.by_model.get(CHEAP, 0) == calls_before, "an open breaker must not send"
    sim.clear_faults()
    clock.advance(0.45)  # past open_s: the breaker lets one probe through
    response = await engine.execute_enhanced_ai_request(ask(CHEAP, fallbacks=[]))
    assert response.model == CHEAP
    status = await engine.get_enhanced_system_status()
    row = next(b for b in status.breakers if b.model == CHEAP)
    assert row.snapshot.state is BreakerState.CLOSED


async def test_overall_deadline(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    sim.add_fault({"kind": "slow_first_byte", "delay_s": 5})
    with pytest.raises(E.DeadlineExceeded) as info:
        await app.engine.execute_enhanced_ai_request(ask(MINI, deadline_s=0.6))
    # The 5 s first byte is abandoned at the deadline (tests/unit/test_execution.py times it on a manual clock).
    assert "0.6 s deadline" in str(info.value)
    assert (await app.engine.get_request_history(1))[0].status == "DeadlineExceeded"


async def test_malformed_json_is_a_typed_error(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine(resilience={"retries_per_model": 0})
    sim.add_fault({"kind": "malformed", "model": MINI})
    with pytest.raises(E.MalformedResponse):
        await app.engine.execute_enhanced_ai_request(ask(MINI, fallbacks=[]))


@pytest.mark.parametrize(("status", "exc"), [(401, E.AuthRejected), (402, E.PaymentRequired)], ids=["401", "402"])
async def test_auth_and_payment_errors_are_clear_and_not_retried(
    sim: SimServer, make_engine: MakeEngine, status: int, exc: type[E.EngineError]
) -> None:
    app = await make_engine(resilience={"retries_per_model": 3})
    sim.add_fault({"kind": "http_error", "status": status})
    with pytest.raises(exc) as info:
        await app.engine.execute_enhanced_ai_request(ask(MINI))
    assert sim.stats.total == 1, "a 401/402 must not be retried nor sent to fallbacks of the same provider"
    assert info.value.hint  # tells the user what to do
    assert "key" in str(info.value) or "credit" in str(info.value)


async def test_rejected_key_from_sim(sim: SimServer, make_engine: MakeEngine) -> None:
    sim.config.keys = {"only-this-key"}
    app = await make_engine()
    with pytest.raises(E.AuthRejected):
        await app.engine.execute_enhanced_ai_request(ask(MINI))


async def test_unknown_model_suggests(make_engine: MakeEngine) -> None:
    app = await make_engine()
    with pytest.raises(E.InvalidRequest) as info:
        await app.engine.execute_enhanced_ai_request(ask("openai/gpt-4o-minii"))
    assert "gpt-4o-mini" in str(info.value)


async def test_failures_are_recorded_in_metrics_and_store(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine(resilience={"retries_per_model": 0})
    sim.add_fault({"kind": "http_error", "status": 500, "model": BIG})
    await app.engine.execute_enhanced_ai_request(ask(BIG, fallbacks=[MINI]))
    with pytest.raises(E.ProviderUnavailable):
        await app.engine.execute_enhanced_ai_request(ask(BIG, fallbacks=[]))
    summary = await app.engine.get_performance_metrics("1m")
    assert summary.overall.count == 2
    assert summary.overall.errors.get("ProviderUnavailable") == 1
    rows = await app.engine.get_request_history(10)
    assert {r.status for r in rows} == {"ok", "ProviderUnavailable"}
