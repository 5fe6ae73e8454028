"""Streaming (keep-alives, mid-stream errors, cuts, cancel), budgets under concurrency, and key hygiene."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import pytest

from autodevai.engine import errors as E
from autodevai.engine.types import ChatRequest, EngineResponse, StreamDelta
from autodevai.sim.server import SimServer

from .conftest import BIG, MINI, MakeEngine


def ask(model: str | None = None, **kw: object) -> ChatRequest:
    kw.setdefault("max_tokens", 64)
    return ChatRequest.from_prompt("Tell me about connection pools.", model=model, **kw)


async def collect(app_engine: object, request: ChatRequest) -> tuple[list[str], EngineResponse]:
    deltas: list[str] = []
    final = None
    async for item in app_engine.stream_enhanced_ai_request(request):  # type: ignore[attr-defined]
        if isinstance(item, str):
            deltas.append(item)
        else:
            final = item
    assert final is not None
    return deltas, final


async def test_stream_delivers_deltas_and_usage(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    deltas, final = await collect(app.engine, ask(MINI))
    assert len(deltas) > 3
    assert "".join(deltas) == final.content
    assert final.usage.completion_tokens > 0 and final.cost_usd > 0
    assert final.ttft_ms is not None and final.ttft_ms <= final.latency_ms


async def test_stream_with_keepalive_comments_while_waiting(sim: SimServer, make_engine: MakeEngine) -> None:
    sim.config.keepalive_s = 0.05
    app = await make_engine()
    sim.add_fault({"kind": "slow_first_byte", "delay_s": 0.3, "model": MINI})
    deltas, final = await collect(app.engine, ask(MINI))
    assert "".join(deltas) == final.content and final.content


async def test_mid_stream_error_keeps_partial(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    sim.add_fault({"kind": "stream_error", "after_chunks": 3, "model": MINI})
    deltas: list[str] = []
    with pytest.raises(E.StreamInterrupted) as info:
        async for item in app.engine.stream_enhanced_ai_request(ask(MINI)):
            if isinstance(item, str):
                deltas.append(item)
    assert deltas, "the deltas before the error reached the caller"
    assert info.value.partial == "".join(deltas)
    rows = await app.engine.get_request_history(5)
    assert rows[0].status == "StreamInterrupted" and rows[0].answer == "".join(deltas)


async def test_cut_stream_is_interrupted_not_silent(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    sim.add_fault({"kind": "cut_stream", "after_chunks": 2, "model": MINI})
    with pytest.raises(E.StreamInterrupted):
        async for _ in app.engine.stream_enhanced_ai_request(ask(MINI)):
            pass


async def test_stream_falls_back_before_first_delta(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine(resilience={"retries_per_model": 0})
    sim.add_fault({"kind": "cut_stream", "after_chunks": 0, "model": BIG})
    deltas, final = await collect(app.engine, ask(BIG, fallbacks=[MINI]))
    assert final.model == MINI and "".join(deltas) == final.content


async def test_cancel_mid_stream(sim: SimServer, make_engine: MakeEngine) -> None:
    sim.config.latency_scale = 0.05  # slow enough that the cancel lands mid-stream
    app = await make_engine()
    stream = app.engine.stream_enhanced_ai_request(ask(MINI, max_tokens=400))
    marker = await anext(stream)  # names the answering model before its first output
    assert isinstance(marker, StreamDelta) and marker.is_marker and marker.model == MINI
    first = await anext(stream)
    assert isinstance(first, str)
    await stream.aclose()
    rows = await app.engine.get_request_history(5)
    assert rows[0].status == "Cancelled"
    assert (await app.engine.get_enhanced_system_status()).in_flight == 0
    overall = (await app.engine.get_performance_metrics("1m")).overall
    assert (overall.cancelled, overall.errors, overall.success_rate) == (1, {}, None)  # the user's Stop: no failure
    snap = (await app.engine.get_enhanced_system_status()).budget
    assert snap.reserved == 0


async def test_cancel_task_during_call(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    sim.add_fault({"kind": "slow_first_byte", "delay_s": 5, "model": MINI})
    task = asyncio.create_task(app.engine.execute_enhanced_ai_request(ask(MINI)))
    # Wait for a state, not for time: the call reached the server, which now holds back its first byte. The
    # simulator has no event to await, so its counter is polled.
    while not sim.stats.by_model.get(MINI):  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = await app.engine.get_request_history(5)
    assert rows[0].status == "Cancelled"


async def test_budget_refuses_before_any_network_call(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine(budget={"daily_usd": 0.00001})
    before = sim.stats.total
    with pytest.raises(E.BudgetExceeded) as info:
        await app.engine.execute_enhanced_ai_request(ask(BIG, max_tokens=4000, fallbacks=[]))
    assert sim.stats.total == before
    assert info.value.left == pytest.approx(0.00001)
    assert "left" in str(info.value)


async def test_budget_caps_hold_under_200_concurrent_requests(sim: SimServer, make_engine: MakeEngine) -> None:
    cap = 0.002
    app = await make_engine(budget={"total_usd": cap})
    requests = [ask(MINI, max_tokens=200, fallbacks=[]) for _ in range(200)]
    results = await asyncio.gather(
        *(app.engine.execute_enhanced_ai_request(r) for r in requests), return_exceptions=True
    )
    ok = [r for r in results if isinstance(r, EngineResponse)]
    refused = [r for r in results if isinstance(r, E.BudgetExceeded)]
    others = [r for r in results if not isinstance(r, EngineResponse | E.BudgetExceeded)]
    assert not others, others[:3]
    assert ok and refused, (len(ok), len(refused))
    spent = sum(r.cost_usd for r in ok)
    assert spent <= cap
    assert (await app.engine.get_enhanced_system_status()).budget.spent["total"] == pytest.approx(spent)


async def test_canary_key_never_leaks(
    sim: SimServer, make_engine: MakeEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "sk-or-v1-" + secrets.token_hex(32)
    caplog.set_level(logging.DEBUG)
    sim.config.keys = {"another-key"}  # the canary is refused: the error path is where leaks happen
    app = await make_engine(key=canary)
    texts: list[str] = []
    for request in (ask(MINI, fallbacks=[]), ask(BIG)):
        with pytest.raises(E.EngineError) as info:
            await app.engine.execute_enhanced_ai_request(request)
        texts += [str(info.value), repr(info.value), info.value.message]
    await app.engine.configure_enhanced_orchestration({"budget": {"daily_usd": 3}})
    report = await app.engine.test_enhanced_orchestration()
    texts += [c.detail for c in report.checks]
    await app.aclose()
    texts.append(caplog.text)
    for text in texts:
        assert canary not in text
    assert not files_containing(tmp_path, canary.encode())


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
