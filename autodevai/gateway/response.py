"""The response side of the OpenAI wire format: ``chat.completion`` objects, ``chat.completion.chunk`` SSE events
and the model list, built from engine values.

Shapes follow OpenAI's API reference (checked against its OpenAPI spec by ``tests/integration/
test_gateway_openapi.py``): a message has ``role``, ``content`` (null when the model only called tools or refused
and wrote no text), ``refusal`` and, when the model called tools, ``tool_calls``. Two extensions, both OpenRouter's
and allowed by the spec (its objects do not forbid extra properties), so clients written for OpenRouter keep
working: ``reasoning`` / ``reasoning_details`` on messages and deltas, and whatever other message fields the
upstream sent (``annotations``, ``images``, ``audio``: ``EngineResponse.message_extra``). Usage always carries
``prompt_tokens_details.cached_tokens`` and ``completion_tokens_details.reasoning_tokens``.

``ChunkWriter`` turns one engine stream into chunks: a role chunk at the engine's marker (the moment a model
starts answering), content, reasoning, refusal and tool-call deltas as they arrive, then the finish chunk, the
usage chunk when asked for, and ``[DONE]``. Every chunk names the model: the one the marker named, the final
chunks the one the engine's response names.

JSON is encoded with ``ensure_ascii=False`` and ``backslashreplace``: a lone surrogate an upstream sent (the only
string UTF-8 cannot hold) goes out as the same ``\\udXXX`` escape instead of failing the response.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from autodevai.engine.types import EngineResponse, ModelInfo, StreamDelta
from autodevai.gateway.request import VIRTUAL_MODELS

__all__ = ["DONE", "ChunkWriter", "completion_json", "finish_reason", "model_json", "models_json", "usage_dict"]

_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

DONE = b"data: [DONE]\n\n"


def _dumps(obj: Any) -> bytes:
    return _encode(obj).encode("utf-8", "backslashreplace")


def finish_reason(value: str | None) -> str:
    """OpenAI's finish reasons are a closed set; anything else an upstream says becomes "stop"."""
    return value if value in _FINISH_REASONS else "stop"


def usage_dict(response: EngineResponse) -> dict[str, Any]:
    u = response.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.total_tokens or u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


def _logprobs(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's choice ``logprobs``: both ``content`` and ``refusal`` are always present (null when absent)."""
    if value is None:
        return None
    return {"content": value.get("content"), "refusal": value.get("refusal"), **value}


def message_dict(response: EngineResponse) -> dict[str, Any]:
    """The ``choices[0].message`` object of a ``chat.completion``."""
    text = response.content
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text if text or not (response.tool_calls or response.refusal) else None,
        "refusal": response.refusal,
    }
    if response.tool_calls:
        message["tool_calls"] = [call.as_json() for call in response.tool_calls]
    if response.reasoning is not None:
        message["reasoning"] = response.reasoning
    if response.reasoning_details:
        message["reasoning_details"] = list(response.reasoning_details)
    if response.message_extra:
        for key, value in response.message_extra.items():
            message.setdefault(key, value)
    return message


def completion_json(response: EngineResponse, created: int) -> bytes:
    """A ``chat.completion`` object; ``model`` is the model that actually answered."""
    return _dumps(
        {
            "id": f"chatcmpl-{response.request_id}",
            "object": "chat.completion",
            "created": created,
            "model": response.model,
            "choices": [
                {
                    "index": 0,
                    "message": message_dict(response),
                    "logprobs": _logprobs(response.logprobs),
                    "finish_reason": finish_reason(response.finish_reason),
                }
            ],
            "usage": usage_dict(response),
        }
    )


