"""The budget ledger: reserve a request's worst-case cost before it is sent, settle to the real cost after.

Caps (``BudgetSettings``): daily, monthly and total USD, and a per-request ceiling. A reservation
succeeds only if it fits what is left of every cap after everything already spent *and* everything currently
reserved, so the caps hold however many requests run at once; a refusal reserves nothing and says which cap,
what is left and what was needed. Days and months are UTC calendar periods of the wall clock (``now_wall``,
epoch seconds); spending rolls over at their boundaries.

Amounts are kept internally as integer nano-dollars, so the arithmetic is exact and reserve/settle/release in
any order can never drift above a cap through float rounding (a nano-dollar is far below any token price); an
amount above ``MAX_USD`` counts as ``MAX_USD`` (settings refuse such caps, so it never fits one).
Pure and synchronous: no awaits, so one call is atomic on the event loop; a lock also makes it thread-safe.

Across processes (several engines on one data dir) the store is the source of truth: ``check_caps`` is the pure
rule the store applies inside its transaction (``engine/spend_gate.py``), and ``sync`` brings this ledger's view
(what is left, for routing and status) in line with what the store counted; ``track`` holds an amount the store
already accepted.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from autodevai.engine.constants import MAX_USD
from autodevai.engine.errors import BudgetExceeded
from autodevai.engine.settings import BudgetSettings

__all__ = ["BudgetLedger", "BudgetSnapshot", "Caps", "Reservation", "check_caps", "format_usd", "to_nano"]

_NANO = 1_000_000_000  # nano-dollars per dollar
_DAY_S = 86_400  # POSIX time has no leap seconds: epoch // 86400 is the UTC day number
_CAPS = ("daily", "monthly", "total")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A hold on ``amount`` USD taken at wall time ``wall``; give it back with ``settle`` or ``release``.
    ``shared`` is the id of the matching hold in the shared store (None when no cap asked for one)."""

    id: int
    amount: float
    wall: float
    shared: str | None = None


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


@dataclass(frozen=True, slots=True)
class Caps:
    """Caps in nano-dollars (None: no such cap), as ``check_caps`` takes them."""

    daily: int | None = None
    monthly: int | None = None
    total: int | None = None
    per_request: int | None = None

    @property
    def any(self) -> bool:
        return any(c is not None for c in (self.daily, self.monthly, self.total, self.per_request))


def to_nano(amount: float) -> int:
    """``amount`` USD as integer nano-dollars, at most ``MAX_USD``'s (no overflow for any finite amount)."""
    return round(min(amount, MAX_USD) * _NANO)


_nano = to_nano


