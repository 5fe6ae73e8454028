"""The hedging race (engine/hedging.py) cleans up after itself: a request stopped while its contestants are still
waiting for their first token leaves no call running and no connection open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from autodevai.engine.hedging import race
from autodevai.engine.ports import SystemClock


class Contestant:
    """An async iterator that produces nothing until ``go`` is set, and records being closed."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.closed = False

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        await self.go.wait()
        return "token"

    async def aclose(self) -> None:
        self.closed = True


async def test_a_stopped_race_cancels_and_closes_both_contestants() -> None:
    first, backup = Contestant(), Contestant()
    started = asyncio.Event()

    async def start_backup() -> AsyncIterator[str]:
        started.set()
        return backup

    running = asyncio.create_task(race(first, start_backup, 0.01, SystemClock(), []))
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.01)  # both are now waiting for their first token
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert first.closed and backup.closed
    first.go.set()
    backup.go.set()
    await asyncio.sleep(0.01)
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not leftover, leftover


async def test_the_winner_goes_on_and_the_loser_is_closed() -> None:
    first, backup = Contestant(), Contestant()

    async def start_backup() -> AsyncIterator[str]:
        backup.go.set()
        return backup

    result = await race(first, start_backup, 0.01, SystemClock(), [])
    assert result.winner == 1 and result.first == "token" and result.backup_started
    assert first.closed and not backup.closed
