"""What clicking a link inside a bubble does: copy the message or one code block (the link says "Copied ✓" for a
moment), open or close its details or reasoning, switch to the previous or next branch, edit your message, open the
regenerate menu (the same model, the one-message model, or a few others), load earlier or later messages, or open
a web link in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QCursor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from autodevai.gui.bridge import GuiContext
from autodevai.gui.chat.markdown import COPY_CODE
from autodevai.gui.chat.rows import Row
from autodevai.gui.chat.session import ChatSession
from autodevai.gui.chat.thread_view import ThreadView

__all__ = ["OTHER_MODELS", "BubbleActions"]

OTHER_MODELS = ("openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet", "google/gemini-2.0-flash-001")


class BubbleActions(QObject):
    """``run(href, row)`` for the thread view's ``action`` signal; ``edit`` and ``regenerate`` are the panel's."""

    def __init__(
        self,
        ctx: GuiContext,
        view: ThreadView,
        session: ChatSession,
        once_edit: QLineEdit,
        edit: Callable[[str], None],
        regenerate: Callable[..., bool],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.model = view.thread_model
        self.session = session
        self.once_edit = once_edit
        self.edit = edit
        self.regenerate = regenerate
        self.menu: QMenu | None = None  # the last regenerate menu (kept for keyboard users and tests)

    def run(self, href: str, row: Row | None) -> None:
        if row is None:
            return
        m = self.model
        if href == "copy":
            QGuiApplication.clipboard().setText(row.plain_text)
            m.set_flash((row.key, href))
        elif href.startswith(COPY_CODE):
            code = m.code(row)
            n = int(href.removeprefix(COPY_CODE) or -1)
            if 0 <= n < len(code):
                QGuiApplication.clipboard().setText(code[n])
                m.set_flash((row.key, href))
        elif href.startswith("toggle:"):
            m.toggle(row.key, href.removeprefix("toggle:"))
        elif href in ("branch:prev", "branch:next"):
            self.branch(row, -1 if href == "branch:prev" else 1)
        elif href == "edit":
            self.edit(row.key)
        elif href == "regen":
            self.regen_menu(row)
        elif href == "earlier":  # bodies made off the UI thread first
            self.session.prefetch(m.upcoming("earlier"), self.view.load_earlier)
        elif href == "later":
            self.session.prefetch(m.upcoming("later"), m.load_later)
        elif href.startswith(("http://", "https://", "mailto:")):
            QDesktopServices.openUrl(QUrl(href))

    def branch(self, row: Row, step: int) -> None:
        """Switch to the previous (``step`` -1) or next (+1) version of ``row``'s message."""
        thread = self.model.current
        if thread is None or self.session.running:
            return
        siblings = thread.siblings.get(row.key, (row.key,))
        at = siblings.index(row.key) + step if row.key in siblings else -1
        if 0 <= at < len(siblings):
            self.session.switch(siblings[at])

    def regen_menu(self, row: Row) -> QMenu:
        """Regenerate with the same model, the one-message model, or another model from a short list."""
        menu = QMenu(self.view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        same = row.message.model if row.message is not None else ""
        options: dict[str, Any] = {"model": same} if same else {}
        menu.addAction(f"Same model ({same})" if same else "Same routing", partial(self.regenerate, row.key, **options))
        other = self.once_edit.text().strip()
        if other and other != same:
            menu.addAction(f"With {other}", partial(self.regenerate, row.key, model=other))
        for name in OTHER_MODELS:
            if name not in (same, other) and self.ctx.ready and self.ctx.engine.find_model(name):
                menu.addAction(f"With {name}", partial(self.regenerate, row.key, model=name))
        menu.addSeparator()
        menu.addAction("Another model… (type it in “Model for this message”)", self.once_edit.setFocus)
        self.menu = menu
        menu.popup(QCursor.pos())  # popup, not exec(): the event loop keeps running
        return menu
