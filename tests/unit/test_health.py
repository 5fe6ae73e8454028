"""Self-healing on a manual clock: a provider whose breaker opened is probed once its open time is up (never
sooner), closes again when the probes succeed, re-opens when one fails; the probes show in the status; a stale
catalog refreshes itself."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from autodevai.engine import Engine
from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState
from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest, ModelInfo
from tests.fakes.clock import ManualClock
from tests.fakes.memory_store import MemoryStore
from tests.fakes.scripted_provider import ScriptedProvider

ALPHA = "v1/alpha"
MODELS = [ModelInfo(id=ALPHA, provider="fake", vendor="v1", context_length=8000, price_in=1e-6, price_out=2e-6)]
OPEN_S = 30.0


class CountingProvider(ScriptedProvider):
    """Counts ``GET /models`` calls; ``listing_fails`` makes them fail."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__("fake", MODELS, clock)
        self.listed = 0
        self.listing_fails = False

    async def list_models(self) -> list[ModelInfo]:
        self.listed += 1
        if self.listing_fails:
            raise E.ProviderUnavailable("fake is down", provider="fake", status=503)
        return await super().list_models()


Rig = tuple[Engine, CountingProvider, ManualClock]


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Awaitable[Rig]]]:
    engines: list[Engine] = []

    async def build(probe: str = "models", **settings: Any) -> Rig:
        clock = ManualClock()
        provider = CountingProvider(clock)
        data = {
            "providers": [{"name": "fake", "base_url": "http://127.0.0.1:9"}],
            "resilience": {"retries_per_model": 0, "breaker": {"open_s": OPEN_S, "open_jitter": 0.0}},
            "health": {"probe": probe},
            **settings,
        }
        engine = Engine(
            parse_settings(data),
            provider_factory=lambda ps: provider,
            store=MemoryStore(),
            clock=clock,
            rng=random.Random(1),
        )
        await engine.initialize_enhanced_orchestration(refresh="wait")
        engines.append(engine)
        return engine, provider, clock

    yield build
    for engine in engines:
        await engine.aclose()


async def _break(engine: Engine, provider: ScriptedProvider) -> None:
    """Five failures in a row: the breaker of (fake, alpha) opens."""
    down = E.ProviderUnavailable("upstream failed", provider="fake", status=502)
    provider.script(ALPHA, *([down] * 5))
    for _ in range(5):
        with pytest.raises(E.EngineError):
            await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi", model=ALPHA, fallbacks=[]))


async def _state(engine: Engine) -> BreakerState:
    status = await engine.get_enhanced_system_status()
    return next(row.snapshot.state for row in status.breakers if row.model == ALPHA)


async def test_an_open_breaker_is_probed_after_its_open_time_and_closes_when_healthy(make: Any) -> None:
    engine, provider, clock = await make("models")
    await _break(engine, provider)
    assert await _state(engine) is BreakerState.OPEN
    listed = provider.listed

    clock.advance(OPEN_S - 1)
    await engine.run_maintenance()
    assert provider.listed == listed  # not before the breaker may half-open
    assert await _state(engine) is BreakerState.OPEN

    clock.advance(2)
    await engine.run_maintenance()  # one probe: a success counts, half-open needs two
    assert provider.listed == listed + 1
    assert await _state(engine) is BreakerState.HALF_OPEN
    await engine.run_maintenance()
    assert await _state(engine) is BreakerState.CLOSED
    status = await engine.get_enhanced_system_status()
    fake = status.providers[0]
    assert fake.last_probe_ok is True and fake.last_probe_wall == clock.wall()
    assert fake.last_probe_detail is not None and fake.last_probe_detail.startswith("GET /models: 1 models")
    assert (await engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi", model=ALPHA))).content == "ok"


async def test_a_failed_probe_reopens_the_breaker_and_the_next_waits_its_open_time(make: Any) -> None:
    engine, provider, clock = await make("chat")
    await _break(engine, provider)
    provider.script(ALPHA, E.ProviderUnavailable("still down", provider="fake", status=503))
    clock.advance(OPEN_S + 1)
    calls = len(provider.calls)
    await engine.run_maintenance()
    assert len(provider.calls) == calls + 1  # a one-token request to the model itself
    assert provider.calls[-1][0] == ALPHA
    assert await _state(engine) is BreakerState.OPEN
    fake = (await engine.get_enhanced_system_status()).providers[0]
    assert fake.last_probe_ok is False and fake.last_probe_detail is not None
    assert fake.last_probe_detail.startswith("ProviderUnavailable")

    await engine.run_maintenance()  # re-opened just now: no probe until its open time is up again
    assert len(provider.calls) == calls + 1
    clock.advance(OPEN_S + 1)
    await engine.run_maintenance()
    await engine.run_maintenance()
    assert await _state(engine) is BreakerState.CLOSED
    assert (await engine.get_enhanced_system_status()).providers[0].last_probe_ok is True


async def test_probing_can_be_switched_off(make: Any) -> None:
    engine, provider, clock = await make("off")
    await _break(engine, provider)
    clock.advance(OPEN_S + 1)
    listed, calls = provider.listed, len(provider.calls)
    await engine.run_maintenance()
    assert (provider.listed, len(provider.calls)) == (listed, calls)
    assert (await engine.get_enhanced_system_status()).providers[0].last_probe_wall is None


async def test_a_stale_catalog_refreshes_itself(make: Any) -> None:
    engine, provider, clock = await make(health={"probe": "models", "catalog_max_age_h": 24})
    listed = provider.listed
    clock.advance(23 * 3600)
    await engine.run_maintenance()
    assert provider.listed == listed
    clock.advance(2 * 3600)
    await engine.run_maintenance()
    assert provider.listed == listed + 1
    status = await engine.get_enhanced_system_status()
    assert status.catalog_age_s == 0 and status.catalog_max_age_s == 24 * 3600

    provider.listing_fails = True  # a refresh that fails is retried later, not on every tick
    clock.advance(25 * 3600)
    await engine.run_maintenance()
    await engine.run_maintenance()
    assert provider.listed == listed + 2
    assert len(engine.models()) == 1  # the catalog it had is kept
