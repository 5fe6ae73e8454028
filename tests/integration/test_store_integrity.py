"""Integrity of what the store keeps: the audit chain is signed (recomputing hashes after an edit no longer
passes), files and directories are private, and a database from a newer AutoDevAI is refused untouched."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from autodevai.adapters.audit_key import KEY_FILE
from autodevai.adapters.migrations import MIGRATIONS, SCHEMA_VERSION
from autodevai.adapters.sqlite_rows import audit_hash, audit_mac
from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.compose import save_settings_file
from autodevai.engine.errors import StorageError
from autodevai.engine.settings import Settings
from tests.integration.conftest import MakeEngine

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _rehash(db: Path, seq: int, payload: dict[str, object], link: object) -> None:
    """Edit audit entry ``seq`` outside AutoDevAI and recompute every link from it on with ``link`` (what a
    tamperer does to make an unkeyed chain verify again)."""
    raw = sqlite3.connect(db)
    try:
        raw.execute("DROP TRIGGER IF EXISTS audit_no_update")
        raw.execute("UPDATE audit SET payload = ? WHERE seq = ?", (json.dumps(payload, separators=(",", ":")), seq))
        rows = raw.execute("SELECT seq, ts, event, payload, prev_hash FROM audit WHERE seq >= ? ORDER BY seq", (seq,))
        prev = raw.execute("SELECT prev_hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
        for s, ts, event, body, _ in rows.fetchall():
            new = link(prev, s, ts, event, json.loads(body))  # type: ignore[operator]
            raw.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, new, s))
            prev = new
        raw.commit()
    finally:
        raw.close()


async def _chain(db: Path, n: int = 5) -> None:
    store = await SqliteStore.open(db)
    try:
        for i in range(n):
            await store.append_audit("settings.changed", {"patch": {"budget": {"daily_usd": str(i)}}})
        assert await store.verify_audit() == n + 1  # the signed start, then the entries
    finally:
        await store.close()


async def _verify(db: Path) -> int:
    store = await SqliteStore.open(db)
    try:
        return await store.verify_audit()
    finally:
        await store.close()


async def test_an_edited_entry_with_recomputed_sha256_hashes_fails_verification(tmp_path: Path) -> None:
    db = tmp_path / "data" / "autodevai.db"
    await _chain(db)
    _rehash(db, 3, {"patch": {"budget": {"daily_usd": "999"}}}, audit_hash)
    with pytest.raises(StorageError, match="audit entry 3") as info:
        await _verify(db)
    assert info.value.environment is True


async def test_recomputing_with_another_key_fails_and_unkeying_the_chain_fails(tmp_path: Path) -> None:
    db = tmp_path / "data" / "autodevai.db"
    await _chain(db)
    _rehash(db, 4, {"patch": {}}, lambda *a: audit_mac(b"a guessed key of 32 bytes exactly", *a))
    with pytest.raises(StorageError, match="audit entry 4"):
        await _verify(db)

    other = tmp_path / "other" / "autodevai.db"
    await _chain(other)
    raw = sqlite3.connect(other)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET keyed = 0")  # pretend every entry predates the key
    raw.commit()
    raw.close()
    _rehash(other, 1, {"legacy_entries": 0, "legacy_head": "0" * 64}, audit_hash)
    with pytest.raises(StorageError, match="signed start of the audit chain is missing"):
        await _verify(other)


async def test_a_chain_from_before_the_key_is_kept_and_protected_by_its_signed_start(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    raw = sqlite3.connect(db, isolation_level=None)  # a v5 database, as the previous release wrote it
    for step in MIGRATIONS[:5]:
        for statement in step:
            raw.execute(statement)
    raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    raw.execute("INSERT INTO schema_version VALUES (5)")
    prev = "0" * 64
    for seq in (1, 2, 3):
        payload = {"n": seq}
        digest = audit_hash(prev, seq, float(seq), "old", payload)
        raw.execute(
            "INSERT INTO audit (seq, ts, event, payload, prev_hash, hash) VALUES (?, ?, 'old', ?, ?, ?)",
            (seq, float(seq), json.dumps(payload), prev, digest),
        )
        prev = digest
    raw.close()

    assert await _verify(db) == 4  # three unkeyed entries, then the signed start that names them
    _rehash(db, 2, {"n": 20}, audit_hash)  # edit an old entry and recompute the old kind of hashes
    with pytest.raises(StorageError, match="audit entry 4"):
        await _verify(db)


async def test_the_self_test_verifies_the_signed_chain(make_engine: MakeEngine, tmp_path: Path) -> None:
    app = await make_engine()
    report = await app.engine.test_enhanced_orchestration()
    store_check = next(c for c in report.checks if c.name == "store")
    assert store_check.ok and "audit chain" in store_check.detail
    await app.aclose()
    _rehash(tmp_path / "engine.db", 2, {"edited": True}, audit_hash)
    app = await make_engine()
    report = await app.engine.test_enhanced_orchestration()
    store_check = next(c for c in report.checks if c.name == "store")
    assert not store_check.ok and "audit entry 2" in store_check.detail


async def test_database_key_and_config_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files would be world-readable unless made private
    try:
        data = tmp_path / "data"
        store = await SqliteStore.open(data / "autodevai.db")
        try:
            await store.append_audit("x", {})
            for name in ("autodevai.db", "autodevai.db-wal", "autodevai.db-shm", KEY_FILE):
                assert _mode(data / name) == 0o600, name
            assert _mode(data) == 0o700
        finally:
            await store.close()
        config = tmp_path / "config" / "config.toml"
        save_settings_file(config, Settings())
        assert _mode(config) == 0o600 and _mode(config.parent) == 0o700
    finally:
        os.umask(old)


async def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    db = tmp_path / "autodevai.db"
    await (await SqliteStore.open(db)).close()
    db.chmod(0o644)
    await (await SqliteStore.open(db)).close()
    assert _mode(db) == 0o600


@pytest.mark.parametrize("journal", ["delete", "wal"])
async def test_a_newer_schema_is_refused_without_touching_the_file(tmp_path: Path, journal: str) -> None:
    db = tmp_path / "newer.db"
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute(f"PRAGMA journal_mode={journal}")
    raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    raw.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    raw.execute("CREATE TABLE future (x)")
    raw.close()  # the last connection: a WAL database is checkpointed into the main file
    before, siblings = _files(db)
    with pytest.raises(StorageError, match="newer AutoDevAI") as info:
        await SqliteStore.open(db)
    assert info.value.environment is True
    assert "upgrade AutoDevAI" in info.value.hint and "disk space" not in info.value.hint
    after, names = _files(db)
    assert after == before  # not even the journal mode in the header changed
    assert names <= {*siblings, KEY_FILE, "newer.db-wal", "newer.db-shm"}


def _files(db: Path) -> tuple[bytes, set[str]]:
    """The database's bytes and the names of the files beside it."""
    return db.read_bytes(), {p.name for p in db.parent.iterdir()}
