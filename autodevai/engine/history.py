"""What a new process learns from the requests the last ones stored: warm metrics windows, breaker states and
provider health, so a CLI call or a restarted app sees the same picture (a model that kept failing stays open).

Stored rows come back as typed ``RequestRecord`` values (``Store.recent_events``); their metrics events are derived
with ``outcome.stored_event``, the same rule a live request's event follows, and attempts are counted against
breakers by the breaker's own rule (``breaker.outcome_counts_as_failure``).
"""

from __future__ import annotations

from collections.abc import Sequence

from autodevai.engine import constants as C
from autodevai.engine.breaker import outcome_counts_as_failure
from autodevai.engine.events import NOT_A_CALL
from autodevai.engine.outcome import stored_event
from autodevai.engine.ports import RequestRecord
from autodevai.engine.runtime import Components

__all__ = ["replay_attempts", "warm_from_store"]


async def warm_from_store(parts: Components) -> None:
    """Load the last 24 hours of stored requests into breakers, provider health and the metrics windows."""
    now, wall = parts.clock.now(), parts.clock.wall()
    records = await parts.store.recent_events(wall - C.WINDOWS["24h"])
    replay_attempts(parts, records, now, wall)
    parts.metrics.load_history(stored_event(rec, now - (wall - rec.ts)) for rec in records)


def replay_attempts(parts: Components, records: Sequence[RequestRecord], now: float, wall: float) -> None:
    """Rebuild breaker states and provider health from the attempts of ``records`` (oldest first), each placed on
    the engine clock by its age (``now`` and ``wall`` are the current readings of both clocks)."""
    for rec in records:
        at = now - (wall - rec.ts)
        for attempt in rec.attempts:
            provider, model, outcome = attempt.get("provider"), attempt.get("model"), attempt.get("outcome")
            if provider not in parts.providers or not model or not isinstance(outcome, str) or outcome in NOT_A_CALL:
                continue
            duration = float(attempt.get("latency_ms") or 0.0) / 1000.0
            breaker = parts.breakers.get(provider, model)
            health = parts.health_of(provider)
            if outcome == "ok":
                health.ok(rec.ts)
                if breaker.allow(at):
                    breaker.on_success(at, duration)
            else:
                health.failed(rec.ts, outcome)
                if outcome_counts_as_failure(outcome) and breaker.allow(at):
                    breaker.on_failure(at, duration)
