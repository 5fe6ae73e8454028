"""What metrics sinks receive: one frozen ``RequestEvent`` per finished request, and the ``MetricsSink`` port.

Events follow stamina's instrumentation data (``hynek/stamina: src/stamina/instrumentation/_data.py``): plain frozen
values built by keyword, fed to every sink (the in-memory windows, the GUI, the log). They are derived from the one
typed record of a finished request (``engine/outcome.py``), never assembled field by field elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CANCELLED", "NOT_A_CALL", "Call", "MetricsSink", "RequestEvent", "failed_calls"]

CANCELLED = "Cancelled"  # the outcome of a request the user stopped: not a failure
# Attempts that never reached a provider, or whose end says nothing of the model (a hedge's loser, cancelled by us).
NOT_A_CALL = frozenset({"CircuitOpen", "skipped", "BudgetExceeded", "hedged"})

Call = tuple[str, str, str, float]  # provider, model, outcome, latency seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEvent:
    """One finished request, success or failure, as the orchestrator reports it."""

    now: float  # monotonic seconds (engine clock)
    wall: float  # epoch seconds
    provider: str
    model: str
    outcome: str  # "ok" or an error class name, e.g. "ProviderUnavailable"
    latency_s: float
    ttft_s: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    task_class: str | None = None
    # Attempts on other models that failed before the one that ended the request: (provider, model, outcome,
    # latency seconds). Counted in those models' rows, not overall.
    attempts: tuple[Call, ...] = ()
    hedged: bool = False  # a second model raced the first (hedging)


def failed_calls(attempts: Iterable[Call]) -> tuple[Call, ...]:
    """The attempts that reached a provider and failed (a local rate-limit wait has no latency: not a call)."""
    return tuple(a for a in attempts if a[2] != "ok" and a[2] not in NOT_A_CALL and a[3] > 0)


class MetricsSink(Protocol):
    def record(self, event: RequestEvent) -> None: ...
