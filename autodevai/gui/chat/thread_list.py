"""The list of conversations beside the thread: pinned ones first, then the most recent, each with its message
count, cost and age; a search box that filters titles and finds words in any message (``Conversations.search``,
each hit opening its conversation at that message); New, Rename (F2, in place), Pin and Delete (Del) — a deleted
conversation can be brought back with Undo for a few seconds — and "Copy as Markdown".
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.conversations import Conversation, SearchHit
from autodevai.gui.labels import cost_text

__all__ = ["ThreadList", "ago"]

SEARCH_MS = 250
UNDO_MS = 10_000
IdRole = Qt.ItemDataRole.UserRole + 1
MessageRole = Qt.ItemDataRole.UserRole + 2
SubtitleRole = Qt.ItemDataRole.UserRole + 3
PinnedRole = Qt.ItemDataRole.UserRole + 4
HeaderRole = Qt.ItemDataRole.UserRole + 5

Index = QModelIndex | QPersistentModelIndex


def ago(then: float, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``yesterday``, ``4 days ago`` or the date."""
    seconds = max(0.0, (time.time() if now is None else now) - then)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    return f"{days} days ago" if days < 7 else time.strftime("%d %b %Y", time.localtime(then))


def _subtitle(c: Conversation) -> str:
    n = c.message_count
    words = [f"{n} message{'s' if n != 1 else ''}"]
    if c.cost_usd:
        words.append(cost_text(c.cost_usd))
    words.append(ago(c.updated))
    return " · ".join(words)


