"""The JSON wire format of OpenAI-compatible chat APIs: the request body and the non-streaming response.

Pure functions over ``json`` values, no I/O. Parsing is minimal but checked: every field we use is validated
and a wrong shape raises ``WireError`` (the provider turns it into ``MalformedResponse``); message fields we do
not model are kept in ``Completion.message_extra``. Plain dict access instead of pydantic models per response
keeps this well under the engine's per-request CPU budget. Streams are in ``streaming.py``, model lists in
``models_wire.py``.

What goes into a body (OpenAI's API reference for ``POST /chat/completions``, OpenRouter's API docs):
- ``model``, ``messages`` (content strings or parts, tool calls, tool results, unknown message fields as they
  came), ``stream``, and the request's API fields (sampling, ``stop``, ``seed``, tools, ``response_format``,
  ``reasoning``, ...) when set.
- The output limit as ``max_tokens``, or as ``max_completion_tokens`` for OpenAI's o-series and GPT-5 families
  on OpenAI-kind servers (those models refuse ``max_tokens``; OpenRouter accepts ``max_tokens`` for all).
- OpenRouter-only fields only when ``openrouter=True``; ``extra_body`` fields verbatim, last.
- ``reasoning`` (OpenRouter's unified object) goes to OpenRouter as it is; an OpenAI-kind server takes OpenAI's
  ``reasoning_effort`` instead (api.openai.com refuses a ``reasoning`` field in chat completions), so only the
  effort is sent there — ``max_tokens``/``exclude``/``enabled`` have no OpenAI equivalent.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from autodevai.engine.errors import redact
from autodevai.engine.types import ChatMessage, Completion, ProviderCall, ToolCall, Usage

__all__ = [
    "EmbeddedError",
    "WireError",
    "chat_body",
    "dumps",
    "merge_reasoning_details",
    "message_json",
    "parse_completion",
    "parse_usage",
    "readable",
    "uses_max_completion_tokens",
    "with_headers",
]

SIMULATED_HEADER = "x-autodevai-simulated"  # our simulator marks every answer with it
COST_HEADER = "x-litellm-response-cost"  # LiteLLM's proxy: the call's cost in USD

# Message fields parsed into Completion's own fields; any other field of a response message is kept as sent.
_KNOWN_MESSAGE_FIELDS = frozenset(
    {"role", "content", "refusal", "reasoning", "reasoning_content", "reasoning_details", "tool_calls"}
)
_COMPLETION_TOKENS_MODELS = re.compile(r"^(?:openai/)?(?:o\d|gpt-5)")


class WireError(ValueError):
    """The body does not have the shape the API promises; the message names the offending field."""


class EmbeddedError(Exception):
    """An ``{"error": {...}}`` object inside a 200 response or a stream chunk. ``error`` is that object."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        # Redacted: this exception becomes the __cause__ of the ProviderError and shows in tracebacks.
        super().__init__(redact(str(error.get("message", "error"))))
        self.error = error


# ---- request ---------------------------------------------------------------------------------------------


def message_json(m: ChatMessage) -> dict[str, Any]:
    """One message as the API takes it; a plain text message costs two dict entries."""
    content = m.content
    out: dict[str, Any] = {
        "role": m.role,
        "content": [p.model_dump(mode="json", exclude_none=True) for p in content]
        if isinstance(content, tuple)
        else content,
    }
    if m.name is not None:
        out["name"] = m.name
    if m.tool_calls:
        out["tool_calls"] = [c.model_dump(mode="json", exclude_none=True) for c in m.tool_calls]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.model_extra:
        out.update(m.model_extra)
    return out


def uses_max_completion_tokens(model: str) -> bool:
    """True for OpenAI model families that take ``max_completion_tokens`` and refuse ``max_tokens``."""
    return _COMPLETION_TOKENS_MODELS.match(model) is not None


def chat_body(call: ProviderCall, *, stream: bool, openrouter: bool = False) -> dict[str, Any]:
    """The ``/chat/completions`` body for ``call``. OpenRouter-only fields go in only when ``openrouter``:
    api.openai.com answers unknown fields with 400."""
    limit = "max_tokens" if openrouter or not uses_max_completion_tokens(call.model) else "max_completion_tokens"
    body: dict[str, Any] = {
        "model": call.model,
        "messages": [message_json(m) for m in call.messages],
        limit: call.max_tokens,
        "stream": stream,
    }
    if call.params:
        body.update(call.params)
        if not openrouter and "reasoning" in body:
            effort = body.pop("reasoning").get("effort")
            if effort is not None:
                body["reasoning_effort"] = effort
    if call.temperature is not None and "temperature" not in body:
        body["temperature"] = call.temperature
    if stream:
        body["stream_options"] = {"include_usage": True}
    if openrouter and call.openrouter:
        body.update(call.openrouter)
    if call.extra_body:
        body.update(call.extra_body)
    return body


