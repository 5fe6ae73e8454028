"""The thread on screen: a ``QListView`` over a ``ThreadModel`` with the ``BubbleDelegate`` painting each row, so
opening a thread of a thousand messages lays out only the rows it shows.

Turns clicks on links inside bubbles into ``action(href, row)``; follows the end of the thread while an answer
streams in, unless you scrolled up to read; keeps your place when earlier messages are loaded above; follows
the theme.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QToolTip, QWidget

from autodevai.gui.chat.bubbles import BubbleDelegate
from autodevai.gui.chat.rows import Row
from autodevai.gui.chat.thread_model import BubbleRole, RowRole, ThreadModel

__all__ = ["ThreadView"]

TIPS = {
    "copy": "Copy this message's text",
    "edit": "Edit this message and send it again (a new branch; the old one stays)",
    "regen": "Ask again: the same model or another (a new branch)",
    "toggle:details": "Model, tokens, cost, latency, context fit, fallbacks, and why routing chose the model",
    "toggle:reasoning": "Show or hide how the model reasoned",
    "branch:prev": "The previous version",
    "branch:next": "The next version",
    "earlier": "Load earlier messages of this thread",
    "later": "Load later messages of this thread",
}


class ThreadView(QListView):
    """The list of bubbles. ``action`` is emitted with the link's href and the ``Row`` it belongs to."""

    action = Signal(str, object)

    def __init__(self, model: ThreadModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hover = ""
        self._adjusting = False
        self.thread_model = model
        self.bubbles = BubbleDelegate(self)
        self.setModel(model)
        self.setItemDelegate(self.bubbles)
        self.setObjectName("threadView")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)  # a steady width: no relayout loops
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.verticalScrollBar().setSingleStep(24)
        self.follow = True  # keep the end in view as the thread grows
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        model.dataChanged.connect(self._data_changed)
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda *_a: self._keep_following())

    # ---- reading ---------------------------------------------------------------------------------------------

    def row_at(self, pos: QPoint) -> tuple[int, Row | None]:
        index = self.indexAt(pos)
        if not index.isValid():
            return -1, None
        row = index.data(RowRole)
        return index.row(), row if isinstance(row, Row) else None

    def row_text(self, i: int) -> str:
        """The text row ``i`` shows (what a user reads in its bubble)."""
        bubble = self.thread_model.index(i).data(BubbleRole)
        return self.bubbles.document(bubble).toPlainText() if bubble is not None else ""

    def texts(self) -> list[str]:
        return [self.row_text(i) for i in range(self.thread_model.rowCount())]

    def anchor_point(self, i: int, href: str) -> QPoint | None:
        """Where the link ``href`` of row ``i`` is on screen (viewport coordinates), scrolled into view."""
        index = self.thread_model.index(i)
        self.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        self.doItemsLayout()
        bubble = index.data(BubbleRole)
        return self.bubbles.anchor_point(self.visualRect(index), bubble, href) if bubble is not None else None

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def scroll_to_end(self) -> None:
        self.follow = True
        self.scrollToBottom()
        QTimer.singleShot(0, self._keep_following)  # again once the delayed layout ran

    def show_row(self, i: int) -> None:
        """Scroll row ``i`` to the top (a search hit)."""
        self.follow = False
        self.doItemsLayout()
        self.scrollTo(self.thread_model.index(i), QAbstractItemView.ScrollHint.PositionAtTop)

    def load_earlier(self) -> None:
        """Load earlier messages above, keeping the rows you were reading where they were."""
        first = self.indexAt(QPoint(self.viewport().width() // 2, 4))
        if first.isValid() and first.data(RowRole).kind == "earlier":
            first = self.thread_model.index(first.row() + 1)  # keep the first message in place, not the link
        offset = self.visualRect(first).top() if first.isValid() else 0
        key = first.data(RowRole).key if first.isValid() else None
        self.follow = False
        self.thread_model.load_earlier()
        self.doItemsLayout()
        at = self.thread_model.find(key) if key else -1
        if at >= 0:
            self.scrollTo(self.thread_model.index(at), QAbstractItemView.ScrollHint.PositionAtTop)
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() - offset)

    # ---- events ----------------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.bubbles.set_width(self.viewport().width()):
            self.scheduleDelayedItemsLayout()
        super().resizeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        href = self._anchor(event.position().toPoint())
        if href != self._hover:
            self._hover = href
            cursor = Qt.CursorShape.PointingHandCursor if href else Qt.CursorShape.ArrowCursor
            self.viewport().setCursor(cursor)
            tip = TIPS.get(href) or ("Copy this code" if href.startswith("copy-code:") else href)
            if href:
                QToolTip.showText(event.globalPosition().toPoint(), tip, self)
            else:
                QToolTip.hideText()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            href = self._anchor(pos)
            if href:
                _i, row = self.row_at(pos)
                event.accept()
                self.action.emit(href, row)
                return
        super().mouseReleaseEvent(event)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.PaletteChange:
            self._theme_changed()
        return super().event(e)

    def _anchor(self, pos: QPoint) -> str:
        index = self.indexAt(pos)
        if not index.isValid():
            return ""
        bubble = index.data(BubbleRole)
        return self.bubbles.anchor_at(self.visualRect(index), bubble, pos) if bubble is not None else ""

    def _theme_changed(self) -> None:
        dark = self.palette().color(self.palette().ColorRole.Base).lightness() < 128
        if dark != self.bubbles.dark:
            self.bubbles.set_dark(dark)
            self.scheduleDelayedItemsLayout()
            self.viewport().update()

    def _data_changed(self, top: QModelIndex, _bottom: QModelIndex, _roles: list[int] | None = None) -> None:
        self.bubbles.sizeHintChanged.emit(top)  # its height may have changed: lay the rows out again (later)
        self.viewport().update()

    def _reset(self) -> None:
        self.follow = True
        self._theme_changed()

    def _scrolled(self, _value: int) -> None:
        if not self._adjusting:
            self.follow = self.at_bottom()

    def _range_changed(self, _lo: int, _hi: int) -> None:
        self._keep_following()

    def _keep_following(self) -> None:
        if self.follow:
            bar = self.verticalScrollBar()
            self._adjusting = True
            try:
                bar.setValue(bar.maximum())
            finally:
                self._adjusting = False
