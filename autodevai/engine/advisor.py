"""Recommendations computed from measured history, each carrying the numbers that triggered it.

Pure: takes a metrics summary, the catalog, budget state and settings; returns ``Recommendation`` values sorted
by how much they matter. Nothing is advised without enough evidence (``MIN_CALLS``), and nothing is projected to a
day from less than ``PROJECTION_MIN_S`` of history: a two-minute burst says nothing about a day. Every projection
says what it is based on ("12 requests over 47 min").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from autodevai.engine.breaker import BreakerSnapshot, BreakerState
from autodevai.engine.budget import BudgetSnapshot
from autodevai.engine.catalog import Catalog
from autodevai.engine.metrics import MetricsSummary
from autodevai.engine.pricing import is_free_tier
from autodevai.engine.types import ModelInfo, ModelRef

__all__ = [
    "FAILING_SUCCESS_RATE",
    "LONG_PROMPT_TOKENS",
    "MIN_CALLS",
    "MIN_SAVING",
    "PROJECTION_MIN_S",
    "QUALITY_SLACK",
    "Recommendation",
    "recommend",
]

MIN_CALLS = 5
FAILING_SUCCESS_RATE = 0.9
QUALITY_SLACK = 0.02  # an "equivalent" model may be this much lower on the quality prior
MIN_SAVING = 0.3  # recommend a cheaper model only if it saves at least 30 %
LONG_PROMPT_TOKENS = 8_000
PROJECTION_MIN_S = 1_800.0  # project $/day only from at least 30 minutes of history


@dataclass(frozen=True, slots=True)
class Recommendation:
    kind: str  # cheaper-model, failing-model, budget-burn, slow-model, long-prompts
    severity: str  # info / warning / critical
    title: str
    action: str
    evidence: dict[str, float | int | str] = field(default_factory=dict)
    impact_usd_per_day: float = 0.0


def _split(key: str) -> ModelRef:
    provider, _, model = key.partition(":")
    return ModelRef(provider, model)


def _cheaper_equivalent(
    info: ModelInfo, catalog: Catalog, p_tok: float, c_tok: float, allow_free: bool, failing: set[str]
) -> ModelInfo | None:
    cost_now = _per_call(info, p_tok, c_tok)
    best: ModelInfo | None = None
    best_cost = cost_now * (1 - MIN_SAVING)
    for other in catalog.all():
        if other.id == info.id or other.quality < info.quality - QUALITY_SLACK:
            continue
        if other.route_exclusion or not other.price_known or (not allow_free and is_free_tier(other)):
            continue
        if f"{other.provider}:{other.id}" in failing:  # never advise moving to a model advised against
            continue
        if other.context_length < info.context_length // 2 or "text" not in other.output_modalities:
            continue
        cost = _per_call(other, p_tok, c_tok)
        if cost < best_cost:
            best, best_cost = other, cost
    return best


def _per_call(info: ModelInfo, p_tok: float, c_tok: float) -> float:
    price_in, price_out = info.prices_for(round(p_tok))
    return p_tok * price_in + c_tok * price_out + info.price_request


def _observed(summary: MetricsSummary) -> float:
    return summary.window_s if summary.observed_s is None else summary.observed_s


def _based_on(calls: int, seconds: float) -> str:
    return f"{calls:,} request{'s' if calls != 1 else ''} over {seconds / 60.0:.0f} min"


def recommend(
    day: MetricsSummary,
    catalog: Catalog,
    budget: BudgetSnapshot,
    breakers: Mapping[tuple[str, str], BreakerSnapshot] | None = None,
    *,
    allow_free: bool = False,
) -> list[Recommendation]:
    """Advice from the ``day`` (24 h) metrics and the breakers' per-attempt view (a model
    whose failures were hidden by fallbacks still shows there); most important first."""
    out: list[Recommendation] = []
    flagged: set[str] = set()
    for (provider, model), snap in sorted((breakers or {}).items()):
        if snap.calls < MIN_CALLS or (snap.state is BreakerState.CLOSED and snap.failure_rate < 0.5):
            continue
        flagged.add(f"{provider}:{model}")
        chain = "a fallback chain (routing.chains) so requests skip it sooner"
        out.append(
            Recommendation(
                "failing-model",
                "critical" if snap.state is BreakerState.OPEN else "warning",
                f"{model} fails {snap.failure_rate:.0%} of its recent calls (breaker {snap.state.value})",
                f"route away from {model} or give it {chain}; check `autodevai status`",
                {
                    "provider": provider,
                    "recent_calls": snap.calls,
                    "failure_rate": round(snap.failure_rate, 3),
                    "breaker": snap.state.value,
                },
            )
        )
    day_seconds = _observed(day)
    projecting = day_seconds >= PROJECTION_MIN_S
    failing = flagged | {
        key
        for key, stats in day.per_model.items()
        if stats.count >= MIN_CALLS and stats.success_rate is not None and stats.success_rate < FAILING_SUCCESS_RATE
    }
    for key, stats in day.per_model.items():
        if stats.count < MIN_CALLS or not key.partition(":")[2]:
            continue
        ref = _split(key)
        info = catalog.get(ref)
        if stats.success_rate is not None and stats.success_rate < FAILING_SUCCESS_RATE and key not in flagged:
            top = max(stats.errors.items(), key=lambda kv: kv[1])[0] if stats.errors else "errors"
            out.append(
                Recommendation(
                    "failing-model",
                    "critical" if stats.success_rate < 0.5 else "warning",
                    f"{ref.model} fails {1 - stats.success_rate:.0%} of calls",
                    f"add a fallback chain for {ref.model} or route away from it (mostly {top})",
                    {"calls": stats.count, "success_rate": round(stats.success_rate, 3), "top_error": top},
                )
            )
        if info is not None and stats.ok > 0 and stats.cost_usd > 0:
            p_tok = stats.prompt_tokens / stats.ok
            c_tok = stats.completion_tokens / stats.ok
            cheaper = _cheaper_equivalent(info, catalog, p_tok, c_tok, allow_free, failing)
            if cheaper is not None:
                now_cost = _per_call(info, p_tok, c_tok)
                new_cost = _per_call(cheaper, p_tok, c_tok)
                saving = 1 - new_cost / now_cost if now_cost else 0.0
                per_day = stats.cost_usd * saving * 86_400.0 / day_seconds if projecting else 0.0
                how = "is free" if new_cost == 0 else f"costs {saving:.0%} less"
                evidence: dict[str, float | int | str] = {
                    "calls": stats.count,
                    "avg_prompt_tokens": round(p_tok),
                    "avg_completion_tokens": round(c_tok),
                    "cost_per_call_now": round(now_cost, 6),
                    "cost_per_call_alt": round(new_cost, 6),
                    "based_on": _based_on(stats.count, day_seconds),
                }
                if not projecting:
                    evidence["saving_per_day"] = f"not projected: needs {PROJECTION_MIN_S / 60:.0f} min of history"
                out.append(
                    Recommendation(
                        "cheaper-model",
                        "info",
                        f"{cheaper.id} {how} than {info.id} at similar quality"
                        if new_cost
                        else f"{cheaper.id} is free and of similar quality to {info.id}",
                        f"prefer {cheaper.id} (quality {cheaper.quality:.2f} vs {info.quality:.2f}) for these prompts",
                        evidence,
                        impact_usd_per_day=per_day,
                    )
                )
        if (
            stats.latency_p95_ms is not None
            and day.overall.latency_p50_ms is not None
            and stats.latency_p95_ms > 3 * day.overall.latency_p50_ms
            and stats.latency_p95_ms > 5_000
        ):
            out.append(
                Recommendation(
                    "slow-model",
                    "warning",
                    f"{ref.model} is slow: p95 {stats.latency_p95_ms / 1000:.1f} s",
                    "route latency-sensitive work with the 'speed' preference",
                    {"p95_ms": round(stats.latency_p95_ms), "overall_p50_ms": round(day.overall.latency_p50_ms)},
                )
            )
        if stats.ok and stats.prompt_tokens / stats.ok > LONG_PROMPT_TOKENS:
            out.append(
                Recommendation(
                    "long-prompts",
                    "info",
                    f"prompts to {ref.model} average {stats.prompt_tokens / stats.ok:,.0f} tokens",
                    "compress long context before sending (middle-out or query-aware compression)",
                    {"avg_prompt_tokens": round(stats.prompt_tokens / stats.ok), "calls": stats.ok},
                )
            )
    cap = budget.caps.get("daily")
    if cap and projecting and day.overall.count >= MIN_CALLS and day.overall.cost_usd > 0:
        per_day = day.overall.cost_usd * 86_400.0 / day_seconds
        if per_day > cap:
            out.append(
                Recommendation(
                    "budget-burn",
                    "critical" if budget.spent.get("daily", 0.0) > 0.8 * cap else "warning",
                    f"spending at ${per_day:.2f}/day against a ${cap:.2f} daily cap",
                    "lower max_tokens, prefer the 'cost' strategy, or raise budget.daily_usd",
                    {
                        "cost_usd": round(day.overall.cost_usd, 6),
                        "based_on": _based_on(day.overall.count, day_seconds),
                        "projected_usd_per_day": round(per_day, 4),
                        "daily_cap_usd": cap,
                    },
                    impact_usd_per_day=per_day - cap,
                )
            )
    order = {"critical": 0, "warning": 1, "info": 2}
    out.sort(key=lambda r: (order.get(r.severity, 3), -r.impact_usd_per_day))
    return out
