"""The request path on a manual clock: deadlines, backoff, Retry-After, breakers, rate limits and budgets, with an
in-process provider and store, so time is only ever advanced, never waited for."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from autodevai.engine import Engine
from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState
from autodevai.engine.events import RequestEvent
from autodevai.engine.retry import backoff_delay
from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest, ModelInfo
from tests.fakes.clock import ManualClock
from tests.fakes.memory_store import MemoryStore
from tests.fakes.scripted_provider import HANG, ScriptedProvider, Slow

ALPHA, BETA = "v1/alpha", "v2/beta"
MODELS = [
    ModelInfo(id=ALPHA, provider="fake", vendor="v1", context_length=8000, price_in=1e-6, price_out=2e-6, quality=0.8),
    ModelInfo(id=BETA, provider="fake", vendor="v2", context_length=8000, price_in=2e-6, price_out=4e-6, quality=0.7),
]
SEED = 7


class Rig:
    def __init__(self, engine: Engine, provider: ScriptedProvider, clock: ManualClock, store: MemoryStore) -> None:
        self.engine, self.provider, self.clock, self.store = engine, provider, clock, store

    async def ask(self, model: str | None = ALPHA, **kw: Any) -> Any:
        kw.setdefault("fallbacks", [])
        kw.setdefault("max_tokens", 32)
        request = ChatRequest.from_prompt("What is 12*12?", model=model, **kw)
        return await self.engine.execute_enhanced_ai_request(request)


MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    engines: list[Engine] = []

    async def make(rpm: int | None = None, **settings: Any) -> Rig:
        clock = ManualClock()
        store = MemoryStore()
        provider = ScriptedProvider("fake", MODELS, clock)
        data = {"providers": [{"name": "fake", "base_url": "http://127.0.0.1:9", "rpm": rpm}], **settings}
        engine = Engine(
            parse_settings(data),
            provider_factory=lambda ps: provider,
            store=store,
            clock=clock,
            rng=random.Random(SEED),
        )
        await engine.initialize_enhanced_orchestration(refresh="wait")
        engines.append(engine)
        return Rig(engine, provider, clock, store)

    yield make
    for engine in engines:
        await engine.aclose()


async def test_the_deadline_ends_a_call_that_never_answers_exactly_on_time(make_rig: MakeRig) -> None:
    rig = await make_rig()
    rig.provider.script(ALPHA, HANG)
    start = rig.clock.now()
    with pytest.raises(E.DeadlineExceeded) as info:
        await rig.ask(deadline_s=0.6)
    assert rig.clock.now() - start == pytest.approx(0.6)
    assert [(model, timeout) for model, timeout, _ in rig.provider.calls] == [(ALPHA, pytest.approx(0.6))]
    assert "0.6 s deadline" in str(info.value)
    assert rig.store.requests[-1].status == "DeadlineExceeded"


async def test_retryable_failures_back_off_with_full_jitter_then_answer(make_rig: MakeRig) -> None:
    rig = await make_rig(resilience={"retries_per_model": 2, "backoff_base_s": 0.5, "backoff_max_s": 8.0})
    down = E.ProviderUnavailable("502", provider="fake", status=502)
    rig.provider.script(ALPHA, down, down)
    response = await rig.ask()
    assert [a.outcome for a in response.attempts] == ["ProviderUnavailable", "ProviderUnavailable", "ok"]
    rng = random.Random(SEED)
    assert rig.clock.slept == [backoff_delay(0, 0.5, 8.0, rng), backoff_delay(1, 0.5, 8.0, rng)]
    assert [at for _, _, at in rig.provider.calls] == [1000.0, 1000.0 + rig.clock.slept[0], rig.clock.now()]


@pytest.mark.parametrize(
    "error",
    [
        E.RateLimited("429", provider="fake", status=429, retry_after=2.0),
        E.ProviderUnavailable("503", provider="fake", status=503, retry_after=2.0),
    ],
    ids=["429", "503"],
)
async def test_retry_after_is_waited_exactly(make_rig: MakeRig, error: E.ProviderError) -> None:
    rig = await make_rig(resilience={"retries_per_model": 1})
    rig.provider.script(ALPHA, error)
    response = await rig.ask()
    assert rig.clock.slept == [2.0]
    assert [a.outcome for a in response.attempts] == [type(error).__name__, "ok"]


async def test_a_retry_after_beyond_the_backoff_cap_moves_to_the_next_model_at_once(make_rig: MakeRig) -> None:
    rig = await make_rig(resilience={"retries_per_model": 2, "backoff_max_s": 8.0})
    rig.provider.script(ALPHA, E.ProviderUnavailable("503", provider="fake", status=503, retry_after=30.0))
    response = await rig.ask(fallbacks=[BETA])
    assert response.model == BETA and rig.clock.slept == []


async def test_a_rate_limited_last_candidate_waits_for_its_slot_on_the_clock(make_rig: MakeRig) -> None:
    rig = await make_rig(rpm=1)
    await rig.ask()
    response = await rig.ask(deadline_s=120.0)  # the bucket holds one request a minute: the second waits 60 s
    assert response.model == ALPHA
    assert rig.clock.slept == [pytest.approx(60.0)]


async def test_a_rate_limit_wait_past_the_deadline_is_refused_without_waiting(make_rig: MakeRig) -> None:
    rig = await make_rig(rpm=1)
    await rig.ask()
    with pytest.raises(E.RateLimited):
        await rig.ask(deadline_s=30.0)
    assert rig.clock.slept == []


async def test_an_open_breaker_skips_the_model_until_its_time_is_up(make_rig: MakeRig) -> None:
    breaker = {
        "window": 4,
        "min_calls": 3,
        "failure_rate": 0.5,
        "open_s": 30.0,
        "open_jitter": 0,
        "half_open_probes": 1,
    }
    rig = await make_rig(resilience={"retries_per_model": 0, "breaker": breaker})
    rig.provider.script(ALPHA, *[E.ProviderUnavailable("502", provider="fake", status=502)] * 3)
    for _ in range(3):
        with pytest.raises(E.ProviderUnavailable):
            await rig.ask()
    calls = len(rig.provider.calls)
    with pytest.raises(E.NoRouteAvailable, match="CircuitOpen"):
        await rig.ask()
    assert len(rig.provider.calls) == calls, "an open breaker must not send"
    rig.clock.advance(29.9)
    with pytest.raises(E.NoRouteAvailable):
        await rig.ask()
    rig.clock.advance(0.1)  # 30 s after it opened: half-open, one probe
    assert (await rig.ask()).model == ALPHA
    status = await rig.engine.get_enhanced_system_status()
    assert [b.snapshot.state for b in status.breakers] == [BreakerState.CLOSED]


async def test_a_route_only_the_budget_prevents_is_refused_as_over_budget(make_rig: MakeRig) -> None:
    rig = await make_rig(budget={"daily_usd": 0.00001})
    with pytest.raises(E.BudgetExceeded) as info:
        await rig.ask(model=None, max_tokens=4000)
    assert info.value.left == pytest.approx(0.00001) and "left" in str(info.value)
    assert rig.provider.calls == []
    with pytest.raises(E.NoRouteAvailable):  # no route for another reason stays what it is, budget or not
        await rig.ask(model=None, provider="nobody")


async def test_the_metrics_event_and_the_stored_row_are_the_same_request(make_rig: MakeRig) -> None:
    rig = await make_rig(resilience={"retries_per_model": 0})
    events: list[RequestEvent] = []

    class Sink:
        def record(self, event: RequestEvent) -> None:
            events.append(event)

    rig.engine.add_metrics_sink(Sink())
    rig.provider.script(ALPHA, Slow(0.5, E.ProviderUnavailable("502", provider="fake", status=502)))
    rig.provider.script(BETA, Slow(1.25))
    response = await rig.ask(fallbacks=[BETA])
    [event] = events
    [row] = rig.store.requests
    assert (row.id, event.model, row.model) == (response.request_id, BETA, BETA)
    assert event.latency_s == pytest.approx(1.75) and row.latency_ms == pytest.approx(event.latency_s * 1000.0)
    assert (event.prompt_tokens, event.completion_tokens) == (row.prompt_tokens, row.completion_tokens) == (10, 2)
    assert event.cost_usd == row.cost_usd == response.cost_usd > 0
    assert event.wall == row.ts == rig.clock.wall()
    # The failure the fallback recovered is counted in its own model's row, not as the request's outcome.
    assert event.attempts == (("fake", ALPHA, "ProviderUnavailable", pytest.approx(0.5)),)
