"""Start the desktop app: a QApplication on a qasync loop, the main window at once, the engine behind it.

The window appears before the engine is open (opening may refresh the catalog over the network); panels fill
in when ``engine_ready`` fires. With no provider or key, the built-in simulator answers and the onboarding
dialog explains the three ways forward.

The window never imports the gateway (faces do not import one another): the launcher (``autodevai.launch``) hands
``main`` a ``GatewayStarter``, which ``EngineHost`` calls when ``gateway.enabled`` asks for the local endpoint.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from autodevai.gui.bridge import GuiContext, install_event_loop
from autodevai.gui.icon import app_icon
from autodevai.gui.main_window import MainWindow

if TYPE_CHECKING:
    from autodevai.compose import App

__all__ = ["EngineHost", "GatewayStarter", "RunningGateway", "app_icon", "display_available", "main"]


class RunningGateway(Protocol):
    """A started local gateway, as the window needs it: where it listens, and how to stop it."""

    @property
    def base_url(self) -> str: ...

    async def stop(self) -> None: ...


class GatewayStarter(Protocol):
    """Starts the local gateway over an open app (``autodevai.gateway.serve`` fits). Raises ``EngineError`` or
    ``OSError`` when it cannot (no token source, address in use)."""

    async def __call__(self, app: App, *, host: str, port: int) -> RunningGateway: ...


def display_available() -> bool:
    """False on a Linux box with no display server (then the CLI prints help instead of failing)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class EngineHost:
    """Owns the engine's lifetime for the GUI: open, reopen after settings/keys change, close; and the local
    gateway's, when ``start_gateway`` is given and the settings enable it."""

    def __init__(
        self,
        ctx: GuiContext,
        config_path: Path | None = None,
        *,
        start_gateway: GatewayStarter | None = None,
        **open_kw: Any,
    ) -> None:
        self.ctx = ctx
        self.config_path = config_path
        self.open_kw = open_kw
        self.start_gateway = start_gateway
        self.app: App | None = None
        self.gateway: RunningGateway | None = None
        ctx.reopen = self.reopen

    async def open(self) -> None:
        from autodevai.compose import open_engine
        from autodevai.engine.errors import EngineError

        self.ctx.events.busy.emit(True)
        try:
            app = await open_engine(self.config_path, **self.open_kw)
        except EngineError as exc:
            self.ctx.events.engine_failed.emit(str(exc))
            return
        finally:
            self.ctx.events.busy.emit(False)
        self.app = app
        self.ctx.attach(app)
        await self._start_gateway(app)

    async def _start_gateway(self, app: App) -> None:
        """Start the local OpenAI-compatible gateway with the window when the settings ask for it."""
        cfg = app.engine.settings.gateway
        if not cfg.enabled:
            self.ctx.events.gateway_changed.emit("Gateway off")
            return
        if self.start_gateway is None:  # a window opened without the launcher (a test, a script)
            self.ctx.events.gateway_changed.emit("Gateway unavailable")
            return
        from autodevai.engine.errors import EngineError

        try:
            self.gateway = await self.start_gateway(app, host=cfg.host, port=cfg.port)
        except (EngineError, OSError) as exc:
            self.ctx.events.gateway_changed.emit("Gateway failed")
            self.ctx.events.error.emit("The gateway could not start", str(exc))
            return
        self.ctx.events.gateway_changed.emit(f"Gateway {self.gateway.base_url}")

    async def _stop_gateway(self) -> None:
        if self.gateway is not None:
            await self.gateway.stop()
            self.gateway = None

    async def reopen(self) -> None:
        old = self.app
        self.app = None
        self.ctx.app = None  # panels see "not ready" until the new engine is attached (or failed to open)
        await self._stop_gateway()
        if old is not None:
            await old.aclose()
        await self.open()

    async def close(self) -> None:
        await self.ctx.cancel_all()
        await self._stop_gateway()
        if self.app is not None:
            await self.app.aclose()
            self.app = None


def build(ctx: GuiContext) -> MainWindow:
    window = MainWindow(ctx)
    window.setWindowIcon(app_icon())
    return window


def main(
    argv: list[str] | None = None, config_path: Path | None = None, start_gateway: GatewayStarter | None = None
) -> int:
    """Run the desktop app until its window closes (or the tray's Quit). Returns the exit code.

    ``start_gateway`` (from the launcher) starts the local gateway when the settings enable it."""

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("AutoDevAI")
    app.setDesktopFileName("autodevai")  # matches resources/autodevai.desktop (window icon on Wayland)
    # We end the loop ourselves (window closed or tray Quit) after closing the engine; Qt must not stop it first.
    app.setQuitOnLastWindowClosed(False)
    app.setOrganizationName("autodevai")
    app.setWindowIcon(app_icon())
    loop = install_event_loop(app)
    from autodevai import paths

    # UI state (geometry, last panel, onboarding, theme) lives beside config.toml, so AUTODEVAI_CONFIG_DIR
    # isolates it.
    ctx = GuiContext(QSettings(str(paths.config_dir() / "ui.ini"), QSettings.Format.IniFormat))
    ctx.theme.apply_saved()  # System, Light or Dark as the user last chose (System at first)
    window = build(ctx)
    host = EngineHost(ctx, config_path, start_gateway=start_gateway)
    tray = _make_tray(ctx, window)
    done = asyncio.Event()
    window.closing.connect(done.set)  # the window closed for real: also File → Quit / Ctrl+Q
    if tray is not None:
        tray.quit_requested.connect(done.set)
        window.notifier.use_tray(tray.tray)  # alerts become system notifications
    window.show()

    smoke = bool(os.environ.get("AUTODEVAI_GUI_SMOKE"))  # packaging/CI smoke test: open, report, close

    async def run() -> None:
        ctx.spawn(host.open(), name="engine-open")
        if smoke:
            print(f"window shown: {window.isVisible()}", flush=True)

            def report(text: str) -> None:
                print(text, flush=True)
                done.set()

            ctx.events.engine_ready.connect(lambda _app: report("engine ready"))
            ctx.events.engine_failed.connect(lambda msg: report(f"engine failed: {msg}"))
        else:
            ctx.events.engine_ready.connect(lambda a: _maybe_onboard(ctx, window, a))
        await done.wait()
        window.save_state()
        await host.close()

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
    return 0


def _make_tray(ctx: GuiContext, window: MainWindow) -> Any:
    from autodevai.gui.tray import TrayController

    tray = TrayController(ctx, window)
    return tray if tray.available else None


def _maybe_onboard(ctx: GuiContext, window: MainWindow, app: App) -> None:
    if app.sim is None or ctx.qsettings.value("onboarding/done", False, type=bool):
        return
    from autodevai.gui.onboarding import OnboardingDialog

    dialog = OnboardingDialog(ctx, window)
    dialog.open()
