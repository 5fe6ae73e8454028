"""SqliteStore: the engine's durable ``Store``: requests, catalog cache, calibration, workflow outcomes,
hash-chained audit log.

All SQLite work runs on one dedicated writer thread that owns the only connection; the event loop never
touches sqlite3. Callers put a job on a queue and await an asyncio future. The thread drains every pending
job, runs the writes of a batch in ONE transaction (group commit), commits, then resolves the callers'
futures with one ``loop.call_soon_threadsafe`` per batch. So ``record_request`` returns only once its row is
committed, and 50 concurrent requests cost one commit, not 50. A failing batch is rolled back and its writes
retried one by one, so an error reaches the caller whose write caused it.

Errors follow qutebrowser/misc/sql.py: the machine's fault (disk full, read-only, locked, I/O) becomes
``StorageError(environment=True)`` with what to fix; anything else is ours (``environment=False``).
Prompts, answers, attempt details and audit payloads pass through ``redact`` before they reach the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autodevai.adapters.migrations import GENESIS_HASH, migrate
from autodevai.engine.errors import StorageError, redact
from autodevai.engine.ports import RequestRecord

__all__ = ["SqliteStore", "audit_hash", "storage_error"]

_BUSY_TIMEOUT_S = 5.0
_MAX_BATCH = 512  # bounds one transaction; the queue keeps the rest for the next one

_REQ, _AUDIT, _WRITE, _READ, _STOP = range(5)

_COLS = (
    "id, ts, provider, model, preference, status, latency_ms, ttft_ms, prompt_tokens, completion_tokens, "
    "cost_usd, prompt, answer, attempts, task_class, stream, compression, detail, cost_source, simulated"
)
_INSERT_REQUEST = f"INSERT INTO requests ({_COLS}) VALUES ({', '.join('?' * (_COLS.count(',') + 1))})"
_UPSERT_OUTCOME = (
    "INSERT INTO outcomes (task_class, model, successes, failures, cost_usd, pulls) VALUES (?, ?, ?, ?, ?, 1) "
    "ON CONFLICT(task_class, model) DO UPDATE SET successes = successes + excluded.successes, "
    "failures = failures + excluded.failures, cost_usd = cost_usd + excluded.cost_usd, pulls = pulls + 1"
)
_INSERT_AUDIT = "INSERT INTO audit (seq, ts, event, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"
_EVENT_COLS = (
    "ts",
    "provider",
    "model",
    "status",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "task_class",
    "attempts",
)

# Primary result codes (https://www.sqlite.org/rescode.html) meaning the environment is at fault: what to tell
# the user, and what they can do.
_ENVIRONMENT: dict[int, tuple[str, str]] = {
    3: ("permission denied", "fix the data directory's permissions"),
    5: ("the database is locked by another process", "close other AutoDevAI instances and try again"),
    6: ("the database is locked", "close other AutoDevAI instances and try again"),
    7: ("out of memory", "close other programs and try again"),
    8: ("the database is read-only", "fix the permissions of the data directory and its files"),
    10: ("a disk I/O error occurred", "check the disk that holds the data directory"),
    11: ("the database file is corrupt", "move the file away (its history is lost) or restore a backup"),
    13: ("the disk is full", "free disk space"),
    14: ("the database file cannot be opened", "check that the data directory exists and is writable"),
    15: ("a file-locking protocol error occurred", "do not keep the data directory on a network share"),
    26: ("the file is not an SQLite database", "move the file away or set AUTODEVAI_DATA_DIR elsewhere"),
}
# When an exception carries no result code, SQLite's own message tells the kind.
_MESSAGE_CODES = (
    ("disk is full", 13),
    ("readonly", 8),
    ("database is locked", 5),
    ("disk i/o error", 10),
    ("malformed", 11),
    ("not a database", 26),
    ("unable to open", 14),
)


def storage_error(exc: BaseException, path: Path, action: str) -> StorageError:
    """The ``StorageError`` for ``exc``, raised while trying to ``action`` (e.g. "write to") the database."""
    if isinstance(exc, StorageError):
        return exc
    detail = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int):
            code &= 0xFF  # an extended code carries its primary code in the low byte
        else:
            code = next((c for text, c in _MESSAGE_CODES if text in str(exc).lower()), None)
        if code in _ENVIRONMENT:
            what, hint = _ENVIRONMENT[code]
            err = StorageError(f"cannot {action} the database {path}: {what} ({detail})", environment=True)
            err.hint = hint
            return err
    return StorageError(f"cannot {action} the database {path}: {type(exc).__name__}: {detail}", environment=False)


def _closed() -> StorageError:
    return StorageError("the store is closed", environment=False)


def _redact_obj(value: Any) -> Any:
    """``value`` with every string inside it redacted (mappings become dicts, sequences lists)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_obj(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def audit_hash(prev_hash: str, seq: int, ts: float, event: str, payload: Any) -> str:
    """sha256 hex of ``prev_hash`` + canonical JSON of ``[seq, ts, event, payload]``: one chain link."""
    return hashlib.sha256((prev_hash + _canonical([seq, ts, event, payload])).encode()).hexdigest()


def _request_row(rec: RequestRecord) -> tuple[Any, ...]:
    # One redaction over the JSON text covers every string inside it ("[REDACTED]" keeps the JSON valid).
    attempts = redact(json.dumps(list(rec.attempts), separators=(",", ":"), default=str))
    return (
        rec.id,
        rec.ts,
        rec.provider,
        rec.model,
        str(rec.preference),
        rec.status,
        rec.latency_ms,
        rec.ttft_ms,
        rec.prompt_tokens,
        rec.completion_tokens,
        rec.cost_usd,
        redact(rec.prompt),
        redact(rec.answer),
        attempts,
        rec.task_class,
        1 if rec.stream else 0,
        None if rec.compression is None else redact(json.dumps(dict(rec.compression), separators=(",", ":"))),
        None if rec.detail is None else redact(json.dumps(dict(rec.detail), separators=(",", ":"), default=str)),
        rec.cost_source,
        1 if rec.simulated else 0,
    )


def _record(row: tuple[Any, ...]) -> RequestRecord:
    return RequestRecord(
        id=row[0],
        ts=row[1],
        provider=row[2],
        model=row[3],
        preference=row[4],
        status=row[5],
        latency_ms=row[6],
        ttft_ms=row[7],
        prompt_tokens=row[8],
        completion_tokens=row[9],
        cost_usd=row[10],
        prompt=row[11],
        answer=row[12],
        attempts=tuple(json.loads(row[13])),
        task_class=row[14],
        stream=bool(row[15]),
        compression=None if row[16] is None else json.loads(row[16]),
        detail=None if row[17] is None else json.loads(row[17]),
        cost_source=row[18],
        simulated=bool(row[19]),
    )


class _Job:
    __slots__ = ("data", "fut", "kind", "loop")

    def __init__(self, kind: int, data: Any, fut: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
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


class SqliteStore:
    """The ``Store`` port over one SQLite file in WAL mode. Create it with ``await SqliteStore.open(p)``."""

    def __init__(self, path: Path) -> None:
        """Private: use ``open``."""
        self.path = path
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="autodevai-store", daemon=True)

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating dirs and file) and migrate the database at ``path``. Raises ``StorageError``."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(
                f"cannot create the data directory {path.parent}: {exc.strerror or exc}", environment=True
            ) from exc
        store = cls(path)
        ready = store._submit(_STOP, None)  # the thread answers this first job once connected and migrated
        store._thread.start()
        try:
            await ready
        except BaseException:  # failed, or the caller gave up: let the thread end instead of waiting forever
            store._closed = True
            loop = asyncio.get_running_loop()
            store._queue.put(_Job(_STOP, None, loop.create_future(), loop))
            raise
        return store

    # --- the event-loop side ---------------------------------------------------------------------------

    def _submit(self, kind: int, data: Any) -> asyncio.Future[Any]:
        if self._closed:
            raise _closed()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(kind, data, fut, loop))
        return fut

    def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        return self._submit(_READ, fn)

    async def record_request(self, rec: RequestRecord) -> None:
        """Store one finished request; returns once its row is committed. Raises ``StorageError``."""
        await self._submit(_REQ, rec)

    async def append_audit(self, event: str, payload: Mapping[str, Any]) -> None:
        """Append one entry to the hash-chained audit log; returns once committed."""
        await self._submit(_AUDIT, (time.time(), event, payload))

    async def save_catalog(self, models: list[dict[str, Any]]) -> None:
        """Replace the cached model catalog (kept so the app starts offline)."""
        fetched_at = time.time()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO catalog_cache (id, models, fetched_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET models = excluded.models, fetched_at = excluded.fetched_at",
                (json.dumps(models, separators=(",", ":")), fetched_at),
            )

        await self._submit(_WRITE, write)

    async def save_calibration(self, model: str, factor: float) -> None:
        """Set the token-count calibration factor of ``model`` (and count one more sample)."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO calibration (model, factor, samples) VALUES (?, ?, 1) "
                "ON CONFLICT(model) DO UPDATE SET factor = excluded.factor, samples = samples + 1",
                (model, float(factor)),
            )

        await self._submit(_WRITE, write)

    async def record_outcome(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        """Count one outcome of ``model`` on ``task_class`` (a success or a failure, and what it cost); returns
        once committed (group-committed with other writes). Negative or non-finite costs count as 0."""
        ok = 1.0 if success else 0.0
        cost = float(cost_usd) if math.isfinite(cost_usd) and cost_usd > 0 else 0.0

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT_OUTCOME, (task_class, model, ok, 1.0 - ok, cost))

        await self._submit(_WRITE, write)

    async def load_outcomes(self) -> list[tuple[str, str, float, float, float, int]]:
        """Every outcome row ``(task_class, model, successes, failures, cost_usd, pulls)``, sorted by task class
        and model: what ``ThompsonRouter.load`` takes."""

        def read(conn: sqlite3.Connection) -> list[tuple[str, str, float, float, float, int]]:
            sql = "SELECT task_class, model, successes, failures, cost_usd, pulls FROM outcomes ORDER BY 1, 2"
            return [(str(t), str(m), float(s), float(f), float(c), int(p)) for t, m, s, f, c, p in conn.execute(sql)]

        result: list[tuple[str, str, float, float, float, int]] = await self._read(read)
        return result

    async def recent_requests(self, limit: int = 50, query: str | None = None) -> list[RequestRecord]:
        """The latest ``limit`` requests, newest first; ``query`` keeps those whose prompt, answer or model
        contains it (case-insensitive for ASCII)."""
        limit = max(0, int(limit))

        def read(conn: sqlite3.Connection) -> list[RequestRecord]:
            if not query:
                sql = f"SELECT {_COLS} FROM requests ORDER BY ts DESC, rowid DESC LIMIT ?"
                return [_record(r) for r in conn.execute(sql, (limit,)).fetchall()]
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql = (
                f"SELECT {_COLS} FROM requests WHERE prompt LIKE ?1 ESCAPE '\\' "
                "OR answer LIKE ?1 ESCAPE '\\' OR model LIKE ?1 ESCAPE '\\' "
                "ORDER BY ts DESC, rowid DESC LIMIT ?2"
            )
            return [_record(r) for r in conn.execute(sql, (pattern, limit)).fetchall()]

        result: list[RequestRecord] = await self._read(read)
        return result

    async def spent_since(self, since_ts: float) -> float:
        """USD spent by requests finished at or after ``since_ts`` (epoch seconds)."""

        def read(conn: sqlite3.Connection) -> float:
            row = conn.execute("SELECT total(cost_usd) FROM requests WHERE ts >= ?", (since_ts,)).fetchone()
            return float(row[0])

        result: float = await self._read(read)
        return result

    async def spent_totals(self, now_wall: float) -> tuple[float, float, float]:
        """USD spent (today UTC, this calendar month UTC, all time), ``now_wall`` being epoch seconds."""
        day = datetime.fromtimestamp(now_wall, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        day_ts, month_ts = day.timestamp(), day.replace(day=1).timestamp()

        def read(conn: sqlite3.Connection) -> tuple[float, float, float]:
            row = conn.execute(
                "SELECT total(CASE WHEN ts >= ?1 THEN cost_usd END), "
                "total(CASE WHEN ts >= ?2 THEN cost_usd END), total(cost_usd) FROM requests",
                (day_ts, month_ts),
            ).fetchone()
            return float(row[0]), float(row[1]), float(row[2])

        result: tuple[float, float, float] = await self._read(read)
        return result

    async def recent_events(self, since_wall: float) -> list[dict[str, Any]]:
        """Requests finished at or after ``since_wall``, oldest first, to warm the metrics: dicts with the
        keys ts, provider, model, status, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cost_usd,
        task_class, attempts (the list of per-model attempts, decoded)."""

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            sql = f"SELECT {', '.join(_EVENT_COLS)} FROM requests WHERE ts >= ? ORDER BY ts, rowid"
            rows = [dict(zip(_EVENT_COLS, r, strict=True)) for r in conn.execute(sql, (since_wall,)).fetchall()]
            for row in rows:
                row["attempts"] = json.loads(row["attempts"]) if row["attempts"] else []
            return rows

        result: list[dict[str, Any]] = await self._read(read)
        return result

    async def count_requests(self) -> int:
        """How many requests the store holds."""
        result: int = await self._read(lambda conn: int(conn.execute("SELECT count(*) FROM requests").fetchone()[0]))
        return result

    async def load_catalog(self) -> list[dict[str, Any]] | None:
        """The cached catalog, or None when none was saved."""

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]] | None:
            row = conn.execute("SELECT models FROM catalog_cache WHERE id = 1").fetchone()
            return None if row is None else list(json.loads(row[0]))

        result: list[dict[str, Any]] | None = await self._read(read)
        return result

    async def catalog_fetched_at(self) -> float | None:
        """Epoch seconds when the cached catalog was saved, or None when there is none."""
        row = await self._read(lambda conn: conn.execute("SELECT fetched_at FROM catalog_cache").fetchone())
        return None if row is None else float(row[0])

    async def load_calibration(self) -> dict[str, float]:
        """Calibration factor per model id."""
        rows = await self._read(lambda conn: conn.execute("SELECT model, factor FROM calibration").fetchall())
        return {str(model): float(factor) for model, factor in rows}

    async def verify_audit(self) -> int:
        """Recompute the audit hash chain; return the number of entries. Raises ``StorageError`` if an
        entry was altered, removed or re-linked."""
        result: int = await self._read(self._verify_audit)
        return result

    async def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: "ok", or the problems it found, one per line."""
        rows = await self._read(lambda conn: conn.execute("PRAGMA integrity_check").fetchall())
        return "\n".join(str(r[0]) for r in rows)

    async def close(self) -> None:
        """Commit every pending write, checkpoint the WAL into the main file, close and join the thread."""
        if self._closed:
            return
        fut = self._submit(_STOP, None)
        self._closed = True
        try:
            await fut
        finally:
            # The thread resolves ``fut`` as its last act, so this join is immediate.
            self._thread.join(timeout=_BUSY_TIMEOUT_S)

    # --- the writer thread -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (one transaction per batch).
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, synchronous=NORMAL makes COMMIT append the transaction to the WAL file with
            # write(2), without fsync. What write(2) wrote sits in the OS page cache, which outlives the
            # process: a kill -9 (or a crash of AutoDevAI) loses no committed transaction; the next open
            # replays the WAL. Only a power cut or OS crash may lose the last commits, and even then the
            # database is not corrupted. FULL would add an fsync per commit (milliseconds) for a guarantee a
            # request log does not need. Checkpoints still fsync.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
            migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self) -> None:
        ready = self._queue.get()
        try:
            conn = self._connect()
        except BaseException as exc:
            self._closed = True
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
            self._closed = True
            conn.close()
            leftovers: list[_Result] = []
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                leftovers.append((job, None, _closed()))
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
                results.append((job, None, _closed()))
            elif job.kind in (_REQ, _AUDIT, _WRITE):
                writes.append(job)
            else:
                if writes:
                    self._commit(conn, writes, results)
                    writes = []
                if job.kind == _STOP:
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
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows = []
            for job in writes:
                if job.kind == _REQ:
                    rows.append(_request_row(job.data))
                elif job.kind == _AUDIT:
                    self._insert_audit(conn, *job.data)
                else:
                    job.data(conn)
            if rows:
                conn.executemany(_INSERT_REQUEST, rows)
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
        results.extend((job, None, None) for job in writes)

    def _insert_audit(self, conn: sqlite3.Connection, ts: float, event: str, payload: Mapping[str, Any]) -> None:
        # The chain head is read inside the write transaction: two processes appending cannot fork the chain.
        head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS_HASH)
        clean = _redact_obj(json.loads(json.dumps(dict(payload), default=str)))
        conn.execute(_INSERT_AUDIT, (seq, ts, event, _canonical(clean), prev, audit_hash(prev, seq, ts, event, clean)))

    def _verify_audit(self, conn: sqlite3.Connection) -> int:
        expected_seq, prev = 1, GENESIS_HASH
        for seq, ts, event, payload, prev_hash, stored in conn.execute(
            "SELECT seq, ts, event, payload, prev_hash, hash FROM audit ORDER BY seq"
        ):
            if seq != expected_seq:
                raise self._tampered(f"audit entry {expected_seq} is missing")
            if prev_hash != prev:
                raise self._tampered(f"audit entry {seq} does not link to the entry before it")
            try:
                content = json.loads(payload)
            except ValueError:
                raise self._tampered(f"audit entry {seq} has a payload that is not JSON") from None
            if audit_hash(prev, seq, ts, event, content) != stored:
                raise self._tampered(f"audit entry {seq} ({event}) was altered: its hash does not match")
            expected_seq, prev = seq + 1, stored
        return expected_seq - 1

    def _tampered(self, what: str) -> StorageError:
        err = StorageError(f"the audit log in {self.path} is broken: {what}", environment=True)
        err.hint = "the database was modified outside AutoDevAI; restore it from a backup"
        return err

    @staticmethod
    def _deliver(results: list[_Result]) -> None:
        """Resolve the callers' futures: one thread-safe callback per event loop per batch."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        for job, value, exc in results:
            by_loop.setdefault(job.loop, []).append((job.fut, value, exc))
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_resolve, items)
