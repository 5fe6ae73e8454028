"""The request side of the OpenAI chat-completions wire format: one ``POST /v1/chat/completions`` body in, one
engine ``ChatRequest`` out (or the ``ApiError`` that says what is wrong with the body).

The gateway is transparent (OpenAI's API reference for ``POST /v1/chat/completions``; OpenRouter's API docs):
- Every field of the chat API goes into the ``ChatRequest`` under its own name and is validated there, once, by
  pydantic: ``messages`` (string or part content: ``text``, ``image_url`` with https/data URLs and ``detail``,
  ``input_audio``, ``file``; ``cache_control`` and other part fields kept; assistant ``tool_calls``, tool
  messages' ``tool_call_id``), ``tools``, ``tool_choice``, ``parallel_tool_calls``, ``response_format``,
  ``stop``, ``seed``, sampling (``temperature``, ``top_p``, ``top_k``, penalties, ``repetition_penalty``,
  ``min_p``, ``logit_bias``), ``logprobs``, ``top_logprobs``, ``user``, ``reasoning``, ``modalities``.
- Renamed on the way: the ``developer`` role is the newer name of ``system``; ``max_completion_tokens`` wins
  over the older ``max_tokens`` (the provider sends whichever its upstream takes); OpenAI's ``reasoning_effort``
  becomes ``reasoning.effort`` (an effort inside ``reasoning`` wins).
- OpenRouter-only fields (``provider``, ``transforms``, ``models``, ``plugins``, ``route``, ``include_reasoning``,
  ``usage``) go to ``ChatRequest.openrouter``: sent to OpenRouter-kind upstreams only, since api.openai.com
  answers unknown fields with 400.
- **Any other field is passed through verbatim**: it goes to ``ChatRequest.extra_body`` and reaches whichever
  upstream answers exactly as the client sent it (newer OpenAI fields such as ``metadata``, ``store``,
  ``prediction``, ``service_tier``, ``verbosity``; legacy ``functions`` / ``function_call``; a local server's
  own options). Nothing is dropped silently.
- Gateway-only fields are consumed here: ``stream`` (``null`` means false), ``stream_options.include_usage``,
  and ``n`` (one choice per request: ``n`` > 1 is refused with a 400, never ignored).
- ``model``: a virtual id (``auto``, ``autodevai/cheapest|best|fastest|balanced``) sets the routing preference;
  any other id pins that model (the engine's fallbacks still apply).

Cheap on the plain text path: one ``json.loads``, one pass over the top-level keys, one ``model_validate``. The
checks for bodies no later layer could carry run only when a byte scan says they may apply: nesting deeper than
``MAX_DEPTH`` (counted only when the body has that many brackets at all) and lone UTF-16 surrogates (looked for
only when the body has a ``\\uD800``-``\\uDFFF`` escape; ``json.loads`` accepts them, UTF-8 encoding fails later).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from autodevai.engine.types import OPENROUTER_ONLY_FIELDS, ChatRequest, Preference
from autodevai.gateway.errors import ApiError, from_validation_error, invalid_json, invalid_value

__all__ = ["DEFAULT_MAX_TOKENS", "KNOWN_FIELDS", "MAX_DEPTH", "VIRTUAL_MODELS", "ParsedChat", "parse_chat"]

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

# Deepest JSON nesting a body may have. pydantic-core refuses to serialize values nested ~255 deep (the engine
# dumps tool schemas through it) and json.loads raises RecursionError near 1000: 128 is far beyond any real
# schema (OpenAI's strict schemas allow 10 levels) and leaves room for the layers the engine wraps around them.
MAX_DEPTH = 128

# Fields copied into ChatRequest under the same name (None = not set).
_SAME = frozenset(
    {"temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty", "repetition_penalty", "min_p",
     "seed", "stop", "logit_bias", "logprobs", "top_logprobs", "user", "parallel_tool_calls", "modalities",
     "tools", "tool_choice", "response_format", "reasoning"}
)  # fmt: skip
_OPENROUTER = frozenset(OPENROUTER_ONLY_FIELDS)
# Every top-level name this module handles itself; the rest is passed through verbatim (extra_body).
KNOWN_FIELDS = _SAME | _OPENROUTER | {
    "model", "messages", "max_tokens", "max_completion_tokens", "reasoning_effort", "stream", "stream_options", "n",
}  # fmt: skip

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ParsedChat:
    """A valid chat request: the engine request and what only the gateway needs."""

    request: ChatRequest
    model: str  # as the client named it (a virtual id or a model id)
    stream: bool
    include_usage: bool


def parse_chat(body: bytes, default_preference: Preference) -> ParsedChat | ApiError:
    """``body`` as a ``ParsedChat``, or the 400 that names what is wrong with it. Never raises."""
    try:
        raw = json.loads(body)
    except UnicodeDecodeError:
        return invalid_json("it is not UTF-8")
    except RecursionError:
        return _too_deep()
    except ValueError as exc:
        return invalid_json(str(exc))
    if not isinstance(raw, dict):
        return invalid_json("it is not a JSON object")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _deeper_than(raw, MAX_DEPTH):
        return _too_deep()
    if _SURROGATE_ESCAPE.search(body) is not None:
        where = _lone_surrogate(raw)
        if where is not None:
            return invalid_value(
                where,
                "the text contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), which is not a "
                "Unicode character and cannot be sent on; pair it or remove it",
                "invalid_unicode",
            )

    fields: dict[str, Any] = {}
    openrouter: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    renames: dict[str, str] = {}
    model: Any = "auto"
    stream: Any = False
    include_usage = False
    for key, value in raw.items():
        if key in _SAME:
            if value is not None:
                fields[key] = value
        elif key == "messages":
            fields["messages"] = _messages(value)
        elif key == "model":
            model = value
        elif key in _OPENROUTER:
            if value is not None:
                openrouter[key] = value
        elif key in ("max_tokens", "max_completion_tokens"):
            if value is not None and (type(value) is not int or value < 1):
                return invalid_value(key, "must be a positive integer", "invalid_type")
        elif key == "stream":
            stream = value
        elif key == "stream_options":
            if value is not None:
                if not isinstance(value, dict) or not isinstance(value.get("include_usage", False), bool | None):
                    return invalid_value("stream_options", "must be an object such as {'include_usage': true}")
                include_usage = value.get("include_usage") is True
        elif key == "n":
            if value is not None and value != 1:
                return invalid_value(
                    "n", "the AutoDevAI gateway returns one choice per request: n must be 1", "unsupported_value"
                )
        elif key != "reasoning_effort":
            extra[key] = value  # passed through verbatim
    if stream is not None and not isinstance(stream, bool):
        return invalid_value("stream", "must be a boolean", "invalid_type")
    if not isinstance(model, str) or not model.strip():
        return invalid_value("model", "must be a model id, or 'auto' to let AutoDevAI choose", "invalid_type")

    limit = raw.get("max_completion_tokens")
    if limit is not None:
        renames["max_tokens"] = "max_completion_tokens"
    else:
        limit = raw.get("max_tokens")
    effort = raw.get("reasoning_effort")
    if effort is not None:
        reasoning = fields.get("reasoning")
        if reasoning is None:
            fields["reasoning"] = {"effort": effort}
            renames["reasoning"] = "reasoning_effort"
        elif isinstance(reasoning, dict) and reasoning.get("effort") is None:
            fields["reasoning"] = {**reasoning, "effort": effort}

    virtual = model in VIRTUAL_MODELS
    fields["model"] = None if virtual else model
    fields["preference"] = (VIRTUAL_MODELS[model] if virtual else None) or default_preference
    fields["max_tokens"] = limit or DEFAULT_MAX_TOKENS
    if openrouter:
        fields["openrouter"] = openrouter
    if extra:
        fields["extra_body"] = extra
    try:
        request = ChatRequest.model_validate(fields)
    except ValidationError as exc:
        return from_validation_error(exc, fields, renames)
    return ParsedChat(request, model, bool(stream), include_usage)


def _messages(value: Any) -> Any:
    """``value`` with ``developer`` messages as ``system`` ones (copied only when there are any)."""
    if not isinstance(value, list):
        return value  # pydantic names the error
    for i, m in enumerate(value):
        if isinstance(m, dict) and m.get("role") == "developer":
            out = value[:i]
            for m2 in value[i:]:
                out.append({**m2, "role": "system"} if isinstance(m2, dict) and m2.get("role") == "developer" else m2)
            return out
    return value


def _deeper_than(obj: Any, limit: int) -> bool:
    """True when ``obj`` nests lists/objects more than ``limit`` deep. Iterative: no recursion to overflow."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def _lone_surrogate(obj: Any) -> str | None:
    """The path (``messages[0].content``) of the first string or key holding a lone surrogate, or None.

    ``json.loads`` joins a valid escaped pair into one code point, so any surrogate left is a lone one."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        node, path = stack.pop()
        if type(node) is str:
            if _SURROGATE.search(node):
                return path or "body"
        elif type(node) is dict:
            for key, child in node.items():
                where = f"{path}.{key}" if path else key
                if _SURROGATE.search(key):
                    return where.encode("utf-8", "backslashreplace").decode()
                stack.append((child, where))
        elif type(node) is list:
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(node))
    return None


def _too_deep() -> ApiError:
    return invalid_json(
        f"it nests objects or arrays more than {MAX_DEPTH} levels deep; no chat request needs that",
        code="json_too_deep",
    )
