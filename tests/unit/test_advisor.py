"""Advisor: recommendations from hand-built metrics, catalog, budget and breaker values, with their evidence."""

from __future__ import annotations

import pytest

from autodevai.engine.advisor import MIN_CALLS, QUALITY_SLACK, Recommendation, recommend
from autodevai.engine.breaker import BreakerSnapshot, BreakerState
from autodevai.engine.budget import BudgetSnapshot
from autodevai.engine.catalog import Catalog
from autodevai.engine.metrics import MetricsSummary, Stats
from autodevai.engine.types import ModelInfo

DAY = 86_400.0


def stats(
    count: int,
    ok: int | None = None,
    *,
    errors: dict[str, int] | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost: float = 0.0,
    p50: float | None = 800.0,
    p95: float | None = 1_500.0,
) -> Stats:
    ok = count if ok is None else ok
    errors = errors if errors is not None else ({"ProviderUnavailable": count - ok} if count > ok else {})
    return Stats(
        count=count,
        ok=ok,
        errors=errors,
        success_rate=ok / count if count else None,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p95,
        ttft_p50_ms=None,
        ttft_p95_ms=None,
        ttft_p99_ms=None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
        requests_per_s=0.0,
        tokens_per_s=0.0,
    )


def summary(
    per_model: dict[str, Stats], window_s: float = DAY, overall: Stats | None = None, observed_s: float | None = None
) -> MetricsSummary:
    if overall is None:
        count = sum(s.count for s in per_model.values())
        overall = stats(
            count,
            sum(s.ok for s in per_model.values()),
            errors={},
            cost=sum(s.cost_usd for s in per_model.values()),
            p50=1_000.0 if count else None,
        )
    return MetricsSummary("24h", window_s, overall, per_model, observed_s)


def model(model_id: str, price_in: float, price_out: float, quality: float, **kw: object) -> ModelInfo:
    return ModelInfo.model_validate(
        {
            "id": model_id,
            "provider": "sim",
            "price_in": price_in,
            "price_out": price_out,
            "quality": quality,
            "context_length": 128_000,
            **kw,
        }
    )


BIG = model("acme/big", 10e-6, 30e-6, 0.85)
ALT = model("acme/alt", 1e-6, 3e-6, 0.85 - QUALITY_SLACK / 2)  # 90 % cheaper, quality within the slack
WORSE = model("acme/worse", 0.1e-6, 0.3e-6, 0.85 - QUALITY_SLACK * 3)  # cheapest, but clearly worse
FREE = model("acme/alt:free", 0.0, 0.0, 0.86)
NEAR = model("acme/near", 8e-6, 24e-6, 0.9)  # better, but only 20 % cheaper


def budget(cap: float | None = None, spent: float = 0.0) -> BudgetSnapshot:
    return BudgetSnapshot(
        caps={"daily": cap, "monthly": None, "total": None},
        spent={"daily": spent, "monthly": spent, "total": spent},
        reserved=0.0,
        left={"daily": None if cap is None else cap - spent, "monthly": None, "total": None},
    )


def breaker(state: BreakerState, calls: int, failure_rate: float) -> BreakerSnapshot:
    is_open = state is BreakerState.OPEN
    return BreakerSnapshot(state, calls, failure_rate, 0.0, 100.0 if is_open else None, 30.0 if is_open else None, 1)


def big_usage(calls: int = 100) -> Stats:
    """``calls`` healthy calls of BIG: 1,000 prompt + 500 completion tokens each, at BIG's prices."""
    cost = calls * (1_000 * BIG.price_in + 500 * BIG.price_out)
    return stats(calls, prompt_tokens=1_000 * calls, completion_tokens=500 * calls, cost=cost)


def kinds(recs: list[Recommendation]) -> list[str]:
    return [r.kind for r in recs]


def advise(
    per_model: dict[str, Stats],
    models: list[ModelInfo] | None = None,
    *,
    snapshot: BudgetSnapshot | None = None,
    breakers: dict[tuple[str, str], BreakerSnapshot] | None = None,
    allow_free: bool = False,
    day: MetricsSummary | None = None,
) -> list[Recommendation]:
    catalog = Catalog(models if models is not None else [BIG])
    day = day or summary(per_model)
    return recommend(day, catalog, snapshot or budget(), breakers, allow_free=allow_free)


# ---- failing models ----


def test_failing_model_from_metrics_names_its_top_error() -> None:
    flaky = stats(20, 12, errors={"ProviderTimeout": 2, "ProviderUnavailable": 6})
    recs = advise({"sim:acme/big": flaky})
    assert kinds(recs) == ["failing-model"]
    rec = recs[0]
    assert rec.severity == "warning"  # 60 % success: bad, not dire
    assert "acme/big fails 40% of calls" in rec.title
    assert "ProviderUnavailable" in rec.action
    assert rec.evidence == {"calls": 20, "success_rate": 0.6, "top_error": "ProviderUnavailable"}


