"""One hedged attempt: the first model's call and, if it is late, a backup's beside it (``hedging.race``), with
the books of both legs: each holds its worst case in the budget (``spend_gate``) and takes its breaker and
rate-limit slots; the winner's cost is settled by the attempt loop, the loser's hold is given back (a cancelled
call reported no cost, so it spent nothing), its breaker slot freed, and it is recorded as an attempt whose outcome
is "hedged" (not a failure: it was cancelled by us). A leg that failed before producing is booked as the failure
it was.

The attempt loop (``engine/execution.py``) runs ``HedgedCall.run`` where it would make a plain call; afterwards
``winner`` is the leg that answered (the first model or the backup) and ``state.current`` names it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autodevai.engine import spend_gate
from autodevai.engine.breaker import Breaker
from autodevai.engine.budget import Reservation
from autodevai.engine.calls import RateSlots, note_failure, provider_call, stream_call
from autodevai.engine.errors import Attempt, BudgetExceeded, ProviderError, StorageError
from autodevai.engine.hedging import race
from autodevai.engine.outcome import RequestState, answer_cost
from autodevai.engine.ports import Provider
from autodevai.engine.types import ChatRequest, Completion, ModelInfo, ModelRef, ProviderCall, StreamDelta

if TYPE_CHECKING:
    from autodevai.engine.runtime import Components

__all__ = ["HedgedCall", "Item", "Leg"]

Item = str | StreamDelta | Completion

log = logging.getLogger("autodevai.engine")


@dataclass(slots=True)
class Leg:
    """One model's call in a hedged attempt, and what it holds."""

    ref: ModelRef
    info: ModelInfo
    provider: Provider
    breaker: Breaker
    reservation: Reservation
    started: float  # engine clock


async def _once(provider: Provider, call: ProviderCall, timeout_s: float) -> AsyncGenerator[Item, None]:
    """A plain (non-streamed) call as a contestant: it produces its one ``Completion``."""
    yield await provider.chat(call, timeout_s=timeout_s)


class HedgedCall:
    """The first model's call, hedged with the first usable of ``backups`` after ``delay_s``."""

    def __init__(
        self,
        parts: Components,
        slots: RateSlots,
        request: ChatRequest,
        state: RequestState,
        primary: Leg,
        backups: Sequence[tuple[ModelRef, ModelInfo]],
        delay_s: float,
        *,
        stream: bool,
    ) -> None:
        self._p = parts
        self._slots = slots
        self._request = request
        self._state = state
        self._backups = backups
        self._delay = delay_s
        self._stream = stream
        self.legs: list[Leg] = [primary]
        self._scratch: dict[int, RequestState] = {}  # each leg's own stream book-keeping, by its index
        self._failed: set[int] = set()  # legs that failed before producing
        self._charged: set[int] = set()  # ids of losing legs whose cost was settled
        self.winner = primary

    def _contestant(self, leg: Leg) -> AsyncIterator[Item]:
        state = self._state
        call = provider_call(self._request, leg.ref)
        if not self._stream:
            return _once(leg.provider, call, state.deadline - self._p.clock.now())
        scratch = dataclasses.replace(state, attempts=[], partial="", delivered=False, ttft_s=None)
        self._scratch[self.legs.index(leg)] = scratch
        return stream_call(leg.provider, call, scratch, self._p.clock)

    async def _open_backup(self) -> AsyncIterator[Item] | None:
        """The first backup that may start now (breaker, budget hold, rate slot), or None."""
        p, state = self._p, self._state
        for ref, info in self._backups:
            provider = p.providers.get(ref.provider)
            breaker = p.breakers.get(ref.provider, ref.model)
            now = p.clock.now()
            if provider is None or not breaker.allow(now):
                continue
            try:
                reservation = await spend_gate.hold(
                    p, state, info.worst_case_cost(state.prompt_tokens, self._request.max_tokens)
                )
            except (BudgetExceeded, StorageError) as exc:
                breaker.on_ignored()
                log.info("no hedge with %s: %s", ref, exc)
                continue
            if not await self._slots.acquire(
                p.limiter, p.clock, ref, state.prompt_tokens, state.deadline, may_wait=False
            ):
                breaker.on_ignored()
                spend_gate.release(p, state, reservation)
                continue
            leg = Leg(ref, info, provider, breaker, reservation, p.clock.now())
            self.legs.append(leg)
            state.hedged = True
            return self._contestant(leg)
        return None

    async def run(self) -> AsyncGenerator[Item, None]:
        """What the winning call produces (a stream's pieces, then its ``Completion``; a plain call's
        ``Completion``). Raises the first model's error when no leg produced anything."""
        p, state = self._p, self._state
        errors: list[tuple[int, BaseException]] = []
        completed = False
        try:
            try:
                won = await race(self._contestant(self.legs[0]), self._open_backup, self._delay, p.clock, errors)
            finally:
                self._book_failures(errors)
            self.winner = self.legs[won.winner]
            state.current = self.winner.ref
            self._book_losers()
            for index, item in won.also:  # a loser that had answered too: what it cost is spent
                if isinstance(item, Completion) and index > 0:
                    self._charge(self.legs[index], item)
            async with contextlib.aclosing(_chain(won.first, won.rest)) as items:
                async for item in items:
                    if isinstance(item, Completion):
                        completed = True
                    yield item
        finally:
            scratch = self._scratch.get(self.legs.index(self.winner))
            if scratch is not None:  # a stream: what the winner delivered is the request's
                state.partial, state.delivered = scratch.partial, state.delivered or scratch.delivered
                state.ttft_s = scratch.ttft_s if scratch.ttft_s is not None else state.ttft_s
            for leg in self.legs[1:]:  # the loop settles the winner's hold and gives back the first model's
                if not (completed and leg is self.winner) and id(leg) not in self._charged:
                    spend_gate.release(p, state, leg.reservation)

    def _book_failures(self, errors: list[tuple[int, BaseException]]) -> None:
        """Book each leg that failed before producing — except the first model's when it is raised to the loop."""
        raised = len(errors) == len(self.legs)  # every leg failed: the loop books the first model's error
        for index, exc in errors:
            self._failed.add(index)
            if index == 0 and raised:
                continue
            leg = self.legs[index]
            if isinstance(exc, ProviderError):
                note_failure(self._p, leg.ref, exc, self._p.clock.now() - leg.started, self._state.attempts)
            else:
                leg.breaker.on_ignored()

    def _charge(self, leg: Leg, completion: Completion) -> None:
        """A backup answered at the same moment as the first model (which wins ties): what it cost is spent,
        settled on its hold and added to the request's."""
        cost, _ = answer_cost(completion, leg.info, self._p.catalog)
        spend_gate.settle(self._p, leg.reservation, cost)
        self._charged.add(id(leg))
        self._state.extra_cost += cost

    def _book_losers(self) -> None:
        """The legs that were still running when the winner produced: cancelled, recorded as "hedged"."""
        p, state = self._p, self._state
        for index, leg in enumerate(self.legs):
            if leg is self.winner or index in self._failed:
                continue
            leg.breaker.on_ignored()
            state.attempts.append(
                Attempt(
                    leg.ref.provider,
                    leg.ref.model,
                    "hedged",
                    f"cancelled: {self.winner.ref.model} answered first",
                    (p.clock.now() - leg.started) * 1000.0,
                )
            )


async def _chain(first: Item, rest: AsyncIterator[Item]) -> AsyncGenerator[Item, None]:
    try:
        yield first
        async for item in rest:
            yield item
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()