class _ItemDelegate(QStyledItemDelegate):
    """Two lines per conversation (the title, then count, cost and age in gray); section headers in small caps."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        lines = 1 if index.data(HeaderRole) else 2
        return QSize(100, option.fontMetrics.height() * lines + (6 if lines == 1 else 12))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect: QRect = option.rect
        palette: QPalette = option.palette
        muted = QColor(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.save()
        if index.data(HeaderRole):
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(muted)
            painter.drawText(rect.adjusted(8, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, str(index.data()).upper())
            painter.restore()
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlpha(60 if selected else 25)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect.adjusted(2, 1, -2, -1), 6, 6)
        metrics = option.fontMetrics
        inner = rect.adjusted(8, 5, -8, -5)
        title = ("★ " if index.data(PinnedRole) else "") + str(index.data() or "")
        font = QFont(option.font)
        font.setBold(selected)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        top = QRect(inner.left(), inner.top(), inner.width(), metrics.height())
        painter.drawText(top, Qt.AlignmentFlag.AlignVCenter, metrics.elidedText(title, Qt.TextElideMode.ElideRight,
                                                                                 inner.width()))  # fmt: skip
        painter.setFont(option.font)
        painter.setPen(muted)
        bottom = top.translated(0, metrics.height() + 2)
        sub = metrics.elidedText(str(index.data(SubtitleRole) or ""), Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignVCenter, sub)
        painter.restore()

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        rect: QRect = option.rect
        editor.setGeometry(rect.adjusted(4, 2, -4, -rect.height() // 2))


class ThreadList(QWidget):
    """Conversations and search hits; every change is asked for by a signal and done by the panel."""

    open_requested = Signal(str, str)  # (conversation id, message id or "")
    new_requested = Signal()
    rename_requested = Signal(str, str)
    pin_requested = Signal(str, bool)
    delete_requested = Signal(str)
    undo_requested = Signal(str)
    export_requested = Signal(str)
    search_changed = Signal(str)  # after typing pauses; "" when cleared

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conversations: list[Conversation] = []
        self.hits: list[SearchHit] = []
        self._current = ""
        self._filling = False
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        top = QHBoxLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search conversations")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip("Filters titles and finds every word in any message (the last as a prefix)")
        top.addWidget(self.search_edit, 1)
        self.new_button = QPushButton("New")
        self.new_button.setProperty("role", "primary")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested.emit)
        top.addWidget(self.new_button)
        col.addLayout(top)
        self.list = QListWidget()
        self.list.setObjectName("threadList")
        self.list.setItemDelegate(_ItemDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setUniformItemSizes(False)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemChanged.connect(self._renamed)
        col.addWidget(self.list, 1)
        self.empty_label = QLabel("No conversations yet: write a message to start one.")
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setWordWrap(True)
        col.addWidget(self.empty_label)
        actions = QHBoxLayout()
        self.rename_button = self._tool("Rename", "Rename the selected conversation (F2)", self.rename_current)
        self.pin_button = self._tool("Pin", "Keep the selected conversation at the top", self.toggle_pin)
        self.delete_button = self._tool("Delete", "Delete the selected conversation (Del); Undo brings it back",
                                        self.delete_current)  # fmt: skip
        for button in (self.rename_button, self.pin_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        col.addLayout(actions)
        self.undo_bar = QFrame()
        self.undo_bar.setProperty("role", "card")
        undo = QHBoxLayout(self.undo_bar)
        undo.setContentsMargins(8, 4, 4, 4)
        self.undo_label = QLabel()
        self.undo_label.setWordWrap(True)
        undo.addWidget(self.undo_label, 1)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Bring the conversation back")
        self.undo_button.clicked.connect(self._undo)
        undo.addWidget(self.undo_button)
        self.undo_bar.hide()
        col.addWidget(self.undo_bar)
        self._deleted = ""
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_MS)
        self._undo_timer.timeout.connect(self.undo_bar.hide)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_MS)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.search_text()))
        self.search_edit.textChanged.connect(self._typed)
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete_current, context=context)
        self._update_buttons()

    def _tool(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # ---- contents ----------------------------------------------------------------------------------------

    def search_text(self) -> str:
        return self.search_edit.text().strip()

    def set_conversations(self, conversations: Sequence[Conversation]) -> None:
        self.conversations = list(conversations)
        self._fill()

    def set_hits(self, text: str, hits: Sequence[SearchHit]) -> None:
        """Message hits for ``text`` (ignored when the search box says something else by now)."""
        if text == self.search_text():
            self.hits = list(hits)
            self._fill()

    def current_id(self) -> str:
        return self._current

    def select(self, cid: str) -> None:
        """Mark ``cid`` as the open conversation (no ``open_requested``)."""
        self._current = cid
        self._filling = True
        try:
            self.list.setCurrentRow(-1)
            for i in range(self.list.count()):
                item = self.list.item(i)
                if item.data(IdRole) == cid and not item.data(MessageRole):
                    self.list.setCurrentItem(item)
                    break
        finally:
            self._filling = False
        self._update_buttons()

    def titles(self) -> list[str]:
        """What the list shows, one line per row (headers in capitals), for tests and screen readers."""
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            text = str(item.text())
            if item.data(HeaderRole):
                out.append(text.upper())
            else:
                star = "★ " if item.data(PinnedRole) else ""
                out.append(f"{star}{text} — {item.data(SubtitleRole)}")
        return out

    def _fill(self) -> None:
        self._filling = True
        try:
            self.list.clear()
            text = self.search_text().lower()
            if text:
                found = [c for c in self.conversations if text in c.title.lower()]
                if found:
                    self._header("Titles")
                    for c in found:
                        self._conversation(c)
                if self.hits:
                    self._header("Messages")
                    for h in self.hits:
                        self._hit(h)
            else:
                pinned = [c for c in self.conversations if c.pinned]
                if pinned:
                    self._header("Pinned")
                for n, c in enumerate(self.conversations):
                    if pinned and n == len(pinned):
                        self._header("Recent")
                    self._conversation(c)
            if self.list.count() == 0 and text:
                self._header("Nothing found")
        finally:
            self._filling = False
        self.select(self._current)
        self.empty_label.setVisible(not self.conversations and not text)

    def _header(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setData(HeaderRole, True)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.list.addItem(item)

    def _conversation(self, c: Conversation) -> None:
        item = QListWidgetItem(c.title)
        item.setData(IdRole, c.id)
        item.setData(SubtitleRole, _subtitle(c))
        item.setData(PinnedRole, c.pinned)
        item.setToolTip(f"{c.title}\n{_subtitle(c)}")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)

    def _hit(self, h: SearchHit) -> None:
        who = "You" if h.role == "user" else "Answer"
        item = QListWidgetItem(h.conversation_title)
        item.setData(IdRole, h.conversation_id)
        item.setData(MessageRole, h.message_id)
        item.setData(SubtitleRole, f"{who}: {h.snippet}")
        item.setToolTip(f"{h.conversation_title}\n{who}: {h.snippet}")
        self.list.addItem(item)

    # ---- actions -------------------------------------------------------------------------------------------

    def _selected(self) -> Conversation | None:
        return next((c for c in self.conversations if c.id == self._current), None)

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(IdRole) and not item.data(MessageRole):
            self.list.editItem(item)

    def toggle_pin(self) -> None:
        conv = self._selected()
        if conv is not None:
            self.pin_requested.emit(conv.id, not conv.pinned)

    def delete_current(self) -> None:
        conv = self._selected()
        if conv is not None:
            self.delete_requested.emit(conv.id)

    def show_undo(self, cid: str, title: str) -> None:
        """Say that ``title`` was deleted, with an Undo button, for ``UNDO_MS``."""
        self._deleted = cid
        self.undo_label.setText(f"Deleted “{title}”")
        self.undo_bar.show()
        self._undo_timer.start()

    def _undo(self) -> None:
        self.undo_bar.hide()
        self._undo_timer.stop()
        if self._deleted:
            self.undo_requested.emit(self._deleted)
            self._deleted = ""

    def _typed(self, _text: str) -> None:
        self.hits = []
        self._fill()
        self._search_timer.start()

    def _current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if self._filling or item is None or not item.data(IdRole):
            return
        self._current = str(item.data(IdRole))
        self._update_buttons()
        self.open_requested.emit(self._current, str(item.data(MessageRole) or ""))

    def _renamed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        cid = str(item.data(IdRole) or "")
        conv = next((c for c in self.conversations if c.id == cid), None)
        title = " ".join(item.text().split())
        if conv is not None and title and title != conv.title:
            self.rename_requested.emit(cid, title)
        elif conv is not None:
            self._fill()  # an empty title: back to the old one

    def _update_buttons(self) -> None:
        conv = self._selected()
        for button in (self.rename_button, self.pin_button, self.delete_button):
            button.setEnabled(conv is not None)
        self.pin_button.setText("Unpin" if conv is not None and conv.pinned else "Pin")

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or not item.data(IdRole) or item.data(MessageRole):
            return
        self.list.setCurrentItem(item)
        conv = self._selected()
        if conv is None:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Rename", self.rename_current)
        menu.addAction("Unpin" if conv.pinned else "Pin", self.toggle_pin)
        menu.addAction("Copy as Markdown", lambda: self.export_requested.emit(conv.id))
        menu.addSeparator()
        menu.addAction("Delete", self.delete_current)
        menu.popup(self.list.viewport().mapToGlobal(pos))  # not exec(): the event loop keeps running
