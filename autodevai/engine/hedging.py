"""Hedged requests: when a model's first token is late, start the next candidate beside it; the first to produce
output wins and the other is cancelled (DESIGN.md "resilience": "a backup request after the model's p95 latency,
first answer wins, the other cancelled").

When (``hedge_delay``): a request that asks for it (``ChatRequest.hedge``, default ``resilience.hedge``) waits
for the first model's observed p95 time to first token (``Metrics.p95_first_token_s``); with no measurements
it does not hedge, since "late" means nothing without them. The wait runs on the engine clock.

How (``race``): each contestant is an async iterator of what the call produces (a stream's marker and deltas, or
a plain call's one ``Completion``); the winner is the first to produce its first item. The loser's pending step
is cancelled and its iterator closed, which closes its HTTP connection (the server sees the client go away). A
contestant that fails before producing anything drops out; when both fail the first's error is raised, with the
second's in ``Race.errors`` for its books. The budget side (both held, the loser's hold given back) and the
attempts' records ("hedged") are the executor's (``engine/execution.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from autodevai.engine.metrics import Metrics
from autodevai.engine.ports import Clock
from autodevai.engine.types import ModelRef

__all__ = ["Race", "hedge_delay", "race"]

_T = TypeVar("_T")


def hedge_delay(metrics: Metrics, ref: ModelRef, now: float) -> float | None:
    """Seconds to wait for ``ref``'s first token before starting a backup: its observed p95 time to first token
    (engine clock), or None when it has no measurements (then no hedge)."""
    return metrics.p95_first_token_s(ref.provider, ref.model, now)


@dataclass(slots=True)
class Race(Generic[_T]):
    """How a race ended: ``winner`` (0: the first contestant, 1: the backup), its first item, its iterator (to go
    on with after ``first``), whether a backup was started, and the contestants that failed before producing."""

    winner: int
    first: _T
    rest: AsyncIterator[_T]
    backup_started: bool = False
    errors: list[tuple[int, BaseException]] = field(default_factory=list)
    also: list[tuple[int, _T]] = field(default_factory=list)  # losers that had produced too (at the same moment)


async def _drop(task: asyncio.Task[_T], it: AsyncIterator[_T]) -> None:
    """Cancel a contestant's pending step and close its iterator (its connection with it)."""
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(BaseException):
            await aclose()


def _step(it: AsyncIterator[_T]) -> asyncio.Task[_T]:
    async def step() -> _T:
        try:
            return await anext(it)
        except StopAsyncIteration:
            raise RuntimeError("the call ended without producing anything") from None

    return asyncio.create_task(step())


async def race(
    first: AsyncIterator[_T],
    start_backup: Callable[[], Awaitable[AsyncIterator[_T] | None]],
    delay_s: float,
    clock: Clock,
    errors: list[tuple[int, BaseException]],
) -> Race[_T]:
    """Run ``first``; if it has produced nothing after ``delay_s`` (on ``clock``), ``start_backup()`` (None: no
    backup could start) and let both run; return how it ended. Each contestant that failed before producing is
    appended to ``errors`` (index, error). Raises the first contestant's error when every contestant failed (or
    when it failed before a backup started)."""
    steps: dict[asyncio.Task[_T], tuple[int, AsyncIterator[_T]]] = {_step(first): (0, first)}
    timer: asyncio.Task[None] | None = asyncio.create_task(clock.sleep(delay_s))
    backup_started = False
    try:
        while steps:
            waiting: set[asyncio.Future[Any]] = set(steps)
            if timer is not None:
                waiting.add(timer)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finished = sorted((t for t in done if t in steps), key=lambda t: steps[t][0])
            for task in finished:
                index, it = steps.pop(task)
                exc = task.exception()
                if exc is None:
                    also = [
                        (i, t.result())
                        for t, (i, _) in steps.items()
                        if t.done() and not t.cancelled() and t.exception() is None
                    ]
                    for other, (_, other_it) in list(steps.items()):
                        await _drop(other, other_it)
                    steps.clear()
                    return Race(index, task.result(), it, backup_started, errors, also)
                errors.append((index, exc))
            if timer is not None and (timer.done() or not steps):
                timer.cancel()
                timer = None
                if steps:  # the first is late: start the backup beside it
                    backup = await start_backup()
                    if backup is not None:
                        backup_started = True
                        steps[_step(backup)] = (1, backup)
        raise errors[0][1]
    finally:
        if timer is not None:
            timer.cancel()
        for task, (_, it) in steps.items():  # cancelled from outside: drop whatever still runs
            await _drop(task, it)
