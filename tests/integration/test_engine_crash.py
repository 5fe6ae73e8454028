"""kill -9 of a process running the engine with requests in flight: the database stays intact and every
request the engine reported finished is in it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.fakes.crash import kill_after, surviving_ids

WRITER = Path(__file__).parent.parent / "fakes" / "engine_writer.py"


def test_kill_9_with_requests_in_flight(tmp_path: Path) -> None:
    env = {**os.environ, "SIM_KEY": "crash-test-key"}
    env.pop("AUTODEVAI_SIM_LATENCY_SCALE", None)
    printed = kill_after([sys.executable, str(WRITER), str(tmp_path), "16"], 200, env)
    missing = set(printed) - surviving_ids(tmp_path / "a.db")
    assert not missing, f"{len(missing)} finished requests lost"
