"""Request metrics in memory: sliding windows per model and overall, percentiles, series for charts, trend
alerts.

The orchestrator feeds one frozen ``RequestEvent`` per finished request (success or failure) to
``Metrics.record``, which also forwards it to the other sinks (GUI, log, store). Each window ("1m", "15m",
"24h" by default) is a ring of time buckets (1 s, 15 s and 10 min wide by default); a bucket holds counts,
tokens, cost, outcomes by error class and sparse log-spaced histograms of latency and time to first token.
Histogram bins grow by 10 % from 0.1 ms to 10 min, so a percentile read from the merged histogram of a
window is within ~5 % of the exact one, and memory is bounded by (models x buckets x occupied bins) whatever
the traffic. Old buckets are evicted lazily.

Latency counts every finished request, failures included (a timeout is time the user waited). A request the
user cancelled is its own outcome: counted (``Stats.cancelled``) but neither a failure nor a success, and its
latency (the user's choice) stays out of the percentiles. Per model, the attempts a fallback recovered count
too: a model that failed before another answered shows that failure in its own row (``RequestEvent.attempts``),
while the overall series counts the request once. Percentiles use the nearest-rank definition. Pure: ``now`` is
always an argument (engine monotonic seconds).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from autodevai.engine import constants
from autodevai.engine.types import LiveStats

__all__ = [
    "CANCELLED",
    "NOT_A_CALL",
    "Alert",
    "Metrics",
    "MetricsSink",
    "MetricsSummary",
    "RequestEvent",
    "Stats",
    "failed_calls",
]

log = logging.getLogger(__name__)

# Histogram: bin 0 holds [0, 0.1 ms); bin k >= 1 holds [0.1 ms * 1.1^(k-1), 0.1 ms * 1.1^k); the last bin also
# holds everything beyond 10 min. A bin reads as its geometric middle: at most ~4.9 % off.
_H_MIN_S = 1e-4
_H_RATIO = 1.1
_INV_LOG_RATIO = 1.0 / math.log(_H_RATIO)
_NBINS = math.ceil(math.log(600.0 / _H_MIN_S) * _INV_LOG_RATIO) + 2
_BIN_VALUE = [_H_MIN_S / 2] + [_H_MIN_S * _H_RATIO ** (k - 0.5) for k in range(1, _NBINS)]

# Trend alerts: the smallest window ("recent") against the largest window that has enough samples ("baseline",
# with the recent events taken out of it).
ALERT_MIN_RECENT = 5
ALERT_MIN_BASELINE = 20
ALERT_LATENCY_WARN = 2.0  # recent p95 / baseline p95
ALERT_LATENCY_CRITICAL = 4.0
ALERT_ERROR_JUMP = 0.2  # recent error rate minus baseline error rate
ALERT_ERROR_MIN = 0.25  # and the recent error rate itself at least this
ALERT_ERROR_CRITICAL = 0.5

_LIVE_WINDOW_S = 900.0  # routing's LiveStats come from the window closest to 15 min


def _bin(seconds: float) -> int:
    if seconds < _H_MIN_S:
        return 0
    k = int(math.log(seconds / _H_MIN_S) * _INV_LOG_RATIO) + 1
    return k if k < _NBINS else _NBINS - 1


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One finished request, success or failure, as the orchestrator reports it."""

    now: float  # monotonic seconds (engine clock)
    wall: float  # epoch seconds
    provider: str
    model: str
    outcome: str  # "ok" or an error class name, e.g. "ProviderUnavailable"
    latency_s: float
    ttft_s: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    task_class: str | None = None
    # Attempts on other models that failed before the one that ended the request: (provider, model, outcome,
    # latency seconds). Counted in those models' rows, not overall.
    attempts: tuple[tuple[str, str, str, float], ...] = ()


CANCELLED = "Cancelled"  # the outcome of a request the user stopped: not a failure
NOT_A_CALL = frozenset({"CircuitOpen", "skipped", "BudgetExceeded"})  # attempts that never reached a provider

Call = tuple[str, str, str, float]  # provider, model, outcome, latency seconds


def failed_calls(attempts: Iterable[Call]) -> tuple[Call, ...]:
    """The attempts that reached a provider and failed (a local rate-limit wait has no latency: not a call)."""
    return tuple(a for a in attempts if a[2] != "ok" and a[2] not in NOT_A_CALL and a[3] > 0)


