"""Trend alerts over metrics: a model (or everything) getting slower or failing more than it used to.

The recent window (the smallest) is compared with a baseline: the largest window that holds enough samples once
the recent events are taken out of it. Two signals, per model and overall: the p95 latency ratio, and the jump in
error rate (requests the user cancelled count as neither). Nothing is said without enough samples on both sides.
Pure: works on the aggregates ``Metrics`` hands it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from autodevai.engine.buckets import Agg, percentiles
from autodevai.text import fmt_latency

__all__ = [
    "ALERT_ERROR_CRITICAL",
    "ALERT_ERROR_JUMP",
    "ALERT_ERROR_MIN",
    "ALERT_LATENCY_CRITICAL",
    "ALERT_LATENCY_WARN",
    "ALERT_MIN_BASELINE",
    "ALERT_MIN_RECENT",
    "Alert",
    "trend_alerts",
]

ALERT_MIN_RECENT = 5
ALERT_MIN_BASELINE = 20
ALERT_LATENCY_WARN = 2.0  # recent p95 / baseline p95
ALERT_LATENCY_CRITICAL = 4.0
ALERT_ERROR_JUMP = 0.2  # recent error rate minus baseline error rate
ALERT_ERROR_MIN = 0.25  # and the recent error rate itself at least this
ALERT_ERROR_CRITICAL = 0.5


@dataclass(frozen=True, slots=True)
class Alert:
    severity: str  # "warning" or "critical"
    subject: str  # "overall" or "provider:model"
    message: str


def trend_alerts(subject: str, recent: Agg, recent_name: str, windows: Iterable[tuple[str, Agg]]) -> list[Alert]:
    """The alerts of ``subject``: ``recent`` (the aggregate of the window named ``recent_name``) against the first
    of ``windows`` (name, aggregate; largest first, each including the recent events) that holds at least
    ``ALERT_MIN_BASELINE`` other events. ``windows`` is read lazily, only as far as that first one."""
    if recent.count < ALERT_MIN_RECENT:
        return []
    base: Agg | None = None
    base_name = ""
    for name, agg in windows:
        candidate = agg.minus(recent)
        if candidate.count >= ALERT_MIN_BASELINE:
            base, base_name = candidate, name
            break
    if base is None:
        return []
    out: list[Alert] = []
    r95 = percentiles(recent.lat, recent.count, (0.95,))[0]
    b95 = percentiles(base.lat, base.count, (0.95,))[0]
    if r95 is not None and b95 is not None and b95 > 0:
        ratio = r95 / b95
        if ratio >= ALERT_LATENCY_WARN:
            severity = "critical" if ratio >= ALERT_LATENCY_CRITICAL else "warning"
            out.append(
                Alert(
                    severity,
                    subject,
                    f"p95 latency {fmt_latency(r95)} is {ratio:.1f}x its {base_name} baseline ({fmt_latency(b95)})",
                )
            )
    if not recent.settled or not base.settled:
        return out
    r_err = 1.0 - recent.ok / recent.settled
    b_err = 1.0 - base.ok / base.settled
    if r_err >= ALERT_ERROR_MIN and r_err - b_err >= ALERT_ERROR_JUMP:
        severity = "critical" if r_err >= ALERT_ERROR_CRITICAL else "warning"
        top = max(recent.errors.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        cause = f", mostly {top[0]} ({top[1]})" if top else ""
        out.append(
            Alert(
                severity,
                subject,
                f"error rate {r_err:.0%} over the last {recent_name} vs {b_err:.0%} in its {base_name} baseline{cause}",
            )
        )
    return out