def check_caps(caps: Caps, amount: float, spent: tuple[int, int, int], reserved: int) -> None:
    """Raise ``BudgetExceeded`` when ``amount`` USD does not fit the per-request cap or what is left of the daily,
    monthly or total cap after ``spent`` (today, this month, in all) and ``reserved`` (nano-dollars held by
    requests in flight); the error names the tightest cap. A zero amount always fits. Pure."""
    need = to_nano(amount)
    per_request = caps.per_request
    if per_request is not None and need > per_request:
        raise BudgetExceeded(
            f"per-request budget: this request may cost up to {format_usd(amount)}, "
            f"the limit per request is {format_usd(_usd(per_request))}",
            cap="per_request",
            left=_usd(per_request),
            needed=amount,
        )
    if need == 0:  # a free request cannot break a cap, even an overspent one
        return
    worst: tuple[str, int, int] | None = None  # (cap name, cap, left) of the tightest cap refusing
    for name, cap, used in zip(_CAPS, (caps.daily, caps.monthly, caps.total), spent, strict=True):
        if cap is None:
            continue
        left = cap - used - reserved
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
        "_elsewhere",
        "_lock",
        "_month",
        "_next_id",
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
        """``spent_*`` are what the store recorded for the UTC day and month containing ``now_wall``. Raises
        ``ValueError`` for a negative or non-finite amount."""
        _check_amount(spent_today, "spent_today")
        _check_amount(spent_month, "spent_month")
        _check_amount(spent_total, "spent_total")
        self._lock = threading.Lock()
        self._caps = Caps()
        self._apply(cfg)
        self._day = int(now_wall // _DAY_S)
        self._month = _month_index(self._day)
        self._spent_today = _nano(spent_today)
        self._spent_month = _nano(spent_month)
        self._spent_total = _nano(spent_total)
        self._reservations: dict[int, int] = {}
        self._reserved = 0
        self._elsewhere = 0  # nano-dollars other processes hold, as the store last said
        self._next_id = 1

    def _apply(self, cfg: BudgetSettings) -> None:
        def nano(v: float | None) -> int | None:
            if v is None:
                return None
            _check_amount(v, "a budget cap")
            return _nano(v)

        self._caps = Caps(nano(cfg.daily_usd), nano(cfg.monthly_usd), nano(cfg.total_usd), nano(cfg.per_request_usd))

    def reconfigure(self, cfg: BudgetSettings) -> None:
        """New caps; spending and reservations are kept (a lowered cap may leave nothing for new requests).
        Raises ``ValueError`` (changing nothing) for a cap the ledger cannot count."""
        with self._lock:
            self._apply(cfg)

    @property
    def caps(self) -> Caps:
        """The caps in nano-dollars (what the store's check applies)."""
        return self._caps

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
        left of the daily, monthly or total cap after spending and current reservations (``check_caps``). A zero
        amount always fits. Raises ``ValueError`` for a negative or NaN amount.
        """
        _check_amount(amount, "a reservation")
        with self._lock:
            self._roll(now_wall)
            check_caps(self._caps, amount, self._spent(), self._reserved + self._elsewhere)
            return self._hold(amount, now_wall)

    def track(self, amount: float, now_wall: float, shared: str) -> Reservation:
        """Hold ``amount`` USD without checking the caps: the shared store already accepted it as ``shared``."""
        _check_amount(amount, "a reservation")
        with self._lock:
            self._roll(now_wall)
            return self._hold(amount, now_wall, shared)

    def _hold(self, amount: float, now_wall: float, shared: str | None = None) -> Reservation:
        rid = self._next_id
        self._next_id = rid + 1
        need = _nano(amount)
        self._reservations[rid] = need
        self._reserved += need
        return Reservation(id=rid, amount=amount, wall=now_wall, shared=shared)

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

    def sync(self, spent: tuple[int, int, int], held: int, held_here: int, now_wall: float) -> None:
        """Adopt what the shared store counted at ``now_wall``: ``spent`` nano-dollars (today, this month, in all,
        every process) and ``held`` in open holds, ``held_here`` of them this process's own."""
        with self._lock:
            self._roll(now_wall)
            self._spent_today, self._spent_month, self._spent_total = spent
            self._elsewhere = max(0, held - held_here)

    # ---- what is left --------------------------------------------------------------------------------------

    def _left(self) -> tuple[int | None, int | None, int | None]:
        today, month, total = self._spent()
        caps = self._caps
        r = self._reserved + self._elsewhere
        return (
            None if caps.daily is None else max(0, caps.daily - today - r),
            None if caps.monthly is None else max(0, caps.monthly - month - r),
            None if caps.total is None else max(0, caps.total - total - r),
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
        per_request = self._caps.per_request
        if per_request is None:
            return left
        return _usd(per_request) if left is None else min(left, _usd(per_request))

    def snapshot(self, now_wall: float) -> BudgetSnapshot:
        with self._lock:
            self._roll(now_wall)
            left = self._left()
            spent = self._spent()
            caps = (self._caps.daily, self._caps.monthly, self._caps.total)
            reserved = self._reserved + self._elsewhere
        return BudgetSnapshot(
            caps={name: None if c is None else _usd(c) for name, c in zip(_CAPS, caps, strict=True)},
            spent={name: _usd(s) for name, s in zip(_CAPS, spent, strict=True)},
            reserved=_usd(reserved),
            left={name: None if x is None else _usd(x) for name, x in zip(_CAPS, left, strict=True)},
        )