class ChunkWriter:
    """The SSE events of one streamed completion. ``feed`` each engine stream item that is not the final
    response, then ``finish`` with it (or ``error`` when the stream failed after it began)."""

    __slots__ = ("_created", "_head", "_id", "_model", "_role_sent", "_sent")

    def __init__(self, chunk_id: str, created: int, model: str) -> None:
        self._id = chunk_id
        self._created = created
        self._model = model
        self._head = self._prefix(model)
        self._role_sent = False
        self._sent: set[str] = set()  # the delta kinds streamed so far (content, tool_calls, reasoning, refusal)

    def _prefix(self, model: str) -> bytes:
        # The bytes every delta chunk of this model starts with; a text delta adds only its own JSON string.
        head = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": model}
        return b"data: " + _dumps(head)[:-1] + b',"choices":[{"index":0,"delta":'

    def feed(self, item: str | StreamDelta) -> list[bytes]:
        """The chunks for one stream item: a text delta, a marker (the role chunk) or a piece."""
        if isinstance(item, str):
            if not item:
                return []
            self._sent.add("content")
            if not self._role_sent:
                self._role_sent = True
                return [self._delta({"role": "assistant", "content": item})]
            return [self._head + b'{"content":' + _dumps(item) + b'},"logprobs":null,"finish_reason":null}]}\n\n']
        if item.model and item.model != self._model:
            self._model = item.model
            self._head = self._prefix(item.model)
        if item.is_marker:
            if self._role_sent:
                return []
            self._role_sent = True
            return [self._delta({"role": "assistant", "content": ""})]
        delta: dict[str, Any] = {}
        if not self._role_sent:
            self._role_sent = True
            delta["role"] = "assistant"
        if item.reasoning:
            delta["reasoning"] = item.reasoning
            self._sent.add("reasoning")
        if item.reasoning_details:
            delta["reasoning_details"] = list(item.reasoning_details)
            self._sent.add("reasoning_details")
        if item.refusal:
            delta["refusal"] = item.refusal
            self._sent.add("refusal")
        if item.tool_calls:
            delta["tool_calls"] = [piece.as_json() for piece in item.tool_calls]
            self._sent.add("tool_calls")
        return [self._delta(delta)]

    def _delta(self, delta: Mapping[str, Any]) -> bytes:
        return self._head + _dumps(delta) + b',"logprobs":null,"finish_reason":null}]}\n\n'

    def finish(self, result: EngineResponse, *, include_usage: bool) -> list[bytes]:
        """The finish chunk (carrying whatever of the answer no delta carried), the usage chunk when asked for,
        and ``[DONE]``; both name the model that answered and carry AutoDevAI's request id, provider and cost."""
        sent = self._sent
        delta: dict[str, Any] = {}
        if not self._role_sent:
            delta["role"] = "assistant"
        if result.content and "content" not in sent:
            delta["content"] = result.content
        if result.reasoning and "reasoning" not in sent:
            delta["reasoning"] = result.reasoning
        if result.reasoning_details and "reasoning_details" not in sent:
            delta["reasoning_details"] = list(result.reasoning_details)
        if result.refusal and "refusal" not in sent:
            delta["refusal"] = result.refusal
        if result.tool_calls and "tool_calls" not in sent:
            delta["tool_calls"] = [{"index": i, **call.as_json()} for i, call in enumerate(result.tool_calls)]
        meta = result_meta(result)
        pieces = [
            chunk(
                self._id,
                self._created,
                result.model,
                delta=delta,
                finish=finish_reason(result.finish_reason),
                logprobs=_logprobs(result.logprobs),
                extra={"autodevai": meta},
            )
        ]
        if include_usage:
            usage = usage_dict(result)
            pieces.append(chunk(self._id, self._created, result.model, usage=usage, extra={"autodevai": meta}))
        pieces.append(DONE)
        return pieces

    def error(self, error: Mapping[str, Any]) -> list[bytes]:
        """A failure after the stream began: a last chunk with OpenRouter's ``finish_reason: "error"`` and the
        OpenAI ``error`` object (OpenAI's SDKs raise it as an ``APIError``), then ``[DONE]``."""
        return [chunk(self._id, self._created, self._model, delta={}, finish="error", error=error), DONE]


def chunk(
    chunk_id: str,
    created: int,
    model: str,
    *,
    delta: Mapping[str, Any] | None = None,
    finish: str | None = None,
    logprobs: Mapping[str, Any] | None = None,
    usage: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """One SSE event ``data: {chat.completion.chunk}``. With ``usage`` and no ``delta``/``finish`` it is the
    usage-only chunk OpenAI sends last (``choices: []``); with ``error`` it is a mid-stream error."""
    obj: dict[str, Any] = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model}
    if delta is None and finish is None and error is None:
        obj["choices"] = []
    else:
        obj["choices"] = [{"index": 0, "delta": dict(delta or {}), "logprobs": logprobs, "finish_reason": finish}]
    if usage is not None:
        obj["usage"] = dict(usage)
    if error is not None:
        obj["error"] = dict(error)
    if extra:
        obj.update(extra)
    return b"data: " + _dumps(obj) + b"\n\n"


def models_json(models: Iterable[ModelInfo], created: int) -> bytes:
    """OpenAI's model list: the virtual ids first, then each catalog id once (the first provider that serves it)."""
    data: list[dict[str, Any]] = [
        {"id": vid, "object": "model", "created": created, "owned_by": "autodevai"} for vid in VIRTUAL_MODELS
    ]
    seen: set[str] = set(VIRTUAL_MODELS)
    for m in models:
        if m.id in seen:
            continue
        seen.add(m.id)
        data.append({"id": m.id, "object": "model", "created": m.created or 0, "owned_by": m.vendor or m.provider})
    return _dumps({"object": "list", "data": data})


def model_json(model_id: str, owned_by: str, created: int) -> bytes:
    """One model object (``GET /v1/models/{id}``)."""
    return _dumps({"id": model_id, "object": "model", "created": created, "owned_by": owned_by})


def result_meta(result: EngineResponse) -> dict[str, Any]:
    """What AutoDevAI adds about an answer: request id, provider, cost (None when unknown: never a silent $0),
    whether the simulator answered, and how the prompt was compressed when it was."""
    meta: dict[str, Any] = {
        "request_id": result.request_id,
        "provider": result.provider,
        "cost_usd": None if result.cost_source == "unknown" else result.cost_usd,
    }
    if result.simulated:
        meta["simulated"] = True
    if result.compression is not None:
        meta["compression"] = compression_note(result)
    return meta


def compression_note(result: EngineResponse) -> str:
    """``"6120->4010 tokens; auto; quality 0.93"`` for a compressed prompt ("" when nothing was removed)."""
    c = result.compression
    if c is None:
        return ""
    return f"{c.tokens_before}->{c.tokens_after} tokens; {c.strategy}; quality {c.quality:.2f}"
