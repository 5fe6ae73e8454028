"""The panel contract: a page of the main window with a title, built over a ``GuiContext``.

Panels are created lazily (the first time they are shown) so that start-up stays fast. Each panel keeps its
engine calls asynchronous (``ctx.spawn``) and never blocks the UI thread.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QVBoxLayout, QWidget

from autodevai.gui.bridge import GuiContext
from autodevai.gui.widgets import header

__all__ = ["Panel"]


class Panel(QWidget):
    title: ClassVar[str] = ""
    subtitle: ClassVar[str] = ""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"panel-{self.title.lower()}")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        outer.addWidget(header(self.title, self.subtitle))
        self.body = QVBoxLayout()
        self.body.setSpacing(10)
        outer.addLayout(self.body, 1)
        ctx.events.engine_ready.connect(lambda _app: self.on_engine_ready())

    def on_engine_ready(self) -> None:
        """The engine just became available (or was replaced); refresh what depends on it."""
        if self.isVisible():
            self.on_shown()

    def on_shown(self) -> None:
        """The panel became the visible page; refresh cheap data here."""

    def on_hidden(self) -> None:
        """The panel stopped being visible; stop timers here."""
