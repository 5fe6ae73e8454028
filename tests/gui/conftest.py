"""GUI test harness: a qasync loop, the simulator on it (real HTTP on 127.0.0.1), an engine opened the way the
app opens it, and isolated QSettings. GUI tests are plain (sync) functions that drive the loop with ``run``.

Waiting: ``wait_signal`` waits for a real Qt signal (``async with harness.wait_signal(panel.finished) as done:``,
then ``done.args``), the way ``qtbot.waitSignal`` does. qtbot's own blockers spin a nested Qt event loop, which
would re-enter the qasync loop the test coroutine runs on (asyncio refuses a task step inside another), so the
harness waits on an asyncio future the signal completes. ``wait_until`` is for state no signal announces.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from autodevai.engine.settings import parse_settings
from autodevai.gui.app import EngineHost
from autodevai.gui.bridge import GuiContext, install_event_loop
from autodevai.launch import start_gateway
from autodevai.sim.config import SimConfig
from autodevai.sim.server import SimServer

T = TypeVar("T")
SIM_KEY = "gui-test-sim-key"


@dataclass
class SignalWait:
    """What ``Harness.wait_signal`` yields: the arguments the signal carried, once it came."""

    future: asyncio.Future[tuple[Any, ...]]
    args: tuple[Any, ...] = ()


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    tmp: Path
    keyring: Any
    sim: SimServer | None = None
    ctx: GuiContext | None = None
    host: EngineHost | None = None
    widgets: list[Any] = field(default_factory=list)

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the qasync loop (Qt events are processed meanwhile)."""
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def wait_until(
        self, cond: Callable[[], bool | Awaitable[bool]], limit_s: float = 10.0, what: str = ""
    ) -> None:
        """Poll ``cond`` (a function, or a coroutine function such as a store query) until it is true: for state
        that no signal announces. Prefer ``wait_signal`` where one does."""
        deadline = time.monotonic() + limit_s
        while True:
            done = cond()
            if inspect.isawaitable(done):
                done = await done
            if done:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or cond}")
            await asyncio.sleep(0.01)

    @asynccontextmanager
    async def wait_signal(
        self,
        signal: Any,
        limit_s: float = 10.0,
        what: str = "",
        check: Callable[..., bool] | None = None,
    ) -> AsyncIterator[SignalWait]:
        """Wait, on leaving the block, for ``signal`` to be emitted during it or after it (with arguments that
        ``check`` accepts, when given); the arguments are then in ``.args``. Fails after ``limit_s`` seconds."""
        waiter = SignalWait(asyncio.get_running_loop().create_future())

        def slot(*args: Any) -> None:
            if not waiter.future.done() and (check is None or check(*args)):
                waiter.future.set_result(args)

        signal.connect(slot)
        try:
            yield waiter
            try:
                waiter.args = await asyncio.wait_for(asyncio.shield(waiter.future), limit_s)
            except TimeoutError:
                raise AssertionError(f"timed out waiting for {what or signal}") from None
        finally:
            signal.disconnect(slot)

    async def start(self, sim_config: SimConfig | None = None, **settings: Any) -> GuiContext:
        """Start the simulator and open an engine on it; returns the panels' ``GuiContext``."""
        self.sim = SimServer(sim_config or SimConfig(latency_scale=0.0, seed=5))
        await self.sim.start()
        self.keyring.set_password("autodevai", "sim", SIM_KEY)
        data = {
            "providers": [{"name": "sim", "kind": "openrouter", "base_url": self.sim.base_url, "attribution": False}],
            **settings,
        }
        qs = QSettings(str(self.tmp / "ui.ini"), QSettings.Format.IniFormat)
        self.ctx = GuiContext(qs)
        self.host = EngineHost(
            self.ctx,
            self.tmp / "config.toml",
            start_gateway=start_gateway,  # as the launcher hands it to the window
            settings=parse_settings(data),
            refresh="wait",
            rng=random.Random(3),
            db_path=self.tmp / "gui.db",
            trust_env=False,
        )
        await self.host.open()
        assert self.ctx.ready, "the engine did not open"
        return self.ctx

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.close()
        if self.sim is not None:
            await self.sim.stop()


@pytest.fixture
def harness(qapp: QApplication, tmp_path: Path, memory_keyring: Any) -> Iterator[Harness]:
    hooks = sys.get_asyncgen_hooks()
    loop = install_event_loop(qapp)
    h = Harness(loop, tmp_path, memory_keyring)
    try:
        yield h
    finally:
        for w in h.widgets:
            w.close()
        loop.run_until_complete(h.stop())
        _delete_now(qapp, h)  # on this thread: a worker thread's GC must not be the one to destroy them
        loop.close()
        asyncio.set_event_loop(None)
        sys.set_asyncgen_hooks(*hooks)


@pytest.fixture(scope="session", autouse=True)
def _collect_qt_objects_while_the_app_lives(qapp: QApplication) -> Iterator[None]:
    """Delete Python-owned Qt objects (and run deferred deletes) while QApplication still exists, instead of in
    the interpreter's final garbage collection, where PySide6 and pyqtgraph tear down in an unsafe order."""
    yield
    _collect(qapp)


def _delete_now(qapp: QApplication, h: Harness) -> None:
    """Destroy the test's widgets (and with them their timers) and collect what they leave, now."""
    import gc

    from PySide6.QtCore import QEvent

    for w in h.widgets:
        if hasattr(w, "deleteLater"):
            w.deleteLater()
    h.widgets.clear()
    h.ctx = None
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()


def _collect(qapp: QApplication) -> None:
    """Collect unreachable Python-owned Qt objects and run deferred deletes, here on the GUI thread. Left to
    chance, the cyclic GC may run in a worker thread (the store's writer, ``to_thread``), where destroying a
    QObject with a running timer warns and destroying a widget can crash."""
    import gc

    gc.collect()
    qapp.sendPostedEvents(None, 0)  # deferred deletes (QEvent.DeferredDelete)
    qapp.processEvents()
    gc.collect()
