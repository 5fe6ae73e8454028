"""``compress``: fit a conversation into a token budget with one strategy (or the "auto" chain), and report
what it cost: tokens before and after, time, how much query-relevant content survived, previews of what went.

Cost model: the messages are split into units once and every unit counted in one ``count_many`` call; all later
arithmetic uses those counts (plus each message's overhead, learned from the counter). Only a candidate result is
counted whole, with ``count_messages``; if unit arithmetic was off (BPE merges across unit boundaries, a counter
that rounds), the target shrinks by the difference and the strategy runs again on the same units.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autodevai.engine.compression.bm25 import BM25
from autodevai.engine.compression.quality import quality, removed_previews
from autodevai.engine.compression.strategies import (
    STRATEGIES,
    Strategy,
    cut_marker,
    dedupe,
    extractive,
    extractive_order,
    middle_out,
    truncate,
)
from autodevai.engine.compression.units import minify_text
from autodevai.engine.compression.workspace import Plan, Rendered, TokenCache, Workspace, render
from autodevai.engine.errors import ContextTooLong
from autodevai.engine.ports import TokenCounter
from autodevai.engine.types import ChatMessage

__all__ = [
    "QUERY_MAX_CHARS",
    "CompressionReport",
    "Found",
    "compress",
]

QUERY_MAX_CHARS = 2_000  # a longer latest user message is a document: its first and last 1,000 characters ask
_FIT_TRIES = 6


@dataclass(frozen=True, slots=True)
class CompressionReport:
    """What ``compress`` did. ``tokens_before`` is ``counter.count_messages`` of the input when that was within
    25 % of the budget, otherwise the sum of its units' counts (identical for tiktoken, whose pre-tokenizer cuts
    where units are cut; a little higher for counters that round every text); ``tokens_after`` is always
    ``counter.count_messages`` of the result."""

    strategy: str  # what was applied, e.g. "minify+dedupe+extractive", or "none"
    tokens_before: int
    tokens_after: int
    budget: int
    ratio: float  # share of tokens removed (0 = nothing removed)
    quality: float  # share of query-relevant content kept, 0..1 (1.0 when nothing relevant was removed)
    elapsed_ms: float
    dropped_messages: int
    removed_chars: int
    removed: tuple[str, ...]  # previews (<= 200 chars each, at most 50) of removed units, most relevant first chosen


def _zone(budget: int) -> int:
    """Estimates up to this are worth an exact count. Unit sums are exact for tiktoken (units are cut where its
    pre-tokenizer cuts) but may run a few percent high for counters that round each text (calibrated counts), and
    the fit decision must never rest on an estimate."""
    return budget + max(8, budget // 4)


def _latest_user(messages: Sequence[ChatMessage]) -> int | None:
    for m in range(len(messages) - 1, -1, -1):
        if messages[m].role == "user":
            return m
    return None


def _default_query(messages: Sequence[ChatMessage], latest: int | None) -> str:
    if latest is None:
        return ""
    text = messages[latest].text
    if len(text) <= QUERY_MAX_CHARS:
        return text
    half = QUERY_MAX_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def _minified(message: ChatMessage) -> ChatMessage:
    text = minify_text(message.text, message.role)
    return message if text == message.text else message.with_text(text)


def _check_floor(ws: Workspace, budget: int) -> None:
    """Raise ``ContextTooLong`` when even the system messages plus one marker message do not fit (exact counts)."""
    fixed = ws.fixed()
    if fixed > budget:
        raise ContextTooLong(
            f"the system messages alone need ~{fixed:,} tokens; the window allows {budget:,}",
            tokens=fixed,
            limit=budget,
        )
    rest = [m for m, s in enumerate(ws.system) if not s]
    if not rest:
        return
    newest = ws.messages[rest[-1]]
    marker = newest.with_text(cut_marker(10**7).strip("\n"))
    floor = fixed + ws.cache.exact([marker]) - ws.cache.prime
    if floor > budget:
        raise ContextTooLong(
            f"the system messages plus a marker for the removed rest need ~{floor:,} tokens; "
            f"the window allows {budget:,}",
            tokens=floor,
            limit=budget,
        )


Found = tuple[Plan, Rendered, int]


def _fits_as_is(ws: Workspace, plan: Plan, budget: int) -> Found | None:
    rendered = render(ws, plan)
    if rendered.estimate > _zone(budget):
        return None
    exact = ws.cache.exact(rendered.messages)
    return (plan, rendered, exact) if exact <= budget else None


def _fit(ws: Workspace, budget: int, build: Callable[[int], Plan | None]) -> Found | None:
    """Run ``build`` for a target, check the result with an exact count, and adjust the target: shrink it by the
    overshoot; or, once, grow it when the result is exact-counted well under budget (the unit sums ran high)."""
    target = budget
    margin = max(2, budget // 500)
    best: Found | None = None
    grown = False
    for _ in range(_FIT_TRIES):
        plan = build(target)
        if plan is None:
            break
        rendered = render(ws, plan)
        if rendered.estimate > _zone(budget):
            target -= rendered.estimate - budget + margin
        else:
            exact = ws.cache.exact(rendered.messages)
            if exact <= budget:
                if best is None or exact > best[2]:
                    best = plan, rendered, exact
                if grown or exact >= budget * 0.97 or rendered.estimate <= target * 0.97:
                    break
                grown = True  # the estimate filled the target but the exact count says there is room
                target = int(target * budget / exact) - margin
                continue
            target -= exact - budget + margin
            if grown:
                break
        margin *= 2
        if target <= 0:
            break
    return best


def compress(
    messages: Sequence[ChatMessage],
    budget_tokens: int,
    *,
    counter: TokenCounter,
    model: str | None = None,
    strategy: Strategy = "auto",
    query: str | None = None,
) -> tuple[tuple[ChatMessage, ...], CompressionReport]:
    """Return messages with ``counter.count_messages(result, model) <= budget_tokens``, and a report.

    Messages that already fit come back unchanged (strategy "none"). Otherwise ``strategy`` applies (see
    ``strategies``); "auto" runs minify -> dedupe -> extractive -> truncate, stopping as soon as the result fits.
    Every strategy falls back to truncate when it cannot fit on its own, so the result always fits. ``query``
    (default: the latest user message) steers extractive selection and the quality score.

    Raises ``ContextTooLong`` when not even the system messages plus a marker fit, and ``ValueError`` for an
    unknown strategy."""
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown compression strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    original = tuple(messages)
    cache = TokenCache(counter, model)
    ws = Workspace.build(original, cache)
    before = ws.total()
    if before <= _zone(budget_tokens):
        before = cache.exact(original)
        if before <= budget_tokens:
            ms = (time.perf_counter() - t0) * 1000.0
            return original, CompressionReport("none", before, before, budget_tokens, 0.0, 1.0, ms, 0, 0, ())
    latest = _latest_user(original)
    stages: list[str] = []
    if strategy in ("minify", "auto"):
        minified = tuple(_minified(m) for m in original)
        if any(a is not b for a, b in zip(minified, original, strict=True)):
            ws = Workspace.build(minified, cache)
            stages.append("minify")
    _check_floor(ws, budget_tokens)
    scores = BM25([u.text for u in ws.units], query if query is not None else _default_query(original, latest)).scores()
    avail = [True] * len(ws.units)
    found: Found | None = None
    if stages:
        found = _fits_as_is(ws, Plan.keep_all(ws), budget_tokens)
    if found is None and strategy in ("dedupe", "auto"):
        flags = dedupe(ws, set() if latest is None else {latest})
        if not all(flags):
            avail = flags
            stages.append("dedupe")
            found = _fits_as_is(ws, Plan.keep_all(ws, avail), budget_tokens)
    if found is None and strategy in ("extractive", "auto"):
        order = extractive_order(ws, avail, scores, latest)
        found = _fit(ws, budget_tokens, lambda target: extractive(ws, avail, target, order, latest))
        if found is not None:
            stages.append("extractive")
    if found is None and strategy == "middle-out":
        found = _fit(ws, budget_tokens, lambda target: middle_out(ws, avail, target))
        if found is not None:
            stages.append("middle-out")
    if found is None:
        found = _fit(ws, budget_tokens, lambda target: truncate(ws, avail, target))
        if found is not None:
            stages.append("truncate")
    if found is None:
        raise ContextTooLong(
            f"the request needs ~{before:,} tokens and could not be compressed to {budget_tokens:,}",
            tokens=before,
            limit=budget_tokens,
        )
    plan, rendered, after = found
    kept_chars = sum(len(m.text) for m in rendered.messages) - rendered.marker_chars
    report = CompressionReport(
        strategy="+".join(stages),
        tokens_before=before,
        tokens_after=after,
        budget=budget_tokens,
        ratio=max(0.0, 1.0 - after / before) if before > 0 else 0.0,
        quality=quality(ws, plan, scores, set() if latest is None else {latest}),
        elapsed_ms=(time.perf_counter() - t0) * 1000.0,
        dropped_messages=rendered.dropped,
        removed_chars=max(0, sum(len(m.text) for m in original) - kept_chars),
        removed=removed_previews(ws, plan, scores),
    )
    return rendered.messages, report
