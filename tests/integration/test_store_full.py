"""A full disk under a budget cap: paid requests are refused (a typed error that says why) instead of answered
unrecorded, and nothing that was answered is lost: it is kept, saved beside the database at close, and written at
the next open, where the ledger counts it.

The disk fills mid-run the way SQLite reports a full disk: ``PRAGMA max_page_count`` caps the database at the
pages it has (a small tmpfs is not available here), on the store's own connection (a per-connection setting, so
the next open has room again, like a disk someone cleaned up)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from autodevai.adapters import unstored
from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.compose import App
from autodevai.engine import errors as E
from autodevai.engine.types import ChatRequest
from tests.integration.conftest import MINI, MakeEngine

PADDING = "Context that makes this request's row too big for the space left. " * 60


async def _fill_disk(app: App) -> None:
    """Let the database grow no further (what a full disk does to SQLite: SQLITE_FULL on the next new page)."""
    store: Any = app.engine._parts.store  # the test reaches the store's own connection to simulate the hardware

    def cap(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    await store._writer.read(cap)


def _ask(i: int) -> ChatRequest:
    return ChatRequest.from_prompt(f"{PADDING}\nWhat is {i}+{i}?", model=MINI, fallbacks=[], max_tokens=32)


async def test_full_disk_under_a_cap_refuses_paid_requests_and_loses_nothing_answered(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    app = await make_engine(budget={"total_usd": 1.0})
    engine = app.engine
    before = [await engine.execute_enhanced_ai_request(_ask(i)) for i in range(3)]

    await _fill_disk(app)
    outcomes = await asyncio.gather(
        *(engine.execute_enhanced_ai_request(_ask(i)) for i in range(10, 40)), return_exceptions=True
    )
    # In flight when the disk filled: answered (the provider was paid), every one of them kept.
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    assert answered, outcomes
    assert all(not isinstance(o, BaseException) or isinstance(o, E.StorageError) for o in outcomes), outcomes

    # The store cannot record spending now: paid requests are refused, and the error says why.
    later = await asyncio.gather(
        *(engine.execute_enhanced_ai_request(_ask(i)) for i in range(90, 95)), return_exceptions=True
    )
    assert all(isinstance(o, E.StorageError) and o.environment for o in later), later
    assert "paid requests are refused" in str(later[0])
    status = await engine.get_enhanced_system_status()
    spent_live = status.budget.spent["total"]
    await app.aclose()  # what is still unwritten is saved beside the database
    assert unstored.sidecar(tmp_path / "engine.db").exists()

    # The next open (the disk has room again) writes them; every answered request is there, and counted.
    store = await SqliteStore.open(tmp_path / "engine.db")
    try:
        rows = {r.id: r for r in await store.recent_requests(1000)}
        _today, _month, spent_total = await store.spent_totals(rows[before[0].request_id].ts)
        assert await store.verify_audit() >= 1
    finally:
        await store.close()
    assert not unstored.sidecar(tmp_path / "engine.db").exists()
    for response in [*before, *answered]:
        assert response.request_id in rows, "an answered request was lost"
        assert rows[response.request_id].cost_usd == response.cost_usd
    paid = sum(r.cost_usd for r in [*before, *answered])
    assert abs(spent_total - paid) < 1e-9  # the ledger remembers what the full disk could not take at the time
    assert abs(spent_live - paid) < 1e-9  # and the running engine counted it all along
    refused_rows = [r for r in rows.values() if r.status == "StorageError"]
    assert refused_rows, "the refused requests are in the history too"
