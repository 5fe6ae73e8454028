"""What a metrics reading returns: ``Stats`` over one window (or one point of a chart's series) and the
``MetricsSummary`` of a window, overall and per model. Plain frozen values; ``Metrics`` computes them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MetricsSummary", "Stats"]


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
    hedged: int = 0  # requests where a second model raced the first (hedging)


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    window: str
    window_s: float
    overall: Stats
    per_model: dict[str, Stats]  # key "provider:model"
    observed_s: float | None = None  # how much of the window has data (since the first event); None: all of it
