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
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Callable, Sequence

from autodevai.engine import constants
from autodevai.engine.capabilities import LABELS, Need, abilities_of, describe
from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import CapabilityMissing, ContextTooLong, InvalidRequest, NoRouteAvailable
from autodevai.engine.pricing import exclusion_kind, is_free_tier, matches_any
from autodevai.engine.settings import RoutingSettings
from autodevai.engine.types import LiveStats, ModelInfo, ModelRef, Preference, RouteDecision

__all__ = ["LIVE_MIN_CALLS", "QUALITY_SLACK", "Router"]

LIVE_MIN_CALLS = 3  # measured latency is trusted from this many calls in the live window
QUALITY_SLACK = 0.05  # an explicit model's strategy fallbacks may be this much below its quality
_LATENCY_REF_S = 2.0  # BALANCED latency part is 0.5 at this p50
_PRICE_CAP_PER_M = 100.0  # BALANCED price part reaches 0 at this blended USD per million tokens
_TOP_SCORES = 5
_FITS_CACHE_MAX = 64
_NO_LIMIT = 1 << 60
_NO_LIVE = LiveStats()

LiveFn = Callable[[ModelRef], LiveStats]
OpenFn = Callable[[ModelRef], bool]


class _Entry:
    """One catalog model, flattened for the hot loop. ``pos`` indexes the eligible list (-1: not eligible)."""

    __slots__ = ("blended", "caps", "ctx", "id", "low_in", "low_out", "mo", "pin", "pos", "pout", "preq", "provider",
                 "quality", "ref", "tiers")  # fmt: skip

    def __init__(self, info: ModelInfo) -> None:
        self.pos = -1
        self.ref = info.ref
        self.id = info.id
        self.provider = info.provider
        self.ctx = info.context_length if info.context_known else _NO_LIMIT
        self.mo = info.max_output or _NO_LIMIT
        self.pin = info.price_in
        self.pout = info.price_out
        self.preq = info.price_request
        self.tiers = tuple((t.min_prompt_tokens, t.price_in, t.price_out) for t in info.price_tiers)
        # The lowest prices any prompt size pays: the bounds of the cost walk's threshold.
        self.low_in = min([self.pin, *(t[1] for t in self.tiers)])
        self.low_out = min([self.pout, *(t[2] for t in self.tiers)])
        self.quality = info.quality
        self.blended = (3.0 * info.price_in + info.price_out) / 4.0  # USD per token at a 3:1 input:output mix
        self.caps = int(abilities_of(info))

    def cost(self, prompt: int, max_tokens: int) -> float:
        pin, pout = self.pin, self.pout
        for start, tier_in, tier_out in self.tiers:
            if prompt >= start:
                pin, pout = tier_in, tier_out
        return prompt * pin + max_tokens * pout + self.preq


def _price_part(e: _Entry) -> float:
    return max(0.0, 1.0 - math.log10(1.0 + e.blended * 1e6) / math.log10(1.0 + _PRICE_CAP_PER_M))


def _prior_latency_s(e: _Entry) -> float:
    return 0.5 + 0.4 * math.log10(1.0 + e.pout * 1e6)


