"""Child process for the store's kill -9 crash test.

Usage: ``python store_writer.py DB_PATH [CONCURRENCY]``. Opens the store and records requests from CONCURRENCY
tasks forever, printing each request id on stdout (flushed) only AFTER ``record_request`` returned, i.e. after
the store promised the row is committed. The test kills this process with SIGKILL while writes are in flight.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.engine.ports import RequestRecord


async def _main(path: Path, concurrency: int) -> None:
    store = await SqliteStore.open(path)

    async def worker(n: int) -> None:
        i = 0
        while True:
            rid = f"w{n}-{i}-{uuid.uuid4().hex}"
            await store.record_request(
                RequestRecord(
                    id=rid,
                    ts=time.time(),
                    provider="sim",
                    model="sim/echo",
                    preference="balanced",
                    status="ok",
                    latency_ms=12.5,
                    ttft_ms=3.0,
                    prompt_tokens=10,
                    completion_tokens=20,
                    cost_usd=0.0001,
                    prompt="question " * 30,
                    answer="answer " * 60,
                    attempts=({"provider": "sim", "model": "sim/echo", "outcome": "ok"},),
                )
            )
            sys.stdout.write(rid + "\n")
            sys.stdout.flush()
            i += 1

    await asyncio.gather(*(worker(n) for n in range(concurrency)))


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 16))
