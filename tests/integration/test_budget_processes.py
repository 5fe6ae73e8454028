"""Budget caps hold across processes: two engines on one data dir, spending at the same time against one total
cap, never spend more than the cap between them (the sum of the stored costs), and a new process remembers it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.sim.config import SimConfig
from autodevai.sim.thread import SimThread

WRITER = Path(__file__).parent.parent / "fakes" / "budget_writer.py"
CAP = 0.002  # the cap: two processes spent $0.00396 against it


async def _spend(tmp_path: Path, base_url: str) -> list[dict[str, float]]:
    """Start two engines on ``tmp_path``, let them spend at once, return what each reports."""
    env = {**os.environ, "SIM_KEY": "budget-test-key"}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WRITER),
            str(tmp_path),
            base_url,
            str(CAP),
            "90",
            "6",
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both engines are open on the same database before either spends
            assert proc.stdout is not None
            assert (await proc.stdout.readline()).strip() == b"ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert all(proc.returncode == 0 for proc in procs), [err.decode()[-3000:] for _out, err in outs]
    return [json.loads(out.decode().strip().splitlines()[-1]) for out, _err in outs]


async def test_two_processes_on_one_data_dir_never_exceed_a_total_cap(tmp_path: Path) -> None:
    with SimThread(SimConfig(latency_scale=0.02, seed=3)) as sim:
        results = await _spend(tmp_path, sim.base_url)
    assert all(r["answered"] > 0 and r["refused"] > 0 for r in results), results  # both spent, the cap bit both

    store = await SqliteStore.open(tmp_path / "a.db")
    try:
        rows = await store.recent_requests(1000)
        stored = sum(r.cost_usd for r in rows)
        _today, _month, spent_total = await store.spent_totals(rows[0].ts)
    finally:
        await store.close()
    assert stored <= CAP + 1e-12, f"spent ${stored:.6f} against a ${CAP} cap"
    # What the processes were told they spent is what is stored, and a new process counts it all.
    assert abs(stored - sum(r["cost"] for r in results)) < 1e-9
    assert abs(spent_total - stored) < 1e-9
    # The cap was used, not left idle: what is left is less than one more request's worst case.
    assert CAP - stored < 0.0001
