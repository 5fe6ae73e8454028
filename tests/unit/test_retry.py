"""Retry policy: which errors are retried, how long the engine waits, when the deadline forbids a retry."""

from __future__ import annotations

import asyncio
import math
import random
import statistics

import pytest

from autodevai.engine.errors import (
    AuthRejected,
    BadRequest,
    BudgetExceeded,
    Cancelled,
    ContentFiltered,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from autodevai.engine.retry import backoff_delay, fits_deadline, is_retryable, retry_delay


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (ProviderUnavailable("503", provider="openrouter"), True),
        (ProviderTimeout("timeout", provider="openrouter"), True),
        (RateLimited("429", provider="openrouter"), True),
        (StreamInterrupted("cut", provider="openrouter"), True),
        (ProviderUnavailable("503, final", retryable=False, provider="openrouter"), False),
        (BadRequest("400", provider="openrouter"), False),
        (AuthRejected("401", provider="openrouter"), False),
        (PaymentRequired("402", provider="openrouter"), False),
        (ContentFiltered("403", provider="openrouter"), False),
        (BudgetExceeded("no money", cap="daily", left=0.0, needed=1.0), False),
        (Cancelled("cancelled"), False),
        (asyncio.CancelledError(), False),
        (ConnectionResetError(), False),  # providers translate these; raw ones are bugs, not retried
    ],
)
def test_is_retryable(exc: BaseException, retryable: bool) -> None:
    assert is_retryable(exc) is retryable


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 5, 8])
def test_full_jitter_stays_under_the_exponential_ceiling_and_uses_all_of_it(attempt: int) -> None:
    rng = random.Random(attempt)
    base, cap = 0.25, 8.0
    ceiling = min(cap, base * 2**attempt)
    delays = [backoff_delay(attempt, base, cap, rng) for _ in range(2000)]
    assert all(0.0 <= d < ceiling for d in delays)
    assert min(delays) < 0.05 * ceiling  # full jitter: from (almost) zero ...
    assert max(delays) > 0.95 * ceiling  # ... to (almost) the ceiling
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.08)


def test_backoff_is_reproducible_from_the_seed() -> None:
    a = [backoff_delay(i, 0.5, 10.0, random.Random(3)) for i in range(6)]
    b = [backoff_delay(i, 0.5, 10.0, random.Random(3)) for i in range(6)]
    assert a == b


def test_backoff_survives_absurd_attempt_numbers() -> None:
    rng = random.Random(0)
    assert 0.0 <= backoff_delay(10_000, 0.25, 8.0, rng) < 8.0
    assert 0.0 <= backoff_delay(-3, 0.25, 8.0, rng) < 0.25  # treated as the first retry
    assert backoff_delay(4, 0.0, 8.0, rng) == 0.0  # base 0: retry at once
    assert backoff_delay(4, 0.25, 0.0, rng) == 0.0


def test_retry_after_from_the_server_replaces_the_backoff() -> None:
    rng = random.Random(1)
    assert retry_delay(RateLimited("429", retry_after=2.5, provider="openrouter"), 0, 0.25, 8.0, rng) == 2.5
    # not capped by backoff_max_s: the server said so; fits_deadline decides whether to wait
    assert retry_delay(RateLimited("429", retry_after=20.0, provider="openrouter"), 3, 0.25, 8.0, rng) == 20.0
    assert retry_delay(RateLimited("429", retry_after=-4.0, provider="openrouter"), 0, 0.25, 8.0, rng) == 0.0
    assert retry_delay(RateLimited("429", retry_after=0.0, provider="openrouter"), 5, 0.25, 8.0, rng) == 0.0


@pytest.mark.parametrize(
    "exc",
    [
        ProviderUnavailable("503 with Retry-After", retry_after=3.0, provider="openrouter", status=503),
        ProviderTimeout("408 with Retry-After", retry_after=3.0, provider="openrouter", status=408),
        StreamInterrupted("cut", retry_after=3.0, provider="openrouter"),
        RateLimited("429", retry_after=3.0, provider="openrouter"),
    ],
    ids=["503", "408", "stream", "429"],
)
def test_retry_after_is_honoured_on_every_retryable_error(exc: ProviderError) -> None:
    rng = random.Random(5)
    assert retry_delay(exc, 0, 0.25, 8.0, rng) == 3.0
    assert rng.random() == random.Random(5).random()  # the server's wait draws no jitter


def test_without_retry_after_the_delay_is_the_jittered_backoff() -> None:
    for exc in (
        RateLimited("429 without header", provider="openrouter"),
        RateLimited("garbled header", retry_after=math.nan, provider="openrouter"),
        ProviderUnavailable("503", provider="openrouter"),
    ):
        got = retry_delay(exc, 3, 0.25, 8.0, random.Random(42))
        assert got == backoff_delay(3, 0.25, 8.0, random.Random(42))
        assert 0.0 <= got < 2.0


@pytest.mark.parametrize(
    ("now", "deadline", "delay", "fits"),
    [
        (0.0, 10.0, 1.0, True),
        (0.0, 10.0, 9.9, True),  # 9.9 + 0.05 < 10
        (0.0, 10.0, 9.95, False),  # no time left for the call itself
        (0.0, 10.0, 20.0, False),  # a Retry-After longer than the deadline
        (5.0, 10.0, 0.0, True),
        (10.0, 10.0, 0.0, False),  # deadline already reached
        (0.0, 10.0, math.inf, False),
    ],
)
def test_fits_deadline(now: float, deadline: float, delay: float, fits: bool) -> None:
    assert fits_deadline(now, deadline, delay) is fits


def test_fits_deadline_reserves_the_minimum_call_time() -> None:
    assert fits_deadline(0.0, 10.0, 8.0, min_call_s=1.5)
    assert not fits_deadline(0.0, 10.0, 8.0, min_call_s=2.0)
