"""One typed record per finished request, and where it goes.

``RequestState`` is the book-keeping of a request across its attempts. When the request ends (an answer, an error,
a cancel) it becomes ONE frozen ``FinishedRequest``; the metrics event (``FinishedRequest.event``) and the stored
row (``FinishedRequest.record``) are both derived from it, never assembled twice (DESIGN.md §9). ``publish`` sends
it down the one path every finished request takes: the metrics windows and their sinks (GUI, log), the alerts it
may raise, then the store, which has committed the row when ``publish`` returns (so before the caller hears the
request finished). The caller's ``EngineResponse`` is read from the same record (``answer_of``). A process that
starts later turns stored rows back into events with ``stored_event``, by the same attempt rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autodevai.engine.detail import request_detail
from autodevai.engine.errors import Attempt, EngineError, StorageError, error_class
from autodevai.engine.events import Call, RequestEvent, failed_calls
from autodevai.engine.fitting import report_dict
from autodevai.engine.ports import RequestRecord
from autodevai.engine.types import ChatRequest, Completion, EngineResponse, ModelInfo, ModelRef, RouteDecision

if TYPE_CHECKING:
    from autodevai.engine.catalog import Catalog
    from autodevai.engine.compression import CompressionReport
    from autodevai.engine.runtime import Components

__all__ = [
    "FinishedRequest",
    "RequestState",
    "answer_cost",
    "answer_of",
    "attempt_dict",
    "finished_failed",
    "finished_ok",
    "prompt_text",
    "publish",
    "short",
    "stored_event",
    "was_hedged",
]

log = logging.getLogger("autodevai.engine")


@dataclass(slots=True)
class RequestState:
    """Book-keeping of one request across its attempts."""

    request_id: str
    started: float
    deadline: float
    prompt_tokens: int
    attempts: list[Attempt]
    partial: str = ""
    delivered: bool = False  # a stream delta reached the caller: no silent fallback from here on
    finished: bool = False  # the final response was recorded and handed over
    compression: CompressionReport | None = None
    prompt_text: str = ""
    ttft_s: float | None = None
    shrunk: bool = False  # compressed once after a server refused the prompt as too long
    current: ModelRef | None = None  # the model of the attempt under way (or the last one made)
    holds: list[str] = field(default_factory=list)  # budget holds in the shared store (its row drops them)
    released: list[str] = field(default_factory=list)  # holds given back, dropped with the next one taken
    hedged: bool = False  # a second model was started beside the first (hedging)
    extra_cost: float = 0.0  # what a hedge's loser cost, added to the answer's


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedRequest:
    """A finished request, whatever its outcome: everything metrics and the store learn of it, exact (seconds)."""

    id: str
    now: float  # engine monotonic seconds when it finished
    wall: float  # epoch seconds when it finished
    provider: str  # the model that answered, or the one whose attempt ended the request ("" if none was tried)
    model: str
    preference: str
    status: str  # "ok" or the error class name
    latency_s: float
    ttft_s: float | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_source: str = "provider"
    simulated: bool = False
    task_class: str | None = None
    stream: bool = False
    prompt: str = ""
    answer: str = ""  # the answer, or the partial answer a broken stream left
    attempts: tuple[Attempt, ...] = ()
    error: str | None = None  # what ended a failed request, stored after its attempts
    compression: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] | None = None
    holds: tuple[str, ...] = ()  # budget holds in the shared store that this request's row settles
    hedged: bool = False

    def event(self) -> RequestEvent:
        """The metrics event: the request's own outcome, plus the failed calls to other models before it."""
        # A failed request's last attempt is its own outcome, counted once as the request.
        tried = self.attempts if self.status == "ok" else self.attempts[:-1]
        return RequestEvent(
            now=self.now,
            wall=self.wall,
            provider=self.provider,
            model=self.model,
            outcome=self.status,
            latency_s=self.latency_s,
            ttft_s=self.ttft_s,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            task_class=self.task_class,
            attempts=failed_calls((a.provider, a.model, a.outcome, a.latency_ms / 1000.0) for a in tried),
            hedged=self.hedged,
        )

    def record(self) -> RequestRecord:
        """The row the store keeps (milliseconds; the error, if any, after the attempts)."""
        attempts: list[Mapping[str, Any]] = [attempt_dict(a) for a in self.attempts]
        if self.error is not None:
            attempts.append({"error": self.error})
        return RequestRecord(
            id=self.id,
            ts=self.wall,
            provider=self.provider,
            model=self.model,
            preference=self.preference,
            status=self.status,
            latency_ms=self.latency_s * 1000.0,
            ttft_ms=None if self.ttft_s is None else self.ttft_s * 1000.0,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            prompt=self.prompt,
            answer=self.answer,
            attempts=attempts,
            task_class=self.task_class,
            stream=self.stream,
            compression=self.compression,
            detail=self.detail,
            cost_source=self.cost_source,
            simulated=self.simulated,
            holds=self.holds,
        )


