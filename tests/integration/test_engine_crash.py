"""kill -9 of a process running the engine with requests in flight: the database stays intact and every
request the engine reported finished is in it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

WRITER = Path(__file__).parent.parent / "fakes" / "engine_writer.py"


def test_kill_9_with_requests_in_flight(tmp_path: Path) -> None:
    env = {**os.environ, "SIM_KEY": "crash-test-key"}
    env.pop("AUTODEVAI_SIM_LATENCY_SCALE", None)
    printed: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(WRITER), str(tmp_path), "16"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        while len(printed) < 200:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line.strip())
        proc.kill()
        out, err = proc.communicate(timeout=30)
    assert len(printed) >= 200, err[-2000:]
    printed += [line for line in out.splitlines() if line]
    raw = sqlite3.connect(tmp_path / "a.db")
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        present = {r[0] for r in raw.execute("SELECT id FROM requests")}
    finally:
        raw.close()
    missing = set(printed) - present
    assert not missing, f"{len(missing)} finished requests lost"
