"""Translation of everything that can go wrong on the wire into the engine's ``ProviderError`` classes.

This is the one place that maps HTTP statuses, error bodies and httpx exceptions to errors (STYLE.md §3, after
``anthropics/anthropic-sdk-python: src/anthropic/_exceptions.py``). Messages carry the provider's own
``error.message`` (OpenRouter and OpenAI both use ``{"error": {"code", "message", "metadata"}}``) and the
status, are redacted, and never include request headers.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from autodevai.engine.errors import (
    AuthRejected,
    BadRequest,
    ContentFiltered,
    ContextRejected,
    MalformedResponse,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    redact,
)

__all__ = [
    "class_for_status",
    "error_for_exception",
    "error_for_payload",
    "error_for_status",
    "parse_retry_after",
]

# A server refusing a prompt longer than its window. OpenAI/vLLM: "This model's maximum context length is 8192
# tokens. However, ..."; OpenRouter: "This endpoint's maximum context length is ..."; LiteLLM:
# "ContextWindowExceededError"; llama.cpp: "the request exceeds the available context size"; others say
# "context_length_exceeded" or "too many tokens".
_CONTEXT_ERROR = re.compile(
    r"maximum context length|context[ _]length[ _]exceeded|context ?window|exceeds? the (?:available )?context"
    r"|too many (?:input )?tokens|prompt is too long",
    re.IGNORECASE,
)
_CONTEXT_LIMIT = re.compile(r"(?:maximum context length|context size|context window)\D{0,20}?(\d[\d,]*)", re.IGNORECASE)

_BY_STATUS: dict[int, type[ProviderError]] = {
    400: BadRequest,
    401: AuthRejected,
    402: PaymentRequired,
    403: ContentFiltered,
    404: BadRequest,  # unknown model or wrong base URL
    408: ProviderTimeout,
    429: RateLimited,
}
_MAX_DETAIL_CHARS = 300  # a non-JSON error body (an HTML proxy page, ...) is cut to this


def class_for_status(status: int) -> type[ProviderError]:
    """The error class for a non-2xx HTTP status: the whole status table lives here."""
    if status >= 500:
        return ProviderUnavailable
    return _BY_STATUS.get(status, BadRequest)  # other 4xx; 3xx means a wrong base URL (redirects are not followed)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait: ``Retry-After`` (seconds or HTTP-date, RFC 9110 §10.2.3), else X-RateLimit-Reset.

    ``headers`` must be case-insensitive (``httpx.Headers``) or lower-case; ``now`` is the wall clock (epoch
    seconds). OpenRouter's ``X-RateLimit-Reset`` is an epoch in milliseconds; epoch seconds and small deltas
    are accepted too. Returns None when neither header says anything usable; never a negative number.
    """
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            number = float(reset.strip())
        except ValueError:
            return None
        if number > 1e11:  # epoch milliseconds (OpenRouter)
            return max(0.0, number / 1000.0 - now)
        if number > 1e9:  # epoch seconds
            return max(0.0, number - now)
        return max(0.0, number)  # a delta in seconds
    return None


def _describe(body: bytes) -> tuple[str, Mapping[str, Any] | None, Any]:
    """(message, error object, parsed body) of an error response body, whatever its shape."""
    try:
        parsed: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        err = parsed.get("error")
        if isinstance(err, dict):
            msg = err.get("message")
            return (msg if isinstance(msg, str) and msg else json.dumps(err)[:_MAX_DETAIL_CHARS]), err, parsed
        if isinstance(err, str) and err:  # some servers (vLLM, llama.cpp) send {"error": "text"}
            return err, None, parsed
        detail = parsed.get("detail") or parsed.get("message")
        if isinstance(detail, str) and detail:
            return detail, None, parsed
    text = body.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:_MAX_DETAIL_CHARS], None, parsed


def _metadata_note(err: Mapping[str, Any] | None) -> str:
    """A short, useful part of OpenRouter's ``error.metadata`` (moderation reasons, credit limit source)."""
    if err is None:
        return ""
    meta = err.get("metadata")
    if not isinstance(meta, dict):
        return ""
    notes = []
    reasons = meta.get("reasons")
    if isinstance(reasons, list) and reasons:
        notes.append("reasons: " + ", ".join(str(r) for r in reasons[:5]))
    source = meta.get("limit_source")
    if isinstance(source, str):
        notes.append(f"limit: {source}")
    upstream = meta.get("provider_name")
    if isinstance(upstream, str):
        notes.append(f"upstream: {upstream}")
    return f" ({'; '.join(notes)})" if notes else ""


def _build(
    provider: str,
    model: str | None,
    status: int,
    detail: str,
    retry_after: float | None,
) -> ProviderError:
    cls = class_for_status(status)
    about = f" for {model}" if model else ""
    message = redact(f"{provider} answered HTTP {status}{about}: {detail or 'no details'}")
    if status in (400, 413, 422) and _CONTEXT_ERROR.search(detail):
        limit = _CONTEXT_LIMIT.search(detail)
        return ContextRejected(
            message,
            limit=int(limit.group(1).replace(",", "")) if limit else None,
            provider=provider,
            model=model,
            status=status,
        )
    if cls is RateLimited and retry_after is not None:
        message += f" (retry after {retry_after:.1f} s)"
    # A 503 with Retry-After is still "unavailable"; the retry policy honours its wait all the same.
    return cls(message, provider=provider, model=model, status=status, retry_after=retry_after)


def error_for_status(
    provider: str,
    model: str | None,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
) -> ProviderError:
    """The error for a non-2xx response. ``headers``: ``httpx.Headers``; ``now``: epoch seconds."""
    detail, err, _ = _describe(body)
    detail += _metadata_note(err)
    if 300 <= status < 400:
        detail = f"redirected to {headers.get('location', '?')}; check the provider's base URL"
    retry_after = parse_retry_after(headers, now) if status in (429, 503) else None
    return _build(provider, model, status, detail, retry_after)


def error_for_payload(
    provider: str,
    model: str | None,
    err: Mapping[str, Any],
    *,
    default_status: int = 502,
) -> ProviderError:
    """The error for an ``{"error": {...}}`` object inside a 200 response (OpenRouter sends these)."""
    code = err.get("code")
    status = code if isinstance(code, int) and 400 <= code <= 599 else default_status
    msg = err.get("message")
    detail = (msg if isinstance(msg, str) and msg else "error without message") + _metadata_note(err)
    return _build(provider, model, status, detail, None)


def error_for_exception(provider: str, model: str | None, exc: BaseException, timeout_s: float) -> ProviderError:
    """The error for an httpx/asyncio exception raised on the wire; the caller raises it ``from exc``.

    ``timeout_s`` is the call's overall budget, named in timeout messages.
    """
    about = f" for {model}" if model else ""
    kind = type(exc).__name__
    reason = redact(str(exc)) or kind
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
        return ProviderTimeout(
            f"{provider} did not {what}{about} in time (budget {timeout_s:g} s, {kind})",
            provider=provider,
            model=model,
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.TooManyRedirects):
        return BadRequest(
            f"{provider}: {reason}; check the provider's base URL",
            provider=provider,
            model=model,
            retryable=False,
        )
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponse(
            f"{provider} sent an undecodable body{about}: {reason}", provider=provider, model=model
        )
    if isinstance(exc, httpx.ConnectError):
        return ProviderUnavailable(f"{provider} is unreachable{about}: {reason}", provider=provider, model=model)
    return ProviderUnavailable(f"{provider} connection failed{about}: {kind}: {reason}", provider=provider, model=model)
