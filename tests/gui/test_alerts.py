"""Alerts reach the user: a breaker that opens and a budget cap 80 %/100 % spent become notifications — a toast in
the window where there is no system tray (offscreen, as in CI), a system notification through the tray icon where
there is one — they are listed in Status, and muting them in Configure stops the notifications at once (the
alerts are still listed)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from autodevai.engine.errors import EngineError
from autodevai.engine.types import ChatRequest
from autodevai.gui.main_window import MainWindow
from autodevai.gui.notifications import Toast

from .conftest import Harness

# The offscreen platform warns when a window is shown or raised, and Qt's tray code asks it for a signal it lacks.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise", "systemTrayWindowChanged")

GOOD = "google/gemini-2.0-flash-001"
FAILING = "openai/gpt-4o-mini"
FAILING_TOO = "anthropic/claude-3.5-sonnet"
RESILIENCE = {"retries_per_model": 0, "breaker": {"min_calls": 3, "window": 4, "open_s": 30}}


def _window(harness: Harness, ctx: Any) -> MainWindow:
    window = MainWindow(ctx)
    harness.widgets.append(window)
    window.resize(1100, 720)
    window.show()
    return window


async def _open_breaker(harness: Harness, ctx: Any, model: str) -> None:
    """Fail ``model`` (no fallbacks) until its breaker opens."""
    assert harness.sim is not None
    harness.sim.add_fault({"kind": "http_error", "status": 500, "model": model})
    for i in range(8):
        with contextlib.suppress(EngineError):
            await ctx.engine.execute_enhanced_ai_request(
                ChatRequest.from_prompt(f"What is {i}+3?", model=model, fallbacks=[])
            )
        if any(a.kind == "breaker_open" and model in a.subject for a in ctx.engine.recent_alerts()):
            return
    raise AssertionError(f"the breaker of {model} never opened")


def _visible_toasts(window: MainWindow) -> list[Toast]:
    return [t for t in window.toasts.toasts if t.isVisible()]


def test_a_breaker_alert_shows_a_toast_is_listed_in_status_and_muting_stops_it(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience=RESILIENCE)
        window = _window(harness, ctx)
        assert window.notifier.tray is None, "no system tray offscreen: alerts go to the window"

        await _open_breaker(harness, ctx, FAILING)
        await harness.wait_until(lambda: bool(_visible_toasts(window)), what="the alert's toast")
        toast = _visible_toasts(window)[0]
        assert f"{FAILING} is failing" in toast.text() and "circuit breaker opened" in toast.text()
        assert toast.alert.severity == "critical"
        corner = toast.mapTo(window, toast.rect().bottomRight())
        assert window.rect().contains(corner), "the toast sits inside the window"
        assert corner.x() > window.width() // 2 and corner.y() > window.height() // 2, "in the bottom-right corner"

        # Clicking the toast opens Status, which lists the alert.
        qtbot.mouseClick(toast, Qt.MouseButton.LeftButton)
        assert window.current_title() == "Status"
        status: Any = window.panels["Status"]
        table = status.alerts_table
        await harness.wait_until(lambda: table.rowCount() == 1, what="the alert in Status")
        assert table.item(0, 2).text() == f"{FAILING} is failing"
        assert table.item(0, 1).text() == "breaker opened"
        assert "1 alert since the engine started" in status.alerts_note.text()

        # Mute it in Configure → Desktop (saved through the engine like any setting) ...
        configure: Any = window.show_panel("Configure")
        configure.show_tab("Desktop")
        assert configure.notify_check.isVisible() and configure.notify_check.isChecked()
        configure.notify_check.setChecked(False)
        async with harness.wait_signal(ctx.events.settings_changed, what="the setting saved"):
            configure.apply()
        assert "Saved" in configure.status_label.text()
        assert ctx.engine.settings.alerts.desktop_notifications is False
        assert "desktop_notifications = false" in (harness.tmp / "config.toml").read_text(encoding="utf-8")

        # ... and the next alert is listed but not shown.
        for t in list(window.toasts.toasts):
            t.dismiss()
        await _open_breaker(harness, ctx, FAILING_TOO)
        assert window.notifier.history[-1][1] == "muted"
        assert not _visible_toasts(window), "a muted alert shows no toast"
        window.show_panel("Status")
        await harness.wait_until(lambda: table.rowCount() == 2, what="the muted alert still listed")
        assert table.item(0, 2).text() == f"{FAILING_TOO} is failing", "newest first"
        assert "notifications are off" in status.alerts_note.text()

    harness.run(body())


def test_budget_alerts_at_80_and_100_percent_go_through_the_tray_when_there_is_one(
    harness: Harness, qtbot: QtBot
) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = _window(harness, ctx)
        pixmap = QPixmap(16, 16)
        pixmap.fill(QColor("#3b82f6"))
        tray = QSystemTrayIcon(QIcon(pixmap))
        tray.show()
        window.notifier.use_tray(tray)

        request = ChatRequest.from_prompt("What is 2+2?", model=GOOD, max_tokens=16)
        await ctx.engine.execute_enhanced_ai_request(request)
        spent = (await ctx.engine.get_enhanced_system_status()).budget.spent["daily"]
        assert spent > 0
        # A daily cap just above what was spent: the next request finds it more than 80 % spent.
        await ctx.engine.configure_enhanced_orchestration({"budget": {"daily_usd": spent * 1.2}})
        async with harness.wait_signal(window.notifier.routed, what="the 80 % alert") as routed:
            with contextlib.suppress(EngineError):
                await ctx.engine.execute_enhanced_ai_request(request)
        event, where = routed.args
        assert (event.kind, event.severity, where) == ("budget", "warning", "tray")
        assert event.title == "Daily budget 80% spent"

        # A cap below what was spent: reached.
        spent = (await ctx.engine.get_enhanced_system_status()).budget.spent["daily"]
        await ctx.engine.configure_enhanced_orchestration({"budget": {"daily_usd": spent * 0.9}})
        async with harness.wait_signal(window.notifier.routed, what="the 100 % alert") as routed:
            with pytest.raises(EngineError):
                await ctx.engine.execute_enhanced_ai_request(request)
        event, where = routed.args
        assert (event.kind, event.severity, where) == ("budget", "critical", "tray")
        assert event.title == "Daily budget reached"
        assert not window.toasts.toasts, "with a tray, alerts are system notifications, not toasts"

        # Clicking the system notification brings the window to Status.
        window.show_panel("Execute")
        window.hide()
        tray.messageClicked.emit()
        assert window.isVisible() and window.current_title() == "Status"
        window.notifier.use_tray(None)
        tray.hide()

    harness.run(body())
