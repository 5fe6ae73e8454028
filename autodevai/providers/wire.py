"""The JSON wire format of OpenAI-compatible chat APIs: request bodies, responses, stream chunks, model lists.

Pure functions over ``json`` values, no I/O. Parsing is minimal but checked: every field we use is validated
and a wrong shape raises ``WireError`` (the provider turns it into ``MalformedResponse``); fields we do not
use are ignored. Plain dict access instead of pydantic models per response keeps this well under the engine's
per-request CPU budget.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from autodevai.engine.errors import redact
from autodevai.engine.types import ChatMessage, Completion, ModelInfo, ProviderCall, Usage

__all__ = [
    "DEFAULT_CONTEXT_LENGTH",
    "EmbeddedError",
    "StreamState",
    "WireError",
    "chat_body",
    "dumps",
    "parse_completion",
    "parse_model",
    "parse_models",
    "parse_usage",
]

DEFAULT_CONTEXT_LENGTH = 4096  # when a server does not say (ModelInfo's default too)
_EMPTY: Mapping[str, Any] = {}


class WireError(ValueError):
    """The body does not have the shape the API promises; the message names the offending field."""


class EmbeddedError(Exception):
    """An ``{"error": {...}}`` object inside a 200 response or a stream chunk. ``error`` is that object."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        # Redacted: this exception becomes the __cause__ of the ProviderError and shows in tracebacks.
        super().__init__(redact(str(error.get("message", "error"))))
        self.error = error


def _message(m: ChatMessage) -> dict[str, str]:
    if m.name is None:
        return {"role": m.role, "content": m.content}
    return {"role": m.role, "content": m.content, "name": m.name}