class _Pool:
    """The eligible models of one provider restriction (None: all), with their rankings and fit thresholds."""

    __slots__ = ("by_in", "by_out", "capable", "entries", "fits", "free", "groups", "misses", "orders", "provider")

    def __init__(self, provider: str | None, entries: list[_Entry]) -> None:
        self.provider = provider
        self.entries = entries
        free = [e for e in entries if e.pin == 0 and e.pout == 0 and e.preq == 0 and not e.tiers]
        paid = [e for e in entries if e.pin or e.pout or e.preq or e.tiers]
        self.free = sorted(free, key=lambda e: (-e.quality, e.id, e.provider))
        self.by_in = sorted(paid, key=lambda e: (e.low_in, e.low_out, e.id, e.provider))
        self.by_out = sorted(paid, key=lambda e: (e.low_out, e.low_in, e.id, e.provider))
        self.orders: dict[Preference, list[_Entry]] = {}
        by_mo: dict[int, list[int]] = {}
        for e in entries:
            by_mo.setdefault(e.mo, []).append(e.ctx)
        self.groups = [(mo, sorted(ctxs)) for mo, ctxs in by_mo.items()]  # context lengths per max_output
        self.fits: dict[int, list[int]] = {}  # max_tokens -> sorted (ctx - output share), for repeat values
        self.misses: dict[int, int] = {}
        self.capable: dict[int, list[_Entry]] = {}  # needs -> the entries that can serve them

    def able(self, needs: int) -> list[_Entry]:
        """The pool's models that can serve ``needs`` (cached per distinct needs)."""
        found = self.capable.get(needs)
        if found is None:
            if len(self.capable) >= _FITS_CACHE_MAX:
                self.capable.clear()
            found = self.capable[needs] = [e for e in self.entries if not needs & ~e.caps]
        return found

    def fit_count(self, prompt: int, max_tokens: int) -> int:
        """How many of the pool's models fit ``prompt`` plus their share of ``max_tokens``.

        O(log n) for a ``max_tokens`` seen before (a sorted threshold list is cached from its second use);
        O(g log n) otherwise, with g the number of distinct ``max_output`` values.
        """
        thresholds = self.fits.get(max_tokens)
        if thresholds is not None:
            return len(thresholds) - bisect_left(thresholds, prompt)
        if self.misses.get(max_tokens):
            if len(self.fits) >= _FITS_CACHE_MAX:
                self.fits.clear()
            thresholds = sorted(e.ctx - (max_tokens if max_tokens < e.mo else e.mo) for e in self.entries)
            self.fits[max_tokens] = thresholds
            return len(thresholds) - bisect_left(thresholds, prompt)
        if len(self.misses) >= 4 * _FITS_CACHE_MAX:
            self.misses.clear()
        self.misses[max_tokens] = 1
        return sum(
            len(ctxs) - bisect_left(ctxs, prompt + (max_tokens if max_tokens < mo else mo)) for mo, ctxs in self.groups
        )


class _Req:
    """One request's filter inputs, passed around as one value."""

    __slots__ = ("budget", "is_open", "max_tokens", "needs", "prompt", "provider")

    def __init__(
        self,
        prompt: int,
        max_tokens: int,
        provider: str | None,
        is_open: OpenFn,
        budget: float | None,
        needs: int = 0,
    ) -> None:
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.provider = provider
        self.is_open = is_open
        self.budget = budget
        self.needs = needs

    def rejects(self, e: _Entry) -> str:
        """Why ``e`` cannot take this request ("" if it can)."""
        missing = self.needs & ~e.caps
        if missing:
            return "no " + " or ".join(describe(Need(missing)))
        out = min(self.max_tokens, e.mo)
        if self.prompt + out > e.ctx:
            return "context too small"
        if self.is_open(e.ref):
            return "breaker open"
        if self.budget is not None and e.cost(self.prompt, out) > self.budget:
            return "over the budget left"
        return ""


def _fit_count(entries: Sequence[_Entry], prompt: int, max_tokens: int) -> int:
    """How many of ``entries`` fit ``prompt`` plus their share of ``max_tokens`` (O(n): capability-filtered)."""
    return sum(1 for e in entries if prompt + (max_tokens if max_tokens < e.mo else e.mo) <= e.ctx)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _usd(x: float) -> str:
    if x == 0:
        return "$0 (free)"
    return f"${x:.6f}" if x < 0.01 else f"${x:.4f}"