def test_mostly_failing_model_is_critical() -> None:
    recs = advise({"sim:acme/big": stats(10, 3)})
    assert recs[0].kind == "failing-model" and recs[0].severity == "critical"


def test_healthy_model_gets_no_failing_advice() -> None:
    assert "failing-model" not in kinds(advise({"sim:acme/big": stats(100, 95)}))


def test_open_breaker_is_reported_even_when_fallbacks_hid_the_failures() -> None:
    # The metrics only see the request, which a fallback answered: all "ok". The breaker saw the model fail.
    breakers = {("sim", "acme/big"): breaker(BreakerState.OPEN, 10, 0.8)}
    recs = advise({"sim:acme/alt": stats(50)}, [BIG, ALT], breakers=breakers)
    assert kinds(recs) == ["failing-model"]
    rec = recs[0]
    assert rec.severity == "critical"
    assert "acme/big fails 80%" in rec.title and "breaker open" in rec.title
    assert rec.evidence["provider"] == "sim"
    assert rec.evidence["recent_calls"] == 10
    assert rec.evidence["breaker"] == "open"


def test_model_failing_in_metrics_and_breaker_is_reported_once() -> None:
    breakers = {("sim", "acme/big"): breaker(BreakerState.OPEN, 10, 0.8)}
    recs = advise({"sim:acme/big": stats(20, 4)}, breakers=breakers)
    assert kinds(recs) == ["failing-model"]


def test_closed_breaker_with_high_failure_rate_is_a_warning() -> None:
    breakers = {("sim", "acme/big"): breaker(BreakerState.CLOSED, 8, 0.5)}
    recs = advise({}, breakers=breakers)
    assert [(r.kind, r.severity) for r in recs] == [("failing-model", "warning")]


@pytest.mark.parametrize(
    "snap",
    [breaker(BreakerState.CLOSED, 20, 0.2), breaker(BreakerState.OPEN, MIN_CALLS - 1, 1.0)],
)
def test_healthy_or_barely_used_breaker_gives_no_advice(snap: BreakerSnapshot) -> None:
    assert advise({}, breakers={("sim", "acme/big"): snap}) == []


# ---- cheaper equivalent ----


def test_cheaper_equivalent_with_saving_and_evidence() -> None:
    recs = advise({"sim:acme/big": big_usage()}, [BIG, ALT, NEAR])
    assert kinds(recs) == ["cheaper-model"]
    rec = recs[0]
    assert rec.severity == "info"
    assert rec.title == "acme/alt costs 90% less than acme/big at similar quality"
    assert "prefer acme/alt" in rec.action
    now = 1_000 * BIG.price_in + 500 * BIG.price_out
    alt = 1_000 * ALT.price_in + 500 * ALT.price_out
    assert rec.evidence["calls"] == 100
    assert rec.evidence["avg_prompt_tokens"] == 1_000
    assert rec.evidence["avg_completion_tokens"] == 500
    assert rec.evidence["cost_per_call_now"] == pytest.approx(now)
    assert rec.evidence["cost_per_call_alt"] == pytest.approx(alt)
    # 24 h of history at 100 calls: the saving per day is 90 % of what was spent.
    assert rec.impact_usd_per_day == pytest.approx(100 * now * 0.9)


def test_no_cheaper_model_when_quality_drops_beyond_the_slack() -> None:
    assert advise({"sim:acme/big": big_usage()}, [BIG, WORSE]) == []
    # With an equivalent present, the equivalent is chosen, not the cheaper but worse one.
    recs = advise({"sim:acme/big": big_usage()}, [BIG, WORSE, ALT])
    assert [r.title.split()[0] for r in recs] == ["acme/alt"]


def test_no_cheaper_model_when_the_saving_is_small() -> None:
    assert advise({"sim:acme/big": big_usage()}, [BIG, NEAR]) == []


def test_free_model_only_when_allowed() -> None:
    assert advise({"sim:acme/big": big_usage()}, [BIG, FREE]) == []
    recs = advise({"sim:acme/big": big_usage()}, [BIG, FREE], allow_free=True)
    assert kinds(recs) == ["cheaper-model"]
    assert recs[0].title == "acme/alt:free is free and of similar quality to acme/big"  # not "100 % less"


def test_never_advises_moving_to_a_failing_model() -> None:
    breakers = {("sim", "acme/alt"): breaker(BreakerState.OPEN, 10, 0.9)}
    recs = advise({"sim:acme/big": big_usage()}, [BIG, ALT], breakers=breakers)
    assert kinds(recs) == ["failing-model"]
    recs = advise({"sim:acme/big": big_usage(), "sim:acme/alt": stats(20, 5)}, [BIG, ALT])
    assert kinds(recs) == ["failing-model"]


