"""SqliteStore: the engine's durable ``Store``: requests, catalog cache, calibration, workflow outcomes, budget
holds shared by every process on the file, and the signed, hash-chained audit log, in one SQLite file in WAL mode.

This module holds the port's queries. All SQLite work runs on one dedicated thread that owns the only connection
and group-commits writes, so ``record_request`` returns only once its row is committed (``sqlite_writer.py``);
rows are mapped, redacted and audit-chained in ``sqlite_rows.py``; budget holds and spending in ``spend_sql.py``;
the machine's faults are told from ours in ``sqlite_errors.py`` (after qutebrowser/misc/sql.py:
``StorageError(environment=True)`` says what to fix). A request that cannot be written because of the machine
(disk full) is not lost: it is retried, and kept beside the database at close (``unstored.py``); its budget hold
is settled in place meanwhile, so every process still counts what it cost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autodevai.adapters import spend_sql, unstored
from autodevai.adapters.audit_key import KEY_FILE, load_or_create_key
from autodevai.adapters.conversation_store import SqliteConversations
from autodevai.adapters.sqlite_errors import storage_error
from autodevai.adapters.sqlite_rows import (
    COLS,
    INSERT_REQUEST,
    UPSERT_OUTCOME,
    WARM_COLS,
    audit_hash,
    record_of,
    request_row,
    verify_audit,
    warm_record_of,
)
from autodevai.adapters.sqlite_writer import Kind, Writer
from autodevai.engine.errors import StorageError
from autodevai.engine.ports import RequestRecord, SpendHold, SpendTotals

# audit_hash and storage_error are re-exported: tests and tools import them from here.
__all__ = ["SqliteStore", "audit_hash", "storage_error"]

log = logging.getLogger("autodevai.store")
_IMPORT_REQUEST = INSERT_REQUEST.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)


class SqliteStore:
    """The ``Store`` port over one SQLite file in WAL mode. Create it with ``await SqliteStore.open(p)``."""

    def __init__(self, path: Path, audit_key: bytes) -> None:
        """Private: use ``open``."""
        self.path = path
        self._key = audit_key
        self._writer = Writer(path, audit_key)
        self.conversations = SqliteConversations(self._writer)
        self._unstored: dict[str, RequestRecord] = {}  # answered, not yet written (unstored.py)

    @classmethod
    async def open(cls, path: Path, *, audit_key: bytes | None = None) -> SqliteStore:
        """Open (creating dirs, mode 0700, and the file, mode 0600) and migrate the database at ``path``, then import
        the requests a previous run could not write. ``audit_key`` signs the audit log (default: the key in
        ``audit.key`` beside the database, created once). Raises ``StorageError``."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(
                f"cannot create the data directory {path.parent}: {exc.strerror or exc}", environment=True
            ) from exc
        key = audit_key if audit_key is not None else load_or_create_key(path.parent / KEY_FILE)
        store = cls(path, key)
        ready = store._writer.submit(Kind.STOP, None)  # the thread answers this first job once connected and migrated
        store._writer.start()
        try:
            await ready
        except BaseException:  # failed, or the caller gave up: let the thread end instead of waiting forever
            store._writer.abandon()
            raise
        await store._import_unstored()
        return store

    # ---- requests, and the ones the disk could not take -----------------------------------------------------

    async def record_request(self, rec: RequestRecord) -> None:
        """Store one finished request; returns once its row is committed. Raises ``StorageError``; when the
        machine is at fault (disk full, read-only) the request is kept, retried with later writes and saved beside
        the database at close, and its budget holds count as its cost meanwhile."""
        if self._unstored:
            await self._retry_unstored()
        try:
            await self._writer.submit(Kind.REQUEST, rec)
        except StorageError as exc:
            if exc.environment:
                self._unstored[rec.id] = rec
                await self._settle_in_place(rec)
            raise

    @property
    def unstored(self) -> int:
        """How many answered requests wait to be written."""
        return len(self._unstored)

    async def _settle_in_place(self, rec: RequestRecord) -> None:
        if not rec.holds:
            return
        try:
            await self._writer.submit(
                Kind.WRITE, lambda conn: spend_sql.settle_in_place(conn, rec.holds, rec.cost_usd, rec.ts)
            )
        except StorageError as exc:
            log.error("could not keep the cost of request %s in the budget: %s", rec.id, exc)

    async def _retry_unstored(self) -> None:
        pending = list(self._unstored.values())
        results = await asyncio.gather(*(self._writer.submit(Kind.REQUEST, r) for r in pending), return_exceptions=True)
        for rec, result in zip(pending, results, strict=True):
            if result is None or (isinstance(result, StorageError) and not result.environment):
                self._unstored.pop(rec.id, None)  # written (or already there: an id is written once)

    async def _import_unstored(self) -> None:
        records = unstored.load(self.path)
        if not records:
            return

        def write(conn: sqlite3.Connection) -> None:
            for rec in records:
                if conn.execute(_IMPORT_REQUEST, request_row(rec)).rowcount:
                    spend_sql.release(conn, rec.holds)

        try:
            await self._writer.submit(Kind.WRITE, write)
        except StorageError as exc:
            if not exc.environment:
                raise
            self._unstored.update((r.id, r) for r in records)  # still no room: keep them for later
            return
        unstored.sidecar(self.path).unlink(missing_ok=True)

    def _spill(self) -> None:
        try:
            unstored.spill(self.path, self._unstored.values())
        except OSError as exc:
            log.error("%d answered requests could not be stored nor saved: %s", len(self._unstored), exc)

    # ---- budget holds ------------------------------------------------------------------------------------------

    async def reserve_spend(
        self, hold: SpendHold, check: Callable[[SpendTotals], None], release: tuple[str, ...] = ()
    ) -> SpendTotals:
        """Drop the ``release``d holds, count every process's spending and holds, ``check`` them and add ``hold``,
        in one transaction."""
        if self._unstored:  # spending must be recorded before more is held: retry, else refuse
            await self._retry_unstored()
            if self._unstored:
                raise StorageError(
                    f"{len(self._unstored)} answered request(s) could not be written to the database {self.path}",
                    environment=True,
                    hint="free disk space or fix the data directory's permissions; they are kept and written then",
                )
        owner = self._writer.owner

        def reserve(conn: sqlite3.Connection) -> SpendTotals:
            spend_sql.release(conn, release)
            return spend_sql.reserve(conn, hold, owner, check)

        result: SpendTotals = await self._writer.submit(Kind.RESERVE, reserve)
        return result

    async def append_audit(self, event: str, payload: Mapping[str, Any]) -> None:
        """Append one entry to the hash-chained audit log; returns once committed."""
        await self._writer.submit(Kind.AUDIT, (time.time(), event, payload))

    async def save_catalog(self, models: list[dict[str, Any]]) -> None:
        """Replace the cached model catalog (kept so the app starts offline)."""
        fetched_at = time.time()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO catalog_cache (id, models, fetched_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET models = excluded.models, fetched_at = excluded.fetched_at",
                (json.dumps(models, separators=(",", ":")), fetched_at),
            )

        await self._writer.submit(Kind.WRITE, write)

    async def save_calibration(self, model: str, factor: float) -> None:
        """Set the token-count calibration factor of ``model`` (and count one more sample)."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO calibration (model, factor, samples) VALUES (?, ?, 1) "
                "ON CONFLICT(model) DO UPDATE SET factor = excluded.factor, samples = samples + 1",
                (model, float(factor)),
            )

        await self._writer.submit(Kind.WRITE, write)

    async def record_outcome(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        """Count one outcome of ``model`` on ``task_class`` (a success or a failure, and what it cost); returns
        once committed (group-committed with other writes). Negative or non-finite costs count as 0."""
        ok = 1.0 if success else 0.0
        cost = float(cost_usd) if math.isfinite(cost_usd) and cost_usd > 0 else 0.0

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(UPSERT_OUTCOME, (task_class, model, ok, 1.0 - ok, cost))

        await self._writer.submit(Kind.WRITE, write)

    async def load_outcomes(self) -> list[tuple[str, str, float, float, float, int]]:
        """Every outcome row ``(task_class, model, successes, failures, cost_usd, pulls)``, sorted by task class
        and model: what ``ThompsonRouter.load`` takes."""

        def read(conn: sqlite3.Connection) -> list[tuple[str, str, float, float, float, int]]:
            sql = "SELECT task_class, model, successes, failures, cost_usd, pulls FROM outcomes ORDER BY 1, 2"
            return [(str(t), str(m), float(s), float(f), float(c), int(p)) for t, m, s, f, c, p in conn.execute(sql)]

        result: list[tuple[str, str, float, float, float, int]] = await self._writer.read(read)
        return result

    async def recent_requests(self, limit: int = 50, query: str | None = None) -> list[RequestRecord]:
        """The latest ``limit`` requests, newest first; ``query`` keeps those whose prompt, answer or model
        contains it (case-insensitive for ASCII)."""
        limit = max(0, int(limit))

        def read(conn: sqlite3.Connection) -> list[RequestRecord]:
            if not query:
                sql = f"SELECT {COLS} FROM requests ORDER BY ts DESC, rowid DESC LIMIT ?"
                return [record_of(r) for r in conn.execute(sql, (limit,)).fetchall()]
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql = (
                f"SELECT {COLS} FROM requests WHERE prompt LIKE ?1 ESCAPE '\\' "
                "OR answer LIKE ?1 ESCAPE '\\' OR model LIKE ?1 ESCAPE '\\' "
                "ORDER BY ts DESC, rowid DESC LIMIT ?2"
            )
            return [record_of(r) for r in conn.execute(sql, (pattern, limit)).fetchall()]

        result: list[RequestRecord] = await self._writer.read(read)
        return result

    async def spent_since(self, since_ts: float) -> float:
        """USD spent by requests finished at or after ``since_ts`` (epoch seconds)."""

        def read(conn: sqlite3.Connection) -> float:
            row = conn.execute("SELECT total(cost_usd) FROM requests WHERE ts >= ?", (since_ts,)).fetchone()
            return float(row[0])

        result: float = await self._writer.read(read)
        return result

    async def spent_totals(self, now_wall: float) -> tuple[float, float, float]:
        """USD spent by every process (today UTC, this calendar month UTC, all time), ``now_wall`` being epoch
        seconds: the requests' costs plus those of answered requests whose rows are not written yet."""
        owner = self._writer.owner
        counted: SpendTotals = await self._writer.read(lambda conn: spend_sql.totals(conn, now_wall, owner))
        return counted.today / 1e9, counted.month / 1e9, counted.total / 1e9

    async def recent_events(self, since_wall: float) -> list[RequestRecord]:
        """Requests finished at or after ``since_wall``, oldest first, to warm metrics and breakers: every field
        but the texts (``prompt``, ``answer``, ``compression`` and ``detail`` are left empty); attempts decoded."""

        def read(conn: sqlite3.Connection) -> list[RequestRecord]:
            sql = f"SELECT {WARM_COLS} FROM requests WHERE ts >= ? ORDER BY ts, rowid"
            return [warm_record_of(r) for r in conn.execute(sql, (since_wall,)).fetchall()]

        result: list[RequestRecord] = await self._writer.read(read)
        return result

    async def count_requests(self) -> int:
        """How many requests the store holds."""
        result: int = await self._writer.read(
            lambda conn: int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
        )
        return result

    async def load_catalog(self) -> list[dict[str, Any]] | None:
        """The cached catalog, or None when none was saved."""

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]] | None:
            row = conn.execute("SELECT models FROM catalog_cache WHERE id = 1").fetchone()
            return None if row is None else list(json.loads(row[0]))

        result: list[dict[str, Any]] | None = await self._writer.read(read)
        return result

    async def catalog_fetched_at(self) -> float | None:
        """Epoch seconds when the cached catalog was saved, or None when there is none."""
        row = await self._writer.read(lambda conn: conn.execute("SELECT fetched_at FROM catalog_cache").fetchone())
        return None if row is None else float(row[0])

    async def load_calibration(self) -> dict[str, float]:
        """Calibration factor per model id."""
        rows = await self._writer.read(lambda conn: conn.execute("SELECT model, factor FROM calibration").fetchall())
        return {str(model): float(factor) for model, factor in rows}

    async def verify_audit(self) -> int:
        """Recompute the audit chain with the store's key; return the number of entries. Raises ``StorageError``
        if an entry was altered, removed or re-linked (even with its hashes recomputed)."""
        result: int = await self._writer.read(lambda conn: verify_audit(conn, self.path, self._key))
        return result

    async def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: "ok", or the problems it found, one per line."""
        rows = await self._writer.read(lambda conn: conn.execute("PRAGMA integrity_check").fetchall())
        return "\n".join(str(r[0]) for r in rows)

    async def close(self) -> None:
        """Commit every pending write, checkpoint the WAL into the main file, close and join the thread. Answered
        requests that still cannot be written are saved beside the database for the next open."""
        if self._writer.closed:
            return
        if self._unstored:
            await self._retry_unstored()
            self._spill()
        fut = self._writer.submit(Kind.STOP, None)
        self._writer.closed = True
        try:
            await fut
        finally:
            # The thread resolves ``fut`` as its last act, so this join is immediate.
            self._writer.join()
