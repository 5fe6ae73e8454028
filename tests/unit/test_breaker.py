"""Circuit breaker: when a failing model is skipped, when it is probed again, and which errors count."""

from __future__ import annotations

import asyncio
import random

import pytest

from autodevai.engine.breaker import (
    Breaker,
    BreakerBoard,
    BreakerState,
    counts_as_failure,
    outcome_counts_as_failure,
)
from autodevai.engine.errors import (
    AuthRejected,
    BadRequest,
    BudgetExceeded,
    Cancelled,
    CircuitOpen,
    ContentFiltered,
    ContextTooLong,
    EngineError,
    MalformedResponse,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from autodevai.engine.settings import BreakerSettings

CFG = BreakerSettings(
    window=10,
    min_calls=5,
    failure_rate=0.5,
    slow_call_s=10.0,
    slow_rate=0.8,
    open_s=30.0,
    open_jitter=0.1,
    half_open_probes=2,
)


def make(cfg: BreakerSettings = CFG, seed: int = 7) -> Breaker:
    return Breaker(cfg, random.Random(seed))


def trip(b: Breaker, now: float = 0.0) -> float:
    """Open ``b`` with failures at ``now``; return its open_until."""
    while b.peek(now) is BreakerState.CLOSED:
        b.on_failure(now, 0.1)
    until = b.snapshot(now).open_until
    assert until is not None
    return until


def test_stays_closed_before_min_calls_even_if_every_call_failed() -> None:
    b = make()
    for _ in range(4):
        b.on_failure(1.0, 0.1)
    assert b.allow(1.0) and b.peek(1.0) is BreakerState.CLOSED
    snap = b.snapshot(1.0)
    assert (snap.calls, snap.failure_rate) == (4, 1.0)
    b.on_failure(1.0, 0.1)  # the 5th call reaches min_calls
    assert b.peek(1.0) is BreakerState.OPEN
    assert not b.allow(1.0)


def test_opens_exactly_at_the_failure_rate_threshold() -> None:
    b = make()
    for _ in range(5):
        b.on_success(0.0, 0.1)
    for _ in range(4):
        b.on_failure(0.0, 0.1)
    assert b.peek(0.0) is BreakerState.CLOSED  # 4/9 < 0.5
    b.on_failure(0.0, 0.1)  # 5/10 = 0.5
    snap = b.snapshot(0.0)
    assert snap.state is BreakerState.OPEN
    assert snap.failure_rate == 0.5
    assert snap.consecutive_opens == 1


def test_old_failures_slide_out_of_the_window() -> None:
    b = make()
    for _ in range(6):
        b.on_success(0.0, 0.1)
    for _ in range(4):
        b.on_failure(0.0, 0.1)
    assert b.snapshot(0.0).failure_rate == pytest.approx(0.4)
    for _ in range(10):
        b.on_success(0.0, 0.1)
    snap = b.snapshot(0.0)
    assert (snap.calls, snap.failure_rate) == (10, 0.0)
    for _ in range(4):  # 4 failures in the last 10 calls: still under 50 %
        b.on_failure(0.0, 0.1)
    assert b.peek(0.0) is BreakerState.CLOSED
    assert b.snapshot(0.0).failure_rate == pytest.approx(0.4)


def test_slow_calls_open_the_breaker_even_when_they_succeed() -> None:
    b = make()
    for _ in range(3):
        b.on_success(0.0, 10.0)  # slow_call_s is 10: a call of exactly 10 s is slow
    for _ in range(2):
        b.on_success(0.0, 9.99)
    snap = b.snapshot(0.0)
    assert snap.state is BreakerState.CLOSED and snap.slow_rate == pytest.approx(0.6)
    b2 = make()
    for _ in range(4):
        b2.on_success(0.0, 12.0)
    b2.on_success(0.0, 1.0)  # 4/5 = 0.8 slow
    assert b2.peek(0.0) is BreakerState.OPEN
    assert b2.snapshot(0.0).failure_rate == 0.0


def test_open_duration_is_open_s_times_one_plus_seeded_jitter() -> None:
    b = make(seed=11)
    until = trip(b, now=100.0)
    expected = 100.0 + 30.0 * (1.0 + 0.1 * random.Random(11).random())
    assert until == pytest.approx(expected)
    before = until - 1e-6
    snap = b.snapshot(before)
    assert snap.retry_in_s == pytest.approx(until - before)
    assert b.peek(before) is BreakerState.OPEN
    assert not b.allow(before)
    assert b.peek(until) is BreakerState.HALF_OPEN  # peek has no side effect ...
    assert b.snapshot(until).open_until is None
    assert b.allow(until)  # ... allow() moves it to half-open and takes a probe slot


def test_jitter_stays_within_bounds_and_spreads_breakers_apart() -> None:
    durations = [trip(make(seed=s), now=0.0) for s in range(200)]
    assert all(30.0 <= d <= 33.0 for d in durations)
    assert max(durations) - min(durations) > 2.0  # not synchronized


def test_half_open_lets_through_at_most_the_probe_count() -> None:
    b = make()
    until = trip(b)
    assert b.allow(until) and b.allow(until)
    assert not b.allow(until)  # both probe slots taken
    b.on_ignored()  # a probe ended in a 429: its slot is free again
    assert b.allow(until)
    assert not b.allow(until)


def test_a_failure_while_half_open_reopens_with_a_new_jittered_duration() -> None:
    b = make()
    first = trip(b)
    assert b.allow(first)
    b.on_failure(first + 1.0, 0.2)
    snap = b.snapshot(first + 1.0)
    assert snap.state is BreakerState.OPEN
    assert snap.consecutive_opens == 2
    assert snap.open_until is not None and 30.0 <= snap.open_until - (first + 1.0) <= 33.0
    assert not b.allow(first + 2.0)


def test_probe_successes_close_it_and_clear_the_window() -> None:
    b = make()
    until = trip(b)
    assert b.allow(until) and b.allow(until)
    b.on_success(until + 0.5, 0.3)
    assert b.peek(until + 0.5) is BreakerState.HALF_OPEN  # one success of two needed
    b.on_success(until + 0.6, 0.3)
    snap = b.snapshot(until + 0.6)
    assert snap.state is BreakerState.CLOSED
    assert (snap.calls, snap.failure_rate, snap.consecutive_opens) == (0, 0.0, 0)
    # the old failures are gone: it takes min_calls new calls to open again
    for _ in range(4):
        b.on_failure(until + 1.0, 0.1)
    assert b.allow(until + 1.0)


def test_late_results_of_calls_started_before_opening_change_nothing() -> None:
    b = make()
    until = trip(b)
    calls_before = b.snapshot(1.0).calls
    b.on_success(1.0, 0.1)  # while OPEN
    b.on_failure(1.0, 0.1)
    snap = b.snapshot(1.0)
    assert (snap.state, snap.calls, snap.open_until) == (BreakerState.OPEN, calls_before, until)
    # after open_until, a success that was no probe does not close the breaker
    b.on_success(until + 1.0, 0.1)
    b.on_success(until + 1.0, 0.1)
    assert b.peek(until + 1.0) is BreakerState.HALF_OPEN


def test_board_creates_breakers_on_first_use_and_reports_unknown_as_closed() -> None:
    board = BreakerBoard(CFG, random.Random(1))
    assert board.peek("openrouter", "never/used", 0.0) is BreakerState.CLOSED
    assert board.snapshot(0.0) == {}  # peek created nothing
    a = board.get("openrouter", "a/model")
    assert board.get("openrouter", "a/model") is a
    trip(a)
    board.get("openai", "a/model").on_success(0.0, 0.1)  # same model id, another provider: separate
    snap = board.snapshot(1.0)
    assert snap[("openrouter", "a/model")].state is BreakerState.OPEN
    assert snap[("openai", "a/model")].state is BreakerState.CLOSED
    assert board.peek("openrouter", "a/model", 1.0) is BreakerState.OPEN


def test_board_reconfigure_reaches_existing_breakers_and_keeps_recent_outcomes() -> None:
    board = BreakerBoard(CFG, random.Random(1))
    b = board.get("p", "m")
    for _ in range(3):
        b.on_failure(0.0, 0.1)
    board.reconfigure(CFG.model_copy(update={"min_calls": 3, "window": 5}))
    assert b.snapshot(0.0).calls == 3
    b.on_failure(0.0, 0.1)  # now 4 calls >= min_calls 3, all failed
    assert board.peek("p", "m", 0.0) is BreakerState.OPEN
    fresh = board.get("p", "other")
    for _ in range(3):
        fresh.on_failure(0.0, 0.1)
    assert fresh.peek(0.0) is BreakerState.OPEN  # new breakers use the new settings too


def test_window_smaller_than_min_calls_still_counts_correctly() -> None:
    b = make(CFG.model_copy(update={"window": 3, "min_calls": 3}))
    b.on_failure(0.0, 0.1)
    for _ in range(5):
        b.on_success(0.0, 0.1)
    snap = b.snapshot(0.0)
    assert (snap.calls, snap.failure_rate) == (3, 0.0)


@pytest.mark.parametrize(
    ("exc", "counts"),
    [
        (ProviderUnavailable("502 upstream failed", provider="openrouter"), True),
        (ProviderTimeout("read timeout", provider="openrouter"), True),
        (MalformedResponse("not JSON", provider="openrouter"), True),
        (StreamInterrupted("cut", provider="openrouter"), True),
        (ProviderError("generic retryable", provider="openrouter"), True),
        (ProviderUnavailable("503 but marked final", retryable=False, provider="openrouter"), False),
        (RateLimited("429", retry_after=3.0, provider="openrouter"), False),
        (BadRequest("400", provider="openrouter"), False),
        (AuthRejected("401", provider="openrouter"), False),
        (PaymentRequired("402", provider="openrouter"), False),
        (ContentFiltered("403", provider="openrouter"), False),
        (Cancelled("cancelled by user"), False),
        (asyncio.CancelledError(), False),
        (BudgetExceeded("daily", cap="daily", left=0.0, needed=1.0), False),
        (CircuitOpen("open", provider="p", model="m", until=1.0), False),
        (ContextTooLong("too long", tokens=10, limit=5), False),
        (TimeoutError(), False),
        (ValueError("a bug"), False),
    ],
)
def test_counts_as_failure(exc: BaseException, counts: bool) -> None:
    assert counts_as_failure(exc) is counts


def _error_classes(root: type[BaseException] = EngineError) -> list[type[BaseException]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_error_classes(sub))
    return found


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_a_stored_outcome_counts_as_the_error_it_names_did(cls: type[BaseException]) -> None:
    # A new process replays stored attempts by their class name: the same rule as the live error's.
    exc = cls.__new__(cls)
    if isinstance(exc, ProviderError):
        exc.retryable = cls.retryable  # the class's own default, as a stored outcome cannot say otherwise
    assert outcome_counts_as_failure(cls.__name__) is counts_as_failure(exc), cls.__name__


def test_outcomes_that_were_not_errors_never_count() -> None:
    assert not any(outcome_counts_as_failure(o) for o in ("ok", "skipped", "CircuitOpen", "BudgetExceeded", ""))
