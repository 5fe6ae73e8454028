"""The SQLite schema of the store, as an ordered list of migration steps, and the code that applies them.

``MIGRATIONS[i]`` takes a database from schema version ``i`` to ``i + 1``. A step is a tuple of SQL
statements run in one transaction together with the bump of ``schema_version``, so a crash mid-migration
leaves the previous version intact. Steps are append-only: never edit a released step, add a new one.
A database written by a newer AutoDevAI (a version above ``len(MIGRATIONS)``) is refused with a clear
``StorageError`` instead of being half-understood: ``peek_version`` reads the version before anything is written
(the writer opens the file read-only for it, before switching the journal to WAL).

A step may need more than SQL (v6 starts the keyed audit chain with an entry signed by the store's key): ``migrate``
calls ``after_step(conn, new_version)`` inside the step's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from autodevai.engine.errors import StorageError

__all__ = [
    "GENESIS_HASH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "migrate",
    "newer_version_error",
    "peek_version",
    "schema_version",
]

# prev_hash of the first audit entry.
GENESIS_HASH = "0" * 64

_V1: tuple[str, ...] = (
    """CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        ts REAL NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        preference TEXT NOT NULL,
        status TEXT NOT NULL,
        latency_ms REAL NOT NULL,
        ttft_ms REAL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        prompt TEXT NOT NULL,
        answer TEXT NOT NULL,
        attempts TEXT NOT NULL,
        task_class TEXT,
        stream INTEGER NOT NULL
    )""",
    "CREATE INDEX requests_ts ON requests(ts)",
    """CREATE TABLE catalog_cache (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        models TEXT NOT NULL,
        fetched_at REAL NOT NULL
    )""",
    """CREATE TABLE calibration (
        model TEXT PRIMARY KEY,
        factor REAL NOT NULL,
        samples INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    # The audit log is append-only: the database itself refuses edits and deletions.
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted'); END""",
)

# v2: what context compression did to a request's prompt (a JSON CompressionReport), NULL when nothing.
_V2: tuple[str, ...] = ("ALTER TABLE requests ADD COLUMN compression TEXT",)

# v3: what adaptive workflows learned: per (task class, model) outcome counts and spend (engine/bandit.py's arms).
_V3: tuple[str, ...] = (
    """CREATE TABLE outcomes (
        task_class TEXT NOT NULL,
        model TEXT NOT NULL,
        successes REAL NOT NULL DEFAULT 0,
        failures REAL NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        pulls INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (task_class, model)
    )""",
)

# v4: what the request used beyond text and what came back besides it (tools, response format, media parts;
# tool calls, reasoning, refusal, cached/reasoning tokens), as JSON, NULL for a plain text request and answer;
# where cost_usd comes from ("provider", "catalog", or "unknown": counted as 0 but not known to be 0); and
# whether AutoDevAI's simulator wrote the answer.
_V4: tuple[str, ...] = (
    "ALTER TABLE requests ADD COLUMN detail TEXT",
    "ALTER TABLE requests ADD COLUMN cost_source TEXT NOT NULL DEFAULT 'provider'",
    "ALTER TABLE requests ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0",
)

# v5: conversations (title, pin, preset, the current leaf, soft delete) and their messages as a tree (parent_id;
# a branch is a sibling), with what each answer cost and why; full-text search over message text (FTS5, kept in
# step by triggers).
_V5: tuple[str, ...] = (
    """CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        preset TEXT NOT NULL DEFAULT '{}',
        head_id TEXT,
        deleted_at REAL
    )""",
    """CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        parent_id TEXT,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        text TEXT NOT NULL,
        created REAL NOT NULL,
        kind TEXT NOT NULL DEFAULT 'message',
        summary_of TEXT,
        model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        request_id TEXT NOT NULL DEFAULT '',
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        cost_source TEXT NOT NULL DEFAULT 'provider',
        latency_ms REAL NOT NULL DEFAULT 0,
        simulated INTEGER NOT NULL DEFAULT 0,
        extra TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX messages_by_conversation ON messages(conversation_id, created)",
    "CREATE INDEX conversations_by_update ON conversations(updated)",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
       BEGIN INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
       BEGIN INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
       BEGIN INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
             INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END""",
)

# v6: budgets that hold across processes (engine/spend_gate.py). ``reservations`` are budget holds of requests in
# flight, each owned by one engine ("host:pid:nonce") and expiring after its deadline (so a crashed process's holds
# lapse); a hold whose request was answered but whose row could not be written is settled in place (``expires``
# NULL, ``amount_nano`` the cost): spent, remembered. ``spend_by_day`` sums the requests' costs per UTC day in
# integer nano-dollars, kept by a trigger, so a reservation reads a handful of rows instead of every request.
# The audit log's entries are HMAC-SHA256 signed from here on (``keyed``); earlier ones stay SHA-256 linked, and
# the first keyed entry (written with this step, see ``migrate``'s ``after_step``) commits to their head.
_V6: tuple[str, ...] = (
    """CREATE TABLE reservations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        amount_nano INTEGER NOT NULL,
        created REAL NOT NULL,
        expires REAL,
        day INTEGER NOT NULL
    )""",
    "CREATE INDEX reservations_by_expiry ON reservations(expires)",
    """CREATE TABLE spend_by_day (
        day INTEGER PRIMARY KEY,
        nano INTEGER NOT NULL DEFAULT 0
    )""",
    """INSERT INTO spend_by_day (day, nano)
       SELECT CAST(ts / 86400 AS INTEGER), sum(CAST(round(min(cost_usd, 1e9) * 1e9) AS INTEGER))
       FROM requests WHERE cost_usd > 0 GROUP BY 1""",
    """CREATE TRIGGER requests_spend AFTER INSERT ON requests WHEN new.cost_usd > 0
       BEGIN
         INSERT OR IGNORE INTO spend_by_day (day, nano) VALUES (CAST(new.ts / 86400 AS INTEGER), 0);
         UPDATE spend_by_day SET nano = nano + CAST(round(min(new.cost_usd, 1e9) * 1e9) AS INTEGER)
           WHERE day = CAST(new.ts / 86400 AS INTEGER);
       END""",
    "ALTER TABLE audit ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a fresh database."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def peek_version(conn: sqlite3.Connection) -> int:
    """The schema version without writing anything (0 when the database has no version table yet)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if found is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def newer_version_error(path: Path, version: int) -> StorageError:
    """The refusal of a database written by a newer AutoDevAI (nothing in it was touched)."""
    return StorageError(
        f"the database {path} has schema version {version}, written by a newer AutoDevAI; this version "
        f"understands up to {SCHEMA_VERSION}, so it was left untouched",
        environment=True,
        hint="upgrade AutoDevAI, or move the file away (or set AUTODEVAI_DATA_DIR elsewhere) to start an empty history",
    )


AfterStep = Callable[[sqlite3.Connection, int], None]


def migrate(conn: sqlite3.Connection, path: Path, after_step: AfterStep | None = None) -> int:
    """Bring the database up to ``SCHEMA_VERSION``, one transaction per step; return the final version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). ``after_step(conn, version)`` runs inside each
    step's transaction once its SQL has run. Raises ``StorageError`` for a database from a newer version; lets
    ``sqlite3.Error`` through for the caller to classify.
    """
    while True:
        # BEGIN IMMEDIATE takes the write lock first, so two processes opening the same new database
        # cannot both apply the same step: the second waits (busy_timeout) and then sees the new version.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version > SCHEMA_VERSION:
                raise newer_version_error(path, version)
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return version
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            if after_step is not None:
                after_step(conn, version + 1)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
