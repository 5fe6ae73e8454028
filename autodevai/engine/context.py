"""The engine's token estimate when no tokenizer is installed (characters / 4), as a ``TokenCounter``.

compose.py installs the exact tiktoken counter (adapters/tokenizer.py); fitting prompts into a window lives in
``engine/fitting.py`` and ``engine/compression/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from autodevai.engine import constants as C
from autodevai.engine.messages import media_tokens
from autodevai.engine.types import ChatMessage

__all__ = ["EstimateCounter", "estimate_tokens", "message_tokens"]


def message_tokens(message: ChatMessage) -> int:
    """A fast estimate of one message's tokens (characters / 4 plus the chat format's per-message overhead)."""
    return int(len(message.counted_text()) / C.CHARS_PER_TOKEN) + C.MESSAGE_OVERHEAD_TOKENS + media_tokens(message)


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """The estimated prompt tokens of ``messages`` (including 3 tokens that prime the reply)."""
    return sum(message_tokens(m) for m in messages) + 3


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

    def is_exact(self, model: str | None) -> bool:
        return False

    def observe(self, model: str, estimated: int, actual: int) -> None:
        return None

    def calibration(self) -> dict[str, float]:
        return {}

    def load_calibration(self, factors: Mapping[str, float]) -> None:
        return None
