"""SqliteStore on real SQLite files: migrations, history, spend, group commit, audit, redaction, kill -9."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autodevai.adapters.migrations import SCHEMA_VERSION
from autodevai.adapters.sqlite_store import SqliteStore, storage_error
from autodevai.engine.errors import StorageError, register_secret
from autodevai.engine.ports import RequestRecord
from tests.fakes.crash import kill_after, surviving_ids

WRITER = Path(__file__).resolve().parent.parent / "fakes" / "store_writer.py"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def rec(rid: str, when: float = 1_700_000_000.0, cost: float = 0.0, **kw: object) -> RequestRecord:
    fields: dict[str, object] = {
        "provider": "sim",
        "model": "sim/small",
        "preference": "balanced",
        "status": "ok",
        "latency_ms": 100.0,
        "ttft_ms": 20.0,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "prompt": f"prompt of {rid}",
        "answer": f"answer of {rid}",
    }
    fields.update(kw)
    return RequestRecord(id=rid, ts=when, cost_usd=cost, **fields)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "autodevai.db"


async def test_fresh_database_is_migrated_and_reopens_with_its_data(db: Path) -> None:
    store = await SqliteStore.open(db)
    await store.record_request(rec("r1", cost=0.5))
    await store.close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()

    store = await SqliteStore.open(db)
    try:
        assert await store.count_requests() == 1
        assert (await store.recent_requests())[0].cost_usd == 0.5
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_database_from_a_newer_version_is_refused_clearly(db: Path) -> None:
    await (await SqliteStore.open(db)).close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    raw.close()
    with pytest.raises(StorageError, match="newer AutoDevAI") as info:
        await SqliteStore.open(db)
    assert info.value.environment is True


def _write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite " * 100)


async def test_a_file_that_is_not_a_database_is_an_environment_error(db: Path) -> None:
    _write_garbage(db)
    with pytest.raises(StorageError, match="not an SQLite database") as info:
        await SqliteStore.open(db)
    assert info.value.environment is True


def test_disk_full_and_read_only_are_the_environments_fault(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
    conn.close()
    full = sqlite3.connect(path)
    full.execute("PRAGMA max_page_count = 2")  # what SQLite reports when the disk is full
    with pytest.raises(sqlite3.Error) as caught:
        full.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    full.close()
    err = storage_error(caught.value, path, "write to")
    assert err.environment is True and "disk is full" in str(err)

    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as caught:
        ro.execute("INSERT INTO t VALUES ('y')")
    ro.close()
    err = storage_error(caught.value, path, "write to")
    assert err.environment is True and "read-only" in str(err)

    bug = storage_error(sqlite3.OperationalError("no such table: nope"), path, "read")
    assert bug.environment is False and "report it" in str(bug)


async def test_history_is_newest_first_and_searchable(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        await store.record_request(
            rec(
                "a",
                when=100.0,
                prompt="what is the capital of France?",
                answer="Paris",
                attempts=({"provider": "sim", "model": "sim/big", "outcome": "ProviderUnavailable"},),
                task_class="geo",
                stream=True,
            )
        )
        await store.record_request(rec("b", when=200.0, model="vendor/coder-7b", prompt="sort a list"))
        await store.record_request(rec("c", when=300.0, prompt="100% sure?", answer="yes"))

        assert [r.id for r in await store.recent_requests()] == ["c", "b", "a"]
        assert [r.id for r in await store.recent_requests(limit=2)] == ["c", "b"]
        assert [r.id for r in await store.recent_requests(query="PARIS")] == ["a"]  # answer, any case
        assert [r.id for r in await store.recent_requests(query="capital")] == ["a"]  # prompt
        assert [r.id for r in await store.recent_requests(query="coder-7b")] == ["b"]  # model
        assert [r.id for r in await store.recent_requests(query="0%")] == ["c"]  # % is literal
        assert await store.recent_requests(query="nothing like this") == []

        a = (await store.recent_requests(query="Paris"))[0]
        assert a == rec(
            "a",
            when=100.0,
            prompt="what is the capital of France?",
            answer="Paris",
            attempts=({"provider": "sim", "model": "sim/big", "outcome": "ProviderUnavailable"},),
            task_class="geo",
            stream=True,
        )
        events = await store.recent_events(since_wall=150.0)
        assert [e.id for e in events] == ["b", "c"]  # oldest first, typed rows
        assert [e.model for e in events] == ["vendor/coder-7b", "sim/small"]
        # Warming reads every field but the texts: a day of long prompts is not loaded to count latencies.
        full = await store.recent_requests(query="sort a list")
        assert events[0] == dataclasses.replace(full[0], prompt="", answer="", compression=None, detail=None)
        assert all(isinstance(e.attempts, tuple) for e in events)
    finally:
        await store.close()


async def test_spend_is_split_at_utc_day_and_month_boundaries(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        rows = [
            ("old", "2024-01-15T12:00:00", 4.0),  # all time only
            ("lastmonth", "2024-02-29T23:59:59", 2.0),  # the leap day: last month, not today
            ("midnight", "2024-03-01T00:00:00", 1.0),  # first second of the month and of the day
            ("today", "2024-03-01T00:20:00", 0.25),
        ]
        for rid, when, cost in rows:
            await store.record_request(rec(rid, when=ts(when), cost=cost))
        now = ts("2024-03-01T00:30:00")
        assert await store.spent_totals(now) == pytest.approx((1.25, 1.25, 7.25))
        assert await store.spent_since(ts("2024-02-29T23:59:59")) == pytest.approx(3.25)

        await store.record_request(rec("later", when=ts("2024-03-15T08:00:00"), cost=0.5))
        assert await store.spent_totals(ts("2024-03-15T09:00:00")) == pytest.approx((0.5, 1.75, 7.75))
        assert await store.spent_totals(ts("2024-04-01T00:00:00")) == pytest.approx((0.0, 0.0, 7.75))
    finally:
        await store.close()


async def test_200_concurrent_writes_are_all_committed(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        ids = [f"req-{i}" for i in range(200)]
        await asyncio.gather(*(store.record_request(rec(i, cost=0.01)) for i in ids))
        assert await store.count_requests() == 200
        assert await store.spent_since(0) == pytest.approx(2.0)
    finally:
        await store.close()
    with sqlite3.connect(db) as raw:  # committed: another connection sees every row
        assert {r[0] for r in raw.execute("SELECT id FROM requests")} == set(ids)
    raw.close()


async def test_a_bad_write_in_a_batch_fails_only_its_own_caller(db: Path) -> None:
    store = await SqliteStore.open(db)
    try:
        await store.record_request(rec("dup"))
        batch = [rec(f"ok-{i}") for i in range(30)] + [rec("dup")] + [rec(f"ok-{i}") for i in range(30, 60)]
        results = await asyncio.gather(*(store.record_request(r) for r in batch), return_exceptions=True)
        failures = [(r.id, e) for r, e in zip(batch, results, strict=True) if e is not None]
        assert len(failures) == 1 and failures[0][0] == "dup"
        assert isinstance(failures[0][1], StorageError) and failures[0][1].environment is False
        assert await store.count_requests() == 61
    finally:
        await store.close()


async def test_audit_chain_detects_an_altered_entry(db: Path) -> None:
    store = await SqliteStore.open(db)
    for i in range(5):
        await store.append_audit("config.set", {"key": "budget.daily_usd", "value": i, "who": "cli"})
    assert await store.verify_audit() == 1 + 5  # the chain's signed start, then the five entries
    await store.close()

    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit SET payload = '{}' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit WHERE seq = 3")
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET payload = ? WHERE seq = 3", ('{"key":"budget.daily_usd","value":999}',))
    raw.commit()
    raw.close()

    store = await SqliteStore.open(db)
    try:
        with pytest.raises(StorageError, match="entry 3") as info:
            await store.verify_audit()
        assert info.value.environment is True
    finally:
        await store.close()


async def test_keys_never_reach_the_database_file(db: Path) -> None:
    canary = "sk-or-v1-" + secrets.token_hex(32)
    odd_secret = "plain" + secrets.token_hex(8)  # not key-shaped: redacted because it is registered
    register_secret(odd_secret)
    store = await SqliteStore.open(db)
    await store.record_request(
        rec(
            "leak",
            prompt=f"my key is {canary} and {odd_secret}",
            answer=f"you sent {canary}",
            attempts=({"provider": "sim", "detail": f"401 for Bearer {canary}"},),
        )
    )
    await store.append_audit("key.set", {"provider": "openrouter", "note": canary})
    stored = (await store.recent_requests())[0]
    await store.close()

    assert canary not in stored.prompt and odd_secret not in stored.prompt
    assert "[REDACTED]" in stored.prompt and canary not in stored.answer
    assert canary not in str(stored.attempts)
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    for path in files:
        data = path.read_bytes()
        assert canary.encode() not in data and odd_secret.encode() not in data


async def test_catalog_and_calibration_survive_a_restart(db: Path) -> None:
    store = await SqliteStore.open(db)
    assert await store.load_catalog() is None
    assert await store.catalog_fetched_at() is None
    assert await store.load_calibration() == {}
    models = [{"id": "sim/small", "context_length": 8192}, {"id": "sim/big", "context_length": 128000}]
    await store.save_catalog(models)
    await store.save_calibration("sim/small", 1.1)
    await store.save_calibration("sim/small", 1.2)
    await store.save_calibration("sim/big", 0.9)
    await store.close()

    store = await SqliteStore.open(db)
    try:
        assert await store.load_catalog() == models
        assert (await store.catalog_fetched_at() or 0) > 1_600_000_000
        assert await store.load_calibration() == {"sim/small": 1.2, "sim/big": 0.9}
    finally:
        await store.close()


async def test_a_closed_store_says_so(db: Path) -> None:
    store = await SqliteStore.open(db)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        await store.record_request(rec("late"))


def test_kill_9_loses_no_committed_request(db: Path) -> None:
    printed = kill_after([sys.executable, str(WRITER), str(db), "16"], 250)
    missing = set(printed) - surviving_ids(db)
    assert not missing, f"{len(missing)} acknowledged requests lost"


async def test_a_v3_database_migrates_to_v4_and_keeps_every_request(db: Path) -> None:
    from autodevai.adapters.migrations import MIGRATIONS

    db.parent.mkdir(parents=True)
    with sqlite3.connect(db, isolation_level=None) as raw:  # a database as the previous release left it
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for step in MIGRATIONS[:3]:
            for statement in step:
                raw.execute(statement)
        raw.execute("INSERT INTO schema_version VALUES (3)")
        for i in range(3):
            raw.execute(
                "INSERT INTO requests (id, ts, provider, model, preference, status, latency_ms, ttft_ms, "
                "prompt_tokens, completion_tokens, cost_usd, prompt, answer, attempts, task_class, stream) "
                "VALUES (?, ?, 'sim', 'm', 'cost', 'ok', 1, NULL, 1, 1, 0.25, 'p', 'a', '[]', NULL, 0)",
                (f"old{i}", 1_700_000_000.0 + i),
            )
    raw.close()
    store = await SqliteStore.open(db)
    try:
        rows = await store.recent_requests(10)
        assert sorted(r.id for r in rows) == ["old0", "old1", "old2"] and all(r.detail is None for r in rows)
        detail = {"request": {"tools": ["look"]}, "response": {"tool_calls": [{"id": "c", "function": {}}]}}
        await store.record_request(rec("new", when=1_800_000_000.0, detail=detail))
        assert (await store.recent_requests(1))[0].detail == detail
        assert await store.spent_since(0) == 0.75
    finally:
        await store.close()
