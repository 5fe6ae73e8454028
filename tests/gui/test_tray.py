"""The quick-prompt popup (streams, copies, stops, continues the last conversation or starts one) and the tray
controller where no tray exists (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Preset
from autodevai.engine.errors import Cancelled
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
        turn = done.args[0]
        assert isinstance(turn, ChatTurn)
        assert len(grew) >= 2, "the answer streamed in"
        assert popup.answer_view.toPlainText() == turn.answer.text
        info = popup.info_label.text()
        assert turn.answer.model in info and "$" in info and " ms" in info
        assert popup.simulated_badge.isVisible() and popup.simulated_badge.text() == "Simulated"
        QGuiApplication.clipboard().clear()
        qtbot.mouseClick(popup.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == turn.answer.text
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
        turn = done.args[0]
        assert isinstance(turn, ChatTurn) and tray.popup.answer_view.toPlainText() == turn.answer.text
        tray.toggle_popup()
        assert not tray.popup.isVisible()

    harness.run(body())


def test_the_popup_continues_the_last_conversation_or_starts_one(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        convs = ctx.engine.conversations
        older = await convs.create(preset=Preset(model="openai/gpt-4o"))
        async for _ in convs.send(older.id, "What is the capital of France?"):
            pass
        await convs.pin(older.id)  # pinned lists first, but "last" means the most recent
        last = await convs.create(preset=Preset(model="openai/gpt-4o"))
        async for _ in convs.send(last.id, "What is 12*12?"):
            pass
        popup = _popup(harness, ctx)
        await harness.wait_until(lambda: popup.continue_radio.isEnabled(), what="the last conversation")
        assert popup.continue_radio.isChecked() and popup.continue_radio.text() == "Continue “What is 12*12?”"
        changed: list[str] = []
        ctx.events.conversations_changed.connect(changed.append)
        popup.prompt_edit.setText("multiply that by 2")
        async with harness.wait_signal(popup.finished, what="the answer") as done:
            qtbot.keyClick(popup.prompt_edit, Qt.Key.Key_Return)
        turn = done.args[0]
        assert isinstance(turn, ChatTurn) and "288" in popup.answer_view.toPlainText(), "it saw the thread"
        thread = await convs.open(last.id)
        assert [m.text for m in thread.messages][-2] == "multiply that by 2" and thread.messages[
            -1
        ].id == turn.answer.id
        assert changed == [last.id], "the window's list hears of it"
        opened: list[str] = []
        ctx.events.open_conversation.connect(opened.append)
        qtbot.mouseClick(popup.open_button, Qt.MouseButton.LeftButton)
        assert opened == [last.id]

        qtbot.mouseClick(popup.new_radio, Qt.MouseButton.LeftButton)
        popup.prompt_edit.setText("What is the capital of Japan?")
        async with harness.wait_signal(popup.finished, what="the new conversation's answer") as done:
            assert popup.send()
        turn = done.args[0]
        assert isinstance(turn, ChatTurn) and turn.user.conversation_id not in (older.id, last.id)
        assert len(await convs.listing()) == 3
        await harness.wait_until(lambda: "capital of Japan" in popup.continue_radio.text(), what="the new last")

    harness.run(body())


def test_the_window_opens_a_conversation_from_the_popup(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        conv = await ctx.engine.conversations.create()
        async for _ in ctx.engine.conversations.send(conv.id, "What is 6*7?"):
            pass
        window = MainWindow(ctx)
        harness.widgets.append(window)
        window.show_panel("Status")
        panel = window.panel("Execute")
        async with harness.wait_signal(panel.session.opened, what="the conversation"):  # type: ignore[attr-defined]
            ctx.events.open_conversation.emit(conv.id)
        assert window.current_title() == "Execute" and panel.session.cid == conv.id  # type: ignore[attr-defined]
        assert "42" in panel.thread_view.row_text(1)  # type: ignore[attr-defined]

    harness.run(body())
