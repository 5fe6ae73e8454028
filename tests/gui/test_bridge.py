"""The Qt/asyncio bridge: engine calls from the UI thread never block it, events arrive as signals."""

from __future__ import annotations

import asyncio
import itertools
import time

from autodevai.engine.errors import InvalidRequest
from autodevai.engine.types import ChatRequest

from .conftest import Harness


def test_engine_events_reach_qt_and_the_loop_stays_responsive(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        events: list[object] = []
        ctx.events.request_recorded.connect(events.append)
        results: list[object] = []
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.005)

        t = asyncio.ensure_future(ticker())
        for i in range(20):
            ctx.spawn(
                ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(f"What is {i}+1?")),
                on_result=results.append,
            )
        await harness.wait_until(lambda: len(results) == 20, what="20 answers")
        t.cancel()
        assert len(events) == 20
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.3f} s"

    harness.run(body())


def test_engine_errors_go_to_the_error_signal(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        errors: list[tuple[str, str]] = []
        ctx.events.error.connect(lambda title, msg: errors.append((title, msg)))

        async def bad() -> None:
            raise InvalidRequest("unknown model 'x'")

        ctx.spawn(bad())
        await harness.wait_until(lambda: bool(errors))
        assert errors[0][0] == "InvalidRequest" and "unknown model" in errors[0][1]

    harness.run(body())