@dataclass(frozen=True, slots=True)
class Stats:
    """Aggregates over one window (or one point of a series). Rates are per second of the span covered."""

    count: int
    ok: int
    errors: dict[str, int]
    success_rate: float | None  # ok / (count - cancelled)
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    requests_per_s: float
    tokens_per_s: float  # prompt + completion tokens per second: throughput, not a model's generation speed
    cancelled: int = 0  # stopped by the user: neither ok nor an error


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    window: str
    window_s: float
    overall: Stats
    per_model: dict[str, Stats]  # key "provider:model"
    observed_s: float | None = None  # how much of the window has data (since the first event); None: all of it


@dataclass(frozen=True, slots=True)
class Alert:
    severity: str  # "warning" or "critical"
    subject: str  # "overall" or "provider:model"
    message: str


class MetricsSink(Protocol):
    def record(self, event: RequestEvent) -> None: ...


class _Bucket:
    __slots__ = ("cancelled", "completion", "cost", "count", "errors", "idx", "lat", "ok", "prompt", "rolled", "ttft")

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.rolled = False  # a finest-window bucket is merged into the coarser windows once it is complete
        self.count = 0
        self.ok = 0
        self.cancelled = 0
        self.errors: dict[str, int] = {}
        self.lat: dict[int, int] = {}
        self.ttft: dict[int, int] = {}
        self.prompt = 0
        self.completion = 0
        self.cost = 0.0


class _Agg:
    """A merge of buckets; dense histograms so merging and subtracting are plain loops."""

    __slots__ = ("cancelled", "completion", "cost", "count", "errors", "lat", "ok", "prompt", "ttft", "ttft_n")

    def __init__(self) -> None:
        self.count = 0
        self.ok = 0
        self.cancelled = 0
        self.errors: dict[str, int] = {}
        self.lat = [0] * _NBINS
        self.ttft = [0] * _NBINS
        self.ttft_n = 0
        self.prompt = 0
        self.completion = 0
        self.cost = 0.0

    @property
    def settled(self) -> int:
        """Requests that ended by themselves (not stopped by the user): what success and error rates divide by."""
        return self.count - self.cancelled

    def add(self, b: _Bucket) -> None:
        self.count += b.count
        self.ok += b.ok
        self.cancelled += b.cancelled
        for name, n in b.errors.items():
            self.errors[name] = self.errors.get(name, 0) + n
        lat = self.lat
        for k, n in b.lat.items():
            lat[k] += n
        ttft = self.ttft
        for k, n in b.ttft.items():
            ttft[k] += n
            self.ttft_n += n
        self.prompt += b.prompt
        self.completion += b.completion
        self.cost += b.cost

    def minus(self, other: _Agg) -> _Agg:
        out = _Agg()
        out.count = max(0, self.count - other.count)
        out.ok = max(0, self.ok - other.ok)
        out.cancelled = max(0, self.cancelled - other.cancelled)
        out.errors = {k: n - other.errors.get(k, 0) for k, n in self.errors.items() if n > other.errors.get(k, 0)}
        out.lat = [max(0, a - b) for a, b in zip(self.lat, other.lat, strict=True)]
        out.ttft = [max(0, a - b) for a, b in zip(self.ttft, other.ttft, strict=True)]
        out.ttft_n = sum(out.ttft)
        out.prompt = max(0, self.prompt - other.prompt)
        out.completion = max(0, self.completion - other.completion)
        out.cost = max(0.0, self.cost - other.cost)
        return out

    def stats(self, span_s: float) -> Stats:
        lat = _percentiles(self.lat, sum(self.lat))
        ttft = _percentiles(self.ttft, self.ttft_n)
        span = span_s if span_s > 0 else 1.0
        return Stats(
            count=self.count,
            ok=self.ok,
            errors=dict(sorted(self.errors.items(), key=lambda kv: (-kv[1], kv[0]))),
            success_rate=self.ok / self.settled if self.settled else None,
            latency_p50_ms=lat[0],
            latency_p95_ms=lat[1],
            latency_p99_ms=lat[2],
            ttft_p50_ms=ttft[0],
            ttft_p95_ms=ttft[1],
            ttft_p99_ms=ttft[2],
            prompt_tokens=self.prompt,
            completion_tokens=self.completion,
            cost_usd=self.cost,
            requests_per_s=self.count / span,
            tokens_per_s=(self.prompt + self.completion) / span,
            cancelled=self.cancelled,
        )


