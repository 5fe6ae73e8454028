"""The full path of one request: route -> budget reserve -> call with retries, breakers, rate limits and
fallbacks -> settle -> record. Streams and plain calls share it.

Rules this module follows (DESIGN.md "resilience"):
- Retries only for retryable errors, with full-jitter backoff, honoring ``Retry-After``, inside one deadline; what
  to do after a failed attempt is decided by ``attempt_policy.after_failure`` (its docstring lists the rules).
- A 429 goes to the rate limiter, never to the breaker's failure rate; 400/401/402/403 do not trip breakers.
- A stream falls back only before its first delta reached the caller; after that a failure ends the request
  with the partial answer kept (``StreamInterrupted.partial``) and recorded.
- A finished request (any outcome) becomes one ``FinishedRequest``, committed to the store (``outcome.publish``)
  before the caller hears it finished. A request with invalid text is refused (``input_limits``) and stored; an
  unexpected exception is stored as a failed request and raised as ``InternalError``.
- Budget holds go through ``spend_gate`` (shared by every process under a cap); a hedged attempt
  (``hedged_call``) races the next candidate beside a late model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator

from autodevai.engine import errors as E
from autodevai.engine import spend_gate
from autodevai.engine.attempt_policy import Action, Reason, Situation, after_failure, unknown_price_refusal
from autodevai.engine.calls import RateSlots, note_failure, provider_call, stream_call
from autodevai.engine.fitting import count_prompt, fit_and_route, shrink_to_stated, tool_tokens
from autodevai.engine.hedged_call import HedgedCall, Leg
from autodevai.engine.hedging import hedge_delay
from autodevai.engine.input_limits import check_request
from autodevai.engine.outcome import (
    RequestState,
    answer_cost,
    answer_of,
    finished_failed,
    finished_ok,
    prompt_text,
    publish,
    short,
)
from autodevai.engine.route_choice import decide, decide_to_send, window_of
from autodevai.engine.runtime import Components
from autodevai.engine.types import (
    ChatRequest,
    Completion,
    EngineResponse,
    ModelInfo,
    ModelRef,
    Preference,
    RouteDecision,
    StreamDelta,
)

__all__ = ["Executor", "StreamItem"]

StreamItem = str | StreamDelta | EngineResponse  # what an engine stream yields

log = logging.getLogger("autodevai.engine")


class Executor:
    """Runs requests against the components it is given. Stateless apart from ``Components``."""

    def __init__(self, parts: Components) -> None:
        self.parts = parts
        self._slots = RateSlots()

    # ---- public -------------------------------------------------------------------------------------------

    async def execute(self, request: ChatRequest, preference: Preference | None = None) -> EngineResponse:
        """Run ``request`` to completion. Raises an ``EngineError`` subclass on failure."""
        result: EngineResponse | None = None
        # Consumed to the end (or ended by an exception inside it), so the generator always finishes here.
        async for item in self._run(request, preference, stream=False):
            if isinstance(item, EngineResponse):
                result = item
        assert result is not None  # _run either yields a response last or raises
        return result

    def stream(self, request: ChatRequest, preference: Preference | None = None) -> AsyncGenerator[StreamItem, None]:
        """Yield text deltas (``str``) and ``StreamDelta`` pieces as they arrive, then the final ``EngineResponse``.
        The output starts with a marker ``StreamDelta`` naming the answering model. Closing the iterator
        cancels."""
        return self._run(request, preference, stream=True)

    def route(
        self, request: ChatRequest, preference: Preference | None = None, prompt_tokens: int | None = None
    ) -> RouteDecision:
        """The routing decision for ``request`` without sending anything (``prompt_tokens`` when already counted,
        so a caller can count a long prompt off the event loop first)."""
        if prompt_tokens is None:
            prompt_tokens = self.parts.counter.count_messages(request.messages, None)
        return decide(self.parts, request, preference or request.preference, prompt_tokens)

    # ---- the request ----------------------------------------------------------------------------------------

    async def _run(
        self, request: ChatRequest, preference: Preference | None, *, stream: bool
    ) -> AsyncGenerator[StreamItem, None]:
        p = self.parts
        pref = preference or request.preference
        started = p.clock.now()
        deadline_s = request.deadline_s or p.settings.resilience.deadline_s
        state = RequestState(os.urandom(8).hex(), started, started + deadline_s, 0, [])
        p.in_flight += 1
        try:
            check_request(request)  # text that is not valid Unicode, nesting too deep: refused, and stored
            state.prompt_text = prompt_text(request)  # stored as the user wrote it, even if it is compressed
            # Counted with the default encoding (no model yet): the count calibration learns from.
            state.prompt_tokens = await count_prompt(p.counter, request.messages, None)
            tools = tool_tokens(p.counter, request)
            request, state.prompt_tokens, decision, state.compression = await fit_and_route(
                request,
                state.prompt_tokens + tools,
                lambda req, tokens: decide_to_send(p, req, pref, tokens),
                p.counter,
                p.settings.context,
                lambda ref: window_of(p, ref),
                tools,
            )
            attempts = self._attempts(request, decision, state, stream=stream)
            if stream:
                # A stream's consumer may stop at any delta: close the inner generator here, in this task.
                async with contextlib.aclosing(attempts) as items:
                    async for item in items:
                        yield item
            else:
                async for item in attempts:
                    yield item
        except (asyncio.CancelledError, GeneratorExit):
            if not state.finished:  # closing the stream after its final response is not a cancel
                await self._finish_failed(request, pref, state, E.Cancelled("the request was cancelled"))
            raise
        except E.EngineError as exc:
            await self._finish_failed(request, pref, state, exc)
            raise
        except Exception as exc:  # a bug: still one stored failed request, and a typed error for the caller
            log.exception("request %s failed unexpectedly", state.request_id)
            internal = E.InternalError(f"the request failed unexpectedly: {type(exc).__name__}: {short(str(exc))}")
            await self._finish_failed(request, pref, state, internal)
            raise internal from exc
        finally:
            p.in_flight -= 1

    async def _attempts(
        self, request: ChatRequest, decision: RouteDecision, state: RequestState, *, stream: bool
    ) -> AsyncGenerator[StreamItem, None]:
        p = self.parts
        res = p.settings.resilience
        clock = p.clock
        total_attempts = 0
        skip_providers: set[str] = set()
        skip_vendor: str | None = None
        last_error: E.EngineError | None = None
        hedge = request.hedge if request.hedge is not None else res.hedge
        for index, ref in enumerate(decision.candidates):
            if ref.provider in skip_providers:
                continue
            info = p.catalog.get(ref)
            provider = p.providers.get(ref.provider)
            if info is None or provider is None:
                state.attempts.append(E.Attempt(ref.provider, ref.model, "skipped", "not in the catalog"))
                continue
            if skip_vendor is not None and info.vendor == skip_vendor:
                continue
            if not info.price_known and p.settings.budget.capped:
                # Nothing can be reserved for it: refused outright ("refuse"), or once a cap is used up ("allow").
                refusal = unknown_price_refusal(info.id, p.settings.budget.unknown_cost, p.budget.left(clock.wall()))
                if refusal is not None:
                    last_error = refusal
                    state.attempts.append(E.Attempt(ref.provider, ref.model, "BudgetExceeded", "price unknown"))
                    continue
            try:
                reservation = await spend_gate.hold(
                    p, state, info.worst_case_cost(state.prompt_tokens, request.max_tokens)
                )
            except E.BudgetExceeded as exc:
                state.attempts.append(E.Attempt(ref.provider, ref.model, "BudgetExceeded", exc.message))
                last_error = exc
                continue
            is_last = index == len(decision.candidates) - 1
            spent = False
            try:
                retry = -1
                while retry < res.retries_per_model:
                    retry += 1
                    if total_attempts >= res.max_attempts:
                        break
                    now = clock.now()
                    if now >= state.deadline:
                        raise _deadline_passed(state, f"after {len(state.attempts)} attempt(s)")
                    breaker = p.breakers.get(ref.provider, ref.model)
                    if not breaker.allow(now):
                        snap = breaker.snapshot(now)
                        state.attempts.append(
                            E.Attempt(ref.provider, ref.model, "CircuitOpen", f"retry in {snap.retry_in_s or 0:.1f} s")
                        )
                        last_error = E.CircuitOpen(
                            f"{ref.model} is failing; its breaker is open",
                            provider=ref.provider,
                            model=ref.model,
                            until=snap.open_until or now,
                        )
                        break
                    if not await self._slots.acquire(
                        p.limiter, clock, ref, state.prompt_tokens, state.deadline, may_wait=is_last
                    ):
                        breaker.on_ignored()
                        state.attempts.append(E.Attempt(ref.provider, ref.model, "RateLimited", "local limit"))
                        last_error = E.RateLimited(
                            f"{ref.provider} is at its configured rate limit", provider=ref.provider
                        )
                        break
                    total_attempts += 1
                    state.current = ref
                    won = Leg(ref, info, provider, breaker, reservation, clock.now())
                    delay = hedge_delay(p.metrics, ref, now) if hedge and retry == 0 and not state.hedged else None
                    backups = self._backups(decision, index, skip_providers, skip_vendor) if delay is not None else []
                    try:
                        completion = None
                        if delay is not None and backups:
                            hedged = HedgedCall(p, self._slots, request, state, won, backups, delay, stream=stream)
                            async with contextlib.aclosing(hedged.run()) as items:
                                async for item in items:
                                    if isinstance(item, Completion):
                                        completion = item
                                    elif stream:
                                        yield item
                            won = hedged.winner
                        elif stream:
                            call = provider_call(request, ref)
                            async with contextlib.aclosing(stream_call(provider, call, state, clock)) as pieces:
                                async for item in pieces:
                                    if isinstance(item, Completion):
                                        completion = item
                                    else:
                                        yield item
                        else:
                            # The provider enforces the one deadline for the whole call and raises
                            # ProviderTimeout; the policy turns a passed deadline into DeadlineExceeded.
                            call = provider_call(request, ref)
                            completion = await provider.chat(call, timeout_s=state.deadline - clock.now())
                        assert completion is not None
                    except E.ProviderError as exc:
                        failed = state.current or ref  # a hedge's winner that broke mid-stream
                        note_failure(p, failed, exc, clock.now() - won.started, state.attempts)
                        last_error = exc
                        situation = Situation(
                            retry=retry,
                            retries_per_model=res.retries_per_model,
                            is_last=is_last,
                            delivered=state.delivered,
                            context_known=info.context_known,
                            shrunk=state.shrunk,
                            now=clock.now(),
                            deadline=state.deadline,
                            backoff_base_s=res.backoff_base_s,
                            backoff_max_s=res.backoff_max_s,
                        )
                        step = after_failure(exc, situation, p.rng)
                        if step.action is Action.FAIL:
                            if step.reason is Reason.FINAL:
                                raise
                            raise self._fatal(step.reason, exc, ref, state) from exc
                        if step.action is Action.SKIP_PROVIDER:
                            skip_providers.add(ref.provider)
                        elif step.action is Action.SKIP_VENDOR:
                            skip_vendor = info.vendor
                        elif step.action is Action.SHRINK:
                            assert isinstance(exc, E.ContextRejected)
                            # The window was unknown, so the prompt went as it was; now the server said it is
                            # too long: compress to what it stated (or by a quarter) and try this model once more.
                            state.shrunk = True
                            request, state.prompt_tokens, state.compression = await shrink_to_stated(
                                request, exc, info, state.prompt_tokens, p.counter, p.settings.context
                            )
                            retry -= 1  # not one of the model's retries
                            continue
                        elif step.action is Action.RETRY:
                            if step.delay_s > 0:
                                await clock.sleep(step.delay_s)
                            continue
                        break
                    # success (of the first model, or of a hedge's backup that answered first)
                    duration = clock.now() - won.started
                    won.breaker.on_success(clock.now(), duration)
                    p.health_of(won.ref.provider).ok(clock.wall())
                    cost = answer_cost(completion, won.info, p.catalog)
                    spend_gate.settle(p, won.reservation, cost[0])
                    spent = won.reservation is reservation
                    note = "hedged" if state.hedged else ""
                    state.attempts.append(
                        E.Attempt(won.ref.provider, completion.model, "ok", note, latency_ms=duration * 1000.0)
                    )
                    response = await self._finish_ok(request, decision, state, completion, cost)
                    state.finished = True
                    yield response
                    return
            finally:
                if not spent:
                    spend_gate.release(p, state, reservation)
        if clock.now() >= state.deadline:
            raise _deadline_passed(state, f"after {len(state.attempts)} attempt(s)")
        if last_error is not None and len(state.attempts) == 1 and not isinstance(last_error, E.CircuitOpen):
            # One model, one try: its own error says more than "no route" (an open breaker is routing state).
            raise last_error
        raise E.NoRouteAvailable(
            f"no model could answer after {len(state.attempts)} attempt(s)", attempts=state.attempts
        )

    def _backups(
        self, decision: RouteDecision, index: int, skip_providers: set[str], skip_vendor: str | None
    ) -> list[tuple[ModelRef, ModelInfo]]:
        """The candidates after ``index`` a hedge may start (in the catalog, served, not skipped, priced when a
        budget cap is set)."""
        p = self.parts
        out: list[tuple[ModelRef, ModelInfo]] = []
        for ref in decision.candidates[index + 1 :]:
            info = p.catalog.get(ref)
            if info is None or ref.provider in skip_providers or ref.provider not in p.providers:
                continue
            if (skip_vendor is not None and info.vendor == skip_vendor) or (
                not info.price_known and p.settings.budget.capped
            ):
                continue
            out.append((ref, info))
        return out

    # ---- outcomes -------------------------------------------------------------------------------------------

    def _fatal(self, reason: Reason, exc: E.ProviderError, ref: ModelRef, state: RequestState) -> E.EngineError:
        """The error that ends the request when the policy says FAIL for ``reason`` (other than a final error,
        which ends it as it is)."""
        if reason is Reason.STREAM_STARTED:
            return E.StreamInterrupted(
                f"the stream broke after {len(state.partial):,} characters: {short(exc.message)}",
                partial=state.partial,
                provider=exc.provider,
            )
        return _deadline_passed(state, f"while {ref.model} was answering")

    async def _finish_ok(
        self,
        request: ChatRequest,
        decision: RouteDecision,
        state: RequestState,
        completion: Completion,
        cost: tuple[float, str],
    ) -> EngineResponse:
        p = self.parts
        usage = completion.usage
        if usage.prompt_tokens and state.compression is None and not request.tools and not request.has_media:
            # Tool definitions and media are estimates of their own: they would skew the text calibration.
            p.counter.observe(completion.model, state.prompt_tokens, usage.prompt_tokens)
        done = finished_ok(state, request, decision.preference.value, completion, cost, p.clock.now(), p.clock.wall())
        await publish(p, done)
        return answer_of(done, completion, decision, state)

    async def _finish_failed(
        self, request: ChatRequest, preference: Preference, state: RequestState, exc: E.EngineError
    ) -> None:
        p = self.parts
        await publish(p, finished_failed(state, request, preference.value, exc, p.clock.now(), p.clock.wall()))


def _deadline_passed(state: RequestState, when: str) -> E.DeadlineExceeded:
    return E.DeadlineExceeded(f"the {state.deadline - state.started:.1f} s deadline passed {when}")
