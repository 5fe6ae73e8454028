"""Routing: which models to try for one request, in order, and why. Pure and microseconds-fast.

Filters per request: the context fits (``prompt + min(max_tokens, max_output) <= context_length``), the model
can serve what the request uses (``needs``: tools, structured output, image input, ... — ``capabilities.py``),
the ``provider`` restriction, no open breaker (``is_open``), the worst-case cost fits ``budget_left``; static per
settings: text output, ``quality >= min_quality``, free models only if ``allow_free``, never a model the catalog
marks as not for routing (routers, aliases, ``:batch`` variants, non-chat and per-output-billed models: see
``pricing.py``) nor one matching ``routing.exclude``, unknown prices only if ``allow_unknown_price``. A window the
server did not state counts as fitting (the prompt is sent as it is). Costs use the price tier the prompt reaches
(``ModelInfo.price_tiers``).

Strategies (``Preference``):

- COST: lowest expected cost ``prompt * price_in + max_tokens * price_out + price_request``, ties by quality.
  Free models first (best first), then a threshold walk down the models sorted by input price and by output
  price together (Fagin's threshold algorithm): exact for any prompt/output mix.
- QUALITY: highest quality prior, ties by price.
- SPEED: lowest measured p50 latency (``LiveStats`` with at least ``LIVE_MIN_CALLS`` calls). A model without
  data ranks by a neutral prior, 0.5 s + 0.4 s per decade of its output price in USD per million tokens
  (bigger, pricier models answer slower), so unmeasured models get tried rather than starved.
- BALANCED: ``(w.price*price + w.quality*quality + w.latency*latency + w.success*success) / sum(w)``, each
  part in 0..1: price = 1 - log10(1 + blended $/M) / log10(101) (free = 1, $100/M = 0); latency =
  1 / (1 + p50 / 2 s); success = Laplace-smoothed success rate; unknown latency and success count 0.5.

Rankings are precomputed when the catalog version or the settings change; SPEED and BALANCED are rescored from
``live`` at most every ``constants.ROUTE_RESCORE_S``. A request walks the ranking and keeps the first models
that pass its filters. ``considered`` counts the models passing the static filters and the provider
restriction; the context exclusion count is exact, the breaker and budget counts are the models passed over
on the way (the reasons say so).

Split by concern: ``route_index.py`` holds the flattened entries, pools and walks (the hot loop),
``route_rankings.py`` what is eligible and how it is ranked, ``route_reasons.py`` the sentences and errors;
this module makes the decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from autodevai.engine import constants
from autodevai.engine import route_reasons as say
from autodevai.engine.capabilities import Need
from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import InvalidRequest
from autodevai.engine.route_index import Entry, LiveFn, OpenFn, Pool, RequestFilter, fit_count, walk, walk_cost
from autodevai.engine.route_rankings import LIVE_MIN_CALLS, Rankings
from autodevai.engine.settings import RoutingSettings
from autodevai.engine.types import Preference, RouteDecision

__all__ = ["LIVE_MIN_CALLS", "QUALITY_SLACK", "Router"]

QUALITY_SLACK = 0.05  # an explicit model's strategy fallbacks may be this much below its quality
_TOP_SCORES = 5


class Router:
    """Decides the models to try for a request; see the module docstring for filters and strategies."""

    def __init__(self, catalog: Catalog, settings: RoutingSettings) -> None:
        self._catalog = catalog
        self._settings = settings
        self._rankings: Rankings | None = None  # built on the first decision, rebuilt when the catalog changes

    def reconfigure(self, settings: RoutingSettings) -> None:
        """Use new routing settings from the next decision on (rankings are rebuilt then)."""
        self._settings = settings
        self._rankings = None

    def decide(
        self,
        *,
        preference: Preference,
        prompt_tokens: int,
        max_tokens: int,
        now: float,
        model: str | None = None,
        fallbacks: Sequence[str] | None = None,
        provider: str | None = None,
        is_open: OpenFn = lambda r: False,
        live: LiveFn | None = None,
        budget_left: float | None = None,
        needs: Need = Need.NONE,
    ) -> RouteDecision:
        """The models to try, in order, with the reasons.

        Raises ``InvalidRequest`` for an unknown explicit model or fallback ("did you mean ..."),
        ``CapabilityMissing`` when the explicit model, or every allowed model, cannot serve ``needs``,
        ``ContextTooLong`` when the request fits no window (the explicit model's, or any allowed capable model's),
        and ``NoRouteAvailable`` when every model is excluded for other reasons (the message counts them).
        """
        r = self._rankings
        if r is None or r.version != self._catalog.version:
            r = self._rankings = Rankings(self._catalog, self._settings)
        if preference is Preference.SPEED or preference is Preference.BALANCED:
            at = r.live_at
            if at is None or (live is not None and not at <= now < at + constants.ROUTE_RESCORE_S):
                r.score_live(live)
                r.live_at = now
        pool = r.pool(provider)
        req = RequestFilter(prompt_tokens, max_tokens, provider, is_open, budget_left, int(needs))
        k = 1 + self._settings.fallbacks
        if model is not None:
            return self._explicit(r, pool, preference, model, fallbacks, req, k)
        if not pool.entries:
            raise say.empty_pool(self._catalog, r, provider)
        able = pool.able(req.needs) if needs else pool.entries
        if not able:
            raise say.incapable(self._catalog, r, pool, req.needs)
        need = k if k > _TOP_SCORES else _TOP_SCORES
        if preference is Preference.COST:
            found, n_open, n_budget = walk_cost(r.eligible, pool, need, req)
        else:
            found, n_open, n_budget = walk(r.order(pool, preference), need, req)
        fits = pool.fit_count(prompt_tokens, max_tokens) if not needs else fit_count(able, prompt_tokens, max_tokens)
        if not found:
            raise say.nothing(r, able, fits, req, n_open, n_budget)
        chosen = found[0]
        reasons = [say.choice_reason(r, chosen, preference, fits, req)]
        reasons.extend(say.capability_notes(pool, req.needs))
        if n_open or n_budget:
            reasons.extend(say.passed_over(n_open, n_budget, budget_left))
        chain = self._settings.chains.get(chosen.id) if fallbacks is None else fallbacks
        if chain is not None:
            rest, notes = self._listed(r, chain, fallbacks is not None, chosen, req, k - 1)
            reasons.extend(notes)
        else:
            rest = found[1:k]
            if rest:
                reasons.append(f"fallbacks: the next {say.plural(len(rest), 'model')} by {preference.value}")
        return RouteDecision(
            preference,
            (chosen.ref, *(e.ref for e in rest)),
            tuple(reasons),
            tuple((e.id, r.score(e, preference, req)) for e in found[:_TOP_SCORES]),
            len(pool.entries),
            say.excluded(r, pool, fits, n_open, n_budget, len(able)),
        )

    def _explicit(
        self,
        r: Rankings,
        pool: Pool,
        preference: Preference,
        model: str,
        fallbacks: Sequence[str] | None,
        req: RequestFilter,
        k: int,
    ) -> RouteDecision:
        """The decision for a request that names its model: that model, then its fallbacks."""
        info = self._catalog.find(model, pool.provider)
        e = None if info is None else r.by_ref.get(info.ref)
        if info is None or e is None:
            where = f" at provider {pool.provider!r}" if pool.provider is not None else ""
            raise InvalidRequest(f"unknown model {model!r}{where}{say.unknown_hint(self._catalog, model)}")
        if req.needs & ~e.caps:
            raise say.incapable(self._catalog, r, pool, req.needs, e)
        if req.prompt + min(req.max_tokens, e.mo) > e.ctx:
            raise say.window_too_small(e, pool, req)
        reasons = say.explicit_notes(e, info, pool, req)
        chain = fallbacks if fallbacks is not None else self._settings.chains.get(e.id)
        rest: list[Entry] = []
        if chain is not None:
            rest, notes = self._listed(r, chain, fallbacks is not None, e, req, k - 1)
            reasons.extend(notes)
        elif k > 1:
            min_q = e.quality - QUALITY_SLACK
            if preference is Preference.COST:
                rest = walk_cost(r.eligible, pool, k - 1, req, min_q, e)[0]
            else:
                rest = walk(r.order(pool, preference), k - 1, req, min_q, e)[0]
            similar = f"of similar or higher quality (>= {min_q:.2f})"
            reasons.append(
                f"fallbacks: the next {say.plural(len(rest), 'model')} by {preference.value} {similar}"
                if rest
                else f"no fallback {similar} fits this request"
            )
        candidates = [e, *rest]
        return RouteDecision(
            preference,
            tuple(c.ref for c in candidates),
            tuple(reasons),
            tuple((c.id, r.score(c, preference, req)) for c in candidates[:_TOP_SCORES]),
            len(pool.entries),
            say.excluded(r, pool, pool.fit_count(req.prompt, req.max_tokens), 0, 0, len(pool.entries)),
        )

    def _listed(
        self, r: Rankings, ids: Sequence[str], from_request: bool, first: Entry, req: RequestFilter, limit: int
    ) -> tuple[list[Entry], list[str]]:
        """Named fallbacks (the request's list or a settings chain) that pass the filters, with the reasons.

        Unknown ids raise ``InvalidRequest`` when the request named them; a settings chain may be older than
        the catalog, so there they are skipped and named.
        """
        out: list[Entry] = []
        unknown: list[str] = []
        skipped: dict[str, int] = {}
        taken = {first.ref}
        for mid in ids:
            info = self._catalog.find(mid, req.provider)
            e = None if info is None else r.by_ref.get(info.ref)
            if e is None:
                if from_request:
                    raise InvalidRequest(f"unknown fallback model {mid!r}{say.unknown_hint(self._catalog, mid)}")
                unknown.append(mid)
            elif len(out) < limit and e.ref not in taken:
                why = req.rejects(e)
                if why:
                    skipped[why] = skipped.get(why, 0) + 1
                else:
                    taken.add(e.ref)
                    out.append(e)
        return out, say.listed_notes(from_request, out, skipped, unknown)