def _percentiles(hist: list[int], n: int, qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list[float | None]:
    """Nearest-rank percentiles in milliseconds from a dense histogram holding ``n`` samples."""
    if n <= 0:
        return [None] * len(qs)
    ranks = [max(1, math.ceil(q * n - 1e-9)) for q in qs]
    out: list[float | None] = []
    cum = 0
    i = 0
    for k, c in enumerate(hist):
        if not c:
            continue
        cum += c
        while i < len(ranks) and cum >= ranks[i]:
            out.append(_BIN_VALUE[k] * 1000.0)
            i += 1
        if i == len(ranks):
            break
    while len(out) < len(qs):  # only if the histogram holds fewer samples than n says
        out.append(_BIN_VALUE[_NBINS - 1] * 1000.0)
    return out


@dataclass(frozen=True, slots=True)
class _Window:
    name: str
    span: float
    width: float  # bucket width, seconds
    n: int  # buckets kept

    @staticmethod
    def make(name: str, span: float) -> _Window:
        if span <= 0:
            raise ValueError(f"window {name!r} must be positive, not {span}")
        width = span / 60.0 if span <= 3600.0 else 600.0
        return _Window(name, span, width, max(1, math.ceil(span / width - 1e-9)))


class _Series:
    """One key's buckets: one ring per window."""

    __slots__ = ("rings", "version")

    def __init__(self, nwindows: int) -> None:
        self.rings: list[deque[_Bucket]] = [deque() for _ in range(nwindows)]
        self.version = 0


def _merge_into(dst: _Bucket, src: _Bucket) -> None:
    dst.count += src.count
    dst.ok += src.ok
    dst.cancelled += src.cancelled
    for name, n in src.errors.items():
        dst.errors[name] = dst.errors.get(name, 0) + n
    for k, n in src.lat.items():
        dst.lat[k] = dst.lat.get(k, 0) + n
    for k, n in src.ttft.items():
        dst.ttft[k] = dst.ttft.get(k, 0) + n
    dst.prompt += src.prompt
    dst.completion += src.completion
    dst.cost += src.cost


def _bump(b: _Bucket, lb: int, tb: int, e: RequestEvent) -> None:
    """Count ``e`` in ``b`` (``lb``/``tb``: its latency and TTFT bins, -1 for none)."""
    b.count += 1
    outcome = e.outcome
    if outcome == "ok":
        b.ok += 1
    elif outcome == CANCELLED:
        b.cancelled += 1
        lb = tb = -1  # how long a user waited before stopping says nothing about the model
    else:
        b.errors[outcome] = b.errors.get(outcome, 0) + 1
    if lb >= 0:
        b.lat[lb] = b.lat.get(lb, 0) + 1
    if tb >= 0:
        b.ttft[tb] = b.ttft.get(tb, 0) + 1
    b.prompt += e.prompt_tokens
    b.completion += e.completion_tokens
    b.cost += e.cost_usd


def _bucket_for(ring: deque[_Bucket], idx: int, keep: int) -> _Bucket:
    """The bucket ``idx`` of ``ring``, created (and old ones evicted) as needed."""
    if not ring or idx > ring[-1].idx:
        b = _Bucket(idx)
        ring.append(b)
        floor = idx - keep
        while ring[0].idx <= floor:
            ring.popleft()
        return b
    # Out of order (a request that finished slightly earlier on the clock, or history): search from the right.
    if idx <= ring[-1].idx - keep:
        return _Bucket(idx)  # already outside the window: counted nowhere
    for pos in range(len(ring) - 1, -1, -1):
        cur = ring[pos]
        if cur.idx == idx:
            return cur
        if cur.idx < idx:
            b = _Bucket(idx)
            ring.insert(pos + 1, b)
            return b
    b = _Bucket(idx)
    ring.appendleft(b)
    return b


class Metrics:
    """In-memory sliding windows per model and overall; a ``MetricsSink`` that forwards to other sinks."""

    def __init__(self, windows: Mapping[str, float] = constants.WINDOWS) -> None:
        if not windows:
            raise ValueError("at least one metrics window is needed")
        self._windows = [_Window.make(name, float(span)) for name, span in windows.items()]
        self._by_name = {w.name: i for i, w in enumerate(self._windows)}
        self._fine = min(range(len(self._windows)), key=lambda i: self._windows[i].width)
        self._coarse = [i for i in range(len(self._windows)) if i != self._fine]
        self._overall = _Series(len(self._windows))
        self._keys: dict[tuple[str, str], _Series] = {}
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
        """Forward every recorded event to ``sink`` too (GUI, log, store)."""
        self._sinks.append(sink)

    # ---- recording ----

    def _add(self, e: RequestEvent) -> None:
        # The hot path (every request) touches only the finest window's current bucket of the overall series
        # and of the model's; a bucket is merged into the coarser windows once, when the next one starts.
        lb = _bin(e.latency_s)
        ttft_s = e.ttft_s
        tb = -1 if ttft_s is None else _bin(ttft_s)
        now = e.now
        origin = self._origin
        if origin is None or now < origin:
            self._origin = now
        fine = self._fine
        idx = int(now // self._windows[fine].width)
        series: tuple[_Series, ...] = (self._overall,)
        if e.provider or e.model:  # a request that failed before any model was tried counts only overall
            key = (e.provider, e.model)
            per = self._keys.get(key)
            if per is None:
                per = self._keys[key] = _Series(len(self._windows))
            per.version += 1
            series = (self._overall, per)
        for s in series:
            self._count(s, e, idx, lb, tb)
        for provider, model, outcome, latency_s in e.attempts:  # failures a fallback recovered, per model
            key = (provider, model)
            per = self._keys.get(key)
            if per is None:
                per = self._keys[key] = _Series(len(self._windows))
            per.version += 1
            attempt = RequestEvent(now, e.wall, provider, model, outcome, latency_s, None, 0, 0, 0.0, e.task_class)
            self._count(per, attempt, idx, _bin(latency_s), -1)

    def _count(self, s: _Series, e: RequestEvent, idx: int, lb: int, tb: int) -> None:
        fine = self._fine
        ring = s.rings[fine]
        b = ring[-1] if ring else None
        if b is None or b.idx != idx:
            if b is not None and idx < b.idx:
                self._add_late(s, e, lb, tb)
                return
            if b is not None and not b.rolled:
                self._roll(s, b)
            b = _bucket_for(ring, idx, self._windows[fine].n)
        _bump(b, lb, tb, e)

    def _roll(self, s: _Series, b: _Bucket) -> None:
        """Merge the complete finest-window bucket ``b`` into the coarser windows' buckets."""
        t = (b.idx + 0.5) * self._windows[self._fine].width
        for i in self._coarse:
            w = self._windows[i]
            _merge_into(_bucket_for(s.rings[i], int(t // w.width), w.n), b)
        b.rolled = True

    def _add_late(self, s: _Series, e: RequestEvent, lb: int, tb: int) -> None:
        """An event older than the current bucket (out of order): count it in every window directly."""
        for i, w in enumerate(self._windows):
            b = _bucket_for(s.rings[i], int(e.now // w.width), w.n)
            if i == self._fine:
                b.rolled = True  # older than the pending bucket: never rolled up again
            _bump(b, lb, tb, e)

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

    def _buckets(self, s: _Series, i: int, now: float) -> list[_Bucket]:
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
                    view = _Bucket(idx)
                    _merge_into(view, pending)
                    out.append(view)
        return out

    def _agg(self, s: _Series, i: int, now: float) -> _Agg:
        agg = _Agg()
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
            p50 = _percentiles(agg.lat, agg.count, (0.5,))[0]
            stats = LiveStats(agg.count, None if p50 is None else p50 / 1000.0, agg.ok / agg.count)
        else:
            stats = _NO_LIVE
        self._live_cache[key] = (s.version, cur, stats)
        return stats

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
        aggs = [_Agg() for _ in range(points)]
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
        subjects: list[tuple[str, _Series]] = [("overall", self._overall)]
        subjects += [(f"{p}:{m}", s) for (p, m), s in sorted(self._keys.items())]
        recent_name = self._windows[self._recent_i].name
        for subject, s in subjects:
            recent = self._agg(s, self._recent_i, now)
            if recent.count < ALERT_MIN_RECENT:
                continue
            base: _Agg | None = None
            base_name = ""
            for bi in self._baseline_is:
                candidate = self._agg(s, bi, now).minus(recent)
                if candidate.count >= ALERT_MIN_BASELINE:
                    base, base_name = candidate, self._windows[bi].name
                    break
            if base is None:
                continue
            r95 = _percentiles(recent.lat, recent.count, (0.95,))[0]
            b95 = _percentiles(base.lat, base.count, (0.95,))[0]
            if r95 is not None and b95 is not None and b95 > 0:
                ratio = r95 / b95
                if ratio >= ALERT_LATENCY_WARN:
                    severity = "critical" if ratio >= ALERT_LATENCY_CRITICAL else "warning"
                    out.append(
                        Alert(
                            severity,
                            subject,
                            f"p95 latency {_fmt_ms(r95)} is {ratio:.1f}x its {base_name} baseline ({_fmt_ms(b95)})",
                        )
                    )
            if not recent.settled or not base.settled:
                continue
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
                        f"error rate {r_err:.0%} over the last {recent_name} vs {b_err:.0%} "
                        f"in its {base_name} baseline{cause}",
                    )
                )
        out.sort(key=lambda a: (a.severity != "critical", a.subject))
        return out


_NO_LIVE = LiveStats()


def _fmt_ms(ms: float) -> str:
    return f"{ms / 1000.0:.1f} s" if ms >= 1000.0 else f"{ms:.0f} ms"
