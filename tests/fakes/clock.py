"""A manual ``Clock`` for tests: time passes only when a test (or the code under test) says so.

``sleep`` advances both readings by the seconds asked and returns at once (after one turn of the event loop, so
other tasks run as they would around a real sleep), and records the wait; nothing ever waits for real time. Inject
it wherever the engine takes a ``Clock`` (``Engine(clock=...)``, ``open_engine(clock=...)``), as stamina's
``set_testing()`` does for its retries, instead of patching ``time``.

    clock = ManualClock()
    app = await open_engine(..., clock=clock)
    clock.advance(31.0)  # an open breaker's 30 s are over
    assert clock.slept == [1.0]  # the engine waited what Retry-After asked, without waiting
"""

from __future__ import annotations

import asyncio

__all__ = ["ManualClock"]


class ManualClock:
    """``now()`` (monotonic) and ``wall()`` (epoch) seconds that move together, by ``advance`` or ``sleep``."""

    def __init__(self, now: float = 1_000.0, wall: float = 1_700_000_000.0) -> None:
        self._now = now
        self._wall = wall
        self.slept: list[float] = []  # every wait asked of ``sleep``, in order

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass (both clocks). Raises ``ValueError`` for negative time."""
        if seconds < 0:
            raise ValueError(f"time does not run backwards ({seconds} s)")
        self._now += seconds
        self._wall += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait, advance by it (negative waits count as 0) and yield to the event loop once."""
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
