"""How much query-relevant content a compression kept, and short previews of what it removed.

``quality`` is the relevance mass kept divided by the relevance mass there was, where a unit's relevance is its
BM25 score against the query (never negative; see ``bm25``). Three refinements make the number mean what a user
expects of it:

- Only *context* counts: system messages and the latest user message (the question itself) are always kept, so
  including them would only inflate the score.
- Only *relevant* units count: those scoring at least ``RELEVANT_SHARE`` of the best unit. Without this floor,
  thousands of sentences that happen to contain "what" or "for" add up to more mass than the one sentence that
  answers the question, and losing that sentence would barely move the score.
- Content is counted once: units with the same whitespace-normalized text are one piece of content, kept when any
  copy is kept (so removing duplicates never lowers quality). A unit cut into counts the share of it kept.

It is 1.0 when nothing relevant was there to lose (no unit matches the query).
"""

from __future__ import annotations

from collections.abc import Sequence

from autodevai.engine.compression.workspace import Plan, Workspace

__all__ = ["MAX_PREVIEWS", "PREVIEW_CHARS", "RELEVANT_SHARE", "quality", "removed_previews"]

RELEVANT_SHARE = 0.2
PREVIEW_CHARS = 200
MAX_PREVIEWS = 50


def _credit(ws: Workspace, plan: Plan, i: int) -> float:
    if plan.out[i] is None:
        return 0.0
    cut = plan.cuts.get(i)
    if cut is None:
        return 1.0
    size = len(ws.units[i].text)
    return (cut[0] + cut[1]) / size if size else 0.0


def quality(ws: Workspace, plan: Plan, scores: Sequence[float], exclude: set[int]) -> float:
    """Share (0..1) of the query-relevant context that ``plan`` keeps; ``exclude`` are message indices that do
    not count (the system messages are never counted)."""
    units = ws.units
    system = ws.system
    candidates = [i for i, s in enumerate(scores) if s > 0 and not system[units[i].msg] and units[i].msg not in exclude]
    if not candidates:
        return 1.0
    floor = RELEVANT_SHARE * max(scores[i] for i in candidates)
    best: dict[str, tuple[float, float]] = {}  # normalized text -> (relevance, best credit among its copies)
    for i in candidates:
        if scores[i] < floor:
            continue
        key = " ".join(units[i].text.split())
        score, credit = best.get(key, (0.0, 0.0))
        best[key] = (max(score, scores[i]), max(credit, _credit(ws, plan, i)))
    total = sum(s for s, _ in best.values())
    if total <= 0:
        return 1.0
    return min(1.0, sum(s * c for s, c in best.values()) / total)


def _preview(text: str) -> str:
    flat = " ".join(text[: PREVIEW_CHARS * 4].split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def removed_previews(ws: Workspace, plan: Plan, scores: Sequence[float]) -> tuple[str, ...]:
    """Up to ``MAX_PREVIEWS`` previews (each at most ``PREVIEW_CHARS`` characters) of removed runs of units within
    one paragraph, the most query-relevant first chosen, shown in their original order."""
    units, out, cuts = ws.units, plan.out, plan.cuts
    runs: list[tuple[float, int, list[int]]] = []  # (best score, first unit, units)
    current: list[int] = []

    def flush() -> None:
        if current:
            runs.append((max(scores[j] for j in current), current[0], current.copy()))
            current.clear()

    for i, u in enumerate(units):
        if out[i] is not None and i not in cuts:
            flush()
            continue
        if current and (units[current[-1]].para != u.para or i in cuts or current[-1] in cuts):
            flush()
        current.append(i)
    flush()
    chosen = sorted(runs, key=lambda r: (-r[0], r[1]))[:MAX_PREVIEWS]
    previews: list[str] = []
    for _, _, idx in sorted(chosen, key=lambda r: r[1]):
        parts: list[str] = []
        for j in idx:
            text = units[j].text
            cut = cuts.get(j)
            parts.append(text[cut[0] : len(text) - cut[1]] if cut is not None else text)
        preview = _preview("".join(parts))
        if preview:
            previews.append(preview)
    return tuple(previews)
