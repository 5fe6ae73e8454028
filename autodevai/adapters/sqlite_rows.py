"""How the store's values become SQLite rows and back: the ``requests`` columns, redaction on the way in, typed
``RequestRecord`` values on the way out, and the hash-chained audit log (one link per entry, verified end to end).

Prompts, answers, attempt details and audit payloads pass through ``redact`` before they reach the file, and
``storable`` (a lone surrogate from an upstream's answer becomes a visible escape instead of failing the write).
Runs on the store's writer thread: plain functions of a connection and values.

The audit chain: each entry links to the one before it by ``prev_hash``. Entries are signed with HMAC-SHA256
under the store's secret key (``audit_key.py``), so whoever edits an entry cannot make the chain verify again by
recomputing hashes. Entries written before schema v6 were linked with plain SHA-256; they stay as they were
(the log is append-only) and are protected by the first keyed entry, the *marker* (event ``audit.keyed``), which
signs their head hash and count. A v6 log always has exactly one marker; entries before it are SHA-256 links,
entries after it are keyed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autodevai.adapters.migrations import GENESIS_HASH
from autodevai.engine.errors import StorageError, redact
from autodevai.engine.input_limits import storable
from autodevai.engine.ports import RequestRecord

__all__ = [
    "AUDIT_MARKER",
    "COLS",
    "INSERT_REQUEST",
    "UPSERT_OUTCOME",
    "WARM_COLS",
    "audit_hash",
    "audit_mac",
    "insert_audit",
    "insert_audit_marker",
    "record_of",
    "request_row",
    "verify_audit",
    "warm_record_of",
]

COLS = (
    "id, ts, provider, model, preference, status, latency_ms, ttft_ms, prompt_tokens, completion_tokens, "
    "cost_usd, prompt, answer, attempts, task_class, stream, compression, detail, cost_source, simulated"
)
INSERT_REQUEST = f"INSERT INTO requests ({COLS}) VALUES ({', '.join('?' * (COLS.count(',') + 1))})"
UPSERT_OUTCOME = (
    "INSERT INTO outcomes (task_class, model, successes, failures, cost_usd, pulls) VALUES (?, ?, ?, ?, ?, 1) "
    "ON CONFLICT(task_class, model) DO UPDATE SET successes = successes + excluded.successes, "
    "failures = failures + excluded.failures, cost_usd = cost_usd + excluded.cost_usd, pulls = pulls + 1"
)
# What warming metrics and breakers reads: every column but the texts (prompts and answers can be long).
WARM_COLS = (
    "id, ts, provider, model, preference, status, latency_ms, ttft_ms, prompt_tokens, completion_tokens, "
    "cost_usd, attempts, task_class, stream, cost_source, simulated"
)
_INSERT_AUDIT = "INSERT INTO audit (seq, ts, event, payload, prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, 1)"
AUDIT_MARKER = "audit.keyed"


def _redact_obj(value: Any) -> Any:
    """``value`` with every string inside it redacted (mappings become dicts, sequences lists)."""
    if isinstance(value, str):
        return storable(redact(value))
    if isinstance(value, Mapping):
        return {storable(str(k)): _redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_obj(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _link(prev_hash: str, seq: int, ts: float, event: str, payload: Any) -> bytes:
    return (prev_hash + _canonical([seq, ts, event, payload])).encode("utf-8", "backslashreplace")


def audit_hash(prev_hash: str, seq: int, ts: float, event: str, payload: Any) -> str:
    """sha256 hex of ``prev_hash`` + canonical JSON of ``[seq, ts, event, payload]``: a link of the unkeyed chain
    written before schema v6 (still verified for those entries)."""
    return hashlib.sha256(_link(prev_hash, seq, ts, event, payload)).hexdigest()


def audit_mac(key: bytes, prev_hash: str, seq: int, ts: float, event: str, payload: Any) -> str:
    """HMAC-SHA256 hex under ``key`` of the same bytes ``audit_hash`` hashes: a link of the keyed chain."""
    return hmac.new(key, _link(prev_hash, seq, ts, event, payload), hashlib.sha256).hexdigest()


def request_row(rec: RequestRecord) -> tuple[Any, ...]:
    """The ``requests`` row of ``rec`` in ``COLS`` order, its texts redacted."""
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
        storable(redact(rec.prompt)),
        storable(redact(rec.answer)),
        attempts,
        rec.task_class,
        1 if rec.stream else 0,
        None if rec.compression is None else redact(json.dumps(dict(rec.compression), separators=(",", ":"))),
        None if rec.detail is None else redact(json.dumps(dict(rec.detail), separators=(",", ":"), default=str)),
        rec.cost_source,
        1 if rec.simulated else 0,
    )


def record_of(row: tuple[Any, ...]) -> RequestRecord:
    """The ``RequestRecord`` of a row selected with ``COLS``."""
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


def warm_record_of(row: tuple[Any, ...]) -> RequestRecord:
    """The ``RequestRecord`` of a row selected with ``WARM_COLS``: no prompt, answer, compression or detail."""
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
        attempts=tuple(json.loads(row[11])) if row[11] else (),
        task_class=row[12],
        stream=bool(row[13]),
        cost_source=row[14],
        simulated=bool(row[15]),
    )


def insert_audit(conn: sqlite3.Connection, key: bytes, ts: float, event: str, payload: Mapping[str, Any]) -> None:
    """Append one entry, signed with ``key`` and linked to the chain's head; call inside a write transaction."""
    # The chain head is read inside the write transaction: two processes appending cannot fork the chain.
    head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS_HASH)
    clean = _redact_obj(json.loads(json.dumps(dict(payload), default=str)))
    event = storable(event)
    mac = audit_mac(key, prev, seq, ts, event, clean)
    conn.execute(_INSERT_AUDIT, (seq, ts, event, _canonical(clean), prev, mac))


