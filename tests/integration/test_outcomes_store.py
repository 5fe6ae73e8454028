"""Workflow outcomes in the SQLite store: migration v3, upserted counts, concurrent writes, restarts, the bandit."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from autodevai.adapters.migrations import MIGRATIONS, SCHEMA_VERSION
from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.ports import RequestRecord


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "autodevai.db"


async def test_outcomes_are_counted_per_task_class_and_model(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        assert await store.load_outcomes() == []
        await store.record_outcome("wf:solve", "acme/cheap", True, 0.001)
        await store.record_outcome("wf:solve", "acme/cheap", False, 0.002)
        await store.record_outcome("wf:solve", "acme/strong", True, 0.01)
        await store.record_outcome("wf:review", "acme/cheap", True, -5.0)  # a nonsense cost counts as 0
        rows = await store.load_outcomes()
    finally:
        await store.close()
    assert rows == [
        ("wf:review", "acme/cheap", 1.0, 0.0, 0.0, 1),
        ("wf:solve", "acme/cheap", 1.0, 1.0, pytest.approx(0.003), 2),
        ("wf:solve", "acme/strong", 1.0, 0.0, 0.01, 1),
    ]


async def test_concurrent_outcomes_are_all_committed(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        await asyncio.gather(*(store.record_outcome("c", f"m{i % 3}", i % 4 != 0, 0.001) for i in range(120)))
        with sqlite3.connect(db) as raw:  # committed: another connection sees every count
            pulls, ok, failed = raw.execute("SELECT sum(pulls), sum(successes), sum(failures) FROM outcomes").fetchone()
        raw.close()
    finally:
        await store.close()
    assert (pulls, ok, failed) == (120, 90.0, 30.0)


async def test_outcomes_survive_a_restart_and_teach_a_new_router(db: Path) -> None:
    learned = ThompsonRouter(random.Random(1))
    store = await SqliteStore.open(db)
    try:
        for _ in range(60):
            await store.record_outcome("easy", "acme/cheap", True, 0.0001)
            learned.record("easy", "acme/cheap", True, 0.0001)
            await store.record_outcome("easy", "acme/strong", True, 0.01)
            learned.record("easy", "acme/strong", True, 0.01)
    finally:
        await store.close()

    store = await SqliteStore.open(db)
    try:
        rows = await store.load_outcomes()
    finally:
        await store.close()
    fresh = ThompsonRouter(random.Random(2))
    fresh.load(rows)
    assert [(t, m, s, f, round(c, 9), p) for t, m, s, f, c, p in fresh.rows()] == [
        (t, m, s, f, round(c, 9), p) for t, m, s, f, c, p in learned.rows()
    ]
    picks = [fresh.choose("easy", ["acme/strong", "acme/cheap"], {})[0] for _ in range(20)]
    assert picks.count("acme/cheap") >= 15  # what was learned before the restart is used after it


async def test_a_version_2_database_gains_the_outcomes_table_and_keeps_its_history(db: Path) -> None:
    assert SCHEMA_VERSION >= 3
    db.parent.mkdir(parents=True)
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for step in MIGRATIONS[:2]:
        for statement in step:
            raw.execute(statement)
    raw.execute("INSERT INTO schema_version (version) VALUES (2)")
    raw.execute(
        "INSERT INTO requests VALUES ('old', 1.0, 'sim', 'sim/small', 'balanced', 'ok', 10.0, NULL, 1, 1, 0.25, "
        "'an old prompt', 'an old answer', '[]', NULL, 0, NULL)"
    )
    raw.close()

    store = await SqliteStore.open(db)
    try:
        assert [r.prompt for r in await store.recent_requests()] == ["an old prompt"]
        await store.record_request(
            RequestRecord("r1", 2.0, "sim", "sim/small", "balanced", "ok", 10.0, None, 1, 1, 0.5)
        )
        await store.record_outcome("x", "sim/small", True, 0.25)
        assert await store.count_requests() == 2
        assert await store.load_outcomes() == [("x", "sim/small", 1.0, 0.0, 0.25, 1)]
    finally:
        await store.close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    raw.close()
