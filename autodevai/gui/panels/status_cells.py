"""Building blocks of the Status panel: tables whose cells carry a colored state dot and are updated in place,
the budget gauge (a bar of spent / limit with the numbers in words), and durations in words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from autodevai.gui.theme import state_color
from autodevai.text import fmt_usd

__all__ = ["BudgetGauge", "dot_icon", "fmt_duration", "set_cell", "state_table"]


_DOTS: dict[str, QIcon] = {}


def dot_icon(color: str) -> QIcon:
    """A small filled circle of ``color`` (the state badge in a table cell), made once per color."""
    icon = _DOTS.get(color)
    if icon is None:
        pix = QPixmap(12, 12)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(color))
        p.drawEllipse(1, 1, 10, 10)
        p.end()
        icon = _DOTS[color] = QIcon(pix)
    return icon


def fmt_duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    if seconds is None:
        return "–"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86_400} d {s % 86_400 // 3600} h"


def state_table(columns: list[str], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(24)
    t.setWordWrap(False)
    t.setAlternatingRowColors(True)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    h = t.horizontalHeader()
    h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    h.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return t


def set_cell(
    table: QTableWidget,
    row: int,
    col: int,
    text: str,
    *,
    color: str | None = None,
    dot: str | None = None,
    tip: str = "",
    right: bool = False,
) -> None:
    """Set one cell, reusing its item (so selection and scroll position survive a refresh)."""
    item = table.item(row, col)
    if item is None:
        item = QTableWidgetItem()
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        table.setItem(row, col, item)
    if item.text() != text:
        item.setText(text)
    item.setToolTip(tip or text)
    if color is not None:
        item.setForeground(QColor(color))
    else:
        item.setData(Qt.ItemDataRole.ForegroundRole, None)
    item.setIcon(dot_icon(dot) if dot else QIcon())
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class BudgetGauge(QWidget):
    """One budget cap: its name, a bar of spent / limit, and the numbers in words."""

    def __init__(self, cap: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cap = cap
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        name = QLabel(cap.capitalize())
        name.setMinimumWidth(64)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(140)
        self.bar.setMaximumHeight(18)
        self.detail = QLabel("–")
        self.detail.setMinimumWidth(260)
        lay.addWidget(name)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.detail)

    def set(self, limit: float | None, spent: float, left: float | None) -> None:
        if limit is None:
            self.bar.setValue(0)
            self.bar.setFormat("no cap")
            self.bar.setEnabled(False)
            self.detail.setText(f"{fmt_usd(spent)} spent · no cap")
            self.setToolTip(f"No {self.cap} cap is set (Configure → Budget)")
            color = state_color("unknown")
        else:
            frac = 1.0 if limit <= 0 else min(1.0, spent / limit)
            self.bar.setEnabled(True)
            self.bar.setValue(round(frac * 1000))
            self.bar.setFormat(f"{frac * 100:.1f} % used")
            shown_left = max(0.0, left if left is not None else limit - spent)
            self.detail.setText(f"{fmt_usd(spent)} of {fmt_usd(limit)} · {fmt_usd(shown_left)} left")
            self.setToolTip(f"{self.cap.capitalize()} cap {fmt_usd(limit)}; requests are refused once it is spent")
            color = state_color("ok" if frac < 0.7 else "warning" if frac < 0.9 else "error")
        self.bar.setStyleSheet(
            "QProgressBar { border: 1px solid palette(mid); border-radius: 4px; text-align: center; }"
            f"QProgressBar::chunk {{ background: {color}; border-radius: 3px; }}"
        )

    def text(self) -> str:
        """What a user reads: the bar's label and the numbers."""
        return f"{self.bar.format()} — {self.detail.text()}"
