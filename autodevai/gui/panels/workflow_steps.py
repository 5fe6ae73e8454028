"""The Workflows panel's steps table: one row per step (id, routing, status, model, cost, latency), the status
colored and spinning while the step runs, the step's error as every cell's tooltip when it failed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from autodevai.engine.workflows import StepResult
from autodevai.gui.theme import state_color
from autodevai.text import fmt_ms, fmt_usd

__all__ = ["COLUMNS", "SPINNER", "STATUS", "STATUS_TEXT", "StepsTable"]

COLUMNS = [
    ("Step", "The step's id (other steps use its output as {steps.<id>})"),
    ("Routing", "The routing preference of the step, or the model it names"),
    ("Status", "pending, running, ok, error or skipped (a step that needed a failed step)"),
    ("Model", "The model that answered"),
    ("Cost", "What the step cost (USD)"),
    ("Latency", "How long the step took"),
]
STEP, ROUTING, STATUS, MODEL, COST, LATENCY = range(6)
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATUS_TEXT = {"ok": "✓ ok", "error": "✗ error", "skipped": "– skipped"}
_STATUS_STATE = {"running": "info", "pending": "unknown", "not run": "unknown", "cancelled": "warning"}


class StepsTable(QTableWidget):
    """The steps, one row each, selectable one at a time; ``frame`` turns the running rows' spinner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.frame = 0
        self.setHorizontalHeaderLabels([c for c, _ in COLUMNS])
        for i, (_c, tip) in enumerate(COLUMNS):
            item = self.horizontalHeaderItem(i)
            if item is not None:
                item.setToolTip(tip)
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(MODEL, QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(70)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

    def add_row(self, step_id: str, routing: str) -> int:
        """A pending step; returns its row."""
        row = self.rowCount()
        self.insertRow(row)
        for c, text in enumerate([step_id, routing, "pending", "", "", ""]):
            item = QTableWidgetItem(text)
            if c in (COST, LATENCY):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, c, item)
        self.paint_status(row, "pending")
        return row

    def status_text(self, row: int) -> str:
        item = self.item(row, STATUS)
        return item.text() if item is not None else ""

    def set_status(self, row: int, status: str) -> None:
        """Show ``status`` (pending, running, ok, error, skipped, cancelled, not run) in its color."""
        item = self.item(row, STATUS)
        if item is not None:
            running = f"{SPINNER[self.frame % len(SPINNER)]} running"
            item.setText(running if status == "running" else STATUS_TEXT.get(status, status))
        self.paint_status(row, status)

    def paint_status(self, row: int, status: str) -> None:
        item = self.item(row, STATUS)
        if item is not None:
            item.setForeground(QBrush(QColor(state_color(_STATUS_STATE.get(status, status)))))

    def spin(self) -> None:
        """Advance the running rows' spinner by one frame."""
        self.frame += 1
        for row in range(self.rowCount()):
            if self.status_text(row).endswith(" running"):
                self.set_status(row, "running")

    def show_result(self, row: int, result: StepResult) -> None:
        """A finished step: its status, model, cost and latency ("–" unless ok), its error as the tooltip."""
        self.set_status(row, result.status)
        texts = {MODEL: result.model or "–", COST: fmt_usd(result.cost_usd), LATENCY: fmt_ms(result.latency_ms)}
        if result.status != "ok":
            texts[COST] = texts[LATENCY] = "–"
        for c, text in texts.items():
            item = self.item(row, c)
            if item is not None:
                item.setText(text)
        if result.error:
            for c in range(len(COLUMNS)):
                item = self.item(row, c)
                if item is not None:
                    item.setToolTip(result.error)
