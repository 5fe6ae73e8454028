"""What a routing decision says: the sentences of ``RouteDecision.reasons``, its exclusion counts, and the errors
routing raises (``NoRouteAvailable``, ``ContextTooLong``, ``CapabilityMissing``, the "did you mean" of an
unknown model). Every sentence names the numbers behind it, so a user can check the choice.

Pure functions of the ``Rankings`` and the request; the decision itself is in ``routing.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from autodevai.engine.capabilities import LABELS, Need, describe
from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import CapabilityMissing, ContextTooLong, NoRouteAvailable
from autodevai.engine.route_index import Entry, Pool, RequestFilter
from autodevai.engine.route_rankings import Rankings
from autodevai.engine.types import ModelInfo, Preference
from autodevai.text import fmt_usd, suggestion

__all__ = [
    "capability_notes",
    "choice_reason",
    "empty_pool",
    "excluded",
    "explicit_notes",
    "incapable",
    "listed_notes",
    "nothing",
    "passed_over",
    "plural",
    "unknown_hint",
    "window_too_small",
]


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def unknown_hint(catalog: Catalog, model_id: str) -> str:
    """ " (did you mean 'a', 'b'?)" with the catalog's closest ids, else " (not in the catalog)"."""
    return suggestion(catalog.suggest(model_id), " (not in the catalog)")


def choice_reason(r: Rankings, e: Entry, preference: Preference, fits: int, req: RequestFilter) -> str:
    """The first reason: why ``e`` ranks first by ``preference`` among the ``fits`` models that fit."""
    among = f"of {plural(fits, 'model')} that fit {req.prompt + req.max_tokens:,} tokens"
    if preference is Preference.COST:
        cost = e.cost(req.prompt, req.max_tokens)
        return f"cheapest {among}: {fmt_usd(cost)}{' (free)' if cost == 0 else ''} expected"
    if preference is Preference.QUALITY:
        return f"highest quality prior ({e.quality:.2f}) {among}"
    lat, measured, calls = r.lat[e.pos]
    if preference is Preference.SPEED:
        if measured:
            return f"fastest {among}: p50 {lat:.2f} s over {plural(calls, 'recent call')}"
        return f"fastest {among}: no latency measured yet, {lat:.2f} s estimated from its price"
    price, quality, lat_part, success = r.parts[e.pos]
    note = "" if measured else " (no latency measured yet)"
    return (
        f"best balanced score {r.bal[e.pos]:.2f} {among}: price {price:.2f}, quality {quality:.2f}, "
        f"latency {lat_part:.2f}, success {success:.2f}{note}"
    )


def passed_over(n_open: int, n_budget: int, budget_left: float | None) -> list[str]:
    """The reasons for models a ranked walk skipped for an open breaker or the budget."""
    notes = []
    if n_open:
        notes.append(f"passed over {plural(n_open, 'model')} with an open breaker")
    if n_budget:
        notes.append(
            f"passed over {plural(n_budget, 'model')} whose worst case exceeds the "
            f"{fmt_usd(budget_left or 0.0)} budget left"
        )
    return notes


def explicit_notes(e: Entry, info: ModelInfo, pool: Pool, req: RequestFilter) -> list[str]:
    """The reasons for an explicitly named model that fits: what to know about it before it is sent."""
    notes = [f"{e.id} requested explicitly (served by {e.provider})", *capability_notes(pool, req.needs)]
    if info.route_exclusion:
        notes.append(f"note: {e.id} is {info.route_exclusion}")
    if not info.price_known:
        notes.append(f"note: {e.id}'s price is unknown; its cost shows as unknown unless the provider reports it")
    if req.is_open(e.ref):
        notes.append(f"{e.id} has an open breaker: it is skipped until the breaker half-opens")
    out = min(req.max_tokens, e.mo)
    if req.budget is not None and e.cost(req.prompt, out) > req.budget:
        notes.append(f"{e.id}'s worst case {fmt_usd(e.cost(req.prompt, out))} exceeds the {fmt_usd(req.budget)} left")
    return notes


def listed_notes(
    from_request: bool, taken: Sequence[Entry], skipped: dict[str, int], unknown: Sequence[str]
) -> list[str]:
    """The reasons for named fallbacks: which were taken, how many were skipped and why, unknown ids."""
    source = "fallbacks from the request" if from_request else "fallback chain from settings"
    notes = [f"{source}: {', '.join(e.id for e in taken) or 'none usable'}"]
    notes.extend(f"skipped {plural(n, 'fallback')}: {reason}" for reason, n in skipped.items())
    if unknown:
        notes.append(f"skipped unknown model ids in the chain: {', '.join(unknown)}")
    return notes


def capability_notes(pool: Pool, needs: int) -> list[str]:
    """One line per capability the request needs: how many of the pool's models have it."""
    if not needs:
        return []
    total = len(pool.entries)
    return [
        f"needs {label}: {len(pool.able(int(flag))):,} of {total:,} models"
        for flag, label in LABELS.items()
        if flag & needs
    ]


