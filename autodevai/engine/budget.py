"""The budget ledger: reserve a request's worst-case cost before it is sent, settle to the real cost after.

Caps (``BudgetSettings``): daily, monthly and total USD, and a per-request ceiling. A reservation
succeeds only if it fits what is left of every cap after everything already spent *and* everything currently
reserved, so the caps hold however many requests run at once; a refusal reserves nothing and says which cap,
what is left and what was needed. Days and months are UTC calendar periods of the wall clock (``now_wall``,
epoch seconds); spending rolls over at their boundaries.

Amounts are kept internally as integer nano-dollars, so the arithmetic is exact and reserve/settle/release in
any order can never drift above a cap through float rounding (a nano-dollar is far below any token price).
Pure and synchronous: no awaits, so one call is atomic on the event loop; a lock also makes it thread-safe.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from autodevai.engine.errors import BudgetExceeded
from autodevai.engine.settings import BudgetSettings

__all__ = ["BudgetLedger", "BudgetSnapshot", "Reservation", "format_usd"]

_NANO = 1_000_000_000  # nano-dollars per dollar
_DAY_S = 86_400  # POSIX time has no leap seconds: epoch // 86400 is the UTC day number
_CAPS = ("daily", "monthly", "total")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A hold on ``amount`` USD taken at wall time ``wall``; give it back with ``settle`` or ``release``."""

    id: int
    amount: float
    wall: float


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """Caps, spending and what is left, keyed "daily", "monthly", "total" (a None cap means unlimited)."""

    caps: dict[str, float | None]
    spent: dict[str, float]
    reserved: float
    left: dict[str, float | None]


def format_usd(amount: float) -> str:
    """Dollars for people: 4 decimals below $1 (cents hide the cost of one request), 2 above, 6 for dust."""
    if amount >= 1.0:
        return f"${amount:,.2f}"
    if amount == 0.0 or amount >= 0.0001:
        return f"${amount:.4f}"
    return f"${amount:.6f}"


def _nano(amount: float) -> int:
    return round(amount * _NANO)


def _usd(nano: int) -> float:
    return nano / _NANO


def _check_amount(amount: float, what: str) -> None:
    if not (amount >= 0.0 and math.isfinite(amount)):  # NaN would slip through every later comparison
        raise ValueError(f"{what} must be a finite, non-negative amount of USD, got {amount!r}")


def _month_index(day: int) -> int:
    """Months since the epoch for a UTC day number (year × 12 + month)."""
    d = datetime.fromtimestamp(day * _DAY_S, tz=UTC)
    return d.year * 12 + d.month - 1


