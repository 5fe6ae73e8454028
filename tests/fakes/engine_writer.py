"""Child process for the engine's kill -9 test: the whole request path, not just the store.

Usage: ``python engine_writer.py DATA_DIR [CONCURRENCY]``. Starts the simulator in a thread, opens the engine
on it with its store in DATA_DIR, and runs requests from CONCURRENCY tasks forever, printing each request id
(flushed) only after ``execute_enhanced_ai_request`` returned it. The test kills this process with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from autodevai.compose import open_engine
from autodevai.engine.settings import ProviderSettings, Settings
from autodevai.engine.types import ChatRequest
from autodevai.sim.config import SimConfig
from autodevai.sim.thread import SimThread


async def _main(data: Path, concurrency: int) -> None:
    with SimThread(SimConfig(latency_scale=0.0)) as sim:
        settings = Settings(
            providers=[
                ProviderSettings(
                    name="sim", kind="openrouter", base_url=sim.base_url, attribution=False, api_key_env="SIM_KEY"
                )
            ]
        )
        app = await open_engine(data / "config.toml", settings=settings, refresh="wait", db_path=data / "a.db")

        async def worker(n: int) -> None:
            i = 0
            while True:
                request = ChatRequest.from_prompt(f"What is {n}*{i}?", max_tokens=16)
                response = await app.engine.execute_enhanced_ai_request(request)
                sys.stdout.write(response.request_id + "\n")
                sys.stdout.flush()
                i += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 16))
