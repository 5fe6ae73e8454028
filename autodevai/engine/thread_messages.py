"""How a conversation's messages are made for the store (``ThreadMessage``): new ids, a chat message's content
and tool fields as JSON, and an answer with everything its details show later — route reasons, attempts,
timings, finish reason, tokens, tool calls, reasoning, refusal, how the thread was fitted, and whether the
request was hedged (and what the hedge's loser cost).
"""

from __future__ import annotations

import os
from typing import Any

from autodevai.engine.conversations import ThreadMessage
from autodevai.engine.messages import ChatMessage
from autodevai.engine.thread_fit import ThreadFit
from autodevai.engine.types import EngineResponse

__all__ = ["answer_message", "content_of", "extra_of", "new_id"]


def new_id() -> str:
    """A new random message or conversation id (16 hex digits)."""
    return os.urandom(8).hex()


def content_of(message: ChatMessage) -> Any:
    """A message's content as the store keeps it: its text, or its parts as JSON objects."""
    content = message.content
    if isinstance(content, tuple):
        return [part.model_dump(mode="json", exclude_none=True) for part in content]
    return content


def extra_of(message: ChatMessage) -> dict[str, Any]:
    """A message's tool calls and tool call id, as the store keeps them in ``ThreadMessage.extra``."""
    extra: dict[str, Any] = {}
    if message.tool_calls:
        extra["tool_calls"] = [c.model_dump(mode="json", exclude_none=True) for c in message.tool_calls]
    if message.tool_call_id:
        extra["tool_call_id"] = message.tool_call_id
    return extra


def answer_message(
    conversation_id: str, parent: str | None, r: EngineResponse, fit: ThreadFit | None, now: float
) -> ThreadMessage:
    """The stored answer ``r`` in ``conversation_id``, child of ``parent``, made at ``now`` (epoch seconds)."""
    extra: dict[str, Any] = {
        "reasons": list(r.route.reasons),
        "attempts": [{"provider": a.provider, "model": a.model, "outcome": a.outcome, "detail": a.detail}
                     for a in r.attempts],
        "latency_ms": r.latency_ms,
        "ttft_ms": r.ttft_ms,
        "finish_reason": r.finish_reason,
        "reasoning_tokens": r.usage.reasoning_tokens,
        "cached_tokens": r.usage.cached_tokens,
    }  # fmt: skip
    if r.hedged:
        extra["hedged"] = True
        extra["hedge_cost_usd"] = r.hedge_cost_usd
    if r.tool_calls:
        extra["tool_calls"] = [c.as_json() for c in r.tool_calls]
    if r.reasoning:
        extra["reasoning"] = r.reasoning
    if r.refusal:
        extra["refusal"] = r.refusal
    if fit is not None and fit.how:
        extra["fit"] = fit.describe()
    elif r.compression is not None:
        c = r.compression
        extra["fit"] = f"{c.tokens_before}->{c.tokens_after} tokens; {c.strategy}; quality {c.quality:.2f}"
    content: Any = r.content if r.content or not r.tool_calls else None
    return ThreadMessage(
        new_id(), conversation_id, parent, "assistant", content, now,
        model=r.model, provider=r.provider, request_id=r.request_id, prompt_tokens=r.usage.prompt_tokens,
        completion_tokens=r.usage.completion_tokens, cost_usd=r.cost_usd, cost_source=r.cost_source,
        latency_ms=r.latency_ms, simulated=r.simulated, extra=extra,
    )  # fmt: skip
