"""What to do after an attempt failed: retry the model, move to the next candidate, skip the provider or the
vendor, compress and retry, or fail the request. One pure function of the error and the request's situation.

The rules (DESIGN.md "resilience" and "OpenRouter facts"), in the order they are checked:

1. Output already reached the caller (a stream delivered a delta): fail, keeping the partial answer; a silent
   fallback would splice two models' answers.
2. A timeout at the request's deadline: fail with ``DeadlineExceeded``; no time is left for anything else.
3. 401/402 (``AuthRejected``, ``PaymentRequired``): skip every candidate of the provider; its key or account
   would be refused again.
4. 403 (``ContentFiltered``): skip every candidate of the vendor; another vendor's moderation may differ.
5. The server refused the prompt as too long (``ContextRejected``) while the model's window was unknown: compress
   to what it stated and try the same model once more (not one of its retries).
6. Any other final error (400, ...): fail with it.
7. A retryable error: wait ``retry_delay`` (the server's ``Retry-After`` when it sent one, on a 429, a 503 or any
   retryable error; else full-jitter backoff) and retry the same model, unless its retries are used up, the
   server asked for a wait longer than the backoff cap while other candidates remain, or the wait does not fit
   the deadline: then move to the next candidate.

Before an attempt, ``unknown_price_refusal`` says whether a model whose price is unknown may run under a budget cap.

Pure: ``now``, ``deadline`` and ``rng`` are arguments. ``rng`` is drawn from only at rule 7 (for backoff), exactly
once, whether the retry happens or not.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from autodevai.engine.errors import (
    AuthRejected,
    BudgetExceeded,
    ContentFiltered,
    ContextRejected,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
)
from autodevai.engine.retry import fits_deadline, retry_delay

__all__ = ["DEADLINE_MARGIN_S", "Action", "Next", "Reason", "Situation", "after_failure", "unknown_price_refusal"]

DEADLINE_MARGIN_S = 0.01  # a timeout this close to the deadline is the deadline's, not the model's


class Action(enum.Enum):
    """What the attempt loop does next."""

    RETRY = "retry"  # the same model again, after ``Next.delay_s``
    SHRINK = "shrink"  # compress the prompt to the window the server stated, then the same model again
    NEXT = "next"  # the next candidate
    SKIP_PROVIDER = "skip_provider"  # the next candidate of another provider
    SKIP_VENDOR = "skip_vendor"  # the next candidate of another vendor
    FAIL = "fail"  # end the request with an error


class Reason(enum.Enum):
    """Why: one value per rule of the module docstring."""

    STREAM_STARTED = "output already reached the caller"
    DEADLINE = "the deadline passed while the model was answering"
    ACCOUNT = "the provider refused the key or the account"
    MODERATION = "the vendor's moderation refused the input"
    CONTEXT_UNKNOWN = "the server refused the prompt as too long for a window we did not know"
    FINAL = "the error is final"
    BACKOFF = "retryable: backing off"
    RETRY_AFTER = "retryable: waiting as the server asked"
    RETRIES_USED = "the model's retries are used up"
    WAIT_TOO_LONG = "the server asked for a longer wait than the backoff cap, and other candidates remain"
    WAIT_PAST_DEADLINE = "the wait does not fit the deadline"


@dataclass(frozen=True, slots=True)
class Situation:
    """What the policy knows of the request when an attempt failed."""

    retry: int  # 0 for the model's first try, n for its n-th retry
    retries_per_model: int
    is_last: bool  # the model is the last candidate
    delivered: bool  # a stream delta reached the caller
    context_known: bool  # the catalog knows the model's window
    shrunk: bool  # the prompt was already compressed once after a ContextRejected
    now: float  # engine monotonic seconds
    deadline: float
    backoff_base_s: float
    backoff_max_s: float


@dataclass(frozen=True, slots=True)
class Next:
    """The decision: an action, the rule that chose it, and the wait before a retry (0 otherwise)."""

    action: Action
    reason: Reason
    delay_s: float = 0.0


def after_failure(exc: ProviderError, at: Situation, rng: random.Random) -> Next:
    """The decision after ``exc`` ended an attempt, by the rules of the module docstring."""
    if at.delivered:
        return Next(Action.FAIL, Reason.STREAM_STARTED)
    if isinstance(exc, ProviderTimeout) and at.now >= at.deadline - DEADLINE_MARGIN_S:
        return Next(Action.FAIL, Reason.DEADLINE)
    if isinstance(exc, AuthRejected | PaymentRequired):
        return Next(Action.SKIP_PROVIDER, Reason.ACCOUNT)
    if isinstance(exc, ContentFiltered):
        return Next(Action.SKIP_VENDOR, Reason.MODERATION)
    if isinstance(exc, ContextRejected) and not at.context_known and not at.shrunk:
        return Next(Action.SHRINK, Reason.CONTEXT_UNKNOWN)
    if not exc.retryable:
        return Next(Action.FAIL, Reason.FINAL)
    delay = retry_delay(exc, at.retry, at.backoff_base_s, at.backoff_max_s, rng)
    if at.retry >= at.retries_per_model:
        return Next(Action.NEXT, Reason.RETRIES_USED)
    asked = exc.retry_after is not None and exc.retry_after == exc.retry_after  # NaN: backoff was used
    if asked and delay > at.backoff_max_s and not at.is_last:
        return Next(Action.NEXT, Reason.WAIT_TOO_LONG)
    if not fits_deadline(at.now, at.deadline, delay):
        return Next(Action.NEXT, Reason.WAIT_PAST_DEADLINE)
    return Next(Action.RETRY, Reason.RETRY_AFTER if asked else Reason.BACKOFF, delay)


def unknown_price_refusal(model: str, policy: str, left: float | None) -> BudgetExceeded | None:
    """Before an attempt: the refusal of ``model`` when its price is unknown while a budget cap is set (nothing can be
    reserved for it), by ``policy`` (``budget.unknown_cost``: "refuse", or "allow" until a cap is used up, with
    ``left`` USD in the tightest cap); None when the policy lets it through."""
    if policy == "allow" and (left is None or left > 0):
        return None
    if policy == "allow":
        return BudgetExceeded(
            f"the budget is used up, and {model}'s price is unknown", cap="budget", left=0.0, needed=0.0
        )
    return BudgetExceeded(
        f"{model}'s price is unknown and a budget cap is set, so its cost could not be held to the cap",
        cap="unknown price",
        left=left or 0.0,
        needed=0.0,
        hint=(
            "give its provider a price (price_in_per_m / price_out_per_m, 0 for your own server), or set "
            'budget.unknown_cost = "allow" to let it run (the cost the server reports is still counted)'
        ),
    )
