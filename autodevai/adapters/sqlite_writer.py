"""The store's one SQLite thread: it owns the only connection; the event loop never touches sqlite3.

Callers put a job on a queue and await an asyncio future. The thread drains every pending job, runs the writes of a
batch in ONE transaction (group commit), commits, then resolves the callers' futures with one
``loop.call_soon_threadsafe`` per batch. So a write returns only once it is committed, and 50 concurrent requests
cost one commit, not 50. A failing batch is rolled back and its writes retried one by one, so an error reaches the
caller whose write caused it. Reads run between writes, in order, on the same connection. A RESERVE job (a budget
hold) is a write that may refuse before writing anything (``BudgetExceeded``): the refusal goes to its caller and
the batch goes on. A request row drops the budget holds it settles in the same transaction.

Opening never writes before it knows it may: the schema version is read first (read-only), so a database of a
newer AutoDevAI is refused untouched; a new database file is created readable by its owner only (0600; SQLite
gives its WAL and shared-memory files the same mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autodevai.adapters import spend_sql
from autodevai.adapters.migrations import SCHEMA_VERSION, migrate, newer_version_error, peek_version
from autodevai.adapters.sqlite_errors import closed_error, storage_error
from autodevai.adapters.sqlite_rows import INSERT_REQUEST, insert_audit, insert_audit_marker, request_row
from autodevai.engine.errors import EngineError, StorageError

__all__ = ["BUSY_TIMEOUT_S", "Kind", "Writer"]


BUSY_TIMEOUT_S = 5.0
_MAX_BATCH = 512  # bounds one transaction; the queue keeps the rest for the next one


class Kind(enum.Enum):
    """What a job is: its ``data`` is a ``RequestRecord`` (REQUEST), ``(ts, event, payload)`` (AUDIT), a function
    of the connection (WRITE, READ; RESERVE: a write whose result goes to its caller, which may raise an
    ``EngineError`` before writing anything), or None (STOP: the first job answers once connected, the last one
    closes)."""

    REQUEST = 0
    AUDIT = 1
    WRITE = 2
    READ = 3
    STOP = 4
    RESERVE = 5


_WRITES = (Kind.REQUEST, Kind.AUDIT, Kind.WRITE, Kind.RESERVE)
_PRIVATE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class _Job:
    __slots__ = ("data", "fut", "kind", "loop")

    def __init__(self, kind: Kind, data: Any, fut: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.kind = kind
        self.data = data
        self.fut = fut
        self.loop = loop


_Result = tuple[_Job, Any, BaseException | None]


def _resolve(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, exc in items:
        if fut.done():  # the caller was cancelled; a write still happened, nobody waits for it
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)


class Writer:
    """The thread and its queue. ``start`` it after submitting the first STOP job (answered once connected)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self.key = key  # signs audit entries (sqlite_rows.py)
        self.owner = spend_sql.new_owner()  # whose budget holds this store's are
        self.closed = False
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="autodevai-store", daemon=True)

    # --- the event-loop side ---------------------------------------------------------------------------

    def submit(self, kind: Kind, data: Any) -> asyncio.Future[Any]:
        """Queue a job; the future resolves once it ran (a write: once committed). Raises ``StorageError`` when
        the store is closed."""
        if self.closed:
            raise closed_error()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(kind, data, fut, loop))
        return fut

    def read(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Run ``fn(connection)`` on the thread; the future resolves to its result."""
        return self.submit(Kind.READ, fn)

    def start(self) -> None:
        self._thread.start()

    def abandon(self) -> None:
        """Let the thread end without waiting for it (opening failed, or its caller gave up)."""
        self.closed = True
        loop = asyncio.get_running_loop()
        self._queue.put(_Job(Kind.STOP, None, loop.create_future(), loop))

    def join(self) -> None:
        self._thread.join(timeout=BUSY_TIMEOUT_S)

    # --- the thread ------------------------------------------------------------------------------------

    def _refuse_newer(self) -> None:
        """Raise before anything is written if the file is from a newer AutoDevAI (read-only: the header stays
        as it is, even its journal mode)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            ro = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error:
            return  # cannot open read-only (e.g. a WAL file in a read-only dir): the check below still runs first
        try:
            version = peek_version(ro)
        except sqlite3.Error:
            return
        finally:
            ro.close()
        if version > SCHEMA_VERSION:
            raise newer_version_error(self.path, version)

    def _create_private(self) -> None:
        """Create the database file 0600 when missing; tighten files an older version left readable by others."""
        if os.name != "posix":
            return
        if not self.path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        for suffix in _PRIVATE_SUFFIXES:
            f = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):  # not ours, or gone: SQLite reports what matters
                if f.stat().st_mode & 0o077:
                    f.chmod(0o600)

    def _after_step(self, conn: sqlite3.Connection, version: int) -> None:
        if version == 6:  # the keyed audit chain starts with the schema step that added it
            insert_audit_marker(conn, self.key, time.time())

    def _connect(self) -> sqlite3.Connection:
        self._refuse_newer()
        self._create_private()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (one transaction per batch).
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            version = peek_version(conn)  # reads only: checked again before the journal mode is switched
            if version > SCHEMA_VERSION:
                raise newer_version_error(self.path, version)
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, synchronous=NORMAL makes COMMIT append the transaction to the WAL file with
            # write(2), without fsync. What write(2) wrote sits in the OS page cache, which outlives the
            # process: a kill -9 (or a crash of AutoDevAI) loses no committed transaction; the next open
            # replays the WAL. Only a power cut or OS crash may lose the last commits, and even then the
            # database is not corrupted. FULL would add an fsync per commit (milliseconds) for a guarantee a
            # request log does not need. Checkpoints still fsync.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            migrate(conn, self.path, self._after_step)
            conn.execute("BEGIN IMMEDIATE")
            spend_sql.purge_dead_owners(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self) -> None:
        ready = self._queue.get()
        try:
            conn = self._connect()
        except BaseException as exc:
            self.closed = True
            self._deliver([(ready, None, storage_error(exc, self.path, "open"))])
            return
        self._deliver([(ready, None, None)])
        stop: _Job | None = None
        stop_exc: BaseException | None = None
        try:
            while stop is None:
                batch = [self._queue.get()]
                while len(batch) < _MAX_BATCH and not self._queue.empty():  # empty(): no exception per batch
                    batch.append(self._queue.get_nowait())
                stop = self._process(conn, batch)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException as exc:  # a bug in this loop, or the checkpoint failed: never hang callers
            stop_exc = storage_error(exc, self.path, "close")
        finally:
            self.closed = True
            conn.close()
            leftovers: list[_Result] = []
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                leftovers.append((job, None, closed_error()))
            if stop is not None:
                leftovers.append((stop, None, stop_exc))
            self._deliver(leftovers)

    def _process(self, conn: sqlite3.Connection, batch: list[_Job]) -> _Job | None:
        """Run one batch in order: consecutive writes share a transaction; return the stop job if one came."""
        results: list[_Result] = []
        writes: list[_Job] = []
        stop: _Job | None = None
        for job in batch:
            if stop is not None:
                results.append((job, None, closed_error()))
            elif job.kind in _WRITES:
                writes.append(job)
            else:
                if writes:
                    self._commit(conn, writes, results)
                    writes = []
                if job.kind is Kind.STOP:
                    stop = job
                    continue
                try:
                    results.append((job, job.data(conn), None))
                except Exception as exc:
                    results.append((job, None, storage_error(exc, self.path, "read")))
        if writes:
            self._commit(conn, writes, results)
        self._deliver(results)
        return stop

    def _commit(self, conn: sqlite3.Connection, writes: list[_Job], results: list[_Result]) -> None:
        """Apply ``writes`` in one transaction. On failure roll back; an environment error fails them all, any
        other error is retried write by write so that only the culprit's caller hears of it."""
        values: dict[int, Any] = {}
        refused: dict[int, BaseException] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows: list[tuple[Any, ...]] = []
            holds: list[str] = []
            for job in writes:
                if job.kind is Kind.REQUEST:
                    rows.append(request_row(job.data))
                    holds.extend(job.data.holds)
                    continue
                if rows:  # keep the order: what a later job reads must include the rows before it
                    self._insert(conn, rows, holds)
                    rows, holds = [], []
                if job.kind is Kind.AUDIT:
                    insert_audit(conn, self.key, *job.data)
                elif job.kind is Kind.RESERVE:
                    try:
                        values[id(job)] = job.data(conn)
                    except EngineError as exc:  # refused before writing: only its caller hears of it
                        if isinstance(exc, StorageError):
                            raise
                        refused[id(job)] = exc
                else:
                    job.data(conn)
            if rows:
                self._insert(conn, rows, holds)
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                # The failed statement may already have rolled the transaction back.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            err = storage_error(exc, self.path, "write to")
            if len(writes) == 1 or err.environment:
                results.extend((job, None, err) for job in writes)
            else:
                for job in writes:
                    self._commit(conn, [job], results)
            return
        results.extend((job, values.get(id(job)), refused.get(id(job))) for job in writes)

    @staticmethod
    def _insert(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], holds: list[str]) -> None:
        conn.executemany(INSERT_REQUEST, rows)
        if holds:
            spend_sql.release(conn, holds)

    @staticmethod
    def _deliver(results: list[_Result]) -> None:
        """Resolve the callers' futures: one thread-safe callback per event loop per batch."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        for job, value, exc in results:
            by_loop.setdefault(job.loop, []).append((job.fut, value, exc))
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_resolve, items)
