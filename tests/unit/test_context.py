"""Context sizing: token estimates and fitting a conversation into a model's window."""

from __future__ import annotations

import pytest

from autodevai.engine import constants as C
from autodevai.engine.context import estimate_tokens, message_tokens
from autodevai.engine.types import ChatMessage


def sys(text: str) -> ChatMessage:
    return ChatMessage(role="system", content=text)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=text)


def conversation(turns: int, size: int = 400) -> list[ChatMessage]:
    msgs = [sys("You are a helpful assistant.")]
    for i in range(turns):
        msgs.append(user(f"question {i} " + "q" * size))
        msgs.append(assistant(f"answer {i} " + "a" * size))
    msgs.append(user("the newest question: what about caching?"))
    return msgs


def test_estimate_grows_with_text_and_counts_overhead() -> None:
    assert message_tokens(user("")) == C.MESSAGE_OVERHEAD_TOKENS
    assert estimate_tokens([]) == 3  # tokens that prime the reply
    sizes = [estimate_tokens([user("x" * n)]) for n in range(0, 2000, 7)]
    assert sizes == sorted(sizes)
    assert sizes[-1] > sizes[0]
    # Every message costs its overhead even when empty: two empty messages cost more than one.
    assert estimate_tokens([user(""), user("")]) == estimate_tokens([user("")]) + C.MESSAGE_OVERHEAD_TOKENS
    assert estimate_tokens([user("x" * 4000)]) == pytest.approx(1000 + C.MESSAGE_OVERHEAD_TOKENS + 3, abs=2)
