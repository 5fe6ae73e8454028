"""One typed record per finished request: the metrics event and the stored row both come from it, and a stored row
turns back into the same event in a later process."""

from __future__ import annotations

import dataclasses

import pytest

from autodevai.engine.errors import Attempt, Cancelled, ProviderUnavailable
from autodevai.engine.events import RequestEvent
from autodevai.engine.outcome import (
    FinishedRequest,
    RequestState,
    finished_failed,
    finished_ok,
    stored_event,
)
from autodevai.engine.types import ChatRequest, Completion, ModelRef, Usage

REQUEST = ChatRequest.from_prompt("What is 12*12?", max_tokens=32, task_class="math")
ATTEMPTS = [
    Attempt("sim", "a/first", "ProviderUnavailable", "503", 120.0),
    Attempt("sim", "a/open", "CircuitOpen", "retry in 3.0 s"),  # never reached a provider: not a call
    Attempt("sim", "a/local", "RateLimited", "local limit"),  # a local wait, no latency: not a call
]


def state(**kw: object) -> RequestState:
    s = RequestState("r1", started=10.0, deadline=70.0, prompt_tokens=12, attempts=list(ATTEMPTS))
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def completion(**kw: object) -> Completion:
    fields: dict[str, object] = {
        "provider": "sim",
        "model": "b/answered",
        "content": "144",
        "finish_reason": "stop",
        "usage": Usage(prompt_tokens=14, completion_tokens=2, total_tokens=16),
    }
    fields.update(kw)
    return Completion(**fields)  # type: ignore[arg-type]


def test_an_answer_is_one_record_from_which_event_and_row_derive() -> None:
    s = state(ttft_s=0.25)
    s.attempts.append(Attempt("sim", "b/answered", "ok", latency_ms=300.0))
    done = finished_ok(s, REQUEST, "balanced", completion(), (0.002, "catalog"), now=11.5, wall=1_700_000_000.0)
    assert done.event() == RequestEvent(
        now=11.5,
        wall=1_700_000_000.0,
        provider="sim",
        model="b/answered",
        outcome="ok",
        latency_s=1.5,
        ttft_s=0.25,
        prompt_tokens=14,
        completion_tokens=2,
        cost_usd=0.002,
        task_class="math",
        attempts=(("sim", "a/first", "ProviderUnavailable", 0.12),),  # the failure a fallback recovered
    )
    row = done.record()
    assert (row.id, row.ts, row.status, row.provider, row.model) == ("r1", 1_700_000_000.0, "ok", "sim", "b/answered")
    assert (row.latency_ms, row.ttft_ms, row.cost_usd, row.cost_source) == (1500.0, 250.0, 0.002, "catalog")
    assert (row.prompt, row.answer, row.stream, row.preference) == ("What is 12*12?", "144", True, "balanced")
    assert [a["outcome"] for a in row.attempts] == ["ProviderUnavailable", "CircuitOpen", "RateLimited", "ok"]


def test_a_failure_names_the_model_in_flight_and_stores_the_error_after_the_attempts() -> None:
    s = state(current=ModelRef("sim", "c/streaming"), partial="14", ttft_s=0.5)
    done = finished_failed(s, REQUEST, "cost", Cancelled("the request was cancelled"), now=13.0, wall=1_700_000_002.0)
    assert (done.provider, done.model, done.status, done.answer) == ("sim", "c/streaming", "Cancelled", "14")
    event = done.event()
    assert (event.outcome, event.latency_s, event.cost_usd, event.prompt_tokens) == ("Cancelled", 3.0, 0.0, 0)
    # The last attempt is the request's own outcome, counted once as the request, not again per model.
    assert event.attempts == (("sim", "a/first", "ProviderUnavailable", 0.12),)
    row = done.record()
    assert row.attempts[-1] == {"error": "the request was cancelled — " + Cancelled.hint}
    assert len(row.attempts) == len(ATTEMPTS) + 1 and row.preference == "cost"


def test_a_failure_before_any_attempt_counts_overall_only() -> None:
    s = RequestState("r2", started=0.0, deadline=60.0, prompt_tokens=3, attempts=[])
    done = finished_failed(s, REQUEST, "balanced", ProviderUnavailable("down", provider="sim"), now=0.1, wall=5.0)
    assert (done.provider, done.model, done.event().attempts) == ("", "", ())


@pytest.mark.parametrize("status", ["ok", "ProviderUnavailable"])
def test_a_stored_row_becomes_the_same_event_in_a_later_process(status: str) -> None:
    done = FinishedRequest(
        id="r3",
        now=50.0,
        wall=1_700_000_050.0,
        provider="sim",
        model="b/answered",
        preference="balanced",
        status=status,
        latency_s=0.75,
        ttft_s=0.125,
        prompt_tokens=14,
        completion_tokens=2,
        cost_usd=0.002,
        task_class="math",
        attempts=(*ATTEMPTS, Attempt("sim", "b/answered", status, latency_ms=630.0)),
        error=None if status == "ok" else "down",
    )
    # Stored latencies are milliseconds: read back they are the same numbers.
    assert stored_event(done.record(), at=50.0) == done.event()
    # A later process places the row by its age on its own clock.
    assert stored_event(done.record(), at=7.0) == dataclasses.replace(done.event(), now=7.0)
