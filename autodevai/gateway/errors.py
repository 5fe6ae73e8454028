"""Every failure the gateway can answer with, in OpenAI's error shape ``{"error": {"message", "type", "param",
"code"}}`` with the HTTP status OpenAI itself uses for it, so OpenAI clients react as they do to OpenAI.

Engine errors map by class (the first matching row of ``_TABLE`` wins, so subclasses come first):

    CapabilityMissing (the pinned model, or every   400 invalid_request_error / model_capability_missing;
      allowed one, cannot serve tools, json_schema,   param: the field that asks for it (tools,
      image input, ...; refused before any call)      response_format, messages, reasoning, modalities)
    InvalidRequest, BadRequest (upstream 400)       400 invalid_request_error
    ContextTooLong                                  400 invalid_request_error / context_length_exceeded
    ContentFiltered (upstream moderation)           400 invalid_request_error / content_filter
    BudgetExceeded                                  429 insufficient_quota / budget_exceeded
    PaymentRequired (upstream out of credits)       429 insufficient_quota / upstream_payment_required
    RateLimited                                     429 rate_limit_error, with Retry-After when known
    AuthRejected (the *upstream* refused our key)   502 server_error / upstream_auth_rejected — never 401: a 401
                                                    tells an OpenAI client that *its* key (the gateway token) is
                                                    wrong, and it would ask its user for a new one
    ProviderUnavailable, MalformedResponse,
    StreamInterrupted, other ProviderError          502 server_error
    CircuitOpen, NoRouteAvailable                   503 server_error, Retry-After for an open breaker; but a
                                                    NoRouteAvailable whose every attempt was refused by the
                                                    budget is the 429 insufficient_quota above (a pinned model
                                                    and its fallbacks)
    ProviderTimeout, DeadlineExceeded               504 server_error
    ConfigError, StorageError, other EngineError    500 server_error

Quota is a 429 with type ``insufficient_quota``, as api.openai.com answers an exhausted quota (OpenAI's error-code
guide: "429 - You exceeded your current quota"); 402 is not a status OpenAI's API uses.

Bodies the gateway refuses before the engine sees them (all 400 invalid_request_error, never a 500):

    not JSON, not UTF-8, not an object              code null, param null
    nested deeper than ``request.MAX_DEPTH``, or    json_too_deep (json.loads raises RecursionError near 1000
      too deep for json.loads                         levels; pydantic cannot serialize past ~255)
    a lone UTF-16 surrogate (``"\\ud800"``)         invalid_unicode, param the field that holds it
    a field pydantic refuses                        pydantic's error type, param ``messages[0].content[0]...``
    ``n`` > 1                                       unsupported_value, param n

OpenAI's SDKs retry 408/409/429/5xx on their own unless the response says ``x-should-retry: false``. The engine
has already retried, fallen back and waited inside its deadline, so every error but a rate limit (429
``rate_limit_error``) carries ``x-should-retry: false`` (a retry would repeat the whole chain and triple the cost
of a failure); so does a quota 429, since no retry can add budget or credits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from autodevai.engine import errors as E
from autodevai.engine.capabilities import LABELS, Need

__all__ = ["ApiError", "from_engine_error", "from_validation_error", "http_error_body", "invalid_json", "invalid_value"]

# The request field that asks for each capability (CapabilityMissing.missing holds capabilities.LABELS values).
_CAPABILITY_PARAMS = {
    LABELS[Need.TOOLS]: "tools",
    LABELS[Need.STRUCTURED]: "response_format",
    LABELS[Need.JSON_MODE]: "response_format",
    LABELS[Need.REASONING]: "reasoning",
    LABELS[Need.IMAGE_IN]: "messages",
    LABELS[Need.AUDIO_IN]: "messages",
    LABELS[Need.FILE_IN]: "messages",
    LABELS[Need.IMAGE_OUT]: "modalities",
    LABELS[Need.AUDIO_OUT]: "modalities",
}


@dataclass(frozen=True, slots=True)
class ApiError:
    """One error response: status, OpenAI error fields and extra headers."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def error_object(self) -> dict[str, str | None]:
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}

    def body(self) -> bytes:
        # backslashreplace: a lone surrogate in a message (only from a broken upstream) stays a JSON escape.
        return json.dumps({"error": self.error_object()}, ensure_ascii=False).encode("utf-8", "backslashreplace")

    def all_headers(self) -> list[tuple[str, str]]:
        retry = "true" if self.type == "rate_limit_error" else "false"
        return [*self.headers, ("x-should-retry", retry)]


