"""Self-healing against the simulator, on a manual clock: a model that failed until its breaker opened is probed
with a real ``GET /models`` once the breaker may half-open, closes again, and the Status shows the probe."""

from __future__ import annotations

import pytest

from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState
from autodevai.engine.types import ChatRequest
from autodevai.sim.server import SimServer
from tests.fakes.clock import ManualClock
from tests.integration.conftest import MINI, MakeEngine


async def test_a_broken_model_is_probed_and_heals(make_engine: MakeEngine, sim: SimServer) -> None:
    clock = ManualClock()
    app = await make_engine(
        clock=clock, resilience={"retries_per_model": 0, "breaker": {"open_s": 30.0, "open_jitter": 0.0}}
    )
    sim.add_fault({"kind": "http_error", "status": 502, "model": MINI, "times": 5})
    for _ in range(5):
        with pytest.raises(E.ProviderUnavailable):
            await app.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("hi", model=MINI, fallbacks=[]))

    def state(status: object) -> BreakerState:
        return next(r.snapshot.state for r in status.breakers if r.model == MINI)  # type: ignore[attr-defined]

    assert state(await app.engine.get_enhanced_system_status()) is BreakerState.OPEN
    models_calls = sim.stats.by_route.get("/models", 0)
    clock.advance(31.0)
    for _ in range(2):  # two successful probes (half_open_probes) close it
        await app.engine.run_maintenance()
    status = await app.engine.get_enhanced_system_status()
    assert state(status) is BreakerState.CLOSED
    assert sim.stats.by_route.get("/models", 0) > models_calls
    probe = status.providers[0]
    assert probe.last_probe_ok is True and probe.last_probe_wall == clock.wall()
    assert probe.last_probe_detail is not None and "GET /models" in probe.last_probe_detail
    answer = await app.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is 2+2?", model=MINI))
    assert answer.model == MINI
