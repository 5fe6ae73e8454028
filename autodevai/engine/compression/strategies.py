"""The compression strategies. Each turns a ``Workspace`` into a ``Plan`` that fits a token target, or None.

- ``truncate``: every system message and the newest whole messages; if not even the newest fits, the middle of it
  is cut out (a marker says how many characters).
- ``middle_out``: OpenRouter's "middle-out" transform: keep the beginning and the end of the conversation (all
  non-system units in order) and remove from the middle, cutting into an over-long message where the cut falls.
- ``extractive``: query-aware: system messages, the latest user message and code blocks that match the query are
  kept; then the best-scoring units (BM25) until the budget is full; output in original order.
- ``dedupe``: repeated paragraphs and messages (whitespace-normalized) are removed; the first occurrence stays.

The minifier lives in ``units.minify_text``. None of these ever cuts inside a fenced code block: a code block is
kept whole or removed whole. The ``avail`` flags say which units are still there (``dedupe`` may have removed some).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from autodevai.engine.compression.workspace import GAP, Plan, Workspace

__all__ = [
    "DEDUPE_MIN_CHARS",
    "STRATEGIES",
    "Strategy",
    "cut_marker",
    "dedupe",
    "extractive",
    "extractive_order",
    "middle_out",
    "truncate",
]

Strategy = Literal["truncate", "middle-out", "extractive", "dedupe", "minify", "auto"]
STRATEGIES: tuple[str, ...] = ("truncate", "middle-out", "extractive", "dedupe", "minify", "auto")

DEDUPE_MIN_CHARS = 16  # shorter repeats ("Thanks!", "}") are left alone: removing them saves little and can confuse
_SNAP = 40  # a cut moves up to this many characters to land on a space rather than inside a word


def cut_marker(chars: int, messages: int = 0, *, middle: bool = False) -> str:
    """The text that stands where a cut removed ``chars`` characters (and ``messages`` whole messages)."""
    if not middle:
        return f"\n[… {chars:,} characters removed to fit the context window …]\n"
    whole = f" and {messages:,} messages" if messages else ""
    return f"\n[… {chars:,} characters{whole} removed from the middle to fit the context window …]\n"


def _system_out(ws: Workspace) -> list[str | None]:
    return [u.text if ws.system[u.msg] else None for u in ws.units]


def _head_chars(text: str, n: int) -> int:
    cut = text.rfind(" ", max(0, n - _SNAP), n)
    return cut if cut > 0 else n


def _tail_chars(text: str, n: int) -> int:
    start = len(text) - n
    cut = text.find(" ", start, start + _SNAP)
    return len(text) - cut if cut >= 0 else n


def _keep_ends(
    ws: Workspace,
    seq: Sequence[int],
    room: int,
    out: list[str | None],
    cuts: dict[int, tuple[int, int]],
    *,
    middle: bool,
) -> int | None:
    """Keep the first and last units of ``seq`` (alternating, so both ends get a similar share) within ``room``
    tokens, cut into the boundary units (never a code block) with what is left, and place one marker where the
    removed middle was. Writes ``out``/``cuts``; returns the marker's length, or None when not even the marker
    fits."""
    units, toks, ovh = ws.units, ws.tokens, ws.overhead
    last_msg = units[seq[-1]].msg
    room -= ws.cache.one(cut_marker(10**7, 999, middle=middle)) + ovh[last_msg]
    if room < 0:
        return None
    paid = {last_msg}
    h, t = 0, len(seq) - 1
    head_tok = tail_tok = 0
    open_h = open_t = True
    while h <= t and (open_h or open_t):
        use_tail = open_t and (tail_tok <= head_tok or not open_h)
        i = seq[t] if use_tail else seq[h]
        m = units[i].msg
        c = toks[i] + (0 if m in paid else ovh[m])
        if c <= room:
            room -= c
            paid.add(m)
            out[i] = units[i].text
            if use_tail:
                t -= 1
                tail_tok += c
            else:
                h += 1
                head_tok += c
        elif use_tail:
            open_t = False
        else:
            open_h = False
    if h > t:
        return 0  # everything fit after all
    hi, ti = seq[h], seq[t]
    # Cut into the boundary units with the room left (their messages' overhead first).
    cuttable = [i for i in dict.fromkeys((hi, ti)) if units[i].kind != "code" and toks[i] > 0]
    for m in {units[i].msg for i in cuttable} - paid:
        room -= ovh[m]
    a = b = 0
    if cuttable and room > 0:
        share = room / (2 if len(cuttable) == 2 or hi == ti else 1)
        if hi in cuttable:
            text = units[hi].text
            a = _head_chars(text, int(share * len(text) / toks[hi] * 0.9))
        if ti in cuttable:
            text = units[ti].text
            b = _tail_chars(text, int(share * len(text) / toks[ti] * 0.9))
        if hi == ti and a + b >= len(units[hi].text):
            a = b = 0
    removed_units = seq[h : t + 1]
    removed_chars = sum(len(units[i].text) for i in removed_units) - a - b
    kept_msgs = {units[i].msg for i in seq if out[i] is not None}
    if a:
        kept_msgs.add(units[hi].msg)
    if b:
        kept_msgs.add(units[ti].msg)
    gone = len({units[i].msg for i in removed_units} - kept_msgs)
    marker = cut_marker(removed_chars, gone, middle=middle)
    if hi == ti:
        text = units[hi].text
        if a or b:
            out[hi] = text[:a] + marker + (text[len(text) - b :] if b else "")
            cuts[hi] = (a, b)
        elif h > 0:
            out[seq[h - 1]] = (out[seq[h - 1]] or "") + marker
        elif t < len(seq) - 1:
            out[seq[t + 1]] = marker + (out[seq[t + 1]] or "")
        else:
            marker = marker.strip("\n")
            out[hi] = marker
            cuts[hi] = (0, 0)
        return len(marker)
    if a:
        out[hi] = units[hi].text[:a]
        cuts[hi] = (a, 0)
    if b:
        text = units[ti].text
        out[ti] = text[len(text) - b :]
        cuts[ti] = (0, b)
    if a:
        out[hi] = (out[hi] or "") + marker
    elif h > 0:
        out[seq[h - 1]] = (out[seq[h - 1]] or "") + marker
    elif b:
        out[ti] = marker + (out[ti] or "")
    elif t < len(seq) - 1:
        out[seq[t + 1]] = marker + (out[seq[t + 1]] or "")
    else:
        marker = marker.strip("\n")
        out[seq[-1]] = marker
        cuts[seq[-1]] = (0, 0)
    return len(marker)


def truncate(ws: Workspace, avail: Sequence[bool], target: int) -> Plan | None:
    """System messages plus the newest whole messages that fit ``target``; if none fits, the newest message with
    its middle cut out. None when not even a marker fits."""
    room = target - ws.fixed()
    if room < 0:
        return None
    out = _system_out(ws)
    cuts: dict[int, tuple[int, int]] = {}
    rest = [m for m, r in enumerate(ws.ranges) if not ws.system[m] and any(avail[i] for i in r)]
    kept: list[int] = []
    for m in reversed(rest):
        c = ws.message_cost(m, avail)
        if c > room:
            break
        kept.append(m)
        room -= c
    # A tool result whose assistant turn was dropped is an orphan: drop it too when something else remains.
    while len(kept) > 1 and ws.messages[kept[-1]].role == "tool":
        kept.pop()
    marker_chars = 0
    for m in kept:
        for i in ws.ranges[m]:
            if avail[i]:
                out[i] = ws.units[i].text
    if not kept and rest:
        newest = rest[-1]
        seq = [i for i in ws.ranges[newest] if avail[i]]
        done = _keep_ends(ws, seq, room, out, cuts, middle=False)
        if done is None:
            return None
        marker_chars = done
    return Plan(out=out, cuts=cuts, quiet=[not a for a in avail], marker_chars=marker_chars)


def middle_out(ws: Workspace, avail: Sequence[bool], target: int) -> Plan | None:
    """Keep the beginning and the end of the non-system units, remove the middle (one marker says how much)."""
    out = _system_out(ws)
    cuts: dict[int, tuple[int, int]] = {}
    seq = [i for i, u in enumerate(ws.units) if avail[i] and not ws.system[u.msg]]
    marker_chars = 0
    if seq:
        done = _keep_ends(ws, seq, target - ws.fixed(), out, cuts, middle=True)
        if done is None:
            return None
        marker_chars = done
    elif ws.fixed() > target:
        return None
    return Plan(out=out, cuts=cuts, quiet=[not a for a in avail], marker_chars=marker_chars)


def extractive_order(ws: Workspace, avail: Sequence[bool], scores: Sequence[float], latest: int | None) -> list[int]:
    """The non-system units in the order extractive selection considers them: units of the latest user message
    first (they only compete when that message alone is too big), then code blocks that match the query, then
    every other unit; within each tier by BM25 score, ties to the newest."""
    units = ws.units

    def priority(i: int) -> tuple[int, float, int]:
        u = units[i]
        tier = 0 if u.msg == latest else 1 if (u.kind == "code" and scores[i] > 0) else 2
        return tier, -scores[i], -i

    order = [i for i in range(len(units)) if avail[i] and not ws.system[units[i].msg]]
    order.sort(key=priority)
    return order


def extractive(
    ws: Workspace, avail: Sequence[bool], target: int, order: Sequence[int], latest: int | None
) -> Plan | None:
    """Query-aware selection. Always kept: system messages and (when it fits) the latest user message. Then the
    units in ``order`` (see ``extractive_order``), each taken when its tokens plus its message's overhead and any
    new gap marker still fit. Emitted in original order, with ``[…]`` where sentences were removed inside a kept
    message. None when no non-system unit fits at all."""
    units, toks, ovh, ranges = ws.units, ws.tokens, ws.overhead, ws.ranges
    room = target - ws.fixed()
    if room < 0:
        return None
    kept = bytearray(len(units))
    has = [False] * len(ranges)
    gap_cost = ws.cache.one(f" {GAP}")  # the usual piece: " […]" before a unit that starts with its space
    if latest is not None:
        cost = ws.message_cost(latest, avail)
        if cost <= room:
            room -= cost
            has[latest] = True
            for i in ranges[latest]:
                kept[i] = avail[i]
    for i in order:
        if room <= 0:
            break
        if kept[i]:
            continue
        m = units[i].msg
        r = ranges[m]
        left = i > r.start and not kept[i - 1]
        right = i + 1 < r.stop and not kept[i + 1]
        gaps = int(left) + int(right) - (1 if has[m] else 0)
        c = toks[i] + gaps * gap_cost + (0 if has[m] else ovh[m])
        if c <= room:
            kept[i] = 1
            has[m] = True
            room -= c
    system = ws.system
    if not any(h for m, h in enumerate(has) if not system[m]):
        return None
    out: list[str | None] = [u.text if (kept[i] or system[u.msg]) else None for i, u in enumerate(units)]
    return Plan(out=out, quiet=[not a for a in avail], gap=GAP)


def _norm(text: str) -> str:
    return " ".join(text.split())


def dedupe(ws: Workspace, protected: set[int]) -> list[bool]:
    """Availability flags with later copies of repeated messages and paragraphs (whitespace-normalized, at least
    ``DEDUPE_MIN_CHARS`` long) switched off. System messages and messages in ``protected`` (the latest user
    message: the question itself) are never changed, but what they contain counts as seen."""
    units = ws.units
    avail = [True] * len(units)
    # Paragraphs as (message, first unit, end, normalized text); a message's key is its paragraphs' keys.
    paras: list[tuple[int, int, int, str]] = []
    start = 0
    for end in range(1, len(units) + 1):
        if end == len(units) or units[end].para != units[start].para:
            paras.append((units[start].msg, start, end, _norm(ws.text_of(range(start, end)))))
            start = end
    by_msg: dict[int, list[str]] = {}
    for m, _, _, key in paras:
        by_msg.setdefault(m, []).append(key)

    def removable(m: int, key: str) -> bool:
        return len(key) >= DEDUPE_MIN_CHARS and not ws.system[m] and m not in protected

    seen_msgs: set[str] = set()
    for m in range(len(ws.messages)):
        key = " ".join(k for k in by_msg.get(m, ()) if k)
        if key in seen_msgs and removable(m, key):
            for i in ws.ranges[m]:
                avail[i] = False
        seen_msgs.add(key)
    seen_paras: set[str] = set()
    for m, first, end, key in paras:
        if not avail[first]:
            continue
        if key in seen_paras and removable(m, key):
            for i in range(first, end):
                avail[i] = False
        seen_paras.add(key)
    return avail
