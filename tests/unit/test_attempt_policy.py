"""The decision after a failed attempt: every error class against every situation that changes the answer."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random

import pytest

from autodevai.engine.attempt_policy import (
    DEADLINE_MARGIN_S,
    Action,
    Next,
    Reason,
    Situation,
    after_failure,
    unknown_price_refusal,
)
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
    StreamInterrupted,
)
from autodevai.engine.retry import backoff_delay

BASE = Situation(
    retry=0,
    retries_per_model=2,
    is_last=False,
    delivered=False,
    context_known=True,
    shrunk=False,
    now=100.0,
    deadline=130.0,
    backoff_base_s=0.25,
    backoff_max_s=8.0,
)


def at(**changes: object) -> Situation:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def decide(exc: ProviderError, situation: Situation = BASE, seed: int = 1) -> Next:
    return after_failure(exc, situation, random.Random(seed))


def errors(retry_after: float | None = None) -> list[ProviderError]:
    """One error of every class a provider raises (retry_after on each)."""
    kw = {"provider": "p", "retry_after": retry_after}
    return [
        ProviderUnavailable("503", **kw),  # type: ignore[arg-type]
        ProviderTimeout("timeout", **kw),  # type: ignore[arg-type]
        RateLimited("429", **kw),  # type: ignore[arg-type]
        MalformedResponse("not json", **kw),  # type: ignore[arg-type]
        StreamInterrupted("cut", **kw),  # type: ignore[arg-type]
        AuthRejected("401", **kw),  # type: ignore[arg-type]
        PaymentRequired("402", **kw),  # type: ignore[arg-type]
        ContentFiltered("403", **kw),  # type: ignore[arg-type]
        BadRequest("400", **kw),  # type: ignore[arg-type]
        ContextRejected("too long", limit=4096, **kw),  # type: ignore[arg-type]
        ProviderUnavailable("503, final", retryable=False, **kw),  # type: ignore[arg-type]
    ]


# ---- one rule at a time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("exc", errors(), ids=lambda e: type(e).__name__)
def test_once_output_reached_the_caller_every_error_ends_the_request(exc: ProviderError) -> None:
    assert decide(exc, at(delivered=True)) == Next(Action.FAIL, Reason.STREAM_STARTED)


def test_a_timeout_at_the_deadline_ends_the_request_but_an_early_one_is_retried() -> None:
    exc = ProviderTimeout("timeout", provider="p")
    assert decide(exc, at(now=130.0 - DEADLINE_MARGIN_S)) == Next(Action.FAIL, Reason.DEADLINE)
    assert decide(exc, at(now=131.0)) == Next(Action.FAIL, Reason.DEADLINE)
    assert decide(exc, at(now=100.0)).action is Action.RETRY
    # Any other error at the deadline is not "the deadline's": it moves on (the loop then reports the deadline).
    assert decide(ProviderUnavailable("503", provider="p"), at(now=130.0)) == Next(
        Action.NEXT, Reason.WAIT_PAST_DEADLINE
    )


@pytest.mark.parametrize("cls", [AuthRejected, PaymentRequired])
def test_a_refused_key_or_account_skips_the_whole_provider(cls: type[ProviderError]) -> None:
    assert decide(cls("no", provider="p")) == Next(Action.SKIP_PROVIDER, Reason.ACCOUNT)
    assert decide(cls("no", provider="p"), at(is_last=True, retry=0)).action is Action.SKIP_PROVIDER


def test_moderation_skips_the_vendor() -> None:
    assert decide(ContentFiltered("403", provider="p")) == Next(Action.SKIP_VENDOR, Reason.MODERATION)


def test_a_prompt_refused_as_too_long_is_compressed_once_when_the_window_was_unknown() -> None:
    exc = ContextRejected("too long", limit=4096, provider="p")
    assert decide(exc, at(context_known=False)) == Next(Action.SHRINK, Reason.CONTEXT_UNKNOWN)
    assert decide(exc, at(context_known=False, shrunk=True)) == Next(Action.FAIL, Reason.FINAL)
    assert decide(exc, at(context_known=True)) == Next(Action.FAIL, Reason.FINAL)  # routing knew: a real 400


@pytest.mark.parametrize(
    "exc",
    [BadRequest("400", provider="p"), ProviderUnavailable("final", retryable=False, provider="p")],
    ids=["400", "marked-final"],
)
def test_final_errors_end_the_request(exc: ProviderError) -> None:
    assert decide(exc) == Next(Action.FAIL, Reason.FINAL)
    assert decide(exc, at(retry=0, is_last=False)) == Next(Action.FAIL, Reason.FINAL)


@pytest.mark.parametrize(
    "exc",
    [
        ProviderUnavailable("503", provider="p"),
        ProviderTimeout("timeout", provider="p"),
        RateLimited("429", provider="p"),
        MalformedResponse("bad", provider="p"),
        StreamInterrupted("cut", provider="p"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_retryable_errors_back_off_with_full_jitter(exc: ProviderError) -> None:
    for retry in range(2):
        got = decide(exc, at(retry=retry), seed=9)
        assert got.action is Action.RETRY and got.reason is Reason.BACKOFF
        assert got.delay_s == backoff_delay(retry, 0.25, 8.0, random.Random(9))


@pytest.mark.parametrize(
    "exc",
    [
        RateLimited("429", retry_after=2.0, provider="p"),
        ProviderUnavailable("503", retry_after=2.0, provider="p", status=503),
        ProviderTimeout("408", retry_after=2.0, provider="p", status=408),
    ],
    ids=["429", "503", "408"],
)
def test_retry_after_is_waited_on_every_retryable_error(exc: ProviderError) -> None:
    assert decide(exc) == Next(Action.RETRY, Reason.RETRY_AFTER, 2.0)


def test_a_garbled_retry_after_falls_back_to_backoff() -> None:
    got = decide(RateLimited("429", retry_after=math.nan, provider="p"), seed=4)
    assert got == Next(Action.RETRY, Reason.BACKOFF, backoff_delay(0, 0.25, 8.0, random.Random(4)))


def test_no_retry_once_the_models_retries_are_used() -> None:
    assert decide(ProviderUnavailable("503", provider="p"), at(retry=2)) == Next(Action.NEXT, Reason.RETRIES_USED)
    assert decide(ProviderUnavailable("503", provider="p"), at(retries_per_model=0)) == Next(
        Action.NEXT, Reason.RETRIES_USED
    )


@pytest.mark.parametrize("cls", [RateLimited, ProviderUnavailable])
def test_a_wait_longer_than_the_backoff_cap_moves_on_unless_this_is_the_last_candidate(
    cls: type[ProviderError],
) -> None:
    exc = cls("busy", retry_after=20.0, provider="p")
    assert decide(exc, at(is_last=False)) == Next(Action.NEXT, Reason.WAIT_TOO_LONG)
    assert decide(exc, at(is_last=True)) == Next(Action.RETRY, Reason.RETRY_AFTER, 20.0)
    assert decide(exc, at(is_last=True, deadline=115.0)) == Next(Action.NEXT, Reason.WAIT_PAST_DEADLINE)


def test_a_wait_that_does_not_fit_the_deadline_moves_on() -> None:
    exc = RateLimited("429", retry_after=5.0, provider="p")
    assert decide(exc, at(deadline=105.0)) == Next(Action.NEXT, Reason.WAIT_PAST_DEADLINE)
    assert decide(exc, at(deadline=105.06)) == Next(Action.RETRY, Reason.RETRY_AFTER, 5.0)


def test_randomness_is_drawn_once_for_a_backoff_and_never_otherwise() -> None:
    rng = random.Random(3)
    after_failure(ProviderUnavailable("503", provider="p"), at(retry=2), rng)  # no retry left: drawn anyway
    reference = random.Random(3)
    reference.random()
    assert rng.random() == reference.random()
    for exc in (RateLimited("429", retry_after=1.0, provider="p"), BadRequest("400", provider="p")):
        rng = random.Random(3)
        after_failure(exc, BASE, rng)
        assert rng.random() == random.Random(3).random()


# ---- every error against every situation that matters -----------------------------------------------------------


def _expected(exc: ProviderError, s: Situation) -> tuple[Action, Reason]:
    """The rules of DESIGN.md "resilience", written as a table rather than as the module's if-chain."""
    if s.delivered:
        return Action.FAIL, Reason.STREAM_STARTED
    timeout_at_deadline = isinstance(exc, ProviderTimeout) and s.now >= s.deadline - DEADLINE_MARGIN_S
    by_class: list[tuple[bool, tuple[Action, Reason]]] = [
        (timeout_at_deadline, (Action.FAIL, Reason.DEADLINE)),
        (isinstance(exc, AuthRejected | PaymentRequired), (Action.SKIP_PROVIDER, Reason.ACCOUNT)),
        (isinstance(exc, ContentFiltered), (Action.SKIP_VENDOR, Reason.MODERATION)),
        (
            isinstance(exc, ContextRejected) and not s.context_known and not s.shrunk,
            (Action.SHRINK, Reason.CONTEXT_UNKNOWN),
        ),
        (not exc.retryable, (Action.FAIL, Reason.FINAL)),
    ]
    for applies, outcome in by_class:
        if applies:
            return outcome
    asked = exc.retry_after is not None
    wait = exc.retry_after if asked else backoff_delay(s.retry, s.backoff_base_s, s.backoff_max_s, random.Random(1))
    assert wait is not None
    if s.retry >= s.retries_per_model:
        return Action.NEXT, Reason.RETRIES_USED
    if asked and wait > s.backoff_max_s and not s.is_last:
        return Action.NEXT, Reason.WAIT_TOO_LONG
    if s.now + wait + 0.05 >= s.deadline:
        return Action.NEXT, Reason.WAIT_PAST_DEADLINE
    return Action.RETRY, (Reason.RETRY_AFTER if asked else Reason.BACKOFF)


