"""An in-memory ``Store`` for engine unit tests: rows live in lists, every write "commits" at once.

It keeps exactly what the port promises (typed rows back from ``recent_events`` without their texts, spend
totals, outcomes, an audit list) and nothing of SQLite; ``tests/integration/test_store.py`` covers the real one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autodevai.engine.budget import to_nano
from autodevai.engine.ports import RequestRecord, SpendHold, SpendTotals

__all__ = ["MemoryStore"]


class MemoryStore:
    """The ``Store`` port in memory. ``requests`` holds every recorded row, oldest first."""

    def __init__(self) -> None:
        self.requests: list[RequestRecord] = []
        self.audit: list[tuple[str, dict[str, Any]]] = []
        self.catalog: list[dict[str, Any]] | None = None
        self.calibration: dict[str, float] = {}
        self.outcomes: dict[tuple[str, str], list[float]] = {}
        self.holds: dict[str, int] = {}  # open budget holds, nano-dollars
        self.catalog_saved: float | None = None
        self.closed = False

    @property
    def path(self) -> Path:
        return Path(":memory:")

    async def record_request(self, rec: RequestRecord) -> None:
        self.requests.append(rec)
        for hold in rec.holds:
            self.holds.pop(hold, None)

    async def reserve_spend(
        self, hold: SpendHold, check: Callable[[SpendTotals], None], release: tuple[str, ...] = ()
    ) -> SpendTotals:
        for given_back in release:
            self.holds.pop(given_back, None)
        spent = sum(to_nano(r.cost_usd) for r in self.requests if r.cost_usd > 0)
        held = sum(self.holds.values())
        counted = SpendTotals(spent, spent, spent, held, held)
        check(counted)
        self.holds[hold.id] = to_nano(hold.amount_usd)
        return counted

    async def recent_requests(self, limit: int = 50, query: str | None = None) -> list[RequestRecord]:
        rows = [r for r in reversed(self.requests) if not query or query in r.prompt + r.answer + r.model]
        return rows[:limit]

    async def spent_since(self, since_ts: float) -> float:
        return sum(r.cost_usd for r in self.requests if r.ts >= since_ts)

    async def spent_totals(self, now_wall: float) -> tuple[float, float, float]:
        total = sum(r.cost_usd for r in self.requests)
        return total, total, total

    async def count_requests(self) -> int:
        return len(self.requests)

    async def recent_events(self, since_wall: float) -> list[RequestRecord]:
        return [
            dataclasses.replace(r, prompt="", answer="", compression=None, detail=None)
            for r in self.requests
            if r.ts >= since_wall
        ]

    async def append_audit(self, event: str, payload: Mapping[str, Any]) -> None:
        self.audit.append((event, dict(payload)))

    async def verify_audit(self) -> int:
        return len(self.audit)

    async def load_catalog(self) -> list[dict[str, Any]] | None:
        return self.catalog

    async def save_catalog(self, models: list[dict[str, Any]]) -> None:
        self.catalog = models

    async def catalog_fetched_at(self) -> float | None:
        return self.catalog_saved

    async def load_calibration(self) -> dict[str, float]:
        return dict(self.calibration)

    async def save_calibration(self, model: str, factor: float) -> None:
        self.calibration[model] = factor

    async def record_outcome(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        row = self.outcomes.setdefault((task_class, model), [0.0, 0.0, 0.0, 0])
        row[0 if success else 1] += 1
        row[2] += cost_usd
        row[3] += 1

    async def load_outcomes(self) -> list[tuple[str, str, float, float, float, int]]:
        return [(t, m, s, f, c, int(n)) for (t, m), (s, f, c, n) in sorted(self.outcomes.items())]

    async def integrity_check(self) -> str:
        return "ok"

    async def close(self) -> None:
        self.closed = True
