"""Context sizing: how many tokens a request needs, and fitting messages into a model's window.

This issue's fitting is deliberately simple and honest: keep the system prompt and the newest turns, drop the
oldest turns, and as a last resort cut the middle out of the one remaining message (OpenRouter's "middle-out"
idea). Every fit says what it removed. Exact tiktoken counts and query-aware compression build on this later.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autodevai.engine import constants as C
from autodevai.engine.errors import ContextTooLong
from autodevai.engine.types import ChatMessage

__all__ = ["EstimateCounter", "FitReport", "estimate_tokens", "fit_messages", "message_tokens"]

_ELISION = "\n[… {n} characters removed to fit the context window …]\n"


def message_tokens(message: ChatMessage) -> int:
    """A fast estimate of one message's tokens (characters / 4 plus the chat format's per-message overhead)."""
    return int(len(message.content) / C.CHARS_PER_TOKEN) + C.MESSAGE_OVERHEAD_TOKENS


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """The estimated prompt tokens of ``messages`` (including 3 tokens that prime the reply)."""
    return sum(message_tokens(m) for m in messages) + 3


@dataclass(frozen=True, slots=True)
class FitReport:
    strategy: str  # "none", "drop-oldest", "middle-out"
    tokens_before: int
    tokens_after: int
    dropped_messages: int
    removed_chars: int
    elapsed_ms: float

    @property
    def ratio(self) -> float:
        """Share of tokens removed (0 = nothing removed)."""
        return 0.0 if self.tokens_before == 0 else 1 - self.tokens_after / self.tokens_before


def fit_messages(messages: Sequence[ChatMessage], budget_tokens: int) -> tuple[tuple[ChatMessage, ...], FitReport]:
    """Return messages whose estimate is at most ``budget_tokens``, and what was done to get there.

    Keeps every system message and the newest turns; drops the oldest non-system turns; if the newest message
    alone is still too big, removes the middle of its text. Raises ``ContextTooLong`` when even the system
    messages do not fit.
    """
    t0 = time.perf_counter()
    before = estimate_tokens(messages)
    if before <= budget_tokens:
        return tuple(messages), FitReport("none", before, before, 0, 0, 0.0)

    system = [m for m in messages if m.role == "system"]
    rest = [m for m in messages if m.role != "system"]
    fixed = estimate_tokens(system)
    if fixed >= budget_tokens:
        raise ContextTooLong(
            f"the system prompt alone needs ~{fixed:,} tokens; the window allows {budget_tokens:,}",
            tokens=fixed,
            limit=budget_tokens,
        )
    kept: list[ChatMessage] = []
    used = fixed
    for message in reversed(rest):
        cost = message_tokens(message)
        if used + cost > budget_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    dropped = len(rest) - len(kept)
    removed_chars = sum(len(m.content) for m in rest[: len(rest) - len(kept)])
    strategy = "drop-oldest"
    if not kept:
        # The newest message alone is too big: keep its head and tail (middle-out).
        newest = rest[-1]
        room_chars = int((budget_tokens - fixed - C.MESSAGE_OVERHEAD_TOKENS - 16) * C.CHARS_PER_TOKEN)
        if room_chars <= 0:
            raise ContextTooLong(
                f"the request needs ~{before:,} tokens; the window allows {budget_tokens:,}",
                tokens=before,
                limit=budget_tokens,
            )
        cut = len(newest.content) - room_chars
        head = newest.content[: room_chars // 2]
        tail = newest.content[len(newest.content) - (room_chars - room_chars // 2) :]
        kept = [ChatMessage(role=newest.role, content=head + _ELISION.format(n=cut) + tail, name=newest.name)]
        # ``removed_chars`` counted the newest message as dropped; it is kept, minus its middle.
        removed_chars += cut - len(newest.content)
        dropped -= 1
        strategy = "middle-out"
    # System messages first (chat APIs expect them there), then the kept turns in their original order.
    fitted = tuple(system) + tuple(kept)
    after = estimate_tokens(fitted)
    return fitted, FitReport(strategy, before, after, dropped, removed_chars, (time.perf_counter() - t0) * 1000.0)


class EstimateCounter:
    """A ``TokenCounter`` without a tokenizer: characters / 4 (the engine's default; compose installs the exact
    tiktoken counter). It over-counts nothing and under-counts CJK text, so it is only a fallback."""

    def count(self, text: str, model: str | None = None) -> int:
        return int(len(text) / C.CHARS_PER_TOKEN)

    def count_many(self, texts: Sequence[str], model: str | None = None) -> list[int]:
        return [int(len(t) / C.CHARS_PER_TOKEN) for t in texts]

    def count_messages(self, messages: Sequence[ChatMessage], model: str | None = None) -> int:
        return estimate_tokens(messages)

    def encoding_name(self, model: str | None = None) -> str:
        return "estimate (4 characters per token)"

    def observe(self, model: str, estimated: int, actual: int) -> None:
        return None

    def calibration(self) -> dict[str, float]:
        return {}

    def load_calibration(self, factors: Mapping[str, float]) -> None:
        return None