_TABLE: Sequence[tuple[type[E.EngineError], int, str, str]] = (
    (E.CapabilityMissing, 400, "invalid_request_error", "model_capability_missing"),
    (E.ContextTooLong, 400, "invalid_request_error", "context_length_exceeded"),
    (E.InvalidRequest, 400, "invalid_request_error", "invalid_request"),
    (E.ContentFiltered, 400, "invalid_request_error", "content_filter"),
    (E.BadRequest, 400, "invalid_request_error", "upstream_bad_request"),
    (E.BudgetExceeded, 429, "insufficient_quota", "budget_exceeded"),
    (E.PaymentRequired, 429, "insufficient_quota", "upstream_payment_required"),
    (E.RateLimited, 429, "rate_limit_error", "rate_limit_exceeded"),
    (E.AuthRejected, 502, "server_error", "upstream_auth_rejected"),
    (E.ProviderTimeout, 504, "server_error", "upstream_timeout"),
    (E.DeadlineExceeded, 504, "server_error", "deadline_exceeded"),
    (E.StreamInterrupted, 502, "server_error", "stream_interrupted"),
    (E.MalformedResponse, 502, "server_error", "upstream_malformed_response"),
    (E.ProviderUnavailable, 502, "server_error", "upstream_unavailable"),
    (E.ProviderError, 502, "server_error", "upstream_error"),
    (E.CircuitOpen, 503, "server_error", "circuit_open"),
    (E.NoRouteAvailable, 503, "server_error", "no_route_available"),
    # The client went away; nobody reads this, but a status must exist (nginx's "client closed request").
    (E.Cancelled, 499, "cancelled", "cancelled"),
    (E.ConfigError, 500, "server_error", "config_error"),
    (E.StorageError, 500, "server_error", "storage_error"),
    (E.EngineError, 500, "server_error", "internal_error"),
)


def _retry_after(seconds: float) -> tuple[tuple[str, str], ...]:
    seconds = max(0.0, seconds)
    return (("retry-after", str(math.ceil(seconds))), ("retry-after-ms", str(math.ceil(seconds * 1000))))


def from_engine_error(exc: E.EngineError, *, now: float = 0.0) -> ApiError:
    """The response for ``exc``. ``now`` is the engine clock's ``now()`` (for an open breaker's Retry-After)."""
    status, kind, code = next((s, t, c) for cls, s, t, c in _TABLE if isinstance(exc, cls))
    if (
        isinstance(exc, E.NoRouteAvailable)
        and exc.attempts
        and all(a.outcome == "BudgetExceeded" for a in exc.attempts)
    ):
        status, kind, code = 429, "insufficient_quota", "budget_exceeded"
    message = str(exc)  # EngineError.__str__ redacts keys and registered secrets (the gateway token too)
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(exc, E.AuthRejected):
        message = (
            f"the upstream provider {exc.provider!r} rejected AutoDevAI's API key for it (your gateway token was "
            f"accepted): set a valid key with `autodevai config key {exc.provider}` or its environment variable"
        )
    elif isinstance(exc, E.PaymentRequired):
        message = f"the upstream provider {exc.provider!r} says the account is out of credits: {exc}"
    elif isinstance(exc, E.ContextTooLong):
        param = "messages"
    elif isinstance(exc, E.CapabilityMissing):
        param = next((_CAPABILITY_PARAMS[m] for m in exc.missing if m in _CAPABILITY_PARAMS), None)
    elif isinstance(exc, E.RateLimited) and exc.retry_after is not None:
        headers = _retry_after(exc.retry_after)
    elif isinstance(exc, E.CircuitOpen):
        headers = _retry_after(exc.until - now)
    return ApiError(status, message, kind, code, param, headers)


