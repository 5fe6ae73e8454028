"""Building blocks of the Status panel: tables whose cells carry a colored state dot and are updated in place,
the budget gauge (a bar of spent / limit with the numbers in words), durations in words, and how a provider's
last background probe (``engine/health.py``) and the probe mode read."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from autodevai.gui.theme import state_color
from autodevai.gui.widgets import style_data_table
from autodevai.text import fmt_ago, fmt_usd

__all__ = ["PROBE_NOTES", "BudgetGauge", "dot_icon", "fmt_duration", "probe_cell", "set_cell", "state_table"]

# What each ``health.probe`` mode does, under the providers table.
PROBE_NOTES = {
    "models": "Background probes: when a breaker's open time is up, its provider's model list is fetched "
    "(GET /models, free); a success lets the model be called again. Change in Configure → Budgets & resilience.",
    "chat": "Background probes: when a breaker's open time is up, the model gets a one-token request (may cost a "
    "fraction of a cent); a success lets it be called again. Change in Configure → Budgets & resilience.",
    "off": "Background probes are off: an open breaker is only retried by your next request after its open time. "
    "Change in Configure → Budgets & resilience.",
}


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


def probe_cell(p: Any, mode: str, now_wall: float) -> tuple[str, str | None, str]:
    """The "Last probe" cell of provider status ``p`` at ``now_wall`` (epoch seconds): its text ("ok · 2 min
    ago", "failed · 12 s ago", "never probed", "probes off"), its color (None: the default) and its tooltip (what
    the probe did or what failed, and when)."""
    wall = p.last_probe_wall
    if wall is None:
        if mode == "off":
            return "probes off", None, "Background probes are off (Configure → Budgets & resilience)"
        return "never probed", None, "Probed in the background once one of its breakers has been open long enough"
    when = fmt_ago(now_wall - wall)
    at = time.strftime("%H:%M:%S", time.localtime(wall))
    detail = p.last_probe_detail or ""
    if p.last_probe_ok:
        return f"ok · {when}", state_color("ok"), f"Probe at {at} answered: {detail}".rstrip(": ")
    return f"failed · {when}", state_color("error"), f"Probe at {at} failed: {detail}".rstrip(": ")


def state_table(columns: list[str], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    style_data_table(t, stretch)
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
