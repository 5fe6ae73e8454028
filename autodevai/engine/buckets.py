"""The storage under ``Metrics``: time buckets holding counts, tokens, cost, outcomes and sparse log-spaced
histograms of latency and time to first token; their merges; nearest-rank percentiles.

Histogram bins grow by 10 % from 0.1 ms to 10 min, so a percentile read from the merged histogram of a window is
within ~5 % of the exact one, and memory is bounded by (buckets x occupied bins) whatever the traffic. Buckets are
sparse (dicts: most bins are empty); a merge of buckets (``Agg``) is dense, so merging and subtracting are plain
loops. Pure data structures: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from autodevai.engine.events import CANCELLED, RequestEvent
from autodevai.engine.stats import Stats

__all__ = [
    "BIN_VALUE",
    "NBINS",
    "Agg",
    "Bucket",
    "Series",
    "Window",
    "bin_of",
    "bucket_for",
    "bump",
    "merge_into",
    "percentiles",
]

# Histogram: bin 0 holds [0, 0.1 ms); bin k >= 1 holds [0.1 ms * 1.1^(k-1), 0.1 ms * 1.1^k); the last bin also
# holds everything beyond 10 min. A bin reads as its geometric middle: at most ~4.9 % off.
_H_MIN_S = 1e-4
_H_RATIO = 1.1
_INV_LOG_RATIO = 1.0 / math.log(_H_RATIO)
NBINS = math.ceil(math.log(600.0 / _H_MIN_S) * _INV_LOG_RATIO) + 2
BIN_VALUE = [_H_MIN_S / 2] + [_H_MIN_S * _H_RATIO ** (k - 0.5) for k in range(1, NBINS)]


def bin_of(seconds: float) -> int:
    """The histogram bin of a duration in seconds."""
    if seconds < _H_MIN_S:
        return 0
    k = int(math.log(seconds / _H_MIN_S) * _INV_LOG_RATIO) + 1
    return k if k < NBINS else NBINS - 1


class Bucket:
    """The requests of one time slice of one window (``idx`` = start time // the window's bucket width)."""

    __slots__ = (
        "cancelled", "completion", "cost", "count", "errors", "hedged", "idx", "lat", "ok", "prompt", "rolled", "ttft",
    )  # fmt: skip

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.rolled = False  # a finest-window bucket is merged into the coarser windows once it is complete
        self.count = 0
        self.ok = 0
        self.cancelled = 0
        self.hedged = 0
        self.errors: dict[str, int] = {}
        self.lat: dict[int, int] = {}
        self.ttft: dict[int, int] = {}
        self.prompt = 0
        self.completion = 0
        self.cost = 0.0


class Agg:
    """A merge of buckets; dense histograms so merging and subtracting are plain loops."""

    __slots__ = (
        "cancelled",
        "completion",
        "cost",
        "count",
        "errors",
        "hedged",
        "lat",
        "ok",
        "prompt",
        "ttft",
        "ttft_n",
    )

    def __init__(self) -> None:
        self.count = 0
        self.ok = 0
        self.cancelled = 0
        self.hedged = 0
        self.errors: dict[str, int] = {}
        self.lat = [0] * NBINS
        self.ttft = [0] * NBINS
        self.ttft_n = 0
        self.prompt = 0
        self.completion = 0
        self.cost = 0.0

    @property
    def settled(self) -> int:
        """Requests that ended by themselves (not stopped by the user): what success and error rates divide by."""
        return self.count - self.cancelled

    def add(self, b: Bucket) -> None:
        self.count += b.count
        self.ok += b.ok
        self.cancelled += b.cancelled
        self.hedged += b.hedged
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

    def minus(self, other: Agg) -> Agg:
        out = Agg()
        out.count = max(0, self.count - other.count)
        out.ok = max(0, self.ok - other.ok)
        out.cancelled = max(0, self.cancelled - other.cancelled)
        out.hedged = max(0, self.hedged - other.hedged)
        out.errors = {k: n - other.errors.get(k, 0) for k, n in self.errors.items() if n > other.errors.get(k, 0)}
        out.lat = [max(0, a - b) for a, b in zip(self.lat, other.lat, strict=True)]
        out.ttft = [max(0, a - b) for a, b in zip(self.ttft, other.ttft, strict=True)]
        out.ttft_n = sum(out.ttft)
        out.prompt = max(0, self.prompt - other.prompt)
        out.completion = max(0, self.completion - other.completion)
        out.cost = max(0.0, self.cost - other.cost)
        return out

    def stats(self, span_s: float) -> Stats:
        lat = percentiles(self.lat, sum(self.lat))
        ttft = percentiles(self.ttft, self.ttft_n)
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
            hedged=self.hedged,
        )


def percentiles(hist: list[int], n: int, qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list[float | None]:
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
            out.append(BIN_VALUE[k] * 1000.0)
            i += 1
        if i == len(ranks):
            break
    while len(out) < len(qs):  # only if the histogram holds fewer samples than n says
        out.append(BIN_VALUE[NBINS - 1] * 1000.0)
    return out


@dataclass(frozen=True, slots=True)
class Window:
    """One sliding window: its name ("15m"), span, bucket width and how many buckets it keeps."""

    name: str
    span: float
    width: float  # bucket width, seconds
    n: int  # buckets kept

    @staticmethod
    def make(name: str, span: float) -> Window:
        if span <= 0:
            raise ValueError(f"window {name!r} must be positive, not {span}")
        width = span / 60.0 if span <= 3600.0 else 600.0
        return Window(name, span, width, max(1, math.ceil(span / width - 1e-9)))


class Series:
    """One key's buckets: one ring per window."""

    __slots__ = ("rings", "version")

    def __init__(self, nwindows: int) -> None:
        self.rings: list[deque[Bucket]] = [deque() for _ in range(nwindows)]
        self.version = 0


def merge_into(dst: Bucket, src: Bucket) -> None:
    """Add the contents of ``src`` to ``dst``."""
    dst.count += src.count
    dst.ok += src.ok
    dst.cancelled += src.cancelled
    dst.hedged += src.hedged
    for name, n in src.errors.items():
        dst.errors[name] = dst.errors.get(name, 0) + n
    for k, n in src.lat.items():
        dst.lat[k] = dst.lat.get(k, 0) + n
    for k, n in src.ttft.items():
        dst.ttft[k] = dst.ttft.get(k, 0) + n
    dst.prompt += src.prompt
    dst.completion += src.completion
    dst.cost += src.cost


def bump(b: Bucket, lb: int, tb: int, e: RequestEvent) -> None:
    """Count ``e`` in ``b`` (``lb``/``tb``: its latency and TTFT bins, -1 for none)."""
    b.count += 1
    if e.hedged:
        b.hedged += 1
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


def bucket_for(ring: deque[Bucket], idx: int, keep: int) -> Bucket:
    """The bucket ``idx`` of ``ring``, created (and old ones evicted) as needed."""
    if not ring or idx > ring[-1].idx:
        b = Bucket(idx)
        ring.append(b)
        floor = idx - keep
        while ring[0].idx <= floor:
            ring.popleft()
        return b
    # Out of order (a request that finished slightly earlier on the clock, or history): search from the right.
    if idx <= ring[-1].idx - keep:
        return Bucket(idx)  # already outside the window: counted nowhere
    for pos in range(len(ring) - 1, -1, -1):
        cur = ring[pos]
        if cur.idx == idx:
            return cur
        if cur.idx < idx:
            b = Bucket(idx)
            ring.insert(pos + 1, b)
            return b
    b = Bucket(idx)
    ring.appendleft(b)
    return b