def _param(loc: Sequence[int | str], data: Any, renames: Mapping[str, str]) -> str:
    """pydantic's error location as OpenAI names the field: ``messages[0].content[0].image_url.url``.

    pydantic puts union-member tags in locations (``("content", "str")``, ``("tool_choice", "NamedToolChoice",
    "function")``); walking ``data`` (what was validated) keeps only the steps that exist in it, plus a last
    step naming a missing field."""
    out = ""
    node = data
    for i, step in enumerate(loc):
        if isinstance(step, int):
            if isinstance(node, list | tuple) and 0 <= step < len(node):
                node = node[step]
                out += f"[{step}]"
            continue
        if isinstance(node, Mapping) and step in node:
            node = node[step]
        elif i < len(loc) - 1 or not isinstance(node, Mapping):
            continue  # a union tag, not a field
        if not out:
            if step in renames:
                return renames[step]  # a field the gateway built from another (reasoning_effort -> reasoning)
            if i == 0 and step in ("openrouter", "extra_body"):
                continue  # the body had these fields at its top level
        out += f".{step}" if out else step
    return out


def _best(errors: Sequence[Any], data: Any, renames: Mapping[str, str]) -> tuple[Any, str]:
    """The most telling error: the one deepest in the body (a union reports one error per member; the member
    that matched the input's shape gets furthest)."""
    best, best_param = errors[0], _param(errors[0]["loc"], data, renames)
    for err in errors[1:]:
        param = _param(err["loc"], data, renames)
        if len(param) > len(best_param):
            best, best_param = err, param
    return best, best_param


def from_validation_error(exc: ValidationError, data: Any = None, renames: Mapping[str, str] | None = None) -> ApiError:
    """A 400 naming the invalid field of the request body. ``data`` is what was validated (to name fields through
    unions), ``renames`` maps its top-level names back to the body field they came from (``max_tokens`` ->
    ``max_completion_tokens``)."""
    first, param = _best(exc.errors(include_url=False), data, renames or {})
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "literal_error" and param.endswith(".role") and param.startswith("messages"):
        msg = "Input should be 'system', 'developer', 'user', 'assistant' or 'tool'"
    elif first["type"] in ("string_type", "tuple_type") and param.endswith(".content"):
        msg = "must be a string, null or a list of content parts"
    where = f"Invalid value for '{param}': " if param else "Invalid request body: "
    return ApiError(400, where + msg, "invalid_request_error", first["type"], param or None)


def invalid_value(param: str, message: str, code: str | None = "invalid_value") -> ApiError:
    """A 400 for one field of the body that the gateway checks itself."""
    return ApiError(400, f"Invalid value for '{param}': {message}", "invalid_request_error", code, param)


def invalid_json(detail: str, code: str | None = None) -> ApiError:
    return ApiError(
        400,
        f"We could not parse the JSON body of your request ({detail}). The body must be a JSON object such as "
        '{"model": "auto", "messages": [{"role": "user", "content": "Hello"}]}.',
        "invalid_request_error",
        code,
    )


_HTTP_CODES = {400: "bad_http_request", 408: "request_timeout", 413: "request_too_large"}


def http_error_body(status: int, message: str) -> bytes:
    """The body of an answer the HTTP server gives by itself (a body too large or too slow, a handler bug), in
    OpenAI's shape like every other gateway error."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return ApiError(status, message, kind, _HTTP_CODES.get(status, "internal_error" if status >= 500 else None)).body()