class BudgetLedger:
    """Spending and in-flight reservations against the caps of a ``BudgetSettings``."""

    __slots__ = (
        "_caps",
        "_day",
        "_lock",
        "_month",
        "_next_id",
        "_per_request",
        "_reservations",
        "_reserved",
        "_spent_month",
        "_spent_today",
        "_spent_total",
    )

    def __init__(
        self,
        cfg: BudgetSettings,
        *,
        spent_today: float = 0.0,
        spent_month: float = 0.0,
        spent_total: float = 0.0,
        now_wall: float,
    ) -> None:
        """``spent_*`` are what the store recorded for the UTC day and month containing ``now_wall``."""
        _check_amount(spent_today, "spent_today")
        _check_amount(spent_month, "spent_month")
        _check_amount(spent_total, "spent_total")
        self._lock = threading.Lock()
        self._caps: tuple[int | None, int | None, int | None] = (None, None, None)
        self._per_request: int | None = None
        self._apply(cfg)
        self._day = int(now_wall // _DAY_S)
        self._month = _month_index(self._day)
        self._spent_today = _nano(spent_today)
        self._spent_month = _nano(spent_month)
        self._spent_total = _nano(spent_total)
        self._reservations: dict[int, int] = {}
        self._reserved = 0
        self._next_id = 1

    def _apply(self, cfg: BudgetSettings) -> None:
        caps = (cfg.daily_usd, cfg.monthly_usd, cfg.total_usd)
        self._caps = (
            None if caps[0] is None else _nano(caps[0]),
            None if caps[1] is None else _nano(caps[1]),
            None if caps[2] is None else _nano(caps[2]),
        )
        self._per_request = None if cfg.per_request_usd is None else _nano(cfg.per_request_usd)

    def reconfigure(self, cfg: BudgetSettings) -> None:
        """New caps; spending and reservations are kept (a lowered cap may leave nothing for new requests)."""
        with self._lock:
            self._apply(cfg)

    def _roll(self, now_wall: float) -> None:
        """Reset the day's and month's spending when ``now_wall`` is in a later UTC day / month."""
        day = int(now_wall // _DAY_S)
        if day <= self._day:  # same day, or the wall clock stepped back: keep counting where we are
            return
        self._day = day
        self._spent_today = 0
        month = _month_index(day)
        if month > self._month:
            self._month = month
            self._spent_month = 0

    def _spent(self) -> tuple[int, int, int]:
        return self._spent_today, self._spent_month, self._spent_total

    # ---- reservations --------------------------------------------------------------------------------------

    def reserve(self, amount: float, now_wall: float) -> Reservation:
        """Hold ``amount`` USD (a request's worst-case cost) and return the reservation.

        Raises ``BudgetExceeded`` — reserving nothing — when ``amount`` exceeds the per-request cap or what is
        left of the daily, monthly or total cap after spending and current reservations; the error names the
        tightest cap. A zero amount always fits. Raises ``ValueError`` for a negative or NaN amount.
        """
        _check_amount(amount, "a reservation")
        need = _nano(amount)
        with self._lock:
            self._roll(now_wall)
            per_request = self._per_request
            if per_request is not None and need > per_request:
                raise BudgetExceeded(
                    f"per-request budget: this request may cost up to {format_usd(amount)}, "
                    f"the limit per request is {format_usd(_usd(per_request))}",
                    cap="per_request",
                    left=_usd(per_request),
                    needed=amount,
                )
            worst: tuple[str, int, int] | None = None  # (cap name, cap, left) of the tightest cap refusing
            for name, cap, spent in zip(_CAPS, self._caps, self._spent(), strict=True):
                if cap is None or need == 0:  # a free request cannot break a cap, even an overspent one
                    continue
                left = cap - spent - self._reserved
                if need > left and (worst is None or left < worst[2]):
                    worst = (name, cap, left)
            if worst is not None:
                name, cap, left = worst
                left_usd = _usd(max(0, left))
                raise BudgetExceeded(
                    f"{name} budget: {format_usd(left_usd)} left of {format_usd(_usd(cap))}, "
                    f"this request may cost up to {format_usd(amount)}",
                    cap=name,
                    left=left_usd,
                    needed=amount,
                )
            rid = self._next_id
            self._next_id = rid + 1
            self._reservations[rid] = need
            self._reserved += need
        return Reservation(id=rid, amount=amount, wall=now_wall)

    def settle(self, res: Reservation, actual: float, now_wall: float) -> None:
        """Release ``res`` and record ``actual`` USD spent at ``now_wall`` (in that UTC day and month), even
        when it is more than was reserved. A NaN/infinite ``actual`` is recorded as the reserved amount and a
        negative one as 0. Raises ``ValueError`` when ``res`` was already settled or released (spending it
        twice would double-count)."""
        if not math.isfinite(actual):
            actual = res.amount
        spend = _nano(actual) if actual > 0.0 else 0
        with self._lock:
            held = self._reservations.pop(res.id, None)
            if held is None:
                raise ValueError(f"reservation {res.id} was already settled or released")
            self._reserved -= held
            self._roll(now_wall)
            self._spent_today += spend
            self._spent_month += spend
            self._spent_total += spend

    def release(self, res: Reservation) -> None:
        """Cancel ``res`` with nothing spent. Releasing twice, or after ``settle``, does nothing."""
        with self._lock:
            held = self._reservations.pop(res.id, None)
            if held is not None:
                self._reserved -= held

    # ---- what is left --------------------------------------------------------------------------------------

    def _left(self) -> tuple[int | None, int | None, int | None]:
        today, month, total = self._spent()
        daily_cap, monthly_cap, total_cap = self._caps
        r = self._reserved
        return (
            None if daily_cap is None else max(0, daily_cap - today - r),
            None if monthly_cap is None else max(0, monthly_cap - month - r),
            None if total_cap is None else max(0, total_cap - total - r),
        )

    def left(self, now_wall: float) -> float | None:
        """The least USD left over the daily, monthly and total caps after spending and reservations (never
        negative); None when none of them is set. The per-request cap is not included: see ``affordable``."""
        with self._lock:
            self._roll(now_wall)
            lefts = [x for x in self._left() if x is not None]
        return _usd(min(lefts)) if lefts else None

    def affordable(self, now_wall: float) -> float | None:
        """The most one new request may reserve now: ``left`` bounded by the per-request cap (None: none)."""
        left = self.left(now_wall)
        per_request = self._per_request
        if per_request is None:
            return left
        return _usd(per_request) if left is None else min(left, _usd(per_request))

    def snapshot(self, now_wall: float) -> BudgetSnapshot:
        with self._lock:
            self._roll(now_wall)
            left = self._left()
            spent = self._spent()
            caps = self._caps
            reserved = self._reserved
        return BudgetSnapshot(
            caps={name: None if c is None else _usd(c) for name, c in zip(_CAPS, caps, strict=True)},
            spent={name: _usd(s) for name, s in zip(_CAPS, spent, strict=True)},
            reserved=_usd(reserved),
            left={name: None if x is None else _usd(x) for name, x in zip(_CAPS, left, strict=True)},
        )
