"""Hedged requests against the simulator: when the first model's first byte is late (``slow_first_byte``), the next
candidate starts beside it and wins; the slow one is cancelled (the simulator sees the client go away); the budget
held both and settled what was spent; the answer's attempts and the metrics say "hedged". With hedging off,
nothing changes: the request waits for the slow model."""

from __future__ import annotations

import asyncio
import time

import pytest

from autodevai.compose import App
from autodevai.engine.chat import ChatTurn
from autodevai.engine.types import ChatRequest
from autodevai.sim.server import SimServer
from tests.integration.conftest import CHEAP, MINI, MakeEngine

SLOW_S = 1.5


async def _warm(app: App, stream: bool) -> None:
    """Give the first model measured first-token times (hedging waits for its p95; without data it never hedges)."""
    for i in range(5):
        request = ChatRequest.from_prompt(f"What is {i}+1?", model=MINI, fallbacks=[], max_tokens=16)
        if stream:
            async for _ in app.engine.stream_enhanced_ai_request(request):
                pass
        else:
            await app.engine.execute_enhanced_ai_request(request)


def _ask(**kw: object) -> ChatRequest:
    return ChatRequest.from_prompt("What is 6*7?", model=MINI, fallbacks=[CHEAP], max_tokens=16, **kw)  # type: ignore[arg-type]


async def _abandoned(sim: SimServer, since: float) -> bool:
    """True when the slow call was abandoned by its client: the server never finished it (a finished slow call
    is counted as "slow_first_byte"; a handler whose client left is cancelled, counted as "client_gone" where the
    simulator notices it while waiting)."""
    await asyncio.sleep(max(0.0, since + SLOW_S + 0.5 - time.monotonic()))
    outcomes = sim.stats.by_outcome
    return outcomes.get("slow_first_byte", 0) == 0 and sim.stats.by_model.get(MINI, 0) == 6


@pytest.mark.parametrize("stream", [False, True])
async def test_a_late_first_model_is_hedged_and_the_backup_wins(
    make_engine: MakeEngine, sim: SimServer, stream: bool
) -> None:
    app = await make_engine(budget={"total_usd": 1.0})
    await _warm(app, stream)
    sim.add_fault({"kind": "slow_first_byte", "model": MINI, "delay_s": SLOW_S, "times": 1})
    t0 = time.monotonic()
    if stream:
        response = None
        async for item in app.engine.stream_enhanced_ai_request(_ask(hedge=True)):
            response = item
    else:
        response = await app.engine.execute_enhanced_ai_request(_ask(hedge=True))
    elapsed = time.monotonic() - t0
    assert response is not None and not isinstance(response, str)
    assert response.model == CHEAP and "42" in response.content
    assert response.hedged and response.hedge_cost_usd == 0.0  # the loser was cancelled before it was billed
    assert elapsed < SLOW_S / 2  # the backup answered; nobody waited for the slow model
    outcomes = [(a.model, a.outcome, a.detail.split(":")[0]) for a in response.attempts]
    assert outcomes == [(MINI, "hedged", "cancelled"), (CHEAP, "ok", "hedged")]

    # The slow model's call was cancelled: its server saw the client go away and never finished it.
    assert await _abandoned(sim, t0), (sim.stats.by_outcome, sim.stats.by_model)

    # Budget: both were held, the loser's hold given back, the winner's cost spent; the row says the same.
    status = await app.engine.get_enhanced_system_status()
    assert status.budget.reserved == 0
    history = await app.engine.get_request_history(1)
    assert history[0].cost_usd == response.cost_usd > 0
    spent_before = sum(r.cost_usd for r in (await app.engine.get_request_history(20))[1:])
    assert status.budget.spent["total"] == pytest.approx(spent_before + response.cost_usd)
    assert [a["outcome"] for a in history[0].attempts] == ["hedged", "ok"]

    # Metrics count the hedge, and the loser's cancel is not a failure of the slow model.
    metrics = await app.engine.get_performance_metrics("15m")
    assert metrics.overall.hedged == 1
    assert metrics.per_model[f"sim:{MINI}"].errors == {}


async def test_with_hedging_off_the_request_waits_for_the_slow_model(make_engine: MakeEngine, sim: SimServer) -> None:
    app = await make_engine()
    await _warm(app, stream=False)
    sim.add_fault({"kind": "slow_first_byte", "model": MINI, "delay_s": SLOW_S, "times": 1})
    t0 = time.monotonic()
    response = await app.engine.execute_enhanced_ai_request(_ask())  # the setting's default: off
    assert time.monotonic() - t0 >= SLOW_S
    assert response.model == MINI and not response.hedged
    assert [(a.model, a.outcome, a.detail) for a in response.attempts] == [(MINI, "ok", "")]
    assert sim.stats.by_outcome.get("slow_first_byte", 0) == 1  # answered late, as the fault says
    assert sim.stats.by_outcome.get("client_gone", 0) == 0
    assert (await app.engine.get_performance_metrics("15m")).overall.hedged == 0


async def test_the_setting_turns_hedging_on_and_no_data_means_no_hedge(make_engine: MakeEngine, sim: SimServer) -> None:
    app = await make_engine(resilience={"hedge": True})
    sim.add_fault({"kind": "slow_first_byte", "model": MINI, "delay_s": 0.3, "times": 1})
    response = await app.engine.execute_enhanced_ai_request(_ask())  # no measurements of MINI yet: no hedge
    assert response.model == MINI and len(response.attempts) == 1
    await _warm(app, stream=False)
    sim.add_fault({"kind": "slow_first_byte", "model": MINI, "delay_s": SLOW_S, "times": 1})
    response = await app.engine.execute_enhanced_ai_request(_ask())
    assert response.model == CHEAP and response.attempts[0].outcome == "hedged"
    off = await app.engine.execute_enhanced_ai_request(_ask(hedge=False))  # the request's own choice wins
    assert off.model == MINI


async def test_a_hedged_turn_is_stored_with_its_answer_and_counted_by_a_later_process(
    make_engine: MakeEngine, sim: SimServer
) -> None:
    app = await make_engine()
    await _warm(app, stream=True)
    sim.add_fault({"kind": "slow_first_byte", "model": MINI, "delay_s": SLOW_S, "times": 1})
    conv = await app.engine.conversations.create()
    items = [
        item
        async for item in app.engine.conversations.send(
            conv.id, "What is 6*7?", model=MINI, fallbacks=[CHEAP], max_tokens=16, hedge=True
        )
    ]
    turn = items[-1]
    assert isinstance(turn, ChatTurn) and turn.response.hedged and turn.response.model == CHEAP

    # The stored answer says it was hedged and what the loser cost (the conversation view's details read it).
    answer = (await app.engine.conversations.open(conv.id)).messages[-1]
    assert answer.model == CHEAP
    assert answer.extra["hedged"] is True and answer.extra["hedge_cost_usd"] == turn.response.hedge_cost_usd

    # A process started later (the CLI's `metrics`) warms its windows from the store: the hedge is still counted.
    later = await make_engine()
    metrics = await later.engine.get_performance_metrics("15m")
    assert metrics.overall.count == 6 and metrics.overall.hedged == 1
    assert metrics.per_model[f"sim:{CHEAP}"].hedged == 1 and metrics.per_model[f"sim:{MINI}"].hedged == 0
