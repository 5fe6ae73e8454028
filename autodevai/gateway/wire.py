"""The OpenAI chat-completions wire format as the gateway speaks it: the request body (validated with pydantic,
unknown fields ignored as compatible servers do), its translation into an engine ``ChatRequest``, and the
``chat.completion`` / ``chat.completion.chunk`` / model-list JSON the gateway answers with.

Follows OpenAI's API reference for ``POST /v1/chat/completions`` and ``GET /v1/models``: ``max_completion_tokens``
wins over the older ``max_tokens``; message ``content`` is a string or a list of text parts (images and other
parts are refused with a 400 that names the part); the ``developer`` role is the newer name of ``system``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from autodevai.engine.types import ChatRequest, EngineResponse, ModelInfo, Preference

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "VIRTUAL_MODELS",
    "ChatCompletionBody",
    "chunk",
    "completion_json",
    "models_json",
    "to_engine_request",
]

# Many OpenAI clients send no max_tokens and expect a whole answer; the engine's own default (512) would cut code
# answers short. 4096 is what most chat models can write in one go; the budget reserves for it (worst case).
DEFAULT_MAX_TOKENS = 4096

# Virtual model ids: routing preferences instead of a fixed model. ``auto`` uses the configured default.
VIRTUAL_MODELS: dict[str, Preference | None] = {
    "auto": None,
    "autodevai/cheapest": Preference.COST,
    "autodevai/best": Preference.QUALITY,
    "autodevai/fastest": Preference.SPEED,
    "autodevai/balanced": Preference.BALANCED,
}

_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str = ""
    name: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> str:
        """A string, null (an assistant turn that only called tools), or a list of ``{"type": "text"}`` parts."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts: list[str] = []
            for i, part in enumerate(value):
                if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
                    raise ValueError(f"part {i} must be an object with a 'type'")
                if part["type"] != "text":
                    raise ValueError(
                        f"part {i} is of type {part['type']!r}; the AutoDevAI gateway accepts text parts only"
                    )
                if not isinstance(part.get("text"), str):
                    raise ValueError(f"part {i} has no 'text' string")
                texts.append(part["text"])
            return "\n".join(texts)
        raise ValueError("must be a string or a list of text parts")


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionBody(_Lenient):
    """The fields of an OpenAI chat-completions body that the gateway honors; any other field is ignored."""

    model: Annotated[str, Field(min_length=1)] = "auto"
    messages: Annotated[list[WireMessage], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=1)] | None = None  # one choice per request: n > 1 is refused, not ignored

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


def to_engine_request(body: ChatCompletionBody, default_preference: Preference) -> ChatRequest:
    """The engine request for ``body``: a virtual model sets the routing preference, a real id pins the model
    (the engine's fallbacks still apply). Raises pydantic ``ValidationError`` (e.g. an empty prompt)."""
    virtual = body.model in VIRTUAL_MODELS
    preference = (VIRTUAL_MODELS[body.model] if virtual else None) or default_preference
    max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
    return ChatRequest.model_validate(
        {
            "messages": [
                {"role": "system" if m.role == "developer" else m.role, "content": m.content, "name": m.name}
                for m in body.messages
            ],
            "model": None if virtual else body.model,
            "preference": preference,
            "max_tokens": max_tokens,
            "temperature": body.temperature,
        }
    )


def finish_reason(value: str | None) -> str:
    """OpenAI's finish reasons are a closed set; anything else an upstream says becomes "stop"."""
    return value if value in _FINISH_REASONS else "stop"


def usage_dict(response: EngineResponse) -> dict[str, int]:
    u = response.usage
    total = u.total_tokens or u.prompt_tokens + u.completion_tokens
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": total}


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
                    "message": {"role": "assistant", "content": response.content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason(response.finish_reason),
                }
            ],
            "usage": usage_dict(response),
        }
    ).encode()


def chunk(
    chunk_id: str,
    created: int,
    model: str,
    *,
    delta: Mapping[str, Any] | None = None,
    finish: str | None = None,
    usage: Mapping[str, int] | None = None,
    error: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """One SSE event ``data: {chat.completion.chunk}``. With ``usage`` and no ``delta``/``finish`` it is the
    usage-only chunk OpenAI sends last (``choices: []``); with ``error`` it is a mid-stream error."""
    obj: dict[str, Any] = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model}
    if delta is None and finish is None and error is None:
        obj["choices"] = []
    else:
        obj["choices"] = [{"index": 0, "delta": dict(delta or {}), "logprobs": None, "finish_reason": finish}]
    if usage is not None:
        obj["usage"] = dict(usage)
    if error is not None:
        obj["error"] = dict(error)
    if extra:
        obj.update(extra)
    return b"data: " + _dumps(obj).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


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
    return _dumps({"object": "list", "data": data}).encode()


def model_json(model_id: str, owned_by: str, created: int) -> bytes:
    """One model object (``GET /v1/models/{id}``)."""
    return _dumps({"id": model_id, "object": "model", "created": created, "owned_by": owned_by}).encode()