SITUATIONS = [
    at(retry=retry, is_last=last, delivered=delivered, context_known=known, shrunk=shrunk, now=now)
    for retry, last, delivered, known, shrunk, now in itertools.product(
        (0, 2), (False, True), (False, True), (False, True), (False, True), (100.0, 129.995, 131.0)
    )
]


@pytest.mark.parametrize("retry_after", [None, 1.0, 20.0], ids=["no-header", "short-wait", "long-wait"])
def test_every_error_in_every_situation(retry_after: float | None) -> None:
    checked = 0
    for exc, s in itertools.product(errors(retry_after), SITUATIONS):
        got = decide(exc, s, seed=1)
        assert (got.action, got.reason) == _expected(exc, s), (type(exc).__name__, s)
        assert got.delay_s == 0.0 or got.action is Action.RETRY
        checked += 1
    assert checked == 11 * len(SITUATIONS)


# ---- before an attempt: a model whose price is unknown under a cap ------------------------------------------------


def test_unknown_price_is_refused_by_default_and_says_how_to_allow_it() -> None:
    refusal = unknown_price_refusal("local/llama", "refuse", 1.0)
    assert refusal is not None and refusal.cap == "unknown price" and refusal.left == 1.0
    assert "unknown_cost" in str(refusal)


def test_unknown_price_runs_under_allow_until_a_cap_is_used_up() -> None:
    assert unknown_price_refusal("local/llama", "allow", 0.5) is None
    assert unknown_price_refusal("local/llama", "allow", None) is None
    used_up = unknown_price_refusal("local/llama", "allow", 0.0)
    assert used_up is not None and used_up.cap == "budget" and "used up" in str(used_up)