def chat_body(call: ProviderCall, *, stream: bool) -> dict[str, Any]:
    """OpenAI's ``/chat/completions`` body, nothing else: api.openai.com answers unknown fields with 400."""
    body: dict[str, Any] = {
        "model": call.model,
        "messages": [_message(m) for m in call.messages],
        "max_tokens": call.max_tokens,
        "stream": stream,
    }
    if call.temperature is not None:
        body["temperature"] = call.temperature
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def dumps(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _int(value: Any, field: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise WireError(f"{field} is not an integer: {value!r:.40}")


def parse_usage(usage: Any) -> Usage:
    """``usage`` of a response or final chunk: token counts and OpenRouter's ``cost`` (USD) when present."""
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
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, cost=cost)


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
    content = message.get("content")
    if content is None:
        content = ""
    elif not isinstance(content, str):
        raise WireError("choices[0].message.content is not a string")
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise WireError("choices[0].finish_reason is not a string")
    model = data.get("model")
    gen_id = data.get("id")
    return Completion(
        provider=provider,
        model=model if isinstance(model, str) and model else requested_model,
        content=content,
        finish_reason=finish,
        usage=parse_usage(data.get("usage")),
        generation_id=gen_id if isinstance(gen_id, str) and gen_id else generation_header,
    )


class StreamState:
    """Accumulates one SSE stream of ``chat.completion.chunk`` objects, line by line.

    ``feed(line)`` returns the content delta of a ``data:`` line ("" for anything else) and raises
    ``WireError`` or ``EmbeddedError``. ``done`` turns True at ``data: [DONE]``; ``finished`` when the stream
    may end cleanly.
    """

    __slots__ = ("done", "finish_reason", "generation_id", "model", "parts", "usage")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.generation_id: str | None = None
        self.usage: Usage | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def finished(self) -> bool:
        """[DONE] arrived, or a chunk with a ``finish_reason`` did (servers that omit [DONE])."""
        return self.done or self.finish_reason is not None

    def feed(self, line: bytes) -> str:
        # SSE (WHATWG HTML §9.2): ":" starts a comment (OpenRouter's ": OPENROUTER PROCESSING" keep-alive);
        # blank lines end an event; event:/id:/retry: fields carry nothing we use.
        if not line.startswith(b"data:"):
            return ""
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.done = True
            return ""
        if not payload:
            return ""
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise WireError(redact(f"a stream chunk is not JSON: {payload[:60]!r}")) from exc
        if not isinstance(chunk, dict):
            raise WireError("a stream chunk is not a JSON object")
        err = chunk.get("error")
        if err is not None:
            raise EmbeddedError(err if isinstance(err, dict) else {"message": str(err)})
        if self.model is None:
            model = chunk.get("model")
            if isinstance(model, str) and model:
                self.model = model
            gen_id = chunk.get("id")
            if isinstance(gen_id, str) and gen_id:
                self.generation_id = gen_id
        usage = chunk.get("usage")
        if usage is not None:
            self.usage = parse_usage(usage)
        choices = chunk.get("choices")
        if not choices:
            return ""
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise WireError("choices of a stream chunk is not a list of objects")
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish is not None:
            if finish == "error":
                raise EmbeddedError({"message": "the stream ended with finish_reason 'error'"})
            self.finish_reason = str(finish)
        delta = choice.get("delta")
        if delta is None:
            return ""
        if not isinstance(delta, dict):
            raise WireError("choices[0].delta is not an object")
        content = delta.get("content")
        if content is None:
            return ""
        if not isinstance(content, str):
            raise WireError("choices[0].delta.content is not a string")
        if content:
            self.parts.append(content)
        return content

    def completion(
        self, *, provider: str, requested_model: str, generation_header: str | None, ttft_s: float | None
    ) -> Completion:
        return Completion(
            provider=provider,
            model=self.model or requested_model,
            content=self.text,
            finish_reason=self.finish_reason,
            usage=self.usage or Usage(),
            generation_id=self.generation_id or generation_header,
            ttft_s=ttft_s,
        )


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return None


def _price(value: Any) -> float:
    """USD per token; OpenRouter sends strings ("0.000003"); missing means free. ValueError if unusable."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise ValueError("price is a boolean")
    price = float(value)
    if price < 0 or price != price:  # OpenRouter marks variable-price routers (openrouter/auto) with "-1"
        raise ValueError("no fixed price")
    return price


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_model(item: Any, provider: str) -> ModelInfo | None:
    """One entry of ``GET /models`` (OpenAI's ``{id, owned_by}`` or OpenRouter's richer shape), or None.

    Models without a fixed price (OpenRouter's ``-1``) are dropped: routing cannot budget a request to them.
    """
    if not isinstance(item, dict):
        return None
    model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    pricing = _dict(item.get("pricing"))
    top = _dict(item.get("top_provider"))
    arch = _dict(item.get("architecture"))
    try:
        price_in = _price(pricing.get("prompt"))
        price_out = _price(pricing.get("completion"))
        price_request = _price(pricing.get("request"))
    except (TypeError, ValueError):
        return None
    inputs = _strings(arch.get("input_modalities"))
    outputs = _strings(arch.get("output_modalities"))
    modality = arch.get("modality")
    if isinstance(modality, str) and "->" in modality:  # older shape: "text+image->text"
        left, _, right = modality.partition("->")
        inputs = inputs or tuple(left.split("+"))
        outputs = outputs or tuple(right.split("+"))
    if "/" in model_id:
        vendor = model_id.split("/", 1)[0]
    else:
        owner = item.get("owned_by")
        vendor = owner if isinstance(owner, str) else ""
    name = item.get("name")
    description = item.get("description")
    created = item.get("created")
    try:
        return ModelInfo(
            id=model_id,
            provider=provider,
            name=name if isinstance(name, str) and name else model_id,
            vendor=vendor,
            description=description if isinstance(description, str) else "",
            context_length=_positive_int(item.get("context_length"))
            or _positive_int(top.get("context_length"))
            or DEFAULT_CONTEXT_LENGTH,
            max_output=_positive_int(top.get("max_completion_tokens")),
            price_in=price_in,
            price_out=price_out,
            price_request=price_request,
            input_modalities=inputs or ("text",),
            output_modalities=outputs or ("text",),
            supported_parameters=_strings(item.get("supported_parameters")) or (),
            moderated=top.get("is_moderated") is True,
            created=int(created) if isinstance(created, int | float) and not isinstance(created, bool) else None,
        )
    except ValidationError:
        return None


def parse_models(data: Any, provider: str) -> list[ModelInfo]:
    """``GET /models``: ``{"data": [...]}`` (a bare list is accepted too). Unusable entries are skipped."""
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise WireError("the model list has no 'data' array")
    models = []
    for item in items:
        info = parse_model(item, provider)
        if info is not None:
            models.append(info)
    return models