def finished_ok(
    state: RequestState,
    request: ChatRequest,
    preference: str,
    completion: Completion,
    cost: tuple[float, str],
    now: float,
    wall: float,
) -> FinishedRequest:
    """The record of a request ``completion`` answered, at ``cost`` (USD and where the number comes from)."""
    usage = completion.usage
    return FinishedRequest(
        id=state.request_id,
        now=now,
        wall=wall,
        provider=completion.provider,
        model=completion.model,
        preference=preference,
        status="ok",
        latency_s=now - state.started,
        ttft_s=state.ttft_s if state.ttft_s is not None else completion.ttft_s,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=cost[0] + state.extra_cost,
        cost_source=cost[1],
        simulated=completion.simulated,
        task_class=request.task_class,
        stream=state.ttft_s is not None,
        prompt=state.prompt_text or prompt_text(request),
        answer=completion.content,
        attempts=tuple(state.attempts),
        compression=report_dict(state.compression),
        detail=request_detail(request, completion),
        holds=tuple(state.holds),
        hedged=state.hedged,
    )


def finished_failed(
    state: RequestState, request: ChatRequest, preference: str, exc: EngineError, now: float, wall: float
) -> FinishedRequest:
    """The record of a request that ended with ``exc`` (a cancel included): nothing billed, the partial answer
    kept, named after the model of the attempt in flight (a Stop lands there) or else the last one tried."""
    last = state.current or (
        ModelRef(state.attempts[-1].provider, state.attempts[-1].model) if state.attempts else None
    )
    return FinishedRequest(
        id=state.request_id,
        now=now,
        wall=wall,
        provider=last.provider if last else "",
        model=last.model if last else (request.model or ""),
        preference=preference,
        status=error_class(exc),
        latency_s=now - state.started,
        ttft_s=state.ttft_s,
        task_class=request.task_class,
        stream=state.ttft_s is not None,
        prompt=state.prompt_text or prompt_text(request),
        answer=state.partial,
        cost_usd=state.extra_cost,
        attempts=tuple(state.attempts),
        error=short(str(exc), 500),
        detail=request_detail(request),
        holds=tuple(state.holds),
        hedged=state.hedged,
    )


def answer_of(
    done: FinishedRequest, completion: Completion, decision: RouteDecision, state: RequestState
) -> EngineResponse:
    """What the caller gets for the answered request ``done``: the completion's content and parts, with the
    latency, cost and route the record holds."""
    return EngineResponse(
        request_id=done.id,
        content=completion.content,
        provider=completion.provider,
        model=completion.model,
        usage=completion.usage,
        cost_usd=done.cost_usd,
        latency_ms=done.latency_s * 1000.0,
        ttft_ms=None if done.ttft_s is None else done.ttft_s * 1000.0,
        finish_reason=completion.finish_reason,
        route=decision,
        attempts=done.attempts,
        prompt_tokens_estimated=state.prompt_tokens,
        compression=state.compression,
        tool_calls=completion.tool_calls,
        refusal=completion.refusal,
        reasoning=completion.reasoning,
        reasoning_details=completion.reasoning_details,
        logprobs=completion.logprobs,
        message_extra=completion.message_extra,
        simulated=completion.simulated,
        cost_source=done.cost_source,
        hedged=done.hedged,
        hedge_cost_usd=state.extra_cost,
    )


