"""Branches in the conversation view: editing a message and sending it again makes a branch with a working
"‹ 1/2 ›" switcher; regenerating asks another model; comparing shows a column per model and "Continue with this"
makes that answer the thread's last message."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Preset

from .chat_helpers import SMART, answered, chat_panel, click_link, row_of
from .conftest import Harness

MINI = "openai/gpt-4o-mini"


def test_edit_and_resend_makes_a_branch_with_a_switcher(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        conv = await ctx.engine.conversations.create(preset=Preset(model=SMART))
        panel = await chat_panel(harness, ctx)
        async with harness.wait_signal(panel.session.opened):
            panel.open_conversation(conv.id)
        await answered(harness, panel, "What is 7*8?")
        assert "56" in panel.thread_view.row_text(1)
        click_link(qtbot, panel, 0, "edit")
        c = panel.composer
        assert c.edit_banner.isVisible() and c.prompt_edit.toPlainText() == "What is 7*8?"
        assert c.send_button.text() == "Send edit"
        c.prompt_edit.setPlainText("What is 9*9?")
        async with harness.wait_signal(panel.finished, what="the edited answer"):
            assert panel.send()
        texts = panel.thread_view.texts()
        assert len(texts) == 2 and "What is 9*9?" in texts[0] and "‹ 2/2 ›" in texts[0], texts
        assert "81" in texts[1] and not c.edit_banner.isVisible()

        async with harness.wait_signal(panel.session.opened, what="the first branch"):
            click_link(qtbot, panel, 0, "branch:prev")
        texts = panel.thread_view.texts()
        assert "What is 7*8?" in texts[0] and "‹ 1/2 ›" in texts[0] and "56" in texts[1], texts
        async with harness.wait_signal(panel.session.opened, what="the second branch again"):
            click_link(qtbot, panel, 0, "branch:next")
        assert "What is 9*9?" in panel.thread_view.row_text(0) and "81" in panel.thread_view.row_text(1)

    harness.run(body())


@pytest.mark.qt_log_ignore("does not support raise", "grabbing the keyboard")  # the menu, offscreen
def test_regenerate_with_another_model(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        conv = await ctx.engine.conversations.create(preset=Preset(model=SMART))
        panel = await chat_panel(harness, ctx)
        async with harness.wait_signal(panel.session.opened):
            panel.open_conversation(conv.id)
        await answered(harness, panel, "What is the capital of Japan?")
        click_link(qtbot, panel, 1, "regen")
        menu = panel.links.menu
        assert menu is not None
        labels = [a.text() for a in menu.actions()]
        assert f"Same model ({SMART})" in labels and f"With {MINI}" in labels, labels
        action = next(a for a in menu.actions() if a.text() == f"With {MINI}")
        async with harness.wait_signal(panel.finished, what="the new answer") as done:
            action.trigger()
            menu.close()
        turn = done.args[0]
        assert isinstance(turn, ChatTurn) and turn.answer.model == MINI
        shown = panel.thread_view.row_text(1)
        assert shown.startswith(f"{MINI}") and "‹ 2/2 ›" in shown, shown
        async with harness.wait_signal(panel.session.opened):
            click_link(qtbot, panel, 1, "branch:prev")
        assert panel.thread_view.row_text(1).startswith(SMART)

    harness.run(body())


def test_compare_two_models_and_continue_with_one(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = await chat_panel(harness, ctx)
        c = panel.composer
        qtbot.mouseClick(c.compare_button, Qt.MouseButton.LeftButton)
        assert c.compare_row.isVisible() and c.send_button.text() == "Compare"
        c.target_combos[0].setCurrentText(SMART)
        c.target_combos[1].setCurrentText("cheapest")
        c.prompt_edit.setPlainText("What is 17*23?")
        view = panel.compare_view
        async with harness.wait_signal(panel.finished, limit_s=20, what="the comparison"):
            assert panel.send()
            assert panel.pages.currentWidget() is view and len(view.columns) == 2
        columns = view.columns
        assert all(col.turn is not None for col in columns)
        first, second = columns
        assert SMART in first.title_label.text() and "391" in first.answer_view.toPlainText()
        assert second.asked_label.text() == "chosen as cheapest", "the alias, and the model it chose"
        assert second.turn is not None and second.turn.answer.model in second.title_label.text()
        for col in columns:
            meta = col.meta_label.text().replace("\xa0", " ")
            assert "$" in meta and " ms" in meta and col.simulated_badge.isVisible()
        assert "What is 17*23?" in panel.thread_view.row_text(0), "your message is in the thread"

        chosen = second.turn.answer if second.turn else None
        assert chosen is not None
        button = second.findChild(QPushButton, None)
        assert second.continue_button.text() == "Continue with this" and button is not None
        async with harness.wait_signal(panel.session.picked, what="the pick"):
            qtbot.mouseClick(second.continue_button, Qt.MouseButton.LeftButton)
        assert panel.pages.currentWidget() is panel.thread_view
        last = panel.thread_model.rows[-1]
        assert last.key == chosen.id and "/2 ›" in panel.thread_view.row_text(row_of(panel, chosen.model))
        thread = await ctx.engine.conversations.open(panel.session.cid or "")
        assert thread.messages[-1].id == chosen.id, "the picked answer continues the thread"

    harness.run(body())
