"""Request metrics in memory: sliding windows per model and overall, percentiles, series for charts, trend
alerts.

The orchestrator feeds one frozen ``RequestEvent`` per finished request (success or failure) to
``Metrics.record``, which also forwards it to the other sinks (GUI, log). Each window ("1m", "15m", "24h" by
default) is a ring of time buckets (1 s, 15 s and 10 min wide by default); a bucket holds counts, tokens, cost,
outcomes by error class and sparse log-spaced histograms of latency and time to first token (``engine/buckets.py``:
a percentile read from a window is within ~5 % of the exact one, and memory is bounded by (models x buckets x
occupied bins) whatever the traffic). Old buckets are evicted lazily. Trend alerts compare windows
(``engine/trends.py``).

Latency counts every finished request, failures included (a timeout is time the user waited). A request the
user cancelled is its own outcome: counted (``Stats.cancelled``) but neither a failure nor a success, and its
latency (the user's choice) stays out of the percentiles. Per model, the attempts a fallback recovered count
too: a model that failed before another answered shows that failure in its own row (``RequestEvent.attempts``),
while the overall series counts the request once. Percentiles use the nearest-rank definition. Pure: ``now`` is
always an argument (engine monotonic seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from autodevai.engine import constants
from autodevai.engine.buckets import (
    Agg,
    Bucket,
    Series,
    Window,
    bin_of,
    bucket_for,
    bump,
    merge_into,
    percentiles,
)
from autodevai.engine.events import CANCELLED, NOT_A_CALL, Call, MetricsSink, RequestEvent, failed_calls
from autodevai.engine.stats import MetricsSummary, Stats
from autodevai.engine.trends import Alert, trend_alerts
from autodevai.engine.types import LiveStats

__all__ = [
    "CANCELLED",
    "NOT_A_CALL",
    "Alert",
    "Call",
    "Metrics",
    "MetricsSink",
    "MetricsSummary",
    "RequestEvent",
    "Stats",
    "failed_calls",
]

log = logging.getLogger(__name__)

_LIVE_WINDOW_S = 900.0  # routing's LiveStats come from the window closest to 15 min


class Metrics:
    """In-memory sliding windows per model and overall; a ``MetricsSink`` that forwards to other sinks."""

    def __init__(self, windows: Mapping[str, float] = constants.WINDOWS) -> None:
        if not windows:
            raise ValueError("at least one metrics window is needed")
        self._windows = [Window.make(name, float(span)) for name, span in windows.items()]
        self._by_name = {w.name: i for i, w in enumerate(self._windows)}
        self._fine = min(range(len(self._windows)), key=lambda i: self._windows[i].width)
        self._coarse = [i for i in range(len(self._windows)) if i != self._fine]
        self._overall = Series(len(self._windows))
        self._keys: dict[tuple[str, str], Series] = {}
        self._sinks: list[MetricsSink] = []
        self._origin: float | None = None  # engine time of the first event seen
        self._live_i = min(range(len(self._windows)), key=lambda i: abs(self._windows[i].span - _LIVE_WINDOW_S))
        self._live_cache: dict[tuple[str, str], tuple[int, int, LiveStats]] = {}
        by_span = sorted(range(len(self._windows)), key=lambda i: self._windows[i].span)
        self._recent_i = by_span[0]
        self._baseline_is = list(reversed(by_span[1:]))

    @property
    def windows(self) -> list[str]:
        return [w.name for w in self._windows]

    def add_sink(self, sink: MetricsSink) -> None:
        """Forward every recorded event to ``sink`` too (GUI, log)."""
        self._sinks.append(sink)

    # ---- recording ----

    def _add(self, e: RequestEvent) -> None:
        # The hot path (every request) touches only the finest window's current bucket of the overall series
        # and of the model's; a bucket is merged into the coarser windows once, when the next one starts.
        lb = bin_of(e.latency_s)
        ttft_s = e.ttft_s
        tb = -1 if ttft_s is None else bin_of(ttft_s)
        now = e.now
        origin = self._origin
        if origin is None or now < origin:
            self._origin = now
        fine = self._fine
        idx = int(now // self._windows[fine].width)
        series: tuple[Series, ...] = (self._overall,)
        if e.provider or e.model:  # a request that failed before any model was tried counts only overall
            key = (e.provider, e.model)
            per = self._keys.get(key)
            if per is None:
                per = self._keys[key] = Series(len(self._windows))
            per.version += 1
            series = (self._overall, per)
        for s in series:
            self._count(s, e, idx, lb, tb)
        for provider, model, outcome, latency_s in e.attempts:  # failures a fallback recovered, per model
            key = (provider, model)
            per = self._keys.get(key)
            if per is None:
                per = self._keys[key] = Series(len(self._windows))
            per.version += 1
            attempt = RequestEvent(
                now=now,
                wall=e.wall,
                provider=provider,
                model=model,
                outcome=outcome,
                latency_s=latency_s,
                ttft_s=None,
                prompt_tokens=0,
                completion_tokens=0,
                cost_usd=0.0,
                task_class=e.task_class,
            )
            self._count(per, attempt, idx, bin_of(latency_s), -1)

    def _count(self, s: Series, e: RequestEvent, idx: int, lb: int, tb: int) -> None:
        fine = self._fine
        ring = s.rings[fine]
        b = ring[-1] if ring else None
        if b is None or b.idx != idx:
            if b is not None and idx < b.idx:
                self._add_late(s, e, lb, tb)
                return
            if b is not None and not b.rolled:
                self._roll(s, b)
            b = bucket_for(ring, idx, self._windows[fine].n)
        bump(b, lb, tb, e)

    def _roll(self, s: Series, b: Bucket) -> None:
        """Merge the complete finest-window bucket ``b`` into the coarser windows' buckets."""
        t = (b.idx + 0.5) * self._windows[self._fine].width
        for i in self._coarse:
            w = self._windows[i]
            merge_into(bucket_for(s.rings[i], int(t // w.width), w.n), b)
        b.rolled = True

    def _add_late(self, s: Series, e: RequestEvent, lb: int, tb: int) -> None:
        """An event older than the current bucket (out of order): count it in every window directly."""
        for i, w in enumerate(self._windows):
            b = bucket_for(s.rings[i], int(e.now // w.width), w.n)
            if i == self._fine:
                b.rolled = True  # older than the pending bucket: never rolled up again
            bump(b, lb, tb, e)

    def record(self, event: RequestEvent) -> None:
        """Count ``event`` in every window, then pass it to the other sinks (a failing sink is logged)."""
        self._add(event)
        for sink in self._sinks:
            try:
                sink.record(event)
            except Exception:  # a broken chart must not fail a request
                log.exception("metrics sink %r failed", sink)

    def load_history(self, events: Iterable[RequestEvent]) -> None:
        """Warm the windows from stored events (their ``now`` on the current engine clock).

        Sinks are not called: the events are already stored.
        """
        for e in sorted(events, key=lambda e: e.now):
            self._add(e)

    # ---- reading ----

    def _window(self, window: str) -> int:
        i = self._by_name.get(window)
        if i is None:
            raise ValueError(f"unknown metrics window {window!r}; valid: {', '.join(self._by_name)}")
        return i

    def _buckets(self, s: Series, i: int, now: float) -> list[Bucket]:
        """The buckets of window ``i`` holding events of the window ending at ``now``; evicts older ones."""
        w = self._windows[i]
        ring = s.rings[i]
        cur = int(now // w.width)
        lo = cur - w.n + 1
        while ring and ring[0].idx < lo:
            old = ring.popleft()
            if not old.rolled and i == self._fine:
                self._roll(s, old)  # leaving the finest window: the coarser ones still need it
        out = [b for b in ring if b.idx <= cur]
        if i != self._fine:
            fine = s.rings[self._fine]
            if fine and not fine[-1].rolled:  # the pending bucket counts in the coarse windows as well
                pending = fine[-1]
                t = (pending.idx + 0.5) * self._windows[self._fine].width
                idx = int(t // w.width)
                if lo <= idx <= cur:
                    view = Bucket(idx)
                    merge_into(view, pending)
                    out.append(view)
        return out

    def _agg(self, s: Series, i: int, now: float) -> Agg:
        agg = Agg()
        for b in self._buckets(s, i, now):
            agg.add(b)
        return agg

    def _span(self, i: int, now: float) -> float:
        """Seconds the window covers: less than its span while the engine is younger than the window."""
        span = self._windows[i].span
        if self._origin is None:
            return span
        return max(1.0, min(span, now - self._origin))

    def summary(self, window: str, now: float) -> MetricsSummary:
        """Overall and per-model stats over ``window``; ValueError names the valid windows."""
        i = self._window(window)
        span = self._span(i, now)
        per_model: dict[str, Stats] = {}
        for key in sorted(self._keys):
            s = self._keys[key]
            agg = self._agg(s, i, now)
            if agg.count:
                per_model[f"{key[0]}:{key[1]}"] = agg.stats(span)
            elif not any(s.rings):
                del self._keys[key]  # every window forgot it: free the memory
                self._live_cache.pop(key, None)
        w = self._windows[i]
        observed = 0.0 if self._origin is None else max(0.0, min(w.span, now - self._origin))
        return MetricsSummary(window, w.span, self._agg(self._overall, i, now).stats(span), per_model, observed)

    def live(self, provider: str, model: str, now: float) -> LiveStats:
        """What routing needs for one model over the ~15-minute window.

        Cached until the model gets an event or the window moves by a bucket; unknown models cost a dict miss.
        """
        key = (provider, model)
        s = self._keys.get(key)
        if s is None:
            return _NO_LIVE
        w = self._windows[self._live_i]
        cur = int(now // w.width)
        hit = self._live_cache.get(key)
        if hit is not None and hit[0] == s.version and hit[1] == cur:
            return hit[2]
        agg = self._agg(s, self._live_i, now)
        if agg.count:
            p50 = percentiles(agg.lat, agg.count, (0.5,))[0]
            stats = LiveStats(agg.count, None if p50 is None else p50 / 1000.0, agg.ok / agg.count)
        else:
            stats = _NO_LIVE
        self._live_cache[key] = (s.version, cur, stats)
        return stats

    def p95_first_token_s(self, provider: str, model: str, now: float) -> float | None:
        """The model's p95 time to first token over the ~15-minute window, in seconds; for a model only called
        without streaming, its p95 latency (the whole answer is its first token); None without data."""
        s = self._keys.get((provider, model))
        if s is None:
            return None
        agg = self._agg(s, self._live_i, now)
        if agg.ttft_n:
            p95 = percentiles(agg.ttft, agg.ttft_n, (0.95,))[0]
        else:
            p95 = percentiles(agg.lat, sum(agg.lat), (0.95,))[0]
        return None if p95 is None else p95 / 1000.0

    def series(self, window: str, now: float, points: int = 60) -> list[tuple[float, Stats]]:
        """``points`` consecutive intervals covering ``window`` up to ``now``, oldest first.

        Each is (interval end on the engine clock, stats of the requests that finished in it). Resolution is
        the window's bucket width: with more points than buckets some intervals stay empty.
        """
        i = self._window(window)
        if points < 1:
            raise ValueError("points must be at least 1")
        w = self._windows[i]
        step = w.span / points
        aggs = [Agg() for _ in range(points)]
        for b in self._buckets(self._overall, i, now):
            t = min((b.idx + 0.5) * w.width, now)  # the bucket's middle, the current one clipped to now
            slot = points - 1 - int((now - t) // step)
            if 0 <= slot < points:
                aggs[slot].add(b)
        return [(now - (points - 1 - k) * step, agg.stats(step)) for k, agg in enumerate(aggs)]

    def alerts(self, now: float) -> list[Alert]:
        """Trends: the smallest window against the largest one with enough samples (minus the recent events).

        Latency p95 ratio and error-rate jump, per model and overall; nothing without enough samples.
        """
        if not self._baseline_is:
            return []
        out: list[Alert] = []
        subjects: list[tuple[str, Series]] = [("overall", self._overall)]
        subjects += [(f"{p}:{m}", s) for (p, m), s in sorted(self._keys.items())]
        recent_name = self._windows[self._recent_i].name
        for subject, s in subjects:
            recent = self._agg(s, self._recent_i, now)
            # Baselines are aggregated lazily: only as far as the first one with enough samples.
            baselines = ((self._windows[bi].name, self._agg(s, bi, now)) for bi in self._baseline_is)
            out.extend(trend_alerts(subject, recent, recent_name, baselines))
        out.sort(key=lambda a: (a.severity != "critical", a.subject))
        return out


_NO_LIVE = LiveStats()
