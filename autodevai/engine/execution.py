"""The full path of one request: route -> budget reserve -> call with retries, breakers, rate limits and
fallbacks -> settle -> record. Streams and plain calls share it.

Rules this module follows (DESIGN.md "resilience"):
- Retries only for retryable errors, with full-jitter backoff, honoring ``Retry-After``, inside one deadline.
- A 429 goes to the rate limiter, never to the breaker's failure rate; 400/401/402/403 do not trip breakers.
- 401/402 end the provider's candidates (the same key would be refused again); 403 moderation moves to
  another vendor; 400 is final.
- A stream falls back only before its first delta reached the caller; after that a failure ends the request
  with the partial answer kept (``StreamInterrupted.partial``) and recorded.
- A finished request (any outcome) is committed to the store before the caller hears it finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autodevai.engine import errors as E
from autodevai.engine.breaker import BreakerState, counts_as_failure
from autodevai.engine.capabilities import needs_of
from autodevai.engine.constants import FREE_MODEL_RPM
from autodevai.engine.detail import request_detail
from autodevai.engine.fitting import compress_into, count_prompt, fit_and_route, report_dict, tool_tokens
from autodevai.engine.metrics import Call, RequestEvent, failed_calls
from autodevai.engine.ports import Provider, RequestRecord
from autodevai.engine.retry import fits_deadline, retry_delay
from autodevai.engine.runtime import Components
from autodevai.engine.types import (
    ChatRequest,
    Completion,
    EngineResponse,
    ModelInfo,
    ModelRef,
    Preference,
    ProviderCall,
    RouteDecision,
    StreamDelta,
)

if TYPE_CHECKING:
    from autodevai.engine.compression import CompressionReport

__all__ = ["Executor", "StreamItem"]

StreamItem = str | StreamDelta | EngineResponse  # what an engine stream yields

log = logging.getLogger("autodevai.engine")


@dataclass(slots=True)
class _State:
    """Book-keeping of one request across its attempts."""

    request_id: str
    started: float
    deadline: float
    prompt_tokens: int
    attempts: list[E.Attempt]
    partial: str = ""
    delivered: bool = False  # a stream delta reached the caller: no silent fallback from here on
    finished: bool = False  # the final response was recorded and handed over
    compression: CompressionReport | None = None
    prompt_text: str = ""
    ttft_s: float | None = None
    shrunk: bool = False  # compressed once after a server refused the prompt as too long
    current: ModelRef | None = None  # the model of the attempt under way (or the last one made)


class Executor:
    """Runs requests against the components it is given. Stateless apart from ``Components``."""

    def __init__(self, parts: Components) -> None:
        self.parts = parts
        self._free_keys: set[str] = set()  # ":free" models whose 20/min limit is configured

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
        return self._decide(request, preference or request.preference, prompt_tokens)

    # ---- the attempt loop -----------------------------------------------------------------------------------

    def _decide(self, request: ChatRequest, preference: Preference, prompt_tokens: int) -> RouteDecision:
        p = self.parts
        now = p.clock.now()
        breakers = p.breakers
        left = p.budget.left(p.clock.wall())
        decision = p.router.decide(
            preference=preference,
            prompt_tokens=prompt_tokens,
            max_tokens=request.max_tokens,
            now=now,
            model=request.model,
            fallbacks=request.fallbacks,
            provider=request.provider,
            is_open=lambda ref: breakers.peek(ref.provider, ref.model, now) is BreakerState.OPEN,
            live=lambda ref: p.metrics.live(ref.provider, ref.model, now),
            budget_left=None if request.model else left,
            needs=needs_of(request),
        )
        if request.fallbacks is not None and len(request.fallbacks) == 0 and len(decision.candidates) > 1:
            # An explicit empty fallback list means: this model only.
            decision = RouteDecision(
                decision.preference,
                decision.candidates[:1],
                (*decision.reasons, "no fallbacks: the request asked for this model only"),
                decision.scores,
                decision.considered,
                decision.excluded,
            )
        return decision

    def _window(self, ref: ModelRef) -> int | None:
        info = self.parts.catalog.get(ref)
        return None if info is None else info.context_length

    async def _run(
        self, request: ChatRequest, preference: Preference | None, *, stream: bool
    ) -> AsyncGenerator[StreamItem, None]:
        p = self.parts
        pref = preference or request.preference
        clock = p.clock
        started = clock.now()
        deadline_s = request.deadline_s or p.settings.resilience.deadline_s
        state = _State(os.urandom(8).hex(), started, started + deadline_s, 0, [])
        p.in_flight += 1
        try:
            state.prompt_text = _prompt_text(request)  # stored as the user wrote it, even if it is compressed
            # Counted with the default encoding (no model yet): the count calibration learns from.
            state.prompt_tokens = await count_prompt(p.counter, request.messages, None)
            tools = tool_tokens(p.counter, request)
            try:
                request, state.prompt_tokens, decision, state.compression = await fit_and_route(
                    request,
                    state.prompt_tokens + tools,
                    lambda req, tokens: self._decide(req, pref, tokens),
                    p.counter,
                    p.settings.context,
                    self._window,
                    tools,
                )
            except E.NoRouteAvailable as exc:
                left = p.budget.left(clock.wall())
                if left is not None and "budget" in exc.message:
                    raise E.BudgetExceeded(
                        f"no model fits the budget: ${left:.4f} left", cap="budget", left=left, needed=0.0
                    ) from None
                raise
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
        finally:
            p.in_flight -= 1

    async def _attempts(
        self, request: ChatRequest, decision: RouteDecision, state: _State, *, stream: bool
    ) -> AsyncGenerator[StreamItem, None]:
        p = self.parts
        res = p.settings.resilience
        clock = p.clock
        total_attempts = 0
        skip_providers: set[str] = set()
        skip_vendor: str | None = None
        last_error: E.EngineError | None = None
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
                refusal = _unknown_price(info.id, p.settings.budget.unknown_cost, p.budget.left(clock.wall()))
                if refusal is not None:
                    last_error = refusal
                    state.attempts.append(E.Attempt(ref.provider, ref.model, "BudgetExceeded", "price unknown"))
                    continue
            try:
                reservation = p.budget.reserve(
                    info.worst_case_cost(state.prompt_tokens, request.max_tokens), clock.wall()
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
                        raise E.DeadlineExceeded(
                            f"the {state.deadline - state.started:.1f} s deadline passed after "
                            f"{len(state.attempts)} attempt(s)"
                        )
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
                    if not await self._acquire_rate(ref, state, may_wait=is_last):
                        breaker.on_ignored()
                        state.attempts.append(E.Attempt(ref.provider, ref.model, "RateLimited", "local limit"))
                        last_error = E.RateLimited(
                            f"{ref.provider} is at its configured rate limit", provider=ref.provider
                        )
                        break
                    total_attempts += 1
                    state.current = ref
                    t0 = clock.now()
                    try:
                        call = _provider_call(request, ref)
                        if stream:
                            completion = None
                            async with contextlib.aclosing(self._stream_call(provider, call, state)) as items:
                                async for item in items:
                                    if isinstance(item, Completion):
                                        completion = item
                                    else:
                                        yield item
                            assert completion is not None
                        else:
                            # The provider enforces the one deadline for the whole call and raises
                            # ProviderTimeout; the loop turns a passed deadline into DeadlineExceeded.
                            completion = await provider.chat(call, timeout_s=state.deadline - clock.now())
                    except E.ProviderError as exc:
                        duration = clock.now() - t0
                        self._note_failure(ref, exc, duration, state)
                        last_error = exc
                        if state.delivered:
                            raise self._interrupted(exc, state) from exc
                        if isinstance(exc, E.ProviderTimeout) and clock.now() >= state.deadline - 0.01:
                            raise E.DeadlineExceeded(
                                f"the {state.deadline - state.started:.1f} s deadline passed while "
                                f"{ref.model} was answering"
                            ) from exc
                        if isinstance(exc, E.AuthRejected | E.PaymentRequired):
                            skip_providers.add(ref.provider)
                            break
                        if isinstance(exc, E.ContentFiltered):
                            skip_vendor = info.vendor
                            break
                        if isinstance(exc, E.ContextRejected) and not info.context_known and not state.shrunk:
                            # The window was unknown, so the prompt went as it was; now the server said it is
                            # too long: compress to what it stated (or by a quarter) and try this model once more.
                            request = await self._shrink(request, exc, info, state)
                            retry -= 1  # not one of the model's retries
                            continue
                        if not exc.retryable:
                            raise
                        delay = retry_delay(exc, retry, res.backoff_base_s, res.backoff_max_s, p.rng)
                        long_wait = isinstance(exc, E.RateLimited) and delay > res.backoff_max_s
                        if (
                            retry < res.retries_per_model
                            and not (long_wait and not is_last)
                            and fits_deadline(clock.now(), state.deadline, delay)
                        ):
                            if delay > 0:
                                await clock.sleep(delay)
                            continue
                        break
                    # success
                    duration = clock.now() - t0
                    breaker.on_success(clock.now(), duration)
                    p.health_of(ref.provider).ok(clock.wall())
                    cost, source = self._cost(completion, info)
                    p.budget.settle(reservation, cost, clock.wall())
                    spent = True
                    state.attempts.append(E.Attempt(ref.provider, completion.model, "ok", latency_ms=duration * 1000.0))
                    response = await self._finish_ok(request, decision, state, completion, cost, source)
                    state.finished = True
                    yield response
                    return
            finally:
                if not spent:
                    p.budget.release(reservation)
        if clock.now() >= state.deadline:
            raise E.DeadlineExceeded(
                f"the {state.deadline - state.started:.1f} s deadline passed after {len(state.attempts)} attempt(s)"
            )
        if last_error is not None and len(state.attempts) == 1 and not last_error_is_routing(last_error):
            raise last_error
        raise E.NoRouteAvailable(
            f"no model could answer after {len(state.attempts)} attempt(s)", attempts=state.attempts
        )

    async def _stream_call(
        self, provider: Provider, call: ProviderCall, state: _State
    ) -> AsyncGenerator[str | StreamDelta | Completion, None]:
        """One streamed call: a marker naming the answering model, text deltas and ``StreamDelta`` pieces, then
        the final ``Completion``; ``state.partial`` keeps the text that came."""
        clock = self.parts.clock
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

    async def _acquire_rate(self, ref: ModelRef, state: _State, *, may_wait: bool) -> bool:
        """Take a slot of the provider's and the model's rate limits (a model key is limited when it is a
        ``:free`` model, or after a 429 told us to wait). Waits only when ``may_wait`` (the last candidate) and
        the wait fits the deadline; otherwise returns False so the next candidate is tried at once."""
        p = self.parts
        limiter = p.limiter
        model_key = f"{ref.provider}:{ref.model}"
        if ref.model.endswith(":free") and model_key not in self._free_keys:
            limiter.configure(model_key, FREE_MODEL_RPM, None)
            self._free_keys.add(model_key)
        for key in (ref.provider, model_key):
            while True:
                wait = limiter.try_acquire(key, state.prompt_tokens, p.clock.now())
                if wait == 0.0:
                    break
                if not may_wait or not fits_deadline(p.clock.now(), state.deadline, wait):
                    return False
                await p.clock.sleep(wait)
        return True

    # ---- outcomes -------------------------------------------------------------------------------------------

    def _note_failure(self, ref: ModelRef, exc: E.EngineError, duration: float, state: _State) -> None:
        p = self.parts
        now = p.clock.now()
        breaker = p.breakers.get(ref.provider, ref.model)
        if counts_as_failure(exc):
            was = breaker.peek(now)
            breaker.on_failure(now, duration)
            if was is not BreakerState.OPEN and breaker.peek(now) is BreakerState.OPEN:
                snap = breaker.snapshot(now)
                p.alerts.breaker_opened(
                    ref.provider, ref.model, snap.retry_in_s or 0.0, E.error_class(exc), now, p.clock.wall()
                )
        else:
            breaker.on_ignored()
        if isinstance(exc, E.RateLimited) and exc.retry_after:
            # OpenRouter limits per key and model (e.g. :free models): hold this model back, not the provider.
            p.limiter.penalize(f"{ref.provider}:{ref.model}", exc.retry_after, now)
        p.health_of(ref.provider).failed(p.clock.wall(), E.error_class(exc))
        state.attempts.append(
            E.Attempt(ref.provider, ref.model, E.error_class(exc), _short(exc.message), duration * 1000.0)
        )
        log.info("attempt failed: %s %s: %s", ref, E.error_class(exc), _short(exc.message))

    def _interrupted(self, exc: E.EngineError, state: _State) -> E.StreamInterrupted:
        provider = getattr(exc, "provider", "")
        return E.StreamInterrupted(
            f"the stream broke after {len(state.partial):,} characters: {_short(exc.message)}",
            partial=state.partial,
            provider=provider,
        )

    def _cost(self, completion: Completion, asked: ModelInfo) -> tuple[float, str]:
        """USD of a finished call and where the number comes from: what the provider reported ("provider": the
        body's ``usage.cost`` or a cost header), else the catalog price of the model that *answered* ("catalog"),
        else "unknown" (counted as $0, shown as unknown). A model id the catalog does not list that extends the
        asked one (a dated snapshot, "gpt-4o" -> "gpt-4o-2024-08-06") is priced as the asked model."""
        u = completion.usage
        if u.cost is not None:
            return u.cost, "provider"
        answered = asked
        if completion.model != asked.id:
            found = self.parts.catalog.find(completion.model, asked.provider) or self.parts.catalog.find(
                completion.model
            )
            answered = found if found is not None else asked
            if found is None and not completion.model.startswith(asked.id.split(":", 1)[0]):
                return 0.0, "unknown"
        if not answered.price_known:
            return 0.0, "unknown"
        return answered.cost(u.prompt_tokens, u.completion_tokens), "catalog"

    async def _shrink(
        self, request: ChatRequest, exc: E.ContextRejected, info: ModelInfo, state: _State
    ) -> ChatRequest:
        """``request`` compressed to fit the window the server just stated (a quarter smaller when it stated
        none); raises ``exc`` when compression is off or cannot help."""
        p = self.parts
        state.shrunk = True
        if p.settings.context.strategy == "off":
            raise exc
        output = min(request.max_tokens, info.max_output) if info.max_output else request.max_tokens
        window = exc.limit if exc.limit else int((state.prompt_tokens + output) * 0.75)
        try:
            fitted, tokens, report = await compress_into(request, window - output, p.counter, p.settings.context)
        except E.ContextTooLong:
            raise exc from None
        state.prompt_tokens, state.compression = tokens, report
        log.info("%s refused %s tokens; compressed to %s and retrying", info.id, report.tokens_before, tokens)
        return fitted

    async def _finish_ok(
        self,
        request: ChatRequest,
        decision: RouteDecision,
        state: _State,
        completion: Completion,
        cost: float,
        cost_source: str,
    ) -> EngineResponse:
        p = self.parts
        latency = p.clock.now() - state.started
        ttft = state.ttft_s if state.ttft_s is not None else completion.ttft_s
        usage = completion.usage
        if usage.prompt_tokens and state.compression is None and not request.tools and not request.has_media:
            # Tool definitions and media are estimates of their own: they would skew the text calibration.
            p.counter.observe(completion.model, state.prompt_tokens, usage.prompt_tokens)
        p.metrics.record(
            RequestEvent(
                p.clock.now(),
                p.clock.wall(),
                completion.provider,
                completion.model,
                "ok",
                latency,
                ttft,
                usage.prompt_tokens,
                usage.completion_tokens,
                cost,
                request.task_class,
                failed_calls(_calls(state.attempts)),
            )
        )
        await self._store(
            RequestRecord(
                id=state.request_id,
                ts=p.clock.wall(),
                provider=completion.provider,
                model=completion.model,
                preference=decision.preference.value,
                status="ok",
                latency_ms=latency * 1000.0,
                ttft_ms=None if ttft is None else ttft * 1000.0,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost_usd=cost,
                cost_source=cost_source,
                simulated=completion.simulated,
                prompt=state.prompt_text or _prompt_text(request),
                answer=completion.content,
                attempts=[_attempt_dict(a) for a in state.attempts],
                task_class=request.task_class,
                stream=state.ttft_s is not None,
                compression=report_dict(state.compression),
                detail=request_detail(request, completion),
            )
        )
        return EngineResponse(
            request_id=state.request_id,
            content=completion.content,
            provider=completion.provider,
            model=completion.model,
            usage=usage,
            cost_usd=cost,
            latency_ms=latency * 1000.0,
            ttft_ms=None if ttft is None else ttft * 1000.0,
            finish_reason=completion.finish_reason,
            route=decision,
            attempts=tuple(state.attempts),
            prompt_tokens_estimated=state.prompt_tokens,
            compression=state.compression,
            tool_calls=completion.tool_calls,
            refusal=completion.refusal,
            reasoning=completion.reasoning,
            reasoning_details=completion.reasoning_details,
            logprobs=completion.logprobs,
            message_extra=completion.message_extra,
            simulated=completion.simulated,
            cost_source=cost_source,
        )

    async def _finish_failed(
        self, request: ChatRequest, preference: Preference, state: _State, exc: E.EngineError
    ) -> None:
        p = self.parts
        latency = p.clock.now() - state.started
        # The attempt in flight (a Stop lands there) is not in the list yet: name it rather than nothing.
        last = state.current or (
            ModelRef(state.attempts[-1].provider, state.attempts[-1].model) if state.attempts else None
        )
        provider = last.provider if last else ""
        model = last.model if last else (request.model or "")
        p.metrics.record(
            RequestEvent(
                p.clock.now(),
                p.clock.wall(),
                provider,
                model,
                E.error_class(exc),
                latency,
                state.ttft_s,
                0,
                0,
                0.0,
                request.task_class,
                failed_calls(_calls(state.attempts[:-1])),
            )
        )
        await self._store(
            RequestRecord(
                id=state.request_id,
                ts=p.clock.wall(),
                provider=provider,
                model=model,
                preference=preference.value,
                status=E.error_class(exc),
                latency_ms=latency * 1000.0,
                ttft_ms=None if state.ttft_s is None else state.ttft_s * 1000.0,
                prompt_tokens=0,
                completion_tokens=0,
                cost_usd=0.0,
                prompt=state.prompt_text or _prompt_text(request),
                answer=state.partial,
                attempts=[_attempt_dict(a) for a in state.attempts] + [{"error": _short(str(exc), 500)}],
                task_class=request.task_class,
                stream=state.ttft_s is not None,
                detail=request_detail(request),
            )
        )

    async def _store(self, record: RequestRecord) -> None:
        """Commit the finished request (after raising any alert its outcome caused: budgets, trends)."""
        self.parts.alerts.check(self.parts.clock.now(), self.parts.clock.wall())
        try:
            # If the caller is cancelled while waiting, the row is still committed by the store's writer.
            await self.parts.store.record_request(record)
        except E.StorageError as exc:
            # The answer is still returned to the caller; losing the history row is reported, not fatal.
            log.error("could not store request %s: %s", record.id, exc)


def _provider_call(request: ChatRequest, ref: ModelRef) -> ProviderCall:
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


def _unknown_price(model: str, policy: str, left: float | None) -> E.BudgetExceeded | None:
    """The refusal of a model whose price is unknown while a cap is set (None when the policy lets it through)."""
    if policy == "allow" and (left is None or left > 0):
        return None
    if policy == "allow":
        return E.BudgetExceeded(
            f"the budget is used up, and {model}'s price is unknown", cap="budget", left=0.0, needed=0.0
        )
    return E.BudgetExceeded(
        f"{model}'s price is unknown and a budget cap is set, so its cost could not be held to the cap",
        cap="unknown price",
        left=left or 0.0,
        needed=0.0,
        hint=(
            "give its provider a price (price_in_per_m / price_out_per_m, 0 for your own server), or set "
            'budget.unknown_cost = "allow" to let it run (the cost the server reports is still counted)'
        ),
    )


def last_error_is_routing(exc: E.EngineError) -> bool:
    """Errors that describe routing state rather than one provider's failure are wrapped in NoRouteAvailable."""
    return isinstance(exc, E.CircuitOpen)


def _calls(attempts: list[E.Attempt]) -> list[Call]:
    return [(a.provider, a.model, a.outcome, a.latency_ms / 1000.0) for a in attempts]


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prompt_text(request: ChatRequest) -> str:
    return "\n\n".join(m.text for m in request.messages if m.role == "user")


def _attempt_dict(a: E.Attempt) -> dict[str, object]:
    return {
        "provider": a.provider,
        "model": a.model,
        "outcome": a.outcome,
        "detail": a.detail,
        "latency_ms": round(a.latency_ms, 2),
    }