async def publish(parts: Components, finished: FinishedRequest) -> None:
    """Send ``finished`` down the path of every finished request: metrics (and their sinks), the alerts its outcome
    raises (budgets, trends), then the store; returns once the row is committed. A store that fails is logged:
    the caller still gets its answer."""
    clock = parts.clock
    parts.metrics.record(finished.event())
    parts.alerts.check(clock.now(), clock.wall())
    try:
        # If the caller is cancelled while waiting, the row is still committed by the store's writer.
        await parts.store.record_request(finished.record())
    except StorageError as exc:
        log.error("could not store request %s: %s", finished.id, exc)


def stored_event(record: RequestRecord, at: float) -> RequestEvent:
    """The metrics event of a stored request, placed at ``at`` on the current engine clock (warming a new process)."""
    return RequestEvent(
        now=at,
        wall=record.ts,
        provider=record.provider,
        model=record.model,
        outcome=record.status,
        latency_s=record.latency_ms / 1000.0,
        ttft_s=None if record.ttft_ms is None else record.ttft_ms / 1000.0,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        cost_usd=record.cost_usd,
        task_class=record.task_class,
        attempts=_recovered(record.attempts, record.status == "ok"),
        hedged=was_hedged(record.attempts),
    )


def was_hedged(attempts: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a stored request was hedged, read from its stored attempts: a call lost the race (its outcome is
    "hedged", ``hedged_call._book_losers``) or the answer won one (the ok attempt's note is "hedged",
    ``execution.py``)."""
    return any(
        isinstance(a, Mapping)
        and (a.get("outcome") == "hedged" or (a.get("outcome") == "ok" and a.get("detail") == "hedged"))
        for a in attempts
    )


def _recovered(attempts: Sequence[Mapping[str, Any]], ok: bool) -> tuple[Call, ...]:
    """The failed calls a stored request made before the attempt that ended it (``FinishedRequest.event``'s rule
    over stored attempts, where the entries without a model are notes such as the error)."""
    calls = [
        (a["provider"], a["model"], a.get("outcome", ""), float(a.get("latency_ms") or 0.0) / 1000.0)
        for a in attempts
        if isinstance(a, Mapping) and a.get("provider") and a.get("model")
    ]
    return failed_calls(calls if ok else calls[:-1])


def answer_cost(completion: Completion, asked: ModelInfo, catalog: Catalog) -> tuple[float, str]:
    """USD of a finished call and where the number comes from: what the provider reported ("provider": the
    body's ``usage.cost`` or a cost header), else the catalog price of the model that *answered* ("catalog"),
    else "unknown" (counted as $0, shown as unknown). A model id the catalog does not list that extends the
    asked one (a dated snapshot, "gpt-4o" -> "gpt-4o-2024-08-06") is priced as the asked model."""
    u = completion.usage
    if u.cost is not None:
        return u.cost, "provider"
    answered = asked
    if completion.model != asked.id:
        found = catalog.find(completion.model, asked.provider) or catalog.find(completion.model)
        answered = found if found is not None else asked
        if found is None and not completion.model.startswith(asked.id.split(":", 1)[0]):
            return 0.0, "unknown"
    if not answered.price_known:
        return 0.0, "unknown"
    return answered.cost(u.prompt_tokens, u.completion_tokens), "catalog"


def attempt_dict(a: Attempt) -> dict[str, object]:
    """An attempt as the store keeps it."""
    return {
        "provider": a.provider,
        "model": a.model,
        "outcome": a.outcome,
        "detail": a.detail,
        "latency_ms": round(a.latency_ms, 2),
    }


def prompt_text(request: ChatRequest) -> str:
    """What the user wrote: the text of the request's user messages."""
    return "\n\n".join(m.text for m in request.messages if m.role == "user")


def short(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
