"""Retry policy as pure functions: whether an error is worth another try, how long to wait, and whether the
wait still fits the request's overall deadline. The orchestrator does the sleeping; randomness comes in as
``rng``.

Backoff is "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): the delay before
retry ``attempt`` (0-based) is uniform in ``[0, min(cap, base × 2**attempt))``, which spreads synchronized
clients apart. A ``Retry-After`` the server sent (RFC 9110 §10.2.3: on a 429 or a 503, carried by
``ProviderError.retry_after``) replaces the backoff, whatever the retryable error that carries it.
"""

from __future__ import annotations

import random

from autodevai.engine.errors import ProviderError

__all__ = ["backoff_delay", "fits_deadline", "is_retryable", "retry_delay"]

# 2**60 × any sane base is far above any cap; bounding the exponent keeps the float math from overflowing.
_MAX_EXPONENT = 60


def is_retryable(exc: BaseException) -> bool:
    """True when another try may succeed: a ``ProviderError`` whose ``retryable`` is set. False otherwise."""
    return isinstance(exc, ProviderError) and bool(exc.retryable)


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait before retry ``attempt`` (0 for the first retry): U(0, min(cap, base × 2**attempt))."""
    exponent = attempt if 0 <= attempt <= _MAX_EXPONENT else (0 if attempt < 0 else _MAX_EXPONENT)
    ceiling = min(cap_s, base_s * (1 << exponent))
    if ceiling <= 0.0:
        return 0.0
    return ceiling * rng.random()


def retry_delay(exc: BaseException, attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The wait before retrying after ``exc``: the server's ``Retry-After`` when the ``ProviderError`` carries one
    (a 429, or a 503 that says when to come back; negative values count as 0; it is not capped, so
    ``fits_deadline`` can refuse a wait that is too long), else ``backoff_delay``."""
    if isinstance(exc, ProviderError):
        after = exc.retry_after
        if after is not None and after == after:  # NaN (a garbled header) falls back to backoff
            return after if after > 0.0 else 0.0
    return backoff_delay(attempt, base_s, cap_s, rng)


def fits_deadline(now: float, deadline: float, delay_s: float, min_call_s: float = 0.05) -> bool:
    """True when waiting ``delay_s`` still leaves at least ``min_call_s`` for a call before ``deadline``."""
    return now + delay_s + min_call_s < deadline