def dumps(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# ---- response --------------------------------------------------------------------------------------------


def _int(value: Any, field: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise WireError(f"{field} is not an integer: {value!r:.40}")


def _detail(usage: Mapping[str, Any], group: str, name: str) -> int:
    details = usage.get(group)
    value = details.get(name) if isinstance(details, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def parse_usage(usage: Any) -> Usage:
    """``usage`` of a response or final chunk: token counts, cached and reasoning tokens, and OpenRouter's
    ``cost`` (USD) when present."""
    if usage is None:
        return Usage()
    if not isinstance(usage, dict):
        raise WireError("usage is not an object")
    prompt = _int(usage.get("prompt_tokens") or 0, "usage.prompt_tokens")
    completion = _int(usage.get("completion_tokens") or 0, "usage.completion_tokens")
    total_raw = usage.get("total_tokens")
    total = prompt + completion if total_raw is None else _int(total_raw, "usage.total_tokens")
    cost_raw = usage.get("cost")
    if cost_raw is None:
        cost = None
    elif isinstance(cost_raw, int | float) and not isinstance(cost_raw, bool):
        cost = float(cost_raw)
    else:
        raise WireError("usage.cost is not a number")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cost=cost,
        cached_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
    )


def _tool_calls(value: Any) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WireError("choices[0].message.tool_calls is not a list")
    calls = []
    for i, item in enumerate(value):
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise WireError(f"choices[0].message.tool_calls[{i}] has no function name")
        arguments = function.get("arguments")
        if isinstance(arguments, dict | list):  # some servers (Ollama's native shape) send an object
            arguments = json.dumps(arguments, ensure_ascii=False)
        call_id = item.get("id")
        calls.append(
            ToolCall(
                id=call_id if isinstance(call_id, str) and call_id else f"call_{i}",
                name=function["name"],
                arguments=arguments if isinstance(arguments, str) else "",
                type=item.get("type") if isinstance(item.get("type"), str) else "function",
            )
        )
    return tuple(calls)


def merge_reasoning_details(pieces: list[Any]) -> tuple[Mapping[str, Any], ...]:
    """OpenRouter's ``reasoning_details`` pieces merged per (type, index): streamed text, summary and encrypted
    data fragments are concatenated, other fields kept from the first piece that has them."""
    merged: dict[tuple[Any, Any], dict[str, Any]] = {}
    for piece in pieces:
        if not isinstance(piece, dict):
            continue
        key = (piece.get("type"), piece.get("index"))
        current = merged.get(key)
        if current is None:
            merged[key] = dict(piece)
            continue
        for name, value in piece.items():
            if name in ("text", "summary", "data") and isinstance(value, str):
                current[name] = (current.get(name) or "") + value
            elif current.get(name) is None:
                current[name] = value
    return tuple(merged.values())


def _content(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts in a response (e.g. Mistral's), text parts joined
        return "".join(p["text"] for p in value if isinstance(p, dict) and isinstance(p.get("text"), str))
    raise WireError("choices[0].message.content is not a string")


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_completion(
    data: Any,
    *,
    provider: str,
    requested_model: str,
    generation_header: str | None,
) -> Completion:
    """A non-streaming ``chat.completion`` object. Raises ``WireError`` or ``EmbeddedError``.

    ``model`` is the response's ``model`` (the one that actually answered); servers that omit it answered with
    the requested one. ``content: null`` (a refusal or tool call) reads as an empty answer.
    """
    if not isinstance(data, dict):
        raise WireError("the body is not a JSON object")
    err = data.get("error")
    if isinstance(err, dict):
        raise EmbeddedError(err)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise WireError("choices is missing or empty")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise WireError("choices[0] is not an object")
    if isinstance(choice.get("error"), dict):
        raise EmbeddedError(choice["error"])
    message = choice.get("message")
    if not isinstance(message, dict):
        raise WireError("choices[0].message is missing")
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise WireError("choices[0].finish_reason is not a string")
    model = data.get("model")
    gen_id = data.get("id")
    details = message.get("reasoning_details")
    logprobs = choice.get("logprobs")
    extra = {k: v for k, v in message.items() if k not in _KNOWN_MESSAGE_FIELDS and v is not None}
    return Completion(
        provider=provider,
        model=model if isinstance(model, str) and model else requested_model,
        content=_content(message.get("content")),
        finish_reason=finish,
        usage=parse_usage(data.get("usage")),
        generation_id=gen_id if isinstance(gen_id, str) and gen_id else generation_header,
        tool_calls=_tool_calls(message.get("tool_calls")),
        refusal=_optional_str(message.get("refusal")),
        reasoning=_optional_str(message.get("reasoning")) or _optional_str(message.get("reasoning_content")),
        reasoning_details=merge_reasoning_details(details) if isinstance(details, list) else (),
        logprobs=logprobs if isinstance(logprobs, dict) else None,
        message_extra=extra or None,
    )


def with_headers(completion: Completion, headers: Mapping[str, str]) -> Completion:
    """``completion`` with what the response headers add: LiteLLM's cost (when the body has no ``usage.cost``)
    and our simulator's mark."""
    simulated = headers.get(SIMULATED_HEADER) == "1"
    cost = completion.usage.cost
    if cost is None:
        raw = headers.get(COST_HEADER)
        try:
            header_cost = float(raw) if raw is not None else None
        except ValueError:
            header_cost = None
        if header_cost is not None and math.isfinite(header_cost) and header_cost >= 0:
            cost = header_cost
    if cost == completion.usage.cost and not simulated:
        return completion
    return dataclasses.replace(completion, usage=dataclasses.replace(completion.usage, cost=cost), simulated=simulated)


def readable(exc: Exception) -> Exception:
    """``exc``, or for a ``RecursionError`` (JSON nested deeper than the parser recurses) a readable ``ValueError``."""
    return ValueError("the JSON is nested too deeply") if isinstance(exc, RecursionError) else exc
