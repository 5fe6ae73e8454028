"""The one file that knows both Qt and asyncio: running engine coroutines from widgets, and engine events as
Qt signals.

Everything runs on one thread: Qt's event loop drives asyncio through qasync, so a coroutine started here never
blocks the UI while it awaits I/O. CPU-heavy work goes through ``GuiContext.run_cpu`` (a worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Signal

from autodevai.engine.errors import EngineError
from autodevai.engine.metrics import RequestEvent
from autodevai.gui.theme import ThemeController

if TYPE_CHECKING:
    from autodevai.compose import App
    from autodevai.engine.orchestrator import Engine

__all__ = ["EngineEvents", "GuiContext", "install_event_loop"]

log = logging.getLogger("autodevai.gui")


def install_event_loop(app: Any) -> asyncio.AbstractEventLoop:
    """Make a qasync loop over ``app`` the current asyncio loop, with asyncio's async-generator hooks.

    qasync does not install the hooks that ``BaseEventLoop.run_forever`` does; without them an abandoned async
    generator (an HTTP stream) is finalized by the garbage collector outside any task, and httpx cannot close
    its connection cleanly.
    """
    import sys

    import qasync

    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]  # private, stable since 3.6
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    return loop


class EngineEvents(QObject):
    """Engine happenings as Qt signals. Also a ``MetricsSink`` (``record``) fed after every request."""

    request_recorded = Signal(object)  # RequestEvent
    engine_ready = Signal(object)  # compose.App
    engine_failed = Signal(str)
    settings_changed = Signal(object)  # Settings
    use_model = Signal(str)  # a panel asks Execute to use this model id
    error = Signal(str, str)  # (title, message) for the window's error banner
    busy = Signal(bool)  # long work started / ended (status bar spinner)
    gateway_changed = Signal(str)  # the status line of the local gateway ("Gateway http://…/v1" or "Gateway off")
    alert = Signal(object)  # AlertEvent: a breaker opened, a budget cap 80 %/100 % spent, a latency/error trend
    conversations_changed = Signal(str)  # a conversation (this id) got a message outside the Execute panel
    open_conversation = Signal(str)  # show this conversation in the Execute panel

    def record(self, event: RequestEvent) -> None:
        self.request_recorded.emit(event)


class GuiContext:
    """What every panel gets: the engine (once ready), its events, persistent UI settings (and the theme choice
    kept there), and ``spawn``."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.events = EngineEvents()
        self.qsettings = settings or QSettings("autodevai", "autodevai")
        self.theme = ThemeController(self.qsettings)
        self.app: App | None = None  # once the engine is open
        self._unsubscribe_alerts: Callable[[], None] | None = None
        # Set by the app's EngineHost: close and reopen the engine (after keys or providers changed).
        self.reopen: Callable[[], Coroutine[Any, Any, None]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.gateway_status = ""  # the gateway's status line, kept for windows built after it changed
        self.events.gateway_changed.connect(lambda text: setattr(self, "gateway_status", text))

    @property
    def engine(self) -> Engine:
        """The ``Engine`` facade, the panels' only door to the engine. Only once ``engine_ready`` fired (``ready``
        is True); before that it raises ``RuntimeError`` (a panel bug: check ``ready`` first)."""
        if self.app is None:
            raise RuntimeError("the engine is not open yet: check GuiContext.ready first")
        return self.app.engine

    @property
    def ready(self) -> bool:
        return self.app is not None

    def attach(self, app: App) -> None:
        """Take ``app`` as the engine (a new one after a reopen): its request events and alerts become signals.

        Alert sinks run on the engine's loop — this qasync loop, the GUI thread — so the signal is emitted
        directly; receivers must not block."""
        if self._unsubscribe_alerts is not None:
            self._unsubscribe_alerts()  # the previous engine (closed by now) keeps no reference to us
        self.app = app
        app.engine.add_metrics_sink(self.events)
        self._unsubscribe_alerts = app.engine.add_alert_sink(self.events.alert.emit)
        self.events.engine_ready.emit(app)

    def spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        name: str | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``coro`` on the event loop; deliver its result or error to the callbacks (on the UI thread).

        An ``EngineError`` without ``on_error`` goes to the window's error banner; any other exception is a
        bug and is logged with its traceback. Cancellation is silent.
        """
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                if on_result is not None:
                    on_result(t.result())
                return
            if on_error is not None:
                on_error(exc)
            elif isinstance(exc, EngineError):
                self.events.error.emit(type(exc).__name__, str(exc))
            else:
                log.error("background task failed", exc_info=exc)
                self.events.error.emit("Unexpected error", f"{type(exc).__name__}: {exc}")

        task.add_done_callback(done)
        return task

    async def run_cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run CPU-heavy ``fn(*args)`` in a worker thread so the UI keeps painting."""
        return await asyncio.to_thread(fn, *args)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):  # shutting down: every outcome is fine
                await task
