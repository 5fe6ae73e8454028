"""kill -9 helpers shared by the crash tests: read acknowledged ids from a writer process, SIGKILL it with
writes in flight, then look at what the database kept."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def kill_after(cmd: Sequence[str], acknowledged: int, env: Mapping[str, str] | None = None) -> list[str]:
    """Run ``cmd``, read ``acknowledged`` ids (one per stdout line), SIGKILL it, and return every id it printed
    (including the lines already written when the kill landed). Fails if it printed fewer."""
    printed: list[str] = []
    with subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=None if env is None else dict(env)
    ) as proc:
        assert proc.stdout is not None
        while len(printed) < acknowledged:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line.strip())
        proc.kill()  # SIGKILL on POSIX: no cleanup, no close(), writes in flight
        out, err = proc.communicate(timeout=30)
    assert len(printed) >= acknowledged, err[-2000:]
    return printed + [line for line in out.splitlines() if line]


def surviving_ids(db: Path) -> set[str]:
    """The request ids in ``db`` after checking that SQLite finds it intact."""
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in raw.execute("SELECT id FROM requests")}
    finally:
        raw.close()
