"""Budget holds for one request's attempts, so that caps hold across every process on one data dir.

Without a cap nothing is shared: the in-memory ledger holds the amount (no await, no store). With a cap the store is
the source of truth: a hold is taken in one store transaction against what every process has committed plus every
open hold (``Store.reserve_spend`` applying ``budget.check_caps``), and the ledger then mirrors what the store
counted (``BudgetLedger.sync``), so status and routing see the other processes too. A hold given back (the model
failed, or lost a hedge) is dropped in the transaction of the request's next hold, and every hold of the request in
the transaction that writes its row: every process sees the hold or the cost, never neither, and never both for
long. If the store cannot write, a paid request under a cap is refused (a ``StorageError`` that says so) rather than
answered without its cost being recorded. A free call (worst case $0) never needs the store.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from autodevai.engine.budget import Reservation, check_caps
from autodevai.engine.constants import HOLD_MARGIN_S
from autodevai.engine.errors import StorageError
from autodevai.engine.ports import SpendHold, SpendTotals

if TYPE_CHECKING:
    from autodevai.engine.outcome import RequestState
    from autodevai.engine.runtime import Components

__all__ = ["hold", "release", "settle"]


async def hold(parts: Components, state: RequestState, amount: float) -> Reservation:
    """Hold ``amount`` USD (a call's worst case) for ``state``'s request. Raises ``BudgetExceeded`` when it does
    not fit a cap (counting every process under a cap), ``StorageError`` when a cap is set and the store cannot
    record the hold."""
    ledger = parts.budget
    wall = parts.clock.wall()
    caps = ledger.caps
    if not caps.any or amount <= 0.0:
        return ledger.reserve(amount, wall)
    shared = SpendHold(
        id=os.urandom(8).hex(),
        amount_usd=amount,
        wall=wall,
        expires_wall=wall + (state.deadline - state.started) + HOLD_MARGIN_S,
    )

    def check(counted: SpendTotals) -> None:
        check_caps(caps, amount, (counted.today, counted.month, counted.total), counted.held)

    given_back, state.released = state.released, []
    try:
        counted = await parts.store.reserve_spend(shared, check, tuple(given_back))
    except StorageError as exc:
        state.released = given_back + state.released
        raise StorageError(
            f"a budget cap is set and spending cannot be recorded, so paid requests are refused: {exc.message}",
            environment=exc.environment,
            hint=f"{exc.hint}; or remove the budget caps to use models without recording their cost",
        ) from exc
    except BaseException:
        state.released = given_back + state.released
        raise
    ledger.sync((counted.today, counted.month, counted.total), counted.held, counted.held_here, wall)
    state.holds.append(shared.id)
    return ledger.track(amount, wall, shared.id)


def settle(parts: Components, reservation: Reservation, cost: float) -> None:
    """``reservation``'s call cost ``cost`` USD; its shared hold is dropped with the request's row."""
    parts.budget.settle(reservation, cost, parts.clock.wall())


def release(parts: Components, state: RequestState, reservation: Reservation) -> None:
    """``reservation``'s call spent nothing; its shared hold goes with the request's next hold (or its row)."""
    parts.budget.release(reservation)
    if reservation.shared is not None:
        state.released.append(reservation.shared)
