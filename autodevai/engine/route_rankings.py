"""Routing's rankings: which catalog models the settings let routing pick, and their order per preference.

``Rankings(catalog, settings)`` is built once per catalog version and settings: every model flattened to an
``Entry`` (``route_index.py``), the static exclusions counted by reason, the QUALITY order, and the SPEED and
BALANCED orders from no live data; ``score_live`` rescores those two from measurements (the Router decides how
often). Per-provider pools and their orders are made on first use. The formulas are in ``routing.py``'s docstring.
"""

from __future__ import annotations

import math

from autodevai.engine.catalog import Catalog
from autodevai.engine.pricing import exclusion_kind, is_free_tier, matches_any
from autodevai.engine.route_index import Entry, LiveFn, Pool, RequestFilter
from autodevai.engine.settings import RoutingSettings
from autodevai.engine.types import LiveStats, ModelInfo, ModelRef, Preference

__all__ = ["LIVE_MIN_CALLS", "Rankings", "price_part", "prior_latency_s", "static_reason"]

LIVE_MIN_CALLS = 3  # measured latency is trusted from this many calls in the live window
_LATENCY_REF_S = 2.0  # BALANCED latency part is 0.5 at this p50
_PRICE_CAP_PER_M = 100.0  # BALANCED price part reaches 0 at this blended USD per million tokens
_NO_LIVE = LiveStats()


def price_part(e: Entry) -> float:
    """BALANCED's price part: 1 for free, 0 at ``_PRICE_CAP_PER_M`` blended USD per million tokens."""
    return max(0.0, 1.0 - math.log10(1.0 + e.blended * 1e6) / math.log10(1.0 + _PRICE_CAP_PER_M))


def prior_latency_s(e: Entry) -> float:
    """SPEED's guess for an unmeasured model: 0.5 s + 0.4 s per decade of its output price in USD per million."""
    return 0.5 + 0.4 * math.log10(1.0 + e.pout * 1e6)


def static_reason(m: ModelInfo, s: RoutingSettings) -> str:
    """Why settings or the catalog keep ``m`` out of every ranking ("" when it is eligible)."""
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


class Rankings:
    """The eligible models of one catalog version under one settings, ranked per preference.

    ``eligible[e.pos]`` is ``e``; ``lat``, ``bal`` and ``parts`` are indexed the same way (SPEED's seconds and
    whether they were measured, BALANCED's score and its four parts). ``live_at`` is when SPEED and BALANCED
    were last rescored from live data (None: not yet).
    """

    def __init__(self, catalog: Catalog, settings: RoutingSettings) -> None:
        self.settings = settings
        eligible: list[Entry] = []
        by_ref: dict[ModelRef, Entry] = {}
        counts: dict[str, int] = {}
        for m in catalog.all():
            e = by_ref[m.ref] = Entry(m)
            why = static_reason(m, settings)
            if why:
                counts[why] = counts.get(why, 0) + 1
            else:
                e.pos = len(eligible)
                eligible.append(e)
        self.eligible, self.by_ref = eligible, by_ref
        self.static_excluded = tuple(counts.items())
        self.price = [price_part(e) for e in eligible]
        self.pools: dict[str | None, Pool] = {}
        self.orders: dict[Preference, list[Entry]] = {
            Preference.QUALITY: sorted(eligible, key=lambda e: (-e.quality, e.blended, e.id, e.provider))
        }
        self.lat: list[tuple[float, bool, int]] = []  # (p50 or prior seconds, measured?, calls)
        self.bal: list[float] = []
        self.parts: list[tuple[float, float, float, float]] = []  # price, quality, latency, success parts
        self.score_live(None)
        self.live_at: float | None = None  # the first SPEED/BALANCED decision with live data rescores at once
        self.version = catalog.version

    def score_live(self, live: LiveFn | None) -> None:
        """Rescore SPEED and BALANCED from ``live`` (None: no measurements) and re-sort their orders."""
        w = self.settings.weights
        wsum = w.price + w.quality + w.latency + w.success
        lat: list[tuple[float, bool, int]] = []
        bal: list[float] = []
        parts: list[tuple[float, float, float, float]] = []
        for e in self.eligible:
            ls = live(e.ref) if live is not None else _NO_LIVE
            calls, p50, rate = ls.calls, ls.p50_latency_s, ls.success_rate
            measured = p50 is not None and calls >= LIVE_MIN_CALLS
            if p50 is not None and measured:
                lat.append((p50, True, calls))
                lat_part = 1.0 / (1.0 + p50 / _LATENCY_REF_S)
            else:
                lat.append((prior_latency_s(e), False, calls))
                lat_part = 0.5
            success = (rate * calls + 1.0) / (calls + 2.0) if rate is not None and calls > 0 else 0.5
            price = self.price[e.pos]
            parts.append((price, e.quality, lat_part, success))
            bal.append((w.price * price + w.quality * e.quality + w.latency * lat_part + w.success * success) / wsum)
        self.lat, self.bal, self.parts = lat, bal, parts
        eligible = self.eligible
        self.orders[Preference.SPEED] = sorted(
            eligible, key=lambda e: (lat[e.pos][0], e.blended, -e.quality, e.id, e.provider)
        )
        self.orders[Preference.BALANCED] = sorted(eligible, key=lambda e: (-bal[e.pos], e.blended, e.id, e.provider))
        for pool in self.pools.values():
            pool.orders.pop(Preference.SPEED, None)
            pool.orders.pop(Preference.BALANCED, None)

    def pool(self, provider: str | None) -> Pool:
        """The pool of ``provider``'s eligible models (None: all), cached."""
        pool = self.pools.get(provider)
        if pool is None:
            entries = self.eligible if provider is None else [e for e in self.eligible if e.provider == provider]
            pool = Pool(provider, entries)
            if entries or provider is None:  # a mistyped provider name must not grow the cache
                self.pools[provider] = pool
        return pool

    def order(self, pool: Pool, preference: Preference) -> list[Entry]:
        """``pool``'s models ranked by ``preference`` (not COST: that one is walked by price)."""
        order = pool.orders.get(preference)
        if order is None:
            full = self.orders[preference]
            order = full if pool.provider is None else [e for e in full if e.provider == pool.provider]
            pool.orders[preference] = order
        return order

    def score(self, e: Entry, preference: Preference, req: RequestFilter) -> float:
        """Higher is better: negated USD for COST, negated seconds for SPEED, the 0..1 score otherwise."""
        if preference is Preference.COST:
            return -e.cost(req.prompt, req.max_tokens)
        if preference is Preference.QUALITY:
            return e.quality
        if preference is Preference.SPEED:
            return -(self.lat[e.pos][0] if e.pos >= 0 else prior_latency_s(e))
        if e.pos >= 0:
            return self.bal[e.pos]
        w = self.settings.weights
        raw = w.price * price_part(e) + w.quality * e.quality + (w.latency + w.success) * 0.5
        return raw / (w.price + w.quality + w.latency + w.success)
