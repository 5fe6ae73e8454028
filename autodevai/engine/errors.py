"""The one typed error hierarchy of the engine.

Every error a user can meet says what happened and what to do next. Messages never contain secrets:
providers redact before raising, and ``EngineError.__str__`` passes through ``redact`` once more.

    EngineError
    ├── ConfigError                 bad settings value / file ("did you mean ...")
    ├── InvalidRequest(field)       the caller's request is unusable (empty prompt, unknown model, invalid text, ...)
    │   └── CapabilityMissing       no allowed model (or not the pinned one) can serve what the request uses
    ├── ProviderError(provider, retryable, status, retry_after)
    │   ├── ProviderUnavailable     5xx, 502 upstream failed, 503 no provider, connection refused/reset  (retryable)
    │   ├── ProviderTimeout         connect/read timeout, 408                                            (retryable)
    │   ├── RateLimited             429; also holds the model back in the rate limiter                   (retryable)
    │   ├── MalformedResponse       the body is not the JSON shape the API promises                      (retryable)
    │   ├── StreamInterrupted       the stream ended before its final chunk / an error chunk arrived     (retryable)
    │   ├── AuthRejected            401                                                                  (final)
    │   ├── PaymentRequired         402 out of credits                                                   (final)
    │   ├── ContentFiltered         403 moderation                                                       (final)
    │   └── BadRequest              400 and other 4xx                                                    (final)
    │       └── ContextRejected(limit) the server refused the prompt as longer than its window (it may say the limit)
    ├── CircuitOpen(until)          the breaker for (provider, model) is open
    ├── BudgetExceeded(left)        the request's worst-case cost does not fit what is left of a cap
    ├── ContextTooLong              messages + max_tokens do not fit any allowed model's window
    ├── NoRouteAvailable(attempts)  every candidate was tried or excluded; ``attempts`` says what happened
    ├── DeadlineExceeded            the request's overall deadline passed
    ├── Cancelled                   the caller cancelled the request
    ├── StorageError(environment)   the store failed: ``environment=True`` for disk full / read-only (tell the
    │                               user), ``False`` for a bug (crash report)
    └── InternalError               an unexpected failure inside the engine (a bug): the request is still stored
                                    as failed, and the original exception is its ``__cause__``
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from autodevai.text import did_you_mean, suggestion

__all__ = [
    "Attempt",
    "AuthRejected",
    "BadRequest",
    "BudgetExceeded",
    "Cancelled",
    "CapabilityMissing",
    "CircuitOpen",
    "ConfigError",
    "ContentFiltered",
    "ContextRejected",
    "ContextTooLong",
    "DeadlineExceeded",
    "EngineError",
    "InternalError",
    "InvalidRequest",
    "MalformedResponse",
    "NoRouteAvailable",
    "PaymentRequired",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "StorageError",
    "StreamInterrupted",
    "error_class",
    "redact",
    "register_secret",
]

# Key-shaped strings: OpenRouter (sk-or-v1-...), OpenAI (sk-..., sk-proj-...), generic bearer tokens.
# "sk-" must start a word, so ordinary words such as "risk-assessment" or "disk-encryption" stay readable.
_KEY_RE = re.compile(r"((?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}|(?<=Bearer )[A-Za-z0-9_\-\.=]{8,})")
_KNOWN_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret so that ``redact`` removes it wherever it appears, whatever its shape."""
    if value and len(value) >= 4:
        _KNOWN_SECRETS.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret and every key-shaped string replaced by ``[REDACTED]``."""
    # Longest first: a secret that contains another must not be left half-replaced.
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    return _KEY_RE.sub("[REDACTED]", text)


class EngineError(Exception):
    """Root of every error the engine raises on purpose. ``hint`` says what the user can do."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(redact(message))
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        if not self.hint:
            return redact(self.message)
        # A multi-line message (a list of attempts) gets its hint on a line of its own.
        sep = "\n" if "\n" in self.message else " — "
        return redact(f"{self.message}{sep}{self.hint}")


class ConfigError(EngineError):
    """A settings value or file is invalid. ``field`` names the first offending key when known; ``problems``
    maps each offending key to what is wrong with it (a form shows each beside its field)."""

    hint = "fix the value in the config file or with `autodevai config set`"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        valid: Iterable[str] = (),
        hint: str | None = None,
        problems: Mapping[str, str] | None = None,
    ) -> None:
        tail = suggestion(did_you_mean(field.rsplit(".", 1)[-1], valid)) if field is not None else ""
        super().__init__(message + tail, hint=hint)
        self.field = field
        self.problems: dict[str, str] = dict(problems or {})


class InvalidRequest(EngineError):
    """The request cannot be sent as it is (empty or huge prompt, unknown model, bad parameter, text that is not
    valid Unicode, nesting too deep). ``field`` names the offending field (``messages[0].content``) when known."""

    hint = "change the request and try again"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class CapabilityMissing(InvalidRequest):
    """The request uses something (tools, structured output, image input, ...) that the pinned model, or every
    allowed model, cannot serve per the catalog. Raised before any call. ``missing`` names the capabilities."""

    hint = "pick a model that supports it (see `autodevai models`), or drop that part of the request"

    def __init__(self, message: str, *, missing: Sequence[str], model: str | None = None) -> None:
        super().__init__(message)
        self.missing = tuple(missing)
        self.model = model