def insert_audit_marker(conn: sqlite3.Connection, key: bytes, ts: float) -> None:
    """Start the keyed chain (the schema v6 step): a signed entry naming how many unkeyed entries precede it and
    the hash they end with, so none of them can be changed either."""
    head = conn.execute("SELECT count(*), (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) FROM audit").fetchone()
    insert_audit(conn, key, ts, AUDIT_MARKER, {"legacy_entries": int(head[0]), "legacy_head": head[1] or GENESIS_HASH})


def verify_audit(conn: sqlite3.Connection, path: Path, key: bytes) -> int:
    """Recompute the audit chain of the database at ``path`` with ``key``; the number of entries. Raises
    ``StorageError`` (the environment's fault: the file was changed outside AutoDevAI, or the key is not the one
    the log was signed with) at the first broken link."""
    expected_seq, prev = 1, GENESIS_HASH
    marker_seen = False
    for seq, ts, event, payload, prev_hash, stored, keyed in conn.execute(
        "SELECT seq, ts, event, payload, prev_hash, hash, keyed FROM audit ORDER BY seq"
    ):
        if seq != expected_seq:
            raise _tampered(path, f"audit entry {expected_seq} is missing")
        if prev_hash != prev:
            raise _tampered(path, f"audit entry {seq} does not link to the entry before it")
        try:
            content = json.loads(payload)
        except ValueError:
            raise _tampered(path, f"audit entry {seq} has a payload that is not JSON") from None
        if not keyed:
            if marker_seen:
                raise _tampered(path, f"audit entry {seq} ({event}) is not signed, yet it follows signed entries")
            if audit_hash(prev, seq, ts, event, content) != stored:
                raise _tampered(path, f"audit entry {seq} ({event}) was altered: its hash does not match")
        else:
            if audit_mac(key, prev, seq, ts, event, content) != stored:
                what = "its signature does not match"
                if not marker_seen and event == AUDIT_MARKER:
                    what += " (or the audit key is not the one this log was signed with)"
                raise _tampered(path, f"audit entry {seq} ({event}) was altered: {what}")
            if not marker_seen:
                if event != AUDIT_MARKER or content.get("legacy_entries") != seq - 1:
                    raise _tampered(path, f"audit entry {seq} ({event}) is signed but the chain's start is missing")
                marker_seen = True
        expected_seq, prev = seq + 1, stored
    if not marker_seen:
        raise _tampered(path, "the signed start of the audit chain is missing")
    return expected_seq - 1


def _tampered(path: Path, what: str) -> StorageError:
    return StorageError(
        f"the audit log in {path} is broken: {what}",
        environment=True,
        hint="the database was modified outside AutoDevAI; restore it from a backup",
    )
