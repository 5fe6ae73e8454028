"""Budget holds in the shared store: every store on one file sees the others' holds and spending, a request's row
replaces its hold in one transaction, and the holds of a process that crashed lapse (expired, or dropped at once
when its process is gone)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.engine.budget import Caps, check_caps, to_nano
from autodevai.engine.errors import BudgetExceeded
from autodevai.engine.ports import RequestRecord, SpendHold, SpendTotals

WALL = 1_700_000_000.0
CAPS = Caps(total=to_nano(0.002))


def _check(amount: float):  # type: ignore[no-untyped-def]
    def check(counted: SpendTotals) -> None:
        check_caps(CAPS, amount, (counted.today, counted.month, counted.total), counted.held)

    return check


def _row(rid: str, cost: float, holds: tuple[str, ...]) -> RequestRecord:
    return RequestRecord(
        id=rid, ts=WALL, provider="p", model="m", preference="balanced", status="ok", latency_ms=1.0, ttft_ms=None,
        prompt_tokens=1, completion_tokens=1, cost_usd=cost, holds=holds,
    )  # fmt: skip


async def test_stores_on_one_file_share_holds_and_spending(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    a, b = await SqliteStore.open(db), await SqliteStore.open(db)
    try:
        await a.reserve_spend(SpendHold("h1", 0.0015, WALL, WALL + 60), _check(0.0015))
        with pytest.raises(BudgetExceeded, match="total budget"):
            await b.reserve_spend(SpendHold("h2", 0.001, WALL, WALL + 60), _check(0.001))
        await a.record_request(_row("r1", 0.0004, ("h1",)))  # the answer cost less than its hold
        counted = await b.reserve_spend(SpendHold("h3", 0.001, WALL, WALL + 60), _check(0.001))
        assert (counted.total, counted.held) == (to_nano(0.0004), 0)
        assert (await a.spent_totals(WALL))[2] == pytest.approx(0.0004)
    finally:
        await a.close()
        await b.close()


async def test_a_crashed_processes_holds_expire_or_are_dropped(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    store = await SqliteStore.open(db)
    try:
        await store.reserve_spend(SpendHold("h1", 0.0019, WALL, WALL + 10), _check(0.0019))
        with pytest.raises(BudgetExceeded):
            await store.reserve_spend(SpendHold("h2", 0.001, WALL + 5, WALL + 60), _check(0.001))
        await store.reserve_spend(SpendHold("h3", 0.001, WALL + 11, WALL + 60), _check(0.001))  # h1 expired
    finally:
        await store.close()
    raw = sqlite3.connect(db)
    dead = f"{socket.gethostname()}:{2**22 + 12345}:cafe"  # a pid above any pid_max: no such process
    raw.execute(
        "INSERT INTO reservations (id, owner, amount_nano, created, expires, day) VALUES ('h9', ?, ?, ?, ?, 0)",
        (dead, to_nano(0.0019), WALL, WALL + 10_000),
    )
    raw.commit()
    raw.close()
    store = await SqliteStore.open(db)  # opening drops the holds of processes that are gone
    try:
        counted = await store.reserve_spend(SpendHold("h4", 0.0005, WALL + 12, WALL + 60), _check(0.0005))
        assert counted.held == to_nano(0.001)  # h3 (its owner, this process, lives on) but not h9
    finally:
        await store.close()
