"""One call to one model: its rate-limit slot, the ``ProviderCall`` it sends, a streamed call's pieces, and what a
failed call teaches the breakers, the rate limiter and the provider's health.

The attempt loop (``engine/execution.py``) decides which model to call and what to do when a call fails; this
module makes the call and books its failure. A streamed call yields a marker ``StreamDelta`` naming the answering
model before its first output, then text deltas and ``StreamDelta`` pieces, then the final ``Completion``; it keeps
the text that came in ``RequestState.partial`` so a broken stream's partial answer is not lost.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from autodevai.engine.breaker import BreakerState, counts_as_failure
from autodevai.engine.constants import FREE_MODEL_RPM
from autodevai.engine.errors import Attempt, ProviderError, RateLimited, error_class
from autodevai.engine.outcome import RequestState, short
from autodevai.engine.ports import Clock, Provider
from autodevai.engine.ratelimit import RateLimiter
from autodevai.engine.retry import fits_deadline
from autodevai.engine.types import ChatRequest, Completion, ModelRef, ProviderCall, StreamDelta

if TYPE_CHECKING:
    from autodevai.engine.runtime import Components

__all__ = ["RateSlots", "note_failure", "provider_call", "stream_call"]

log = logging.getLogger("autodevai.engine")


def provider_call(request: ChatRequest, ref: ModelRef) -> ProviderCall:
    """What the provider of ``ref`` is sent for ``request``."""
    return ProviderCall(
        model=ref.model,
        messages=tuple(request.messages),
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        extra_headers=tuple(request.extra_headers.items()),
        params=request.api_fields(),
        openrouter=request.openrouter,
        extra_body=request.extra_body,
    )


class RateSlots:
    """Takes a slot of a provider's and a model's rate limits before a call (a model key is limited when it is a
    ``:free`` model, or after a 429 told us to wait)."""

    def __init__(self) -> None:
        self._free_keys: set[str] = set()  # ":free" models whose 20/min limit is configured

    async def acquire(
        self, limiter: RateLimiter, clock: Clock, ref: ModelRef, tokens: int, deadline: float, *, may_wait: bool
    ) -> bool:
        """True once a slot is taken. Waits (on ``clock``) only when ``may_wait`` (the last candidate) and the
        wait fits ``deadline``; otherwise returns False so the next candidate is tried at once."""
        model_key = f"{ref.provider}:{ref.model}"
        if ref.model.endswith(":free") and model_key not in self._free_keys:
            limiter.configure(model_key, FREE_MODEL_RPM, None)
            self._free_keys.add(model_key)
        for key in (ref.provider, model_key):
            while True:
                wait = limiter.try_acquire(key, tokens, clock.now())
                if wait == 0.0:
                    break
                if not may_wait or not fits_deadline(clock.now(), deadline, wait):
                    return False
                await clock.sleep(wait)
        return True


async def stream_call(
    provider: Provider, call: ProviderCall, state: RequestState, clock: Clock
) -> AsyncGenerator[str | StreamDelta | Completion, None]:
    """One streamed call: a marker naming the answering model, text deltas and ``StreamDelta`` pieces, then the
    final ``Completion``; ``state.partial`` keeps the text that came, ``state.ttft_s`` the time to its first piece."""
    t0 = clock.now()
    text: list[str] = []
    model = call.model
    try:
        # aclosing: leaving early (the completion arrived, an error, a cancel) closes the provider's stream
        # here, in this task, instead of leaving it to the garbage collector in another one.
        async with contextlib.aclosing(provider.stream(call, timeout_s=state.deadline - t0)) as events:
            async for event in events:
                if event.completion is not None:
                    yield event.completion
                    return
                if not state.delivered:
                    if state.ttft_s is None:
                        state.ttft_s = clock.now() - t0
                    model = event.model or model
                    state.delivered = True
                    yield StreamDelta(provider.name, model)  # the marker: this model is answering
                if event.delta:
                    text.append(event.delta)
                    yield event.delta
                if event.reasoning or event.tool_calls or event.refusal or event.reasoning_details:
                    yield StreamDelta(
                        provider.name,
                        model,
                        event.reasoning,
                        event.reasoning_details,
                        event.tool_calls,
                        event.refusal,
                    )
    finally:
        state.partial = "".join(text)


def note_failure(
    parts: Components, ref: ModelRef, exc: ProviderError, duration: float, attempts: list[Attempt]
) -> None:
    """Book a call of ``ref`` that failed with ``exc`` after ``duration`` seconds: its breaker (only errors that say
    something about the model count; an alert when it opens), the rate limiter (a 429's wait holds the model back),
    the provider's health, and ``attempts``."""
    now = parts.clock.now()
    breaker = parts.breakers.get(ref.provider, ref.model)
    if counts_as_failure(exc):
        was = breaker.peek(now)
        breaker.on_failure(now, duration)
        if was is not BreakerState.OPEN and breaker.peek(now) is BreakerState.OPEN:
            snap = breaker.snapshot(now)
            parts.alerts.breaker_opened(
                ref.provider, ref.model, snap.retry_in_s or 0.0, error_class(exc), now, parts.clock.wall()
            )
    else:
        breaker.on_ignored()
    if isinstance(exc, RateLimited) and exc.retry_after:
        # OpenRouter limits per key and model (e.g. :free models): hold this model back, not the provider.
        parts.limiter.penalize(f"{ref.provider}:{ref.model}", exc.retry_after, now)
    parts.health_of(ref.provider).failed(parts.clock.wall(), error_class(exc))
    attempts.append(Attempt(ref.provider, ref.model, error_class(exc), short(exc.message), duration * 1000.0))
    log.info("attempt failed: %s %s: %s", ref, error_class(exc), short(exc.message))
