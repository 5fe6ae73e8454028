"""The working state of one compression: units with their token counts, and turning a plan back into messages.

Token arithmetic happens on unit counts. Every text is tokenized at most once per ``compress`` call: the
``TokenCache`` counts missing texts in one ``count_many`` batch and remembers them, so a minified unit identical to
the original (most sentences) costs a dictionary lookup, not a tokenizer pass. Only the final result is counted as a
whole (``count_messages``), to verify the fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autodevai.engine.compression.units import Unit, split_messages
from autodevai.engine.ports import TokenCounter
from autodevai.engine.types import ChatMessage

__all__ = ["BATCH", "GAP", "Plan", "Rendered", "TokenCache", "Workspace", "render"]

# Texts per ``count_many`` call. A counter may spread a batch over threads (TiktokenCounter does from 256K
# characters); for thousands of sentence-sized texts the per-text hand-off costs more than the encoding
# (measured on 2 cores: 8.6K units, 625K characters: one call 125 ms, a plain loop 21 ms). Batches of this size
# keep short units on the direct path, while long texts (code blocks, documents) still arrive in threadable batches.
BATCH = 256
GAP = "[…]"  # stands where extractive compression removed sentences inside a message that is otherwise kept


class TokenCache:
    """Token counts of texts for one model, each text counted once (in ``count_many`` batches of ``BATCH``);
    per-message overheads from the counter."""

    def __init__(self, counter: TokenCounter, model: str | None) -> None:
        self.counter = counter
        self.model = model
        self._counts: dict[str, int] = {}
        self._overheads: dict[tuple[str, str | None], int] = {}
        self.prime = counter.count_messages([], model)  # tokens that prime the reply

    def many(self, texts: Sequence[str]) -> list[int]:
        """Counts of ``texts``; the ones not seen before go to the counter in one ``count_many`` call."""
        counts = self._counts
        missing = [t for t in dict.fromkeys(texts) if t not in counts]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            counts.update(zip(chunk, self.counter.count_many(chunk, self.model), strict=True))
        return [counts[t] for t in texts]

    def one(self, text: str) -> int:
        n = self._counts.get(text)
        return n if n is not None else self.many([text])[0]

    def overhead(self, message: ChatMessage) -> int:
        """What a message costs beyond its content (framing, role, name), as the counter bills it."""
        plain = not (message.tool_calls or message.tool_call_id or message.has_media)
        key = (message.role, message.name)
        n = self._overheads.get(key) if plain else None
        if n is None:
            # Tool calls and image/audio/file parts are never compressed: they count as the message's overhead.
            n = max(0, self.counter.count_messages([message.with_text("")], self.model) - self.prime)
            if plain:
                self._overheads[key] = n
        return n

    def exact(self, messages: Sequence[ChatMessage]) -> int:
        return self.counter.count_messages(messages, self.model)


@dataclass(slots=True)
class Workspace:
    """Messages split into units, with counts. ``ranges[m]`` are the unit indices of message ``m``."""

    messages: tuple[ChatMessage, ...]
    units: list[Unit]
    ranges: list[range]
    tokens: list[int]
    overhead: list[int]
    system: list[bool]
    cache: TokenCache
    _fixed: int | None = None

    @classmethod
    def build(cls, messages: Sequence[ChatMessage], cache: TokenCache) -> Workspace:
        msgs = tuple(messages)
        units, ranges = split_messages(msgs)
        tokens = cache.many([u.text for u in units])
        return cls(
            messages=msgs,
            units=units,
            ranges=ranges,
            tokens=tokens,
            overhead=[cache.overhead(m) for m in msgs],
            system=[m.role == "system" for m in msgs],
            cache=cache,
        )

    def message_cost(self, m: int, avail: Sequence[bool] | None = None) -> int:
        toks = self.tokens
        if avail is None:
            return self.overhead[m] + sum(toks[i] for i in self.ranges[m])
        return self.overhead[m] + sum(toks[i] for i in self.ranges[m] if avail[i])

    def fixed(self) -> int:
        """Tokens that are never removed: the reply priming and every system message, counted exactly (each
        system message once; they are usually short, and every strategy's room depends on this number)."""
        if self._fixed is None:
            prime = self.cache.prime
            self._fixed = prime + sum(
                self.cache.exact([self.messages[m]]) - prime for m, s in enumerate(self.system) if s
            )
        return self._fixed

    def system_messages(self) -> list[ChatMessage]:
        return [m for m, s in zip(self.messages, self.system, strict=True) if s]

    def total(self, avail: Sequence[bool] | None = None) -> int:
        """Estimated prompt tokens of the messages with the ``avail`` units (all when None); a message without
        any unit left is gone, overhead included."""
        total = self.cache.prime
        for m, r in enumerate(self.ranges):
            if avail is None or self.system[m] or any(avail[i] for i in r):
                total += self.message_cost(m, avail)
        return total

    def text_of(self, indices: Sequence[int]) -> str:
        return "".join(self.units[i].text for i in indices)


@dataclass(slots=True)
class Plan:
    """What to emit per unit: its text (possibly cut, possibly with a marker), or None for removed.

    ``cuts[i] = (head_chars, tail_chars)`` for units of which only the ends are kept; ``quiet[i]`` marks units
    removed without a gap marker (duplicates); ``gap`` is the marker for other removed runs inside kept messages
    (None: no marker); ``marker_chars`` counts characters of markers already inside ``out``."""

    out: list[str | None]
    cuts: dict[int, tuple[int, int]] = field(default_factory=dict)
    quiet: Sequence[bool] | None = None
    gap: str | None = None
    marker_chars: int = 0

    @classmethod
    def keep_all(cls, ws: Workspace, avail: Sequence[bool] | None = None) -> Plan:
        out: list[str | None] = [
            u.text if (avail is None or avail[i] or ws.system[u.msg]) else None for i, u in enumerate(ws.units)
        ]
        quiet = None if avail is None else [not a for a in avail]
        return cls(out=out, quiet=quiet)


@dataclass(frozen=True, slots=True)
class Rendered:
    messages: tuple[ChatMessage, ...]
    estimate: int  # prompt tokens from unit counts
    dropped: int  # non-system messages with nothing left
    marker_chars: int


def _gap_piece(prev: str | None, nxt: str | None, gap: str) -> str:
    before = "" if prev is None or prev[-1:].isspace() else " "
    if nxt is None or nxt[:1].isspace():
        return before + gap
    after = "\n\n" if prev is not None and prev.endswith("\n") else " "
    return before + gap + after


def render(ws: Workspace, plan: Plan) -> Rendered:
    """The messages ``plan`` describes, in their original order, and their estimated token count."""
    out = plan.out
    quiet = plan.quiet
    gap = plan.gap
    result: list[ChatMessage] = []
    pieces_all: list[str] = []
    estimate = ws.cache.prime
    dropped = 0
    marker_chars = plan.marker_chars
    for m, r in enumerate(ws.ranges):
        message = ws.messages[m]
        if not ws.system[m] and all(out[i] is None for i in r):
            dropped += 1
            continue
        pieces: list[str] = []
        pending_gap = False
        changed = False
        for i in r:
            text = out[i]
            if text is None:
                changed = True
                if gap is not None and (quiet is None or not quiet[i]):
                    pending_gap = True
                continue
            if pending_gap and gap is not None:
                piece = _gap_piece(pieces[-1] if pieces else None, text, gap)
                pieces.append(piece)
                marker_chars += len(piece)
                pending_gap = False
            if text != ws.units[i].text:
                changed = True
            pieces.append(text)
        if pending_gap and gap is not None:
            piece = _gap_piece(pieces[-1] if pieces else None, None, gap)
            pieces.append(piece)
            marker_chars += len(piece)
        estimate += ws.overhead[m]
        pieces_all.extend(pieces)
        if changed:
            message = message.with_text("".join(pieces))
        result.append(message)
    estimate += sum(ws.cache.many(pieces_all))
    return Rendered(tuple(result), estimate, dropped, marker_chars)
