"""Fitting a conversation's history into the chosen model's window: the system prompt and the recent turns go
verbatim, older turns are compressed with the new message as the query (what it asks about survives), or replaced
by a stored summary of them; the result says what was done ("41K of 128K; 12 older turns compressed, quality
0.93").

Pure apart from the token counter it is given; long histories are counted and compressed in a worker thread by the
caller (``fitting.off_loop_if_long``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autodevai.engine.compression import CompressionReport, compress
from autodevai.engine.compression.strategies import Strategy
from autodevai.engine.ports import TokenCounter
from autodevai.engine.types import ChatMessage

__all__ = [
    "KEEP_RECENT",
    "RECENT_SHARE",
    "ThreadFit",
    "fit_thread",
]

KEEP_RECENT = 6  # messages (about three turns) kept verbatim when they fit
RECENT_SHARE = 0.6  # the recent turns may take this much of the budget before older ones are squeezed
_MIN_OLDER_TOKENS = 64  # below this, older turns are not worth compressing: they are left out


@dataclass(frozen=True, slots=True)
class ThreadFit:
    """The messages to send and what fitting did to the thread."""

    messages: tuple[ChatMessage, ...]
    tokens: int
    window: int | None  # the model's window (None when it is unknown)
    older: int = 0  # older messages that were compressed, summarised or left out
    how: str = ""  # "", "compressed", "summarised", "left out", "compressed whole"
    quality: float = 1.0
    report: CompressionReport | None = None

    def describe(self) -> str:
        """ "41K of 128K; 12 older turns compressed, quality 0.93" (or "3.2K of 128K" when nothing was done)."""
        window = f" of {_k(self.window)}" if self.window else ""
        head = f"{_k(self.tokens)}{window}"
        if not self.how:
            return head
        if self.how == "compressed whole":
            return f"{head}; the whole thread compressed, quality {self.quality:.2f}"
        turns = f"{self.older} older message{'s' if self.older != 1 else ''}"
        quality = f", quality {self.quality:.2f}" if self.how == "compressed" else ""
        return f"{head}; {turns} {self.how}{quality}"


def _k(n: int) -> str:
    return f"{n / 1000:.1f}K".replace(".0K", "K") if n >= 1000 else str(n)


def fit_thread(
    history: Sequence[ChatMessage],
    budget: int,
    counter: TokenCounter,
    *,
    model: str | None = None,
    window: int | None = None,
    strategy: Strategy = "auto",
    summary: ChatMessage | None = None,
    summarized: int = 0,
    keep_recent: int = KEEP_RECENT,
) -> ThreadFit:
    """``history`` (system messages first, the new user message last) in at most ``budget`` prompt tokens.

    With ``summary`` (a system message holding a summary of the first ``summarized`` non-system messages), those
    messages are replaced by it. Then, if the thread still does not fit, the recent messages (at most
    ``keep_recent``, while they take at most ``RECENT_SHARE`` of the budget) stay verbatim and the older ones are
    compressed into what is left, queried by the new message; when the recent ones alone do not fit, the whole
    thread is compressed. Raises ``ContextTooLong`` when not even the system prompt fits.
    """
    messages = list(history)
    system = messages[: _first_other(messages[:-1])]
    body = messages[len(system) : -1]
    new = messages[-1]
    older_count, how = 0, ""
    if summary is not None and 0 < summarized <= len(body):
        body = [summary, *body[summarized:]]
        older_count, how = summarized, "summarised"
    candidate = (*system, *body, new)
    tokens = counter.count_messages(candidate, model)
    if tokens <= budget:
        return ThreadFit(tuple(candidate), tokens, window, older_count, how)
    fixed = counter.count_messages((*system, new), model)
    recent = _recent(body, budget * RECENT_SHARE - fixed, counter, model, keep_recent)
    older = body[: len(body) - len(recent)]
    room = budget - counter.count_messages((*system, *recent, new), model)
    if older and room >= _MIN_OLDER_TOKENS:
        squeezed, report = compress(
            older,
            room,
            counter=counter,
            model=model,
            strategy=strategy,
            query=new.text,
        )
        fitted = (*system, *squeezed, *recent, new)
        total = counter.count_messages(fitted, model)
        if total <= budget:
            return ThreadFit(fitted, total, window, older_count + len(older), "compressed", report.quality, report)
    if older and room >= 0:
        fitted = (*system, *recent, new)
        total = counter.count_messages(fitted, model)
        if total <= budget:
            return ThreadFit(fitted, total, window, older_count + len(older), "left out", 0.0)
    whole, report = compress(candidate, budget, counter=counter, model=model, strategy=strategy)
    return ThreadFit(whole, report.tokens_after, window, len(body), "compressed whole", report.quality, report)


def _first_other(messages: Sequence[ChatMessage]) -> int:
    return next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))


def _recent(
    body: Sequence[ChatMessage], room: float, counter: TokenCounter, model: str | None, keep: int
) -> list[ChatMessage]:
    """The last messages of ``body`` (at most ``keep``) that fit ``room`` tokens, never splitting a tool call from
    its results."""
    chosen: list[ChatMessage] = []
    used = 0
    for m in reversed(body[-keep:] if keep else []):
        cost = counter.count_messages([m], model)
        if used + cost > room:
            break
        chosen.append(m)
        used += cost
    chosen.reverse()
    while chosen and chosen[0].role == "tool":  # a tool result without the call that asked for it is invalid
        chosen.pop(0)
    return chosen
