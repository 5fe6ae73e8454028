"""Which SQLite failures are the machine's fault and which are ours, after ``qutebrowser/misc/sql.py``.

The machine's fault (disk full, read-only, locked, I/O, a corrupt file) becomes ``StorageError(environment=True)``
with what the user can do about it; anything else is a bug of ours (``environment=False``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autodevai.engine.errors import StorageError, redact

__all__ = ["closed_error", "storage_error"]

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


def closed_error() -> StorageError:
    """The error of a call made after the store was closed (a bug of the caller)."""
    return StorageError("the store is closed", environment=False)
