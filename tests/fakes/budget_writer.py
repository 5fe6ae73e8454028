"""Child process for the shared-budget test: one engine spending against a total cap on a shared data dir.

Usage: ``python budget_writer.py DATA_DIR SIM_URL CAP_USD REQUESTS CONCURRENCY``. Opens the engine on the
simulator at SIM_URL with its store in DATA_DIR (``a.db``, shared with the other processes) and a total budget
cap, prints "ready", waits for a line on stdin (so every process spends at the same time), then sends
REQUESTS requests from CONCURRENCY tasks and prints one JSON line: how many were answered and refused, and what
the answers cost.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from autodevai.compose import open_engine
from autodevai.engine.errors import BudgetExceeded
from autodevai.engine.settings import BudgetSettings, ProviderSettings, Settings
from autodevai.engine.types import ChatRequest

MODEL = "openai/gpt-4o-mini"


async def _main(data: Path, sim_url: str, cap: float, requests: int, concurrency: int) -> None:
    settings = Settings(
        providers=[
            ProviderSettings(name="sim", kind="openrouter", base_url=sim_url, attribution=False, api_key_env="SIM_KEY")
        ],
        budget=BudgetSettings(total_usd=cap),
    )
    app = await open_engine(data / "config.toml", settings=settings, refresh="wait", db_path=data / "a.db")
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "go"
    answered: list[float] = []
    refused = 0
    todo = iter(range(requests))

    async def worker() -> None:
        nonlocal refused
        for i in todo:
            request = ChatRequest.from_prompt(
                f"Write a short poem about the number {i}.", model=MODEL, fallbacks=[], max_tokens=64
            )
            try:
                response = await app.engine.execute_enhanced_ai_request(request)
            except BudgetExceeded:
                refused += 1
            else:
                answered.append(response.cost_usd)

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await app.aclose()
    print(json.dumps({"answered": len(answered), "refused": refused, "cost": sum(answered)}), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(_main(Path(args[0]), args[1], float(args[2]), int(args[3]), int(args[4])))
