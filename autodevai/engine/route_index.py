"""The routing hot loop: catalog models flattened for it, the pools it walks, and the walks themselves.

- ``Entry``: one catalog model as plain slots (window, output cap, prices and tiers, quality, capability bits).
- ``Pool``: the eligible models of one provider restriction (None: all): the free ones by quality, the paid ones
  sorted by input and by output price, per-preference orders, cached fit thresholds and capability subsets.
- ``RequestFilter``: one request's filter inputs as one value, and why a model cannot take it.
- ``walk``: the first models of a ranking that pass a request's filters; ``walk_cost``: the cheapest ones for
  the request's prompt/output mix (Fagin's threshold algorithm over the two price-sorted lists).

The rules these implement (what fits, what is counted, how costs use price tiers) are in ``routing.py``'s
docstring; the rankings they walk are built in ``route_rankings.py``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Sequence

from autodevai.engine.capabilities import Need, abilities_of, describe
from autodevai.engine.types import LiveStats, ModelInfo, ModelRef, Preference

__all__ = ["Entry", "LiveFn", "OpenFn", "Pool", "RequestFilter", "fit_count", "walk", "walk_cost"]

_FITS_CACHE_MAX = 64
_NO_LIMIT = 1 << 60

LiveFn = Callable[[ModelRef], LiveStats]
OpenFn = Callable[[ModelRef], bool]


class Entry:
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


class Pool:
    """The eligible models of one provider restriction (None: all), with their rankings and fit thresholds."""

    __slots__ = ("by_in", "by_out", "capable", "entries", "fits", "free", "groups", "misses", "orders", "provider")

    def __init__(self, provider: str | None, entries: list[Entry]) -> None:
        self.provider = provider
        self.entries = entries
        free = [e for e in entries if e.pin == 0 and e.pout == 0 and e.preq == 0 and not e.tiers]
        paid = [e for e in entries if e.pin or e.pout or e.preq or e.tiers]
        self.free = sorted(free, key=lambda e: (-e.quality, e.id, e.provider))
        self.by_in = sorted(paid, key=lambda e: (e.low_in, e.low_out, e.id, e.provider))
        self.by_out = sorted(paid, key=lambda e: (e.low_out, e.low_in, e.id, e.provider))
        self.orders: dict[Preference, list[Entry]] = {}
        by_mo: dict[int, list[int]] = {}
        for e in entries:
            by_mo.setdefault(e.mo, []).append(e.ctx)
        self.groups = [(mo, sorted(ctxs)) for mo, ctxs in by_mo.items()]  # context lengths per max_output
        self.fits: dict[int, list[int]] = {}  # max_tokens -> sorted (ctx - output share), for repeat values
        self.misses: dict[int, int] = {}
        self.capable: dict[int, list[Entry]] = {}  # needs -> the entries that can serve them

    def able(self, needs: int) -> list[Entry]:
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


class RequestFilter:
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

    def rejects(self, e: Entry) -> str:
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


def fit_count(entries: Sequence[Entry], prompt: int, max_tokens: int) -> int:
    """How many of ``entries`` fit ``prompt`` plus their share of ``max_tokens`` (O(n): capability-filtered)."""
    return sum(1 for e in entries if prompt + (max_tokens if max_tokens < e.mo else e.mo) <= e.ctx)


def walk(
    order: Sequence[Entry], need: int, req: RequestFilter, min_q: float = -1.0, skip: Entry | None = None
) -> tuple[list[Entry], int, int]:
    """The first ``need`` models of ``order`` that pass the request's filters, and how many were passed over for
    an open breaker and for the budget."""
    prompt, max_tokens, is_open, budget, needs = req.prompt, req.max_tokens, req.is_open, req.budget, req.needs
    found: list[Entry] = []
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


def walk_cost(
    eligible: Sequence[Entry],
    pool: Pool,
    need: int,
    req: RequestFilter,
    min_q: float = -1.0,
    skip: Entry | None = None,
) -> tuple[list[Entry], int, int]:
    """The ``need`` cheapest passing models of ``pool`` for this prompt/output mix (``eligible`` is the list the
    entries' ``pos`` indexes), and how many were passed over for an open breaker and for the budget.

    Free ones by quality, then a threshold walk down the by-input-price and by-output-price lists (sorted by
    the lowest price any tier pays) together, stopping once no unseen model can beat the ``need``-th best
    found: at depth i an unseen model costs at least ``prompt * by_in[i].low_in + max_tokens * by_out[i].low_out``.
    """
    found, n_open, n_budget = walk(pool.free, need, req, min_q, skip)
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
    found.extend(eligible[t[2]] for t in top)
    return found, n_open, n_budget
