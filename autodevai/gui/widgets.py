"""Small widgets every panel uses: page header, cards, key/value grids, state badges, an error banner, a label that
elides instead of widening its layout."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from autodevai.gui.theme import state_color

__all__ = [
    "Banner",
    "Card",
    "ElidedLabel",
    "KeyValueGrid",
    "RunBox",
    "badge_html",
    "header",
    "muted",
    "see_through",
    "set_table_rows",
    "style_data_table",
]


def see_through(scroll: QScrollArea) -> None:
    """Let the card behind ``scroll`` (and its widget, already set) show through, scroll bars untouched.

    Only the area, its viewport and its widget: a broad selector such as "QScrollArea > QWidget > QWidget" also
    reaches the scroll bars in their containers and strips their look. ``setWidget`` turns the widget's
    background filling on, so it is turned off again here."""
    scroll.setStyleSheet("QScrollArea, QWidget#qt_scrollarea_viewport { background: transparent; }")
    inner = scroll.widget()
    if inner is not None:
        inner.setAutoFillBackground(False)


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" when it does not fit (the full text is its tooltip), so a long
    status or title never forces its layout wider."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        painter.setPen(self.palette().color(self.foregroundRole()))
        elided = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), elided)


def header(title: str, subtitle: str = "") -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 8)
    lay.setSpacing(2)
    t = QLabel(title)
    t.setProperty("role", "title")
    lay.addWidget(t)
    if subtitle:
        s = QLabel(subtitle)
        s.setProperty("role", "subtitle")
        s.setWordWrap(True)
        lay.addWidget(s)
    return box


def muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "muted")
    label.setWordWrap(True)
    return label


def badge_html(state: str, text: str | None = None) -> str:
    """A colored dot and text, for QLabel rich text."""
    return f'<span style="color:{state_color(state)}">●</span> {text or state.replace("_", "-")}'


class Card(QFrame):
    """A bordered box with an optional title."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(12, 10, 12, 12)
        if title:
            t = QLabel(f"<b>{title}</b>")
            self.body.addWidget(t)


class KeyValueGrid(QWidget):
    """Label/value rows whose values can be updated by key."""

    def __init__(self, keys: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(keys):
            k = QLabel(key)
            k.setProperty("role", "muted")
            v = QLabel("–")
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, row, 1)
            self.values[key] = v
        grid.setColumnStretch(1, 1)

    def set(self, key: str, value: str) -> None:
        self.values[key].setText(value)


class RunBox(QHBoxLayout):
    """A task editor with a column of buttons: Run (primary, Ctrl+Enter), Cancel, and any extra buttons."""

    def __init__(
        self,
        *,
        placeholder: str,
        height: int,
        tip: str,
        run_tip: str,
        cancel_tip: str,
        extra: Sequence[QPushButton] = (),
    ) -> None:
        super().__init__()
        self.task_edit = QPlainTextEdit()
        self.task_edit.setPlaceholderText(placeholder)
        self.task_edit.setFixedHeight(height)
        self.task_edit.setToolTip(tip)
        self.addWidget(self.task_edit, 1)
        self.run_button = QPushButton("Run")
        self.run_button.setProperty("role", "primary")
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.setToolTip(run_tip)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(cancel_tip)
        buttons = QVBoxLayout()
        for button in (self.run_button, self.cancel_button, *extra):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.addLayout(buttons)


class Banner(QFrame):
    """A dismissible message strip (errors and notices) shown above the panels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, title: str, message: str, kind: str = "error") -> None:
        color = state_color(kind)
        self.setStyleSheet(f"QFrame {{ border: 1px solid {color}; border-radius: 6px; }}")
        self.label.setText(f'<b style="color:{color}">{title}</b>: {message}'.replace("\n", "<br>"))
        self.show()


def set_table_rows(table: QTableWidget, rows: Sequence[Sequence[object]], align_right: Sequence[int] = ()) -> None:
    """Fill ``table`` with ``rows`` (strings/numbers), keeping sorting off while filling."""
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem()
            if isinstance(value, int | float) and not isinstance(value, bool):
                item.setData(Qt.ItemDataRole.DisplayRole, value)
            else:
                item.setText("" if value is None else str(value))
            if c in align_right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(r, c, item)
    table.setSortingEnabled(sorting)


def style_data_table(table: QTableView, stretch: int) -> None:
    """The look of a read-only table of facts (Status, Metrics, alerts): no row numbers, compact one-line rows,
    alternating colors, whole-row selection, no editing; columns fit their contents and ``stretch`` takes the rest.
    """
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    head = table.horizontalHeader()
    head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    head.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
