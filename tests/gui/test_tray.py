"""The quick-prompt popup (streams, copies, stops) and the tray controller where no tray exists (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from autodevai.engine.errors import Cancelled
from autodevai.engine.types import EngineResponse
from autodevai.gui.main_window import MainWindow
from autodevai.gui.tray import QuickPromptPopup, TrayController
from autodevai.sim.config import SimConfig

from .conftest import Harness

# A tool window's show() asks the platform to raise it, which the offscreen platform cannot do (and says so).
pytestmark = pytest.mark.qt_log_ignore("does not support raise")


def _popup(harness: Harness, ctx: object) -> QuickPromptPopup:
    popup = QuickPromptPopup(ctx)  # type: ignore[arg-type]
    harness.widgets.append(popup)
    popup.setMinimumSize(popup.size())  # the layout then never resizes the window (offscreen warns)
    popup.show_near()
    return popup


def test_the_popup_streams_an_answer_and_copies_it(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=1.0, seed=5))
        popup = _popup(harness, ctx)
        assert popup.isVisible() and not popup.copy_button.isEnabled()
        qtbot.keyClicks(popup.prompt_edit, "Explain rate limiting")
        grew: list[str] = []

        def progress() -> None:
            text = popup.answer_view.toPlainText()
            if text and popup.is_running and (not grew or grew[-1] != text):
                grew.append(text)

        popup.answer_view.textChanged.connect(progress)
        async with harness.wait_signal(popup.finished, what="the answer") as done:
            qtbot.keyClick(popup.prompt_edit, Qt.Key.Key_Return)
            assert popup.is_running and "Waiting for the first token" in popup.info_label.text()
        response = done.args[0]
        assert isinstance(response, EngineResponse)
        assert len(grew) >= 2, "the answer streamed in"
        assert popup.answer_view.toPlainText() == response.content
        info = popup.info_label.text()
        assert response.model in info and "$" in info and " ms" in info
        assert popup.simulated_badge.isVisible() and popup.simulated_badge.text() == "Simulated"
        QGuiApplication.clipboard().clear()
        qtbot.mouseClick(popup.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == response.content
        assert popup.copy_button.text().startswith("Copied")

    harness.run(body())


def test_escape_stops_the_stream_then_hides_the_popup(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=4.0, seed=5))
        popup = _popup(harness, ctx)
        results: list[object] = []
        popup.finished.connect(results.append)
        popup.prompt_edit.setText("Explain circuit breakers in distributed systems")
        has_text = popup.answer_view.toPlainText
        async with harness.wait_signal(popup.answer_view.textChanged, what="the first token", check=has_text):
            assert popup.send()
        qtbot.keyClick(popup.prompt_edit, Qt.Key.Key_Escape)
        assert not popup.is_running and isinstance(results[-1], Cancelled)
        assert popup.isVisible(), "the first Esc only stops"
        assert popup.answer_view.toPlainText() and "Stopped" in popup.info_label.text()
        assert popup.copy_button.isEnabled(), "the partial answer can be copied"
        qtbot.keyClick(popup.prompt_edit, Qt.Key.Key_Escape)
        assert not popup.isVisible()

    harness.run(body())


def test_an_empty_quick_prompt_says_why_and_sends_nothing(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.sim is not None
        popup = _popup(harness, ctx)
        before = harness.sim.stats.total
        qtbot.keyClick(popup.prompt_edit, Qt.Key.Key_Return)
        assert "prompt is empty" in popup.info_label.text()
        assert not popup.is_running and harness.sim.stats.total == before

    harness.run(body())


def test_without_a_tray_closing_the_window_quits_and_the_popup_still_works(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        ctx.qsettings.setValue("tray/keep_running", True)
        window = MainWindow(ctx)
        harness.widgets.append(window)
        tray = TrayController(ctx, window)
        assert tray.available is False, "offscreen has no system tray"
        assert window.keep_in_tray is False, "no tray: closing the window must not hide the app out of reach"
        ctx.events.settings_changed.emit(ctx.engine.settings)
        assert window.keep_in_tray is False
        harness.widgets.append(tray.popup)
        tray.popup.setMinimumSize(tray.popup.size())
        tray.toggle_popup()
        assert tray.popup.isVisible()
        tray.popup.prompt_edit.setText("What is 6*7?")
        async with harness.wait_signal(tray.popup.finished, what="the answer") as done:
            tray.popup.send()
        response = done.args[0]
        assert isinstance(response, EngineResponse) and tray.popup.answer_view.toPlainText() == response.content
        tray.toggle_popup()
        assert not tray.popup.isVisible()

    harness.run(body())
