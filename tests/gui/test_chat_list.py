"""The list of conversations over the real engine: a new conversation appears when its first message is sent,
rename in place, pin to the top, search finds a word from an old message and opens it there, delete then Undo
brings it back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from autodevai.gui.chat.thread_list import HeaderRole, IdRole, MessageRole

from .chat_helpers import answered, chat_panel, exported
from .conftest import Harness


def _item(panel: object, cid: str, message: bool = False) -> object:
    lst = panel.thread_list.list  # type: ignore[attr-defined]
    for i in range(lst.count()):
        item = lst.item(i)
        if item.data(IdRole) == cid and bool(item.data(MessageRole)) == message:
            return item
    raise AssertionError(f"{cid} is not listed")


def test_new_rename_pin_search_delete_and_undo(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        old = await ctx.engine.conversations.import_json(
            exported("Trip notes", [("user", "Remember the word zanzibar for later."), ("assistant", "Noted.")])
        )
        panel = await chat_panel(harness, ctx)
        tl = panel.thread_list
        assert panel.session.cid == old.id, "the most recent conversation opens"

        async with harness.wait_signal(panel.list_refreshed, check=lambda: len(tl.conversations) == 2):
            qtbot.mouseClick(tl.new_button, Qt.MouseButton.LeftButton)
            assert panel.session.cid is None and panel.pages.currentWidget() is panel.empty_label
            await answered(harness, panel, "What is the capital of France?")
        assert tl.titles()[0].startswith("What is the capital of France? — 2 messages")
        new_id = panel.session.cid or ""

        lst = tl.list
        lst.setCurrentItem(_item(panel, new_id))  # type: ignore[arg-type]
        qtbot.mouseClick(tl.rename_button, Qt.MouseButton.LeftButton)  # in place, like F2
        editor = lst.findChild(QLineEdit)
        assert editor is not None and editor.text() == "What is the capital of France?"
        editor.setText("Geography")
        async with harness.wait_signal(panel.list_refreshed, check=lambda: "Geography" in str(tl.titles())):
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        assert (await ctx.engine.conversations.get(new_id)).title == "Geography"

        async with harness.wait_signal(panel.session.opened, what="the older conversation"):
            lst.setCurrentItem(_item(panel, old.id))  # type: ignore[arg-type]  # a click opens it
        async with harness.wait_signal(panel.list_refreshed, what="the pin"):
            qtbot.mouseClick(tl.pin_button, Qt.MouseButton.LeftButton)
        titles = tl.titles()
        assert titles[0] == "PINNED" and titles[1].startswith("★ Trip notes") and titles[2] == "RECENT", titles
        assert tl.pin_button.text() == "Unpin"

        async with harness.wait_signal(tl.search_changed):
            tl.search_edit.setText("zanzib")
        await harness.wait_until(lambda: any(lst.item(i).data(MessageRole) for i in range(lst.count())),
                                 what="the message hit")  # fmt: skip
        titles = tl.titles()
        assert "MESSAGES" in titles and any("[zanzibar]" in t for t in titles), titles
        async with harness.wait_signal(panel.session.opened, what="the hit's conversation"):
            lst.setCurrentItem(_item(panel, old.id, message=True))  # type: ignore[arg-type]
        assert panel.session.cid == old.id and "zanzibar" in panel.thread_view.row_text(0)
        tl.search_edit.setText("geog")
        assert tl.titles()[:2] == ["TITLES", tl.titles()[1]] and "Geography" in tl.titles()[1]
        tl.search_edit.clear()

        async with harness.wait_signal(panel.session.opened, what="the conversation to delete"):
            lst.setCurrentItem(_item(panel, new_id))  # type: ignore[arg-type]
        async with harness.wait_signal(panel.list_refreshed, check=lambda: len(tl.conversations) == 1):
            qtbot.keyClick(lst, Qt.Key.Key_Delete)
        assert tl.undo_bar.isVisible() and "Geography" in tl.undo_label.text()
        assert await ctx.engine.conversations.search("capital") == [], "deleted: out of search too"
        async with harness.wait_signal(panel.session.opened, what="the restored conversation"):
            qtbot.mouseClick(tl.undo_button, Qt.MouseButton.LeftButton)
        await harness.wait_until(lambda: len(tl.conversations) == 2, what="the list with it again")
        assert panel.session.cid == new_id and not tl.undo_bar.isVisible()
        assert any(t.startswith("Geography") for t in tl.titles())

        QGuiApplication.clipboard().clear()
        async with harness.wait_signal(QGuiApplication.clipboard().dataChanged, what="the export"):
            tl.export_requested.emit(new_id)
        assert QGuiApplication.clipboard().text().startswith("# Geography")
        assert all(not lst.item(i).data(HeaderRole) or lst.item(i).flags() == Qt.ItemFlag.NoItemFlags
                   for i in range(lst.count()))  # fmt: skip

    harness.run(body())
