"""Fixtures for engine tests: a real simulator on 127.0.0.1 (port 0) and engines wired exactly as the app does."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from autodevai.compose import App, open_engine
from autodevai.engine.ports import Clock
from autodevai.engine.settings import parse_settings
from autodevai.sim.config import SimConfig
from autodevai.sim.server import SimServer

SIM_KEY = "test-sim-key"
CHEAP = "meta-llama/llama-3.1-8b-instruct"
MINI = "openai/gpt-4o-mini"
BIG = "openai/gpt-4o"

MakeEngine = Callable[..., Awaitable[App]]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0.0, seed=11))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_engine(sim: SimServer, tmp_path: Path, memory_keyring: Any) -> AsyncIterator[MakeEngine]:
    """``await make_engine(**settings)`` -> an initialized ``App`` over the simulator (closed after the test);
    ``clock=ManualClock()`` puts the engine's time (deadlines, backoff, breakers, limits) in the test's hands."""
    apps: list[App] = []

    async def make(
        *, key: str = SIM_KEY, base_url: str | None = None, clock: Clock | None = None, **settings: Any
    ) -> App:
        memory_keyring.set_password("autodevai", "sim", key)
        data = {
            "providers": [
                {"name": "sim", "kind": "openrouter", "base_url": base_url or sim.base_url, "attribution": False}
            ],
            **settings,
        }
        app = await open_engine(
            tmp_path / "config.toml",
            settings=parse_settings(data),
            refresh="wait",
            rng=random.Random(7),
            clock=clock,
            db_path=tmp_path / "engine.db",
            trust_env=False,
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.aclose()
