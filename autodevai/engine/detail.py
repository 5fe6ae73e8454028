"""What a request used beyond plain text, and what came back besides text, as the small JSON the store keeps with
the request row (``RequestRecord.detail``): tool names, ``tool_choice``, the response format, the parameters set,
the media parts sent; tool calls, reasoning, refusal, finish reason and cached/reasoning tokens.

None for a plain text request answered with plain text, so the common path stores nothing extra. Encrypted
reasoning details and logprobs are counted, not kept (they can be large and are of no use in the history).
"""

from __future__ import annotations

from typing import Any

from autodevai.engine.types import ChatRequest, Completion

__all__ = ["request_detail"]

_ROUTING_ONLY = frozenset({"tools", "tool_choice", "response_format"})


def _request_part(request: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if request.tools:
        out["tools"] = [t.function.name if t.function is not None else t.type for t in request.tools]
    if request.tool_choice is not None:
        choice = request.tool_choice
        out["tool_choice"] = choice if isinstance(choice, str) else choice.function.name
    if request.response_format is not None:
        out["response_format"] = request.response_format.type
    params = sorted(set(request.api_fields()) - _ROUTING_ONLY)
    if params:
        out["params"] = params
    media: dict[str, int] = {}
    for message in request.messages:
        if isinstance(message.content, tuple):
            for part in message.content:
                if part.type != "text":
                    media[part.type] = media.get(part.type, 0) + 1
    if media:
        out["media"] = media
    if request.openrouter:
        out["openrouter"] = sorted(request.openrouter)
    if request.extra_body:
        out["extra_body"] = sorted(request.extra_body)
    return out


def _response_part(completion: Completion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if completion.tool_calls:
        out["tool_calls"] = [c.as_json() for c in completion.tool_calls]
    if completion.reasoning:
        out["reasoning"] = completion.reasoning
    if completion.reasoning_details:
        out["reasoning_details"] = len(completion.reasoning_details)
    if completion.refusal:
        out["refusal"] = completion.refusal
    if completion.logprobs:
        out["logprobs"] = len(completion.logprobs.get("content") or ())
    if completion.message_extra:
        out["message_fields"] = sorted(completion.message_extra)
    usage = completion.usage
    if usage.cached_tokens:
        out["cached_tokens"] = usage.cached_tokens
    if usage.reasoning_tokens:
        out["reasoning_tokens"] = usage.reasoning_tokens
    if out and completion.finish_reason:
        out["finish_reason"] = completion.finish_reason
    return out


def request_detail(request: ChatRequest, completion: Completion | None = None) -> dict[str, Any] | None:
    """The detail to store for ``request`` (answered by ``completion`` when it succeeded), or None when there is
    nothing beyond text."""
    asked = _request_part(request) if request.model_fields_set - _PLAIN_FIELDS or request.has_media else {}
    got = _response_part(completion) if completion is not None else {}
    if not asked and not got:
        return None
    out: dict[str, Any] = {}
    if asked:
        out["request"] = asked
    if got:
        out["response"] = got
    return out


# Fields a plain text request sets; any other field set means there may be something to record.
_PLAIN_FIELDS = frozenset(
    {"messages", "model", "provider", "preference", "max_tokens", "fallbacks", "deadline_s", "task_class",
     "extra_headers"}
)  # fmt: skip