def excluded(
    r: Rankings, pool: Pool, fits: int, n_open: int, n_budget: int, n_able: int
) -> tuple[tuple[str, int], ...]:
    """``RouteDecision.excluded``: the static exclusions, then this request's, by reason (zero counts left out)."""
    dynamic = (
        ("other provider", len(r.eligible) - len(pool.entries)),
        ("cannot serve what the request uses", len(pool.entries) - n_able),
        ("context too small", n_able - fits),
        ("breaker open", n_open),
        ("over budget", n_budget),
    )
    return r.static_excluded + tuple((reason, n) for reason, n in dynamic if n)


def window_too_small(e: Entry, pool: Pool, req: RequestFilter) -> ContextTooLong:
    """The error for an explicitly named model whose window the request does not fit (with a larger one)."""
    prompt, out = req.prompt, min(req.max_tokens, e.mo)
    entries = pool.able(req.needs) if req.needs else pool.entries
    best = max(entries, key=lambda c: (c.ctx, c.quality), default=None)
    larger = ""
    if best is not None and req.prompt + min(req.max_tokens, best.mo) <= best.ctx:
        larger = f"; {best.id} has a {best.ctx:,}-token window"
    return ContextTooLong(
        f"{e.id} has a {e.ctx:,}-token window; this request needs {prompt + out:,} tokens "
        f"({prompt:,} prompt + {out:,} output){larger}",
        tokens=prompt + out,
        limit=e.ctx,
    )


def empty_pool(catalog: Catalog, r: Rankings, provider: str | None) -> NoRouteAvailable:
    """The error when no model passes the settings (or the provider restriction): what excluded them."""
    if not len(catalog):
        return NoRouteAvailable("the model catalog is empty: configure a provider or refresh the catalog")
    if provider is not None and not any(e.provider == provider for e in r.by_ref.values()):
        served = ", ".join(sorted({e.provider for e in r.by_ref.values()}))
        return NoRouteAvailable(f"provider {provider!r} serves no model (providers with models: {served})")
    parts = ", ".join(f"{plural(n, 'model')}: {reason}" for reason, n in r.static_excluded)
    hint = None
    if any(reason.startswith("price unknown") for reason, _ in r.static_excluded):
        hint = (
            "name a model explicitly, set `routing.allow_unknown_price = true`, or give its provider a price "
            "(`price_in_per_m` / `price_out_per_m` in its [[providers]] entry; 0 for your own server)"
        )
    return NoRouteAvailable(f"no model passes the routing settings ({parts})", hint=hint, cause="settings")


def incapable(catalog: Catalog, r: Rankings, pool: Pool, needs: int, pinned: Entry | None = None) -> CapabilityMissing:
    """The error for a pinned model that cannot serve ``needs``, or for a pool where no model can."""
    missing = needs & ~pinned.caps if pinned is not None else needs
    labels = describe(Need(missing))
    counts = "; ".join(capability_notes(pool, needs))
    able = [e.id for e in r.orders[Preference.QUALITY] if e.pos >= 0 and not needs & ~e.caps]
    if pool.provider is not None:
        able = [mid for mid in able if catalog.find(mid, pool.provider) is not None]
    others = f"; models that can: {', '.join(able[:3])}" if able else ""
    if pinned is not None:
        return CapabilityMissing(
            f"{pinned.id} cannot serve this request: its catalog entry lists no {' or '.join(labels)} "
            f"({counts}){others}",
            missing=labels,
            model=pinned.id,
        )
    return CapabilityMissing(f"no allowed model can serve this request ({counts})", missing=labels)


def nothing(
    r: Rankings, entries: Sequence[Entry], fits: int, req: RequestFilter, n_open: int, n_budget: int
) -> ContextTooLong | NoRouteAvailable:
    """The error when no model of ``entries`` passes the request's filters: the window, else what excluded them."""
    if fits == 0:
        big = max(entries, key=lambda c: (c.ctx, c.quality))
        out = min(req.max_tokens, big.mo)
        return ContextTooLong(
            f"this request needs {req.prompt + out:,} tokens ({req.prompt:,} prompt + {out:,} output) "
            f"but the largest window available is {big.ctx:,} tokens ({big.id})",
            tokens=req.prompt + out,
            limit=big.ctx,
        )
    parts = [f"{plural(fits, 'model')} fit the context"]
    if n_open:
        parts.append(f"{n_open:,} of them have an open breaker")
    if n_budget:
        parts.append(f"{n_budget:,} cost more than the {fmt_usd(req.budget or 0.0)} budget left")
    parts.extend(f"{plural(n, 'model')} excluded: {reason}" for reason, n in r.static_excluded)
    return NoRouteAvailable(f"no model can take this request: {'; '.join(parts)}")