def test_no_cheaper_model_without_cost_or_catalog_entry() -> None:
    assert advise({"sim:acme/big": stats(100, prompt_tokens=100_000, completion_tokens=50_000)}, [BIG, ALT]) == []
    assert advise({"sim:acme/unknown": big_usage()}, [BIG, ALT]) == []


# ---- budget burn ----


def test_budget_burn_projects_the_observed_rate_and_says_what_it_is_based_on() -> None:
    day = summary({}, overall=stats(30, cost=0.5), observed_s=1_800.0)  # $0.50 in 30 min = $24/day
    recs = advise({}, day=day, snapshot=budget(cap=10.0, spent=2.0))
    assert kinds(recs) == ["budget-burn"]
    rec = recs[0]
    assert rec.severity == "warning"
    assert "$24.00/day against a $10.00 daily cap" in rec.title
    assert rec.evidence["projected_usd_per_day"] == pytest.approx(24.0)
    assert rec.evidence["daily_cap_usd"] == 10.0
    assert rec.evidence["based_on"] == "30 requests over 30 min"
    assert rec.impact_usd_per_day == pytest.approx(14.0)


def test_a_two_minute_burst_is_not_projected_to_a_day() -> None:
    day = summary({}, overall=stats(30, cost=0.5), observed_s=120.0)
    assert advise({}, day=day, snapshot=budget(cap=10.0, spent=2.0)) == []
    recs = advise({"sim:acme/big": big_usage()}, [BIG, ALT], day=summary({"sim:acme/big": big_usage()}, observed_s=120))
    assert kinds(recs) == ["cheaper-model"] and recs[0].impact_usd_per_day == 0.0
    assert "not projected" in str(recs[0].evidence["saving_per_day"])


def test_budget_burn_is_critical_when_most_of_the_cap_is_spent() -> None:
    day = summary({}, overall=stats(30, cost=0.5), observed_s=1_800.0)
    recs = advise({}, day=day, snapshot=budget(cap=10.0, spent=9.0))
    assert recs[0].severity == "critical"


@pytest.mark.parametrize("cap", [None, 100.0])
def test_no_budget_advice_under_the_cap_or_without_one(cap: float | None) -> None:
    day = summary({}, overall=stats(30, cost=0.5), observed_s=1_800.0)
    assert advise({}, day=day, snapshot=budget(cap=cap)) == []


# ---- slow models, long prompts ----


def test_slow_model() -> None:
    recs = advise({"sim:acme/big": stats(20, p50=4_000.0, p95=9_000.0), "sim:acme/alt": stats(80, p95=900.0)})
    assert kinds(recs) == ["slow-model"]
    assert recs[0].title == "acme/big is slow: p95 9.0 s"
    assert recs[0].evidence == {"p95_ms": 9_000, "overall_p50_ms": 1_000}


def test_moderately_slow_model_is_not_flagged() -> None:
    # 4 s p95 is > 3x the overall median but still under the 5 s floor.
    assert advise({"sim:acme/big": stats(20, p95=4_000.0)}) == []


def test_long_prompts() -> None:
    recs = advise({"sim:acme/big": stats(10, prompt_tokens=120_000)})
    assert kinds(recs) == ["long-prompts"]
    assert recs[0].evidence == {"avg_prompt_tokens": 12_000, "calls": 10}
    assert "12,000 tokens" in recs[0].title


# ---- evidence threshold and ordering ----


def test_nothing_is_advised_below_min_calls() -> None:
    few = MIN_CALLS - 1
    bad = stats(few, 0, prompt_tokens=few * 50_000, cost=1.0, p50=9_000.0, p95=60_000.0)
    assert advise({"sim:acme/big": bad}, [BIG, ALT]) == []


def test_order_is_critical_then_warning_then_info_then_by_impact() -> None:
    per_model = {
        "sim:acme/big": big_usage(100),  # cheaper-model (info, large impact)
        "sim:acme/near": stats(20, prompt_tokens=400_000),  # long-prompts (info, no impact)
        "sim:acme/slow": stats(20, p95=20_000.0),  # slow-model (warning)
        "sim:acme/down": stats(20, 2),  # failing-model (critical)
    }
    catalog = [BIG, ALT, NEAR, model("acme/slow", 1e-6, 1e-6, 0.6), model("acme/down", 1e-6, 1e-6, 0.6)]
    recs = advise(per_model, catalog, snapshot=budget(cap=1.0))
    assert [(r.severity, r.kind) for r in recs] == [
        ("critical", "failing-model"),
        ("warning", "budget-burn"),
        ("warning", "slow-model"),
        ("info", "cheaper-model"),
        ("info", "long-prompts"),
    ]
