"""The Diagnostics panel: runs the engine's self-test on demand and shows one row per check.

The self-test makes one small real request per provider (it costs a fraction of a cent on a paid provider), so it
runs only when the user asks. While it runs the panel shows a busy bar and a Cancel button.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from autodevai.engine.reports import SelfTestReport
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import muted
from autodevai.text import fmt_ms

__all__ = ["DiagnosticsPanel"]

HEADERS = ["", "Check", "Time", "Detail"]
INTRO = (
    "The self-test checks that the store is writable and its audit chain intact, and for each provider that a "
    "key is set, the model list loads, and one tiny request makes the round trip (a fraction of a cent on a paid "
    "provider). A failed check says what to do next."
)


class DiagnosticsPanel(Panel):
    title = "Diagnostics"
    subtitle = "Check that this installation works end to end: storage, keys, providers, a real round trip."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._task: asyncio.Task[Any] | None = None
        self._started = 0.0
        self.report: SelfTestReport | None = None

        top = QHBoxLayout()
        self.run_button = QPushButton("Run self-test")
        self.run_button.setProperty("role", "primary")
        self.run_button.setToolTip("Run every check now (one small request per provider)")
        top.addWidget(self.run_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the self-test")
        self.cancel_button.hide()
        top.addWidget(self.cancel_button)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(160)
        self.busy.setFixedHeight(10)
        self.busy.hide()
        top.addWidget(self.busy)
        self.summary_label = QLabel("")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.summary_label, 1)
        self.body.addLayout(top)

        self.intro = muted(INTRO)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        head = self.table.horizontalHeader()
        head.setHighlightSections(False)
        head.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        head.setStretchLastSection(True)
        self.table.setColumnWidth(0, 34)
        self.table.setColumnWidth(1, 180)
        self.table.setColumnWidth(2, 80)
        time_header = self.table.horizontalHeaderItem(2)
        if time_header is not None:
            time_header.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.hide()
        self.body.addWidget(self.table)
        self.body.addWidget(self.intro)
        self.body.addStretch(1)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)

    def on_shown(self) -> None:
        self.run_button.setEnabled(self.ctx.ready and self._task is None)
        if not self.ctx.ready:
            self.summary_label.setText("Waiting for the engine…")
        elif self.report is None and self._task is None:
            self.summary_label.setText('<span style="color:#8b9099">Not run yet</span>')

    # ---- running ------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Start the self-test (ignored while one is running or before the engine is ready)."""
        if self._task is not None or not self.ctx.ready:
            return
        self._started = time.perf_counter()
        self._set_busy(True)
        self.summary_label.setText("Running the self-test…")
        self._task = self.ctx.spawn(
            self.ctx.engine.test_enhanced_orchestration(),
            on_result=self._show,
            on_error=self._failed,
            name="diagnostics.selftest",
        )
        self._task.add_done_callback(self._finished)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def on_hidden(self) -> None:
        """The test keeps running while hidden; its result is waiting when the panel comes back."""

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._task = None
        self._set_busy(False)
        if task.cancelled():
            self.summary_label.setText(f'<span style="color:{state_color("unknown")}">Self-test cancelled</span>')

    def _set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy and self.ctx.ready)
        self.cancel_button.setVisible(busy)
        self.busy.setVisible(busy)
        self.ctx.events.busy.emit(busy)

    def _fit_table_height(self) -> None:
        """Size the table to its rows (up to 60% of the panel) so the report doesn't float in a big box."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        height = self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth() + 2
        self.table.setFixedHeight(min(height, max(200, int(self.height() * 0.6))))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if not self.table.isHidden():
            self.table.resizeRowsToContents()
            self._fit_table_height()

    def _failed(self, exc: BaseException) -> None:
        self.summary_label.setText(
            f'<b style="color:{state_color("error")}">The self-test could not run</b>: {type(exc).__name__}: {exc}'
        )

    def _show(self, report: SelfTestReport) -> None:
        self.report = report
        checks = report.checks
        self.table.setRowCount(len(checks))
        ok_color, bad_color = QColor(state_color("ok")), QColor(state_color("error"))
        for r, check in enumerate(checks):
            mark = QTableWidgetItem("✓" if check.ok else "✗")
            mark.setForeground(ok_color if check.ok else bad_color)
            mark.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            font = mark.font()
            font.setBold(True)
            mark.setFont(font)
            mark.setToolTip("passed" if check.ok else "failed")
            name = QTableWidgetItem(check.name)
            elapsed = QTableWidgetItem(fmt_ms(check.elapsed_ms))
            elapsed.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            detail = QTableWidgetItem(check.detail)
            detail.setToolTip(check.detail)
            if not check.ok:
                detail.setForeground(bad_color)
            for c, item in enumerate((mark, name, elapsed, detail)):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._fit_table_height()
        self.table.show()
        total_ms = (time.perf_counter() - self._started) * 1000
        failed = [c for c in checks if not c.ok]
        at = time.strftime("%H:%M:%S")
        if not checks:
            text = f'<b style="color:{state_color("warning")}">No checks ran</b>'
        elif not failed:
            text = (
                f'<b style="color:{state_color("ok")}">✓ All {len(checks)} checks passed</b> '
                f"in {fmt_ms(total_ms)} · at {at}"
            )
        else:
            names = ", ".join(c.name for c in failed)
            text = (
                f'<b style="color:{state_color("error")}">✗ {len(failed)} of {len(checks)} checks failed</b>: '
                f"{names} · at {at}"
            )
        self.summary_label.setText(text)
