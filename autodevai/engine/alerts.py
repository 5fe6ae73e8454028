"""Alerts that reach people: a breaker opened, a budget cap is 80 % or 100 % spent, a latency or error-rate trend.

``AlertMonitor`` turns engine state into ``AlertEvent`` values and hands each to every sink (the GUI shows them as
desktop notifications, the log keeps them). They are edges, not levels: a breaker alerts when it opens, a cap
when its spending first crosses a threshold in its period (a day, a month, or ever), a trend when it appears; the
same (kind, subject) stays quiet for ``COOLDOWN_S`` afterwards so a flapping model does not flood anyone.
Trend alerts come from ``Metrics.alerts`` (recent window against a baseline) and are computed at most every
``TREND_EVERY_S``. Pure bookkeeping over the clock it is given; sinks must not block (the GUI's posts to Qt).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from autodevai.engine.budget import BudgetLedger, format_usd
from autodevai.engine.metrics import Metrics

__all__ = ["BUDGET_THRESHOLDS", "COOLDOWN_S", "TREND_EVERY_S", "AlertEvent", "AlertMonitor", "AlertSink"]

log = logging.getLogger("autodevai.alerts")

BUDGET_THRESHOLDS = (0.8, 1.0)
COOLDOWN_S = 900.0  # the same alert for the same subject at most once per 15 minutes
TREND_EVERY_S = 5.0
_KEEP = 50


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert for people. ``kind``: "breaker_open", "budget", "latency_trend", "error_trend"."""

    kind: str
    severity: str  # "warning" or "critical"
    subject: str  # "provider:model", a cap name ("daily"), or "overall"
    title: str
    message: str
    wall: float  # epoch seconds


AlertSink = Callable[[AlertEvent], None]


class AlertMonitor:
    """Raises alerts on edges and fans them out to sinks; ``recent()`` keeps the last ones for a late viewer."""

    def __init__(self, metrics: Metrics, budget: BudgetLedger) -> None:
        self._metrics = metrics
        self._budget = budget
        self._sinks: list[AlertSink] = []
        self._last: dict[tuple[str, str], float] = {}  # (kind, subject) -> monotonic time it last fired
        self._budget_marks: dict[str, tuple[float, float]] = {}  # cap -> (threshold crossed, spent when crossed)
        self._trend_at: float | None = None
        self._recent: deque[AlertEvent] = deque(maxlen=_KEEP)

    def add_sink(self, sink: AlertSink) -> Callable[[], None]:
        """Deliver every future alert to ``sink``; returns the function that stops it."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink) if sink in self._sinks else None

    def recent(self) -> list[AlertEvent]:
        """The last alerts, oldest first."""
        return list(self._recent)

    def _emit(self, event: AlertEvent, now: float, *, cooldown: bool = True) -> None:
        key = (event.kind, event.subject)
        last = self._last.get(key)
        if cooldown and last is not None and now - last < COOLDOWN_S:
            return
        self._last[key] = now
        self._recent.append(event)
        log.warning("alert: %s — %s", event.title, event.message)
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:  # a broken viewer must not break the request that raised the alert
                log.exception("an alert sink failed")

    # ---- edges ----

    def breaker_opened(self, provider: str, model: str, retry_in_s: float, why: str, now: float, wall: float) -> None:
        self._emit(
            AlertEvent(
                "breaker_open",
                "critical",
                f"{provider}:{model}",
                f"{model} is failing",
                f"Its circuit breaker opened after repeated failures ({why}); it is skipped for {retry_in_s:.0f} s "
                "and other models answer meanwhile.",
                wall,
            ),
            now,
        )

    def check(self, now: float, wall: float) -> None:
        """After a request: budget thresholds every time (cheap), trends at most every ``TREND_EVERY_S``."""
        self._check_budget(now, wall)
        if self._trend_at is None or now - self._trend_at >= TREND_EVERY_S:
            self._trend_at = now
            for alert in self._metrics.alerts(now):
                kind = "latency_trend" if "latency" in alert.message else "error_trend"
                what = "slower" if kind == "latency_trend" else "failing more"
                self._emit(
                    AlertEvent(kind, alert.severity, alert.subject, f"{alert.subject} is {what}", alert.message, wall),
                    now,
                )

    def _check_budget(self, now: float, wall: float) -> None:
        snap = self._budget.snapshot(wall)
        for cap, limit in snap.caps.items():
            if not limit:
                self._budget_marks.pop(cap, None)
                continue
            spent = snap.spent.get(cap, 0.0)
            crossed = max((t for t in BUDGET_THRESHOLDS if spent >= t * limit), default=None)
            mark = self._budget_marks.get(cap)
            if mark is not None and spent < mark[1]:  # a new day or month began: spending restarted
                self._budget_marks.pop(cap)
                mark = None
            if crossed is None or (mark is not None and mark[0] >= crossed):
                continue
            self._budget_marks[cap] = (crossed, spent)
            full = crossed >= 1.0
            self._emit(
                AlertEvent(
                    "budget",
                    "critical" if full else "warning",
                    cap,
                    f"{cap.title()} budget {'reached' if full else f'{crossed:.0%} spent'}",
                    f"{format_usd(spent)} of the {format_usd(limit)} {cap} cap spent"
                    + ("; paid requests are refused until it resets or is raised." if full else "."),
                    wall,
                ),
                now,
                cooldown=False,  # edges per period already; a cap reached must always be told
            )