class Router:
    """Decides the models to try for a request; see the module docstring for filters and strategies."""

    def __init__(self, catalog: Catalog, settings: RoutingSettings) -> None:
        self._catalog = catalog
        self._settings = settings
        self._built_version = -1
        self._eligible: list[_Entry] = []
        self._by_ref: dict[ModelRef, _Entry] = {}
        self._static_excluded: tuple[tuple[str, int], ...] = ()
        self._orders: dict[Preference, list[_Entry]] = {}
        self._pools: dict[str | None, _Pool] = {}
        self._price: list[float] = []
        self._lat: list[tuple[float, bool, int]] = []  # (p50 or prior seconds, measured?, calls)
        self._bal: list[float] = []
        self._parts: list[tuple[float, float, float, float]] = []  # price, quality, latency, success parts
        self._live_at: float | None = None

    def reconfigure(self, settings: RoutingSettings) -> None:
        """Use new routing settings from the next decision on (rankings are rebuilt then)."""
        self._settings = settings
        self._built_version = -1

    # ---- precomputation ----

    def _build(self) -> None:
        eligible: list[_Entry] = []
        by_ref: dict[ModelRef, _Entry] = {}
        counts: dict[str, int] = {}
        for m in self._catalog.all():
            e = by_ref[m.ref] = _Entry(m)
            why = self._static_reason(m)
            if why:
                counts[why] = counts.get(why, 0) + 1
            else:
                e.pos = len(eligible)
                eligible.append(e)
        self._eligible, self._by_ref = eligible, by_ref
        self._static_excluded = tuple(counts.items())
        self._price = [_price_part(e) for e in eligible]
        self._pools = {}
        self._orders = {Preference.QUALITY: sorted(eligible, key=lambda e: (-e.quality, e.blended, e.id, e.provider))}
        self._score_live(None)
        self._live_at = None  # the first SPEED/BALANCED decision with live data rescores at once
        self._built_version = self._catalog.version

    def _static_reason(self, m: ModelInfo) -> str:
        """Why settings or the catalog keep ``m`` out of every ranking ("" when it is eligible)."""
        s = self._settings
        if m.route_exclusion:
            return exclusion_kind(m.route_exclusion)
        if "text" not in m.output_modalities:
            return "no text output"
        if s.exclude and matches_any(m, s.exclude):
            return "excluded by routing.exclude"
        if not m.price_known and not s.allow_unknown_price:
            return "price unknown (routing.allow_unknown_price is off)"
        if m.quality < s.min_quality:
            return f"quality below {s.min_quality:.2f}"
        if not s.allow_free and is_free_tier(m):
            return "free models not allowed"
        return ""

    def _score_live(self, live: LiveFn | None) -> None:
        w = self._settings.weights
        wsum = w.price + w.quality + w.latency + w.success
        lat: list[tuple[float, bool, int]] = []
        bal: list[float] = []
        parts: list[tuple[float, float, float, float]] = []
        for e in self._eligible:
            ls = live(e.ref) if live is not None else _NO_LIVE
            calls, p50, rate = ls.calls, ls.p50_latency_s, ls.success_rate
            measured = p50 is not None and calls >= LIVE_MIN_CALLS
            if p50 is not None and measured:
                lat.append((p50, True, calls))
                lat_part = 1.0 / (1.0 + p50 / _LATENCY_REF_S)
            else:
                lat.append((_prior_latency_s(e), False, calls))
                lat_part = 0.5
            success = (rate * calls + 1.0) / (calls + 2.0) if rate is not None and calls > 0 else 0.5
            price = self._price[e.pos]
            parts.append((price, e.quality, lat_part, success))
            bal.append((w.price * price + w.quality * e.quality + w.latency * lat_part + w.success * success) / wsum)
        self._lat, self._bal, self._parts = lat, bal, parts
        eligible = self._eligible
        self._orders[Preference.SPEED] = sorted(
            eligible, key=lambda e: (lat[e.pos][0], e.blended, -e.quality, e.id, e.provider)
        )
        self._orders[Preference.BALANCED] = sorted(eligible, key=lambda e: (-bal[e.pos], e.blended, e.id, e.provider))
        for pool in self._pools.values():
            pool.orders.pop(Preference.SPEED, None)
            pool.orders.pop(Preference.BALANCED, None)

    def _pool(self, provider: str | None) -> _Pool:
        pool = self._pools.get(provider)
        if pool is None:
            entries = self._eligible if provider is None else [e for e in self._eligible if e.provider == provider]
            pool = _Pool(provider, entries)
            if entries or provider is None:  # a mistyped provider name must not grow the cache
                self._pools[provider] = pool
        return pool

    def _order(self, pool: _Pool, preference: Preference) -> list[_Entry]:
        order = pool.orders.get(preference)
        if order is None:
            full = self._orders[preference]
            order = full if pool.provider is None else [e for e in full if e.provider == pool.provider]
            pool.orders[preference] = order
        return order

    def _score(self, e: _Entry, preference: Preference, req: _Req) -> float:
        """Higher is better: negated USD for COST, negated seconds for SPEED, the 0..1 score otherwise."""
        if preference is Preference.COST:
            return -e.cost(req.prompt, req.max_tokens)
        if preference is Preference.QUALITY:
            return e.quality
        if preference is Preference.SPEED:
            return -(self._lat[e.pos][0] if e.pos >= 0 else _prior_latency_s(e))
        if e.pos >= 0:
            return self._bal[e.pos]
        w = self._settings.weights
        raw = w.price * _price_part(e) + w.quality * e.quality + (w.latency + w.success) * 0.5
        return raw / (w.price + w.quality + w.latency + w.success)

    # ---- walks ----

    @staticmethod
    def _walk(
        order: Sequence[_Entry], need: int, req: _Req, min_q: float = -1.0, skip: _Entry | None = None
    ) -> tuple[list[_Entry], int, int]:
        """The first ``need`` models of ``order`` that pass the request's filters, and how many were passed
        over for an open breaker and for the budget."""
        prompt, max_tokens, is_open, budget, needs = req.prompt, req.max_tokens, req.is_open, req.budget, req.needs
        found: list[_Entry] = []
        n_open = n_budget = 0
        for e in order:
            out = max_tokens if max_tokens < e.mo else e.mo
            if prompt + out > e.ctx or e.quality < min_q or e is skip or (needs and needs & ~e.caps):
                continue
            if is_open(e.ref):
                n_open += 1
                continue
            if budget is not None and e.cost(prompt, out) > budget:
                n_budget += 1
                continue
            found.append(e)
            if len(found) >= need:
                break
        return found, n_open, n_budget

    def _walk_cost(
        self, pool: _Pool, need: int, req: _Req, min_q: float = -1.0, skip: _Entry | None = None
    ) -> tuple[list[_Entry], int, int]:
        """The ``need`` cheapest passing models for this prompt/output mix.

        Free ones by quality, then a threshold walk down the by-input-price and by-output-price lists (sorted by
        the lowest price any tier pays) together, stopping once no unseen model can beat the ``need``-th best
        found: at depth i an unseen model costs at least ``prompt * by_in[i].low_in + max_tokens * by_out[i].low_out``.
        """
        found, n_open, n_budget = self._walk(pool.free, need, req, min_q, skip)
        rem = need - len(found)
        if rem <= 0:
            return found, n_open, n_budget
        prompt, max_tokens, is_open, budget, needs = req.prompt, req.max_tokens, req.is_open, req.budget, req.needs
        top: list[tuple[float, float, int]] = []  # (expected cost, -quality, pos), best first, at most rem
        seen: set[int] = set()
        by_in, by_out = pool.by_in, pool.by_out
        for i in range(len(by_in)):
            a, b = by_in[i], by_out[i]
            for e in (a, b):
                pos = e.pos
                if pos in seen:
                    continue
                seen.add(pos)
                out = max_tokens if max_tokens < e.mo else e.mo
                if prompt + out > e.ctx or e.quality < min_q or e is skip or (needs and needs & ~e.caps):
                    continue
                if is_open(e.ref):
                    n_open += 1
                    continue
                if budget is not None and e.cost(prompt, out) > budget:
                    n_budget += 1
                    continue
                insort(top, (e.cost(prompt, max_tokens), -e.quality, pos))
                if len(top) > rem:
                    top.pop()
            if len(top) >= rem and prompt * a.low_in + max_tokens * b.low_out > top[-1][0]:
                break
        found.extend(self._eligible[t[2]] for t in top)
        return found, n_open, n_budget

    def _listed(
        self, ids: Sequence[str], from_request: bool, first: _Entry, req: _Req, limit: int
    ) -> tuple[list[_Entry], list[str]]:
        """Named fallbacks (the request's list or a settings chain) that pass the filters, with the reasons.

        Unknown ids raise ``InvalidRequest`` when the request named them; a settings chain may be older than
        the catalog, so there they are skipped and named.
        """
        out: list[_Entry] = []
        unknown: list[str] = []
        skipped: dict[str, int] = {}
        taken = {first.ref}
        for mid in ids:
            info = self._catalog.find(mid, req.provider)
            e = None if info is None else self._by_ref.get(info.ref)
            if e is None:
                if from_request:
                    raise InvalidRequest(f"unknown fallback model {mid!r}{self._did_you_mean(mid)}")
                unknown.append(mid)
            elif len(out) < limit and e.ref not in taken:
                why = req.rejects(e)
                if why:
                    skipped[why] = skipped.get(why, 0) + 1
                else:
                    taken.add(e.ref)
                    out.append(e)
        source = "fallbacks from the request" if from_request else "fallback chain from settings"
        reasons = [f"{source}: {', '.join(e.id for e in out) or 'none usable'}"]
        reasons.extend(f"skipped {_plural(n, 'fallback')}: {why}" for why, n in skipped.items())
        if unknown:
            reasons.append(f"skipped unknown model ids in the chain: {', '.join(unknown)}")
        return out, reasons

    def _did_you_mean(self, model_id: str) -> str:
        close = self._catalog.suggest(model_id)
        return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else " (not in the catalog)"

    # ---- the decision ----

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
        if self._built_version != self._catalog.version:
            self._build()
        if preference is Preference.SPEED or preference is Preference.BALANCED:
            at = self._live_at
            if at is None or (live is not None and not at <= now < at + constants.ROUTE_RESCORE_S):
                self._score_live(live)
                self._live_at = now
        pool = self._pool(provider)
        req = _Req(prompt_tokens, max_tokens, provider, is_open, budget_left, int(needs))
        k = 1 + self._settings.fallbacks
        if model is not None:
            return self._explicit(pool, preference, model, fallbacks, req, k)
        if not pool.entries:
            raise self._empty_pool(provider)
        able = pool.able(req.needs) if needs else pool.entries
        if not able:
            raise self._incapable(pool, req.needs)
        need = k if k > _TOP_SCORES else _TOP_SCORES
        if preference is Preference.COST:
            found, n_open, n_budget = self._walk_cost(pool, need, req)
        else:
            found, n_open, n_budget = self._walk(self._order(pool, preference), need, req)
        fits = pool.fit_count(prompt_tokens, max_tokens) if not needs else _fit_count(able, prompt_tokens, max_tokens)
        if not found:
            raise self._nothing(able, fits, req, n_open, n_budget)
        chosen = found[0]
        reasons = [self._why(chosen, preference, fits, req)]
        reasons.extend(self._capability_notes(pool, req.needs))
        if n_open:
            reasons.append(f"passed over {_plural(n_open, 'model')} with an open breaker")
        if n_budget:
            reasons.append(
                f"passed over {_plural(n_budget, 'model')} whose worst case exceeds the "
                f"{_usd(budget_left or 0.0)} budget left"
            )
        chain = self._settings.chains.get(chosen.id) if fallbacks is None else fallbacks
        if chain is not None:
            rest, notes = self._listed(chain, fallbacks is not None, chosen, req, k - 1)
            reasons.extend(notes)
        else:
            rest = found[1:k]
            if rest:
                reasons.append(f"fallbacks: the next {_plural(len(rest), 'model')} by {preference.value}")
        return RouteDecision(
            preference,
            (chosen.ref, *(e.ref for e in rest)),
            tuple(reasons),
            tuple((e.id, self._score(e, preference, req)) for e in found[:_TOP_SCORES]),
            len(pool.entries),
            self._excluded(pool, fits, n_open, n_budget, len(able)),
        )

    def _explicit(
        self,
        pool: _Pool,
        preference: Preference,
        model: str,
        fallbacks: Sequence[str] | None,
        req: _Req,
        k: int,
    ) -> RouteDecision:
        info = self._catalog.find(model, pool.provider)
        e = None if info is None else self._by_ref.get(info.ref)
        if e is None:
            where = f" at provider {pool.provider!r}" if pool.provider is not None else ""
            raise InvalidRequest(f"unknown model {model!r}{where}{self._did_you_mean(model)}")
        missing = req.needs & ~e.caps
        if missing:
            raise self._incapable(pool, req.needs, e)
        prompt, out = req.prompt, min(req.max_tokens, e.mo)
        if prompt + out > e.ctx:
            raise ContextTooLong(
                f"{e.id} has a {e.ctx:,}-token window; this request needs {prompt + out:,} tokens "
                f"({prompt:,} prompt + {out:,} output){self._larger_hint(pool, req)}",
                tokens=prompt + out,
                limit=e.ctx,
            )
        reasons = [f"{e.id} requested explicitly (served by {e.provider})", *self._capability_notes(pool, req.needs)]
        assert info is not None  # e exists, so info does
        if info.route_exclusion:
            reasons.append(f"note: {e.id} is {info.route_exclusion}")
        if not info.price_known:
            reasons.append(f"note: {e.id}'s price is unknown; its cost shows as unknown unless the provider reports it")
        if req.is_open(e.ref):
            reasons.append(f"{e.id} has an open breaker: it is skipped until the breaker half-opens")
        if req.budget is not None and e.cost(prompt, out) > req.budget:
            reasons.append(f"{e.id}'s worst case {_usd(e.cost(prompt, out))} exceeds the {_usd(req.budget)} left")
        chain = fallbacks if fallbacks is not None else self._settings.chains.get(e.id)
        rest: list[_Entry] = []
        if chain is not None:
            rest, notes = self._listed(chain, fallbacks is not None, e, req, k - 1)
            reasons.extend(notes)
        elif k > 1:
            min_q = e.quality - QUALITY_SLACK
            if preference is Preference.COST:
                rest = self._walk_cost(pool, k - 1, req, min_q, e)[0]
            else:
                rest = self._walk(self._order(pool, preference), k - 1, req, min_q, e)[0]
            similar = f"of similar or higher quality (>= {min_q:.2f})"
            reasons.append(
                f"fallbacks: the next {_plural(len(rest), 'model')} by {preference.value} {similar}"
                if rest
                else f"no fallback {similar} fits this request"
            )
        candidates = [e, *rest]
        return RouteDecision(
            preference,
            tuple(c.ref for c in candidates),
            tuple(reasons),
            tuple((c.id, self._score(c, preference, req)) for c in candidates[:_TOP_SCORES]),
            len(pool.entries),
            self._excluded(pool, pool.fit_count(prompt, req.max_tokens), 0, 0, len(pool.entries)),
        )

    # ---- explanations ----

    def _why(self, e: _Entry, preference: Preference, fits: int, req: _Req) -> str:
        among = f"of {_plural(fits, 'model')} that fit {req.prompt + req.max_tokens:,} tokens"
        if preference is Preference.COST:
            return f"cheapest {among}: {_usd(e.cost(req.prompt, req.max_tokens))} expected"
        if preference is Preference.QUALITY:
            return f"highest quality prior ({e.quality:.2f}) {among}"
        lat, measured, calls = self._lat[e.pos]
        if preference is Preference.SPEED:
            if measured:
                return f"fastest {among}: p50 {lat:.2f} s over {_plural(calls, 'recent call')}"
            return f"fastest {among}: no latency measured yet, {lat:.2f} s estimated from its price"
        price, quality, lat_part, success = self._parts[e.pos]
        note = "" if measured else " (no latency measured yet)"
        return (
            f"best balanced score {self._bal[e.pos]:.2f} {among}: price {price:.2f}, quality {quality:.2f}, "
            f"latency {lat_part:.2f}, success {success:.2f}{note}"
        )

    def _excluded(self, pool: _Pool, fits: int, n_open: int, n_budget: int, n_able: int) -> tuple[tuple[str, int], ...]:
        dynamic = (
            ("other provider", len(self._eligible) - len(pool.entries)),
            ("cannot serve what the request uses", len(pool.entries) - n_able),
            ("context too small", n_able - fits),
            ("breaker open", n_open),
            ("over budget", n_budget),
        )
        return self._static_excluded + tuple((r, n) for r, n in dynamic if n)

    @staticmethod
    def _larger_hint(pool: _Pool, req: _Req) -> str:
        entries = pool.able(req.needs) if req.needs else pool.entries
        best = max(entries, key=lambda c: (c.ctx, c.quality), default=None)
        if best is None or req.prompt + min(req.max_tokens, best.mo) > best.ctx:
            return ""
        return f"; {best.id} has a {best.ctx:,}-token window"

    def _empty_pool(self, provider: str | None) -> NoRouteAvailable:
        if not len(self._catalog):
            return NoRouteAvailable("the model catalog is empty: configure a provider or refresh the catalog")
        if provider is not None and not any(e.provider == provider for e in self._by_ref.values()):
            served = ", ".join(sorted({e.provider for e in self._by_ref.values()}))
            return NoRouteAvailable(f"provider {provider!r} serves no model (providers with models: {served})")
        parts = ", ".join(f"{_plural(n, 'model')}: {r}" for r, n in self._static_excluded)
        hint = None
        if any(r.startswith("price unknown") for r, _ in self._static_excluded):
            hint = (
                "name a model explicitly, set `routing.allow_unknown_price = true`, or give its provider a price "
                "(`price_in_per_m` / `price_out_per_m` in its [[providers]] entry; 0 for your own server)"
            )
        return NoRouteAvailable(f"no model passes the routing settings ({parts})", hint=hint, cause="settings")

    def _capability_notes(self, pool: _Pool, needs: int) -> list[str]:
        """One line per capability the request needs: how many of the pool's models have it."""
        if not needs:
            return []
        total = len(pool.entries)
        return [
            f"needs {label}: {len(pool.able(int(flag))):,} of {total:,} models"
            for flag, label in LABELS.items()
            if flag & needs
        ]

    def _incapable(self, pool: _Pool, needs: int, pinned: _Entry | None = None) -> CapabilityMissing:
        """The error for a pinned model that cannot serve ``needs``, or for a pool where no model can."""
        missing = needs & ~pinned.caps if pinned is not None else needs
        labels = describe(Need(missing))
        counts = "; ".join(self._capability_notes(pool, needs))
        able = [e.id for e in self._orders[Preference.QUALITY] if e.pos >= 0 and not needs & ~e.caps]
        if pool.provider is not None:
            able = [mid for mid in able if self._catalog.find(mid, pool.provider) is not None]
        others = f"; models that can: {', '.join(able[:3])}" if able else ""
        if pinned is not None:
            return CapabilityMissing(
                f"{pinned.id} cannot serve this request: its catalog entry lists no {' or '.join(labels)} "
                f"({counts}){others}",
                missing=labels,
                model=pinned.id,
            )
        return CapabilityMissing(f"no allowed model can serve this request ({counts})", missing=labels)

    def _nothing(
        self, entries: Sequence[_Entry], fits: int, req: _Req, n_open: int, n_budget: int
    ) -> ContextTooLong | NoRouteAvailable:
        if fits == 0:
            big = max(entries, key=lambda c: (c.ctx, c.quality))
            out = min(req.max_tokens, big.mo)
            return ContextTooLong(
                f"this request needs {req.prompt + out:,} tokens ({req.prompt:,} prompt + {out:,} output) "
                f"but the largest window available is {big.ctx:,} tokens ({big.id})",
                tokens=req.prompt + out,
                limit=big.ctx,
            )
        parts = [f"{_plural(fits, 'model')} fit the context"]
        if n_open:
            parts.append(f"{n_open:,} of them have an open breaker")
        if n_budget:
            parts.append(f"{n_budget:,} cost more than the {_usd(req.budget or 0.0)} budget left")
        parts.extend(f"{_plural(n, 'model')} excluded: {r}" for r, n in self._static_excluded)
        return NoRouteAvailable(f"no model can take this request: {'; '.join(parts)}")
