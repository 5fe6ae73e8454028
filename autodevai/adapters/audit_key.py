"""The audit log's secret key: 32 random bytes in a file readable only by its owner (0600), beside the database,
created once and then only read.

One file, not the OS keyring: every process on a data dir must sign with the same key, and a CLI over SSH often
cannot reach the keyring a desktop session uses; a key that depended on where a process runs would fork the chain.
Creation is atomic (written to a private temp file, then hard-linked into place, which fails if another process
won the race), so two processes starting at once end up with the same key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from autodevai.engine.errors import StorageError

__all__ = ["KEY_FILE", "load_or_create_key"]

KEY_FILE = "audit.key"
_KEY_BYTES = 32


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    key = bytes.fromhex(text)
    if len(key) < 16:
        raise ValueError("too short")
    return key


def _private(path: Path) -> None:
    """Make ``path`` readable by its owner only (POSIX), if it is not already."""
    if os.name == "posix":
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path`` (created with a new random key if missing). Raises ``StorageError`` (the environment's
    fault) when it cannot be read or created."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".audit-", dir=path.parent)  # 0600
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_hex(_KEY_BYTES) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                    os.link(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        _private(path)
        return _read(path)
    except (OSError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StorageError(
            f"cannot use the audit key {path}: {detail}",
            environment=True,
            hint="fix the data directory's permissions; if the key file is damaged, move it and the database away",
        ) from exc
