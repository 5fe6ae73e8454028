"""Every failure the gateway can answer with, in OpenAI's error shape ``{"error": {"message", "type", "param",
"code"}}`` with an HTTP status that OpenAI clients handle sensibly.

Engine errors map by class (the first matching row of ``_TABLE`` wins, so subclasses come first):

    InvalidRequest, BadRequest (upstream 400)      400 invalid_request_error
    ContextTooLong                                  400 invalid_request_error / context_length_exceeded
    ContentFiltered (upstream moderation)           400 invalid_request_error / content_filter
    BudgetExceeded                                  402 insufficient_quota / budget_exceeded
    PaymentRequired (upstream out of credits)       402 insufficient_quota / upstream_payment_required
    RateLimited                                     429 rate_limit_error, with Retry-After when known
    AuthRejected (the *upstream* refused our key)   502 server_error / upstream_auth_rejected — never 401: a 401
                                                    tells an OpenAI client that *its* key (the gateway token) is
                                                    wrong, and it would ask its user for a new one
    ProviderUnavailable, MalformedResponse,
    StreamInterrupted, other ProviderError          502 server_error
    CircuitOpen, NoRouteAvailable                   503 server_error, Retry-After for an open breaker; but a
                                                    NoRouteAvailable whose every attempt was refused by the
                                                    budget is the 402 above (a pinned model and its fallbacks)
    ProviderTimeout, DeadlineExceeded               504 server_error
    ConfigError, StorageError, other EngineError    500 server_error

OpenAI's SDKs retry 408/409/429/5xx on their own unless the response says ``x-should-retry: false``. The engine
has already retried, fallen back and waited inside its deadline, so every error but a 429 carries
``x-should-retry: false`` (a retry would repeat the whole chain and triple the cost of a failure).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from autodevai.engine import errors as E

__all__ = ["ApiError", "from_engine_error", "from_validation_error", "invalid_json"]


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
        return json.dumps({"error": self.error_object()}, ensure_ascii=False).encode()

    def all_headers(self) -> list[tuple[str, str]]:
        retry = "true" if self.status == 429 else "false"
        return [*self.headers, ("x-should-retry", retry)]


_TABLE: Sequence[tuple[type[E.EngineError], int, str, str]] = (
    (E.ContextTooLong, 400, "invalid_request_error", "context_length_exceeded"),
    (E.InvalidRequest, 400, "invalid_request_error", "invalid_request"),
    (E.ContentFiltered, 400, "invalid_request_error", "content_filter"),
    (E.BadRequest, 400, "invalid_request_error", "upstream_bad_request"),
    (E.BudgetExceeded, 402, "insufficient_quota", "budget_exceeded"),
    (E.PaymentRequired, 402, "insufficient_quota", "upstream_payment_required"),
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
        status, kind, code = 402, "insufficient_quota", "budget_exceeded"
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
    elif isinstance(exc, E.RateLimited) and exc.retry_after is not None:
        headers = _retry_after(exc.retry_after)
    elif isinstance(exc, E.CircuitOpen):
        headers = _retry_after(exc.until - now)
    return ApiError(status, message, kind, code, param, headers)


def _param(loc: Sequence[int | str]) -> str:
    """pydantic's ``("messages", 0, "role")`` as OpenAI names it: ``messages[0].role``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def from_validation_error(exc: ValidationError) -> ApiError:
    """A 400 naming the first invalid field of the request body."""
    first = exc.errors(include_url=False)[0]
    param = _param(first["loc"]) or None
    msg = first["msg"].removeprefix("Value error, ")
    where = f"Invalid value for '{param}': " if param else "Invalid request body: "
    return ApiError(400, where + msg, "invalid_request_error", first["type"], param)


def invalid_json(detail: str) -> ApiError:
    return ApiError(
        400,
        f"We could not parse the JSON body of your request ({detail}). The body must be a JSON object such as "
        '{"model": "auto", "messages": [{"role": "user", "content": "Hello"}]}.',
        "invalid_request_error",
    )
