"""``SimThread``: a ``SimServer`` on its own event loop in a daemon thread, for synchronous callers.

Owns: starting the loop and blocking until the server listens, crossing threads safely (every call that
touches the server runs on the server's loop via ``run_coroutine_threadsafe``), and a clean stop that closes
every connection and the loop. Usable as a context manager: ``with SimThread(SimConfig(latency_scale=0)) as
sim: sim.base_url``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from autodevai.sim.config import SimConfig
from autodevai.sim.faults import FaultRule
from autodevai.sim.server import SimServer
from autodevai.sim.state import SimStats

__all__ = ["SimThread"]

T = TypeVar("T")
START_TIMEOUT_S = 30.0


class SimThread:
    """Run a simulator in the background; ``start()`` returns its base URL once it accepts connections."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = SimServer(config)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> str:
        """Start the thread, block until the server listens, return ``base_url``; raises if it cannot bind."""
        if self._thread is not None:
            return self.base_url
        self._thread = threading.Thread(target=self._run, name="autodevai-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the simulator did not start within 30 s")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"the simulator could not start: {self._error}") from self._error
        return self.base_url

    def stop(self) -> None:
        """Close every connection, stop the loop and join the thread. Safe to call twice."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None

    def __enter__(self) -> SimThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start(self._host, self._port)
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()

    def _call(self, fn: Callable[[], T]) -> T:
        loop = self._loop
        if loop is None or self._thread is None or loop.is_closed():
            return fn()  # not running: nothing else touches the server

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(START_TIMEOUT_S)

    def add_fault(self, rule: FaultRule | dict[str, Any]) -> None:
        self._call(lambda: self.server.add_fault(rule))

    def clear_faults(self) -> None:
        self._call(self.server.clear_faults)

    @property
    def stats(self) -> SimStats:
        return self._call(lambda: self.server.stats)
