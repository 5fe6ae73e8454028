"""Routing: each strategy picks the right model and says why; filters, explicit models, chains, errors;
and a 400-model catalog checked against brute force."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from autodevai.engine.capabilities import Need
from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import CapabilityMissing, ContextTooLong, InvalidRequest, NoRouteAvailable
from autodevai.engine.routing import Router
from autodevai.engine.settings import RoutingSettings
from autodevai.engine.types import LiveStats, ModelInfo, ModelRef, Preference, RouteDecision

M = 1e-6  # USD per token for $1 per million tokens


def _catalog() -> Catalog:
    def m(mid: str, pin: float, pout: float, ctx: int, q: float, **kw: object) -> ModelInfo:
        return ModelInfo.model_validate(
            {"id": mid, "provider": "sim", "price_in": pin * M, "price_out": pout * M, "context_length": ctx,
             "quality": q, **kw}
        )  # fmt: skip

    return Catalog(
        [
            m("cheap/tiny", 0.1, 0.2, 8192, 0.45),
            m("mid/model", 1, 3, 128_000, 0.75),
            m("big/smart", 10, 30, 200_000, 0.95),
            m("long/window", 2, 6, 1_000_000, 0.72),
            m("free/model:free", 0, 0, 32_768, 0.6),
            m("img/painter", 0.01, 0.01, 8192, 0.99, output_modalities=("image",)),
            m("other/host", 0.5, 1, 64_000, 0.7, provider="local"),
        ]
    )


def _router(**settings: object) -> Router:
    # These tests were written with ":free" models allowed; the product default (opt-in) is tested on its own.
    return Router(_catalog(), RoutingSettings.model_validate({"allow_free": True, **settings}))


def _decide(
    router: Router, preference: Preference, prompt: int = 1000, max_tokens: int = 500, **kw: Any
) -> RouteDecision:
    return router.decide(preference=preference, prompt_tokens=prompt, max_tokens=max_tokens, now=0.0, **kw)


def _ids(d: RouteDecision) -> list[str]:
    return [r.model for r in d.candidates]


def test_cost_picks_the_free_model_then_the_cheapest_paid() -> None:
    d = _decide(_router(allow_free=True), Preference.COST)
    assert _ids(d) == ["free/model:free", "cheap/tiny", "other/host", "mid/model"]
    assert d.reasons[0].startswith("cheapest of 6 models that fit 1,500 tokens: $0 (free)")
    assert ("no text output", 1) in d.excluded
    assert d.considered == 6 and d.scores[0] == ("free/model:free", 0.0)

    d = _decide(Router(_catalog(), RoutingSettings()), Preference.COST)  # free models are opt-in by default
    assert d.chosen == ModelRef("sim", "cheap/tiny")
    expected = 1000 * 0.1 * M + 500 * 0.2 * M
    assert f"${expected:.6f} expected" in d.reasons[0]
    assert ("free models not allowed", 1) in d.excluded


def test_cost_weighs_the_prompt_against_the_output() -> None:
    # in:out prices 1:10 vs 4:4 — a long prompt with a short answer favors the first, the reverse the second
    cat = Catalog(
        [
            ModelInfo(id="a/in-cheap", provider="p", price_in=1 * M, price_out=10 * M, quality=0.7),
            ModelInfo(id="b/flat", provider="p", price_in=4 * M, price_out=4 * M, quality=0.7),
        ]
    )
    router = Router(cat, RoutingSettings(allow_free=True))
    assert _decide(router, Preference.COST, prompt=3000, max_tokens=10).chosen.model == "a/in-cheap"
    assert _decide(router, Preference.COST, prompt=10, max_tokens=3000).chosen.model == "b/flat"


def test_quality_picks_the_best_prior() -> None:
    d = _decide(_router(), Preference.QUALITY)
    assert _ids(d)[:2] == ["big/smart", "mid/model"]
    assert "highest quality prior (0.95)" in d.reasons[0]
    assert [s for _, s in d.scores] == sorted((s for _, s in d.scores), reverse=True)
    d = _decide(_router(min_quality=0.74), Preference.QUALITY)
    assert _ids(d) == ["big/smart", "mid/model"]  # nothing else passes; fewer fallbacks than asked
    assert ("quality below 0.74", 4) in d.excluded


def test_speed_uses_live_latency_after_the_rescore_interval() -> None:
    router = _router()
    measured: dict[str, LiveStats] = {}

    def live(ref: ModelRef) -> LiveStats:
        return measured.get(ref.model, LiveStats())

    first = router.decide(preference=Preference.SPEED, prompt_tokens=100, max_tokens=100, now=10.0, live=live)
    assert first.chosen.model == "free/model:free"  # no data: the price prior says the free model is quickest
    assert "no latency measured yet" in first.reasons[0]

    measured["big/smart"] = LiveStats(calls=12, p50_latency_s=0.12, success_rate=1.0)
    soon = router.decide(preference=Preference.SPEED, prompt_tokens=100, max_tokens=100, now=10.5, live=live)
    assert soon.chosen.model == "free/model:free"  # within the rescore interval: rankings unchanged
    later = router.decide(preference=Preference.SPEED, prompt_tokens=100, max_tokens=100, now=11.1, live=live)
    assert later.chosen.model == "big/smart"
    assert "p50 0.12 s over 12 recent calls" in later.reasons[0]

    measured["mid/model"] = LiveStats(calls=2, p50_latency_s=0.01, success_rate=1.0)  # too few calls to trust
    again = router.decide(preference=Preference.SPEED, prompt_tokens=100, max_tokens=100, now=13.0, live=live)
    assert again.chosen.model == "big/smart"


def _balanced(m: ModelInfo, weights: dict[str, float], live: LiveStats | None = None) -> float:
    """The documented BALANCED formula, written independently of the router."""
    blended = (3 * m.price_in + m.price_out) / 4 * 1e6
    price = max(0.0, 1 - math.log10(1 + blended) / math.log10(101))
    lat, success = 0.5, 0.5
    if live is not None and live.calls >= 3 and live.p50_latency_s is not None:
        lat = 1 / (1 + live.p50_latency_s / 2.0)
    if live is not None and live.calls and live.success_rate is not None:
        success = (live.success_rate * live.calls + 1) / (live.calls + 2)
    w = weights
    total = w["price"] * price + w["quality"] * m.quality + w["latency"] * lat + w["success"] * success
    return total / sum(w.values())


def test_balanced_follows_the_weights() -> None:
    cat = _catalog()
    text = [m for m in cat.all() if "text" in m.output_modalities]
    for weights in (
        {"price": 0.35, "quality": 0.35, "latency": 0.2, "success": 0.1},
        {"price": 0.0, "quality": 1.0, "latency": 0.0, "success": 0.0},
        {"price": 1.0, "quality": 0.0, "latency": 0.0, "success": 0.0},
    ):
        d = _decide(
            Router(cat, RoutingSettings.model_validate({"weights": weights, "allow_free": True})), Preference.BALANCED
        )
        best = max(text, key=lambda m: _balanced(m, weights))
        assert d.chosen.model == best.id
        assert d.scores[0][1] == pytest.approx(_balanced(best, weights))
        assert "best balanced score" in d.reasons[0] and "quality" in d.reasons[0]


def test_balanced_punishes_a_failing_model() -> None:
    router = _router(weights={"price": 0, "quality": 0.5, "latency": 0, "success": 0.5})
    healthy = _decide(router, Preference.BALANCED, live=lambda r: LiveStats())
    assert healthy.chosen.model == "big/smart"

    def live(ref: ModelRef) -> LiveStats:
        if ref.model == "big/smart":
            return LiveStats(calls=20, p50_latency_s=1.0, success_rate=0.1)
        return LiveStats(calls=20, p50_latency_s=1.0, success_rate=1.0)

    sick = router.decide(preference=Preference.BALANCED, prompt_tokens=1000, max_tokens=500, now=5.0, live=live)
    assert sick.chosen.model == "mid/model"


def test_context_filter_counts_what_it_excluded() -> None:
    d = _decide(_router(), Preference.COST, prompt=150_000, max_tokens=1000)
    assert _ids(d) == ["long/window", "big/smart"]
    assert "of 2 models that fit 151,000 tokens" in d.reasons[0]
    assert ("context too small", 4) in d.excluded


def test_max_output_caps_what_the_context_must_hold() -> None:
    cat = Catalog([ModelInfo(id="a/capped", provider="p", context_length=10_000, max_output=1000, quality=0.7)])
    d = _decide(Router(cat, RoutingSettings(allow_free=True)), Preference.COST, prompt=8_500, max_tokens=50_000)
    assert d.chosen.model == "a/capped"  # 8,500 + min(50,000, 1,000) fits 10,000


def test_open_breakers_are_skipped_and_said() -> None:
    opened = {ModelRef("sim", "free/model:free"), ModelRef("sim", "cheap/tiny")}
    d = _decide(_router(), Preference.COST, is_open=lambda r: r in opened)
    assert d.chosen.model == "other/host"
    assert "passed over 2 models with an open breaker" in d.reasons
    assert ("breaker open", 2) in d.excluded


def test_budget_filter_uses_the_worst_case() -> None:
    # worst cases: mid/model 1000 * $1/M + 500 * $3/M = $0.0025; long/window $0.005; big/smart $0.025
    d = _decide(_router(allow_free=False), Preference.QUALITY, budget_left=0.003)
    assert _ids(d) == ["mid/model", "other/host", "cheap/tiny"]
    assert any("passed over 2 models whose worst case exceeds the $0.003000 budget left" in r for r in d.reasons)
    assert ("over budget", 2) in d.excluded


def test_money_in_reasons_and_errors_reads_as_everywhere_else() -> None:
    # autodevai.text.fmt_usd: "$0" for nothing (not "$0 (free)" for an empty budget), thousands separated.
    with pytest.raises(NoRouteAvailable, match=r"cost more than the \$0 budget left"):
        _decide(_router(allow_free=False), Preference.QUALITY, budget_left=0.0)
    d = _decide(_router(), Preference.QUALITY, model="big/smart", prompt=100_000_000 // 1000, budget_left=0.0)
    assert "big/smart's worst case $1.0150 exceeds the $0 left" in d.reasons
    gold = Catalog([ModelInfo(id="gold/model", provider="p", price_in=0.1, price_out=0.1, context_length=100_000)])
    d = _decide(Router(gold, RoutingSettings()), Preference.QUALITY, model="gold/model", prompt=20_000, budget_left=1e3)
    assert "gold/model's worst case $2,050.0000 exceeds the $1,000.0000 left" in d.reasons


def test_provider_restriction() -> None:
    d = _decide(_router(), Preference.QUALITY, provider="local")
    assert _ids(d) == ["other/host"] and d.considered == 1
    assert ("other provider", 5) in d.excluded
    with pytest.raises(NoRouteAvailable, match="'nowhere' serves no model"):
        _decide(_router(), Preference.QUALITY, provider="nowhere")


def test_explicit_model_goes_first_with_chain_or_request_fallbacks() -> None:
    router = _router(chains={"cheap/tiny": ["long/window", "ghost/model", "mid/model"]})
    d = _decide(router, Preference.BALANCED, model="cheap/tiny")
    assert _ids(d) == ["cheap/tiny", "long/window", "mid/model"]
    assert d.reasons[0] == "cheap/tiny requested explicitly (served by sim)"
    assert any(r.startswith("fallback chain from settings") for r in d.reasons)
    assert any("ghost/model" in r for r in d.reasons)  # a stale chain entry is skipped and named

    d = _decide(router, Preference.BALANCED, model="cheap/tiny", fallbacks=["big/smart"])
    assert _ids(d) == ["cheap/tiny", "big/smart"]
    assert any(r.startswith("fallbacks from the request") for r in d.reasons)
    with pytest.raises(InvalidRequest, match="did you mean 'big/smart'"):
        _decide(router, Preference.BALANCED, model="cheap/tiny", fallbacks=["big/smrt"])


def test_explicit_model_without_chain_falls_back_to_similar_quality() -> None:
    d = _decide(_router(), Preference.COST, model="mid/model")
    assert d.chosen.model == "mid/model"
    fallbacks = _ids(d)[1:]
    assert fallbacks == ["other/host", "long/window", "big/smart"]  # cheapest first, all quality >= 0.70
    assert "similar or higher quality" in d.reasons[-1]
    # a chain for a strategy's own choice applies too
    d = _decide(_router(chains={"big/smart": ["mid/model"]}), Preference.QUALITY)
    assert _ids(d) == ["big/smart", "mid/model"]


def test_explicit_model_with_open_breaker_stays_first_and_says_so() -> None:
    d = _decide(_router(), Preference.COST, model="mid/model", is_open=lambda r: r.model == "mid/model")
    assert d.chosen.model == "mid/model"
    assert any("open breaker" in r for r in d.reasons)


def test_unknown_model_suggests_close_ids() -> None:
    with pytest.raises(InvalidRequest) as err:
        _decide(_router(), Preference.COST, model="big/smrt")
    assert "unknown model 'big/smrt'" in str(err.value) and "did you mean 'big/smart'" in str(err.value)


def test_context_too_long_vs_no_route() -> None:
    with pytest.raises(ContextTooLong) as err:
        _decide(_router(), Preference.COST, prompt=2_000_000)
    assert "largest window available is 1,000,000 tokens (long/window)" in str(err.value)
    assert err.value.limit == 1_000_000 and err.value.tokens == 2_000_500

    with pytest.raises(ContextTooLong, match="cheap/tiny has a 8,192-token window") as err2:
        _decide(_router(), Preference.COST, model="cheap/tiny", prompt=9000)
    assert "long/window has a 1,000,000-token window" in str(err2.value)

    with pytest.raises(NoRouteAvailable) as err3:
        _decide(_router(), Preference.QUALITY, is_open=lambda r: True)
    assert "6 of them have an open breaker" in str(err3.value)

    with pytest.raises(NoRouteAvailable, match="catalog is empty"):
        _decide(Router(Catalog(), RoutingSettings(allow_free=True)), Preference.COST)
    with pytest.raises(NoRouteAvailable, match=r"quality below 0\.99"):
        _decide(_router(min_quality=0.99), Preference.COST)


def test_reconfigure_and_catalog_replace_take_effect() -> None:
    cat = _catalog()
    router = Router(cat, RoutingSettings(allow_free=True))
    assert _decide(router, Preference.COST).chosen.model == "free/model:free"
    router.reconfigure(RoutingSettings(allow_free=False, fallbacks=1))
    d = _decide(router, Preference.COST)
    assert _ids(d) == ["cheap/tiny", "other/host"]
    cat.replace([ModelInfo(id="new/one", provider="sim", price_in=1 * M, quality=0.8)])
    assert _ids(_decide(router, Preference.COST)) == ["new/one"]


# ---- a 400-model catalog against brute force ----


def _big_catalog(rng: random.Random) -> list[ModelInfo]:
    models = []
    for i in range(400):
        free = i % 9 == 0
        pin = 0.0 if free else 10 ** rng.uniform(-8, -4.5)
        models.append(
            ModelInfo(
                id=f"v{i % 60}/model-{i}" + (":free" if free else ""),
                provider=("sim", "openrouter", "local")[i % 3],
                context_length=rng.choice([4096, 8192, 32_768, 128_000, 200_000, 1_000_000]),
                max_output=rng.choice([None, 4096, 16_384]),
                price_in=pin,
                price_out=0.0 if free else pin * rng.uniform(1, 6),
                quality=round(rng.uniform(0.3, 0.95), 4),
                output_modalities=("image",) if i % 50 == 7 else ("text",),
            )
        )
    return models


def _brute(
    models: list[ModelInfo],
    pref: Preference,
    prompt: int,
    max_tokens: int,
    k: int,
    is_open: Callable[[ModelRef], bool],
    budget: float | None,
    provider: str | None,
    live: dict[ModelRef, LiveStats],
    weights: dict[str, float],
) -> list[ModelRef]:
    ok = [
        m
        for m in models
        if "text" in m.output_modalities
        and (provider is None or m.provider == provider)
        and _fits(m, prompt, max_tokens)
        and not is_open(m.ref)
        and (budget is None or m.worst_case_cost(prompt, max_tokens) <= budget)
    ]

    def blended(m: ModelInfo) -> float:
        return 3 * m.price_in + m.price_out

    keys: dict[Preference, Callable[[ModelInfo], tuple[object, ...]]] = {
        Preference.COST: lambda m: (prompt * m.price_in + max_tokens * m.price_out, -m.quality, m.id),
        Preference.QUALITY: lambda m: (-m.quality, blended(m), m.id),
        Preference.SPEED: lambda m: (live[m.ref].p50_latency_s, blended(m), m.id),
        Preference.BALANCED: lambda m: (-_balanced(m, weights, live[m.ref]), blended(m), m.id),
    }
    return [m.ref for m in sorted(ok, key=keys[pref])[:k]]


def _fits(m: ModelInfo, prompt: int, max_tokens: int) -> bool:
    return prompt + min(max_tokens, m.max_output or max_tokens) <= m.context_length


def test_400_models_match_brute_force() -> None:
    rng = random.Random(11)
    models = _big_catalog(rng)
    cat = Catalog(models)
    weights = {"price": 0.35, "quality": 0.35, "latency": 0.2, "success": 0.1}
    router = Router(cat, RoutingSettings(allow_free=True))
    live = {
        m.ref: LiveStats(calls=rng.randint(3, 50), p50_latency_s=rng.uniform(0.1, 5), success_rate=rng.random())
        for m in models
    }
    opened = {m.ref for m in models if rng.random() < 0.1}
    is_open = opened.__contains__
    now = 100.0
    outcomes: set[str] = set()
    for trial in range(400):
        now += 0.1
        pref = list(Preference)[trial % 4]
        prompt = rng.choice([10, 500, 5000, 30_000, 150_000, 500_000, 2_000_000])
        max_tokens = rng.choice([64, 1024, 8000])
        budget = rng.choice([None, None, 0.0005, 0.05])
        provider = rng.choice([None, None, "local"])
        expected = _brute(models, pref, prompt, max_tokens, 4, is_open, budget, provider, live, weights)
        fits = sum(
            1
            for m in models
            if "text" in m.output_modalities
            and _fits(m, prompt, max_tokens)
            and (provider is None or m.provider == provider)
        )
        try:
            d = router.decide(
                preference=pref,
                prompt_tokens=prompt,
                max_tokens=max_tokens,
                now=now,
                provider=provider,
                is_open=is_open,
                live=live.__getitem__,
                budget_left=budget,
            )
        except ContextTooLong:
            assert fits == 0
            outcomes.add("context")
            continue
        except NoRouteAvailable:
            assert fits > 0 and not expected
            outcomes.add("no route")
            continue
        assert list(d.candidates) == expected, (trial, pref, prompt, max_tokens, budget, provider)
        assert f"of {fits:,} model" in d.reasons[0]
        outcomes.add("routed")
    assert outcomes == {"routed", "context", "no route"}


# ---- capabilities: only models that can serve what the request uses ----------------------------------------


def _capable_catalog() -> Catalog:
    def m(mid: str, pin: float, q: float, params: tuple[str, ...], inputs: tuple[str, ...] = ("text",)) -> ModelInfo:
        return ModelInfo(
            id=mid, provider="sim", price_in=pin * M, price_out=pin * M, context_length=128_000, quality=q,
            supported_parameters=params, input_modalities=inputs,
        )  # fmt: skip

    return Catalog(
        [
            m("a/cheap-text", 0.1, 0.5, ("max_tokens", "temperature")),
            m("b/tools", 1, 0.7, ("tools", "tool_choice")),
            m("c/vision-tools", 2, 0.9, ("tools", "structured_outputs"), ("text", "image")),
            m("d/vision", 0.5, 0.6, ("max_tokens",), ("text", "image")),
            ModelInfo(id="e/local", provider="sim", price_in=5 * M, price_out=5 * M, quality=0.4,
                      context_length=128_000, modalities_known=False),  # states nothing: may do anything
        ]
    )  # fmt: skip


def _cap_router() -> Router:
    return Router(_capable_catalog(), RoutingSettings.model_validate({"allow_free": True}))


def test_tools_route_only_to_models_that_list_them_and_say_so() -> None:
    d = _decide(_cap_router(), Preference.COST, needs=Need.TOOLS)
    assert _ids(d)[0] == "b/tools" and "a/cheap-text" not in _ids(d) and "d/vision" not in _ids(d)
    assert set(_ids(d)) == {"b/tools", "c/vision-tools", "e/local"}
    assert "needs tools: 3 of 5 models" in d.reasons
    assert ("cannot serve what the request uses", 2) in d.excluded


def test_two_needs_at_once() -> None:
    d = _decide(_cap_router(), Preference.QUALITY, needs=Need.TOOLS | Need.IMAGE_IN)
    assert _ids(d) == ["c/vision-tools", "e/local"]
    assert "needs image input: 3 of 5 models" in d.reasons


def test_a_pinned_model_that_cannot_serve_is_refused_before_any_call() -> None:
    with pytest.raises(CapabilityMissing) as info:
        _decide(_cap_router(), Preference.COST, model="a/cheap-text", needs=Need.TOOLS)
    assert info.value.missing == ("tools",) and info.value.model == "a/cheap-text"
    assert "models that can: c/vision-tools" in str(info.value)
    assert isinstance(info.value, InvalidRequest)


def test_no_capable_model_at_all_is_a_typed_error() -> None:
    router = Router(
        Catalog([ModelInfo(id="a/x", provider="sim", supported_parameters=("max_tokens",), price_in=M)]),
        RoutingSettings(),
    )
    with pytest.raises(CapabilityMissing, match=r"needs tools: 0 of 1 models"):
        _decide(router, Preference.BALANCED, needs=Need.TOOLS)


def test_fallback_chains_skip_models_without_the_capability() -> None:
    d = _decide(_cap_router(), Preference.COST, model="b/tools", fallbacks=["a/cheap-text", "c/vision-tools"],
                needs=Need.TOOLS)  # fmt: skip
    assert _ids(d) == ["b/tools", "c/vision-tools"]
    assert any("skipped 1 fallback: no tools" in r for r in d.reasons)


def test_no_needs_leaves_routing_as_it_was() -> None:
    assert _ids(_decide(_cap_router(), Preference.COST))[0] == "a/cheap-text"


def test_capability_filter_matches_brute_force() -> None:
    rng = random.Random(12)
    models = [
        m.model_copy(update={"supported_parameters": ("tools",) if rng.random() < 0.4 else ("max_tokens",)})
        for m in _big_catalog(rng)
    ]
    router = Router(Catalog(models), RoutingSettings(allow_free=True))
    live = {m.ref: LiveStats() for m in models}
    weights = {"price": 0.35, "quality": 0.35, "latency": 0.2, "success": 0.1}
    tooled = [m for m in models if "tools" in m.supported_parameters]
    for trial in range(100):
        pref = (Preference.COST, Preference.QUALITY)[trial % 2]
        prompt, max_tokens = rng.choice([10, 5000, 150_000]), rng.choice([64, 8000])
        expected = _brute(tooled, pref, prompt, max_tokens, 4, lambda r: False, None, None, live, weights)
        try:
            d = router.decide(preference=pref, prompt_tokens=prompt, max_tokens=max_tokens, now=0.0, needs=Need.TOOLS)
        except ContextTooLong:
            assert not expected
            continue
        assert list(d.candidates) == expected


def test_a_zero_priced_own_server_is_not_the_free_tier() -> None:
    catalog = Catalog(
        [
            ModelInfo(id="local-llama", provider="local", price_in=0.0, price_out=0.0, quality=0.6),
            ModelInfo(id="acme/m:free", provider="sim", price_in=0.0, price_out=0.0, quality=0.9),
            ModelInfo(id="acme/m", provider="sim", price_in=M, price_out=M, quality=0.9),
        ]
    )
    d = _decide(Router(catalog, RoutingSettings(allow_free=False)), Preference.COST)
    assert _ids(d)[0] == "local-llama" and "acme/m:free" not in _ids(d)  # only :free variants need allow_free
    assert ("free models not allowed", 1) in d.excluded


def test_exclude_patterns_and_unknown_prices() -> None:
    catalog = Catalog(
        [
            ModelInfo(id="acme/a", provider="sim", price_in=M, price_out=M, quality=0.9),
            ModelInfo(id="acme/b-preview", provider="sim", price_in=M / 2, price_out=M / 2, quality=0.9),
            ModelInfo(id="acme/c", provider="local", price_in=M / 4, price_out=M / 4, quality=0.9),
            ModelInfo(id="acme/d", provider="sim", price_known=False, quality=0.9),
        ]
    )
    settings = {"exclude": ["*-preview", "local:*"], "allow_free": True}
    d = _decide(Router(catalog, RoutingSettings.model_validate(settings)), Preference.COST)
    assert _ids(d) == ["acme/a"]
    assert ("excluded by routing.exclude", 2) in d.excluded
    assert ("price unknown (routing.allow_unknown_price is off)", 1) in d.excluded
    allowed = Router(catalog, RoutingSettings.model_validate({**settings, "allow_unknown_price": True}))
    assert "acme/d" in _ids(_decide(allowed, Preference.COST))


def test_provider_prices_from_settings_make_a_price_known() -> None:
    from autodevai.engine.pricing import apply_provider_prices
    from autodevai.engine.settings import ProviderSettings

    unknown = [ModelInfo(id="team-model", provider="team", price_known=False)]
    ps = ProviderSettings(name="team", base_url="http://10.0.0.5:8000/v1", price_in_per_m=0.5, price_out_per_m=1.5)
    priced = apply_provider_prices(unknown, ps)[0]
    assert priced.price_known and (priced.price_in, priced.price_out) == (0.5e-6, 1.5e-6)
    plain = ProviderSettings(name="team", base_url="http://127.0.0.1:8000/v1")
    assert not apply_provider_prices(unknown, plain)[0].price_known  # a local address does not make it free