class ProviderError(EngineError):
    """An upstream provider failed. ``retryable`` says whether another try (or model) may succeed;
    ``retry_after`` is the wait in seconds the server asked for (``Retry-After`` on a 429 or a 503), else None."""

    retryable: bool = True
    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.model = model
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable


class ProviderUnavailable(ProviderError):
    hint = "the provider or model is down; another model will be tried, or try again later"


class ProviderTimeout(ProviderError):
    hint = "the provider did not answer in time; try again or raise the timeout"


class RateLimited(ProviderError):
    """HTTP 429. ``retry_after`` (seconds) comes from the ``Retry-After`` header when the provider sent one."""

    hint = "slow down or wait; the engine waits for Retry-After when it fits the deadline"


class MalformedResponse(ProviderError):
    hint = "the provider sent a response that is not valid; another model will be tried"


class StreamInterrupted(ProviderError):
    """The stream broke: cut before its final chunk, or an error chunk arrived mid-stream."""

    hint = "the partial answer is kept; try again"

    def __init__(self, message: str, *, partial: str = "", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.partial = partial


class AuthRejected(ProviderError):
    retryable = False
    hint = "the API key was rejected: set a valid key with `autodevai config key PROVIDER` or the env var"


class PaymentRequired(ProviderError):
    retryable = False
    hint = "the account is out of credits: add credits at the provider or use another provider"


class ContentFiltered(ProviderError):
    retryable = False
    hint = "the provider's moderation refused the input; rephrase it or use another vendor"


class BadRequest(ProviderError):
    retryable = False
    hint = "the provider refused the request's parameters; check the model id and parameters"


class ContextRejected(BadRequest):
    """The server refused the request as longer than its context window; ``limit`` is the window it stated (None
    when it did not). The engine compresses and retries once when it did not know the window beforehand."""

    hint = "shorten the prompt or lower max_tokens; set the model's window if the server does not list it"

    def __init__(self, message: str, *, limit: int | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.limit = limit


class CircuitOpen(EngineError):
    """The breaker of ``(provider, model)`` is open until ``until`` (engine clock seconds)."""

    hint = "the model failed repeatedly; it is skipped until its breaker half-opens"

    def __init__(self, message: str, *, provider: str, model: str, until: float) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.until = until


class BudgetExceeded(EngineError):
    """The worst-case cost of the request does not fit the cap named ``cap``; ``left`` USD remain in it."""

    hint = "raise the cap with `autodevai config set budget.<cap>_usd N`, lower max_tokens, or pick a cheaper model"

    def __init__(self, message: str, *, cap: str, left: float, needed: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.cap = cap
        self.left = left
        self.needed = needed


class ContextTooLong(EngineError):
    hint = "shorten the prompt, lower max_tokens, or choose a model with a larger context window"

    def __init__(self, message: str, *, tokens: int, limit: int) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one model, as reported in ``NoRouteAvailable`` and in a response's route explanation."""

    provider: str
    model: str
    outcome: str  # "ok" or an error class name such as "ProviderUnavailable"
    detail: str = ""
    latency_ms: float = 0.0


class NoRouteAvailable(EngineError):
    hint = "every candidate model failed or was excluded; see the attempts, check `autodevai status`"

    def __init__(
        self, message: str, *, attempts: Sequence[Attempt] = (), hint: str | None = None, cause: str = ""
    ) -> None:
        lines = [message] + [f"  {a.provider}/{a.model}: {a.outcome} {a.detail}".rstrip() for a in attempts]
        super().__init__("\n".join(lines), hint=hint)
        self.attempts = tuple(attempts)
        self.cause = cause  # "settings": routing settings or the catalog exclude every model (a config matter)


class DeadlineExceeded(EngineError):
    hint = "the request ran out of its overall deadline; raise `resilience.deadline_s` or try again"


class Cancelled(EngineError):
    hint = "the request was cancelled; nothing was charged beyond what the provider reported"


class StorageError(EngineError):
    """The store failed. ``environment`` is True when the machine is at fault (disk full, read-only)."""

    def __init__(self, message: str, *, environment: bool, hint: str | None = None) -> None:
        if hint is None:
            hint = (
                "free disk space or fix the data directory's permissions"
                if environment
                else "this is a bug in AutoDevAI; please report it"
            )
        super().__init__(message, hint=hint)
        self.environment = environment


class InternalError(EngineError):
    """Something inside the engine failed that no other error describes (a bug). The request is stored as failed
    before this is raised; the original exception is ``__cause__``."""

    hint = "this is a bug in AutoDevAI; please report it (the request is in the history as failed)"


def error_class(exc: BaseException) -> str:
    """The name under which metrics and the store count an error (its class name)."""
    return type(exc).__name__
