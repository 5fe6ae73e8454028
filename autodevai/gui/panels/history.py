"""The History panel: past requests from the store, searchable, with the full detail and a "Re-run" button.

The list comes from ``engine.get_request_history`` (newest first): on show, after each recorded request
(debounced), and ~250 ms after the search text stops changing. A slower, older query never overwrites a newer
one's rows (a generation counter).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QWidget,
)

from autodevai.engine.ports import RequestRecord
from autodevai.engine.types import ChatRequest, EngineResponse, Preference
from autodevai.gui.bridge import GuiContext
from autodevai.gui.labels import SIMULATED_TIP, cost_text, simulated_html
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, muted
from autodevai.text import fmt_ms, fmt_tokens, fmt_usd

__all__ = ["HistoryPanel"]

LIMIT = 200
SEARCH_DEBOUNCE_MS = 250
EVENT_DEBOUNCE_MS = 300
HEADERS = ["Time", "Model", "Status", "Latency", "Tokens", "Cost", "Prompt"]
RIGHT = {3, 4, 5}
MUTED = "#8b9099"  # readable on both themes' card backgrounds


def fmt_time(ts: float, now: float | None = None) -> str:
    """Local time: "14:03:22" today, "Mar 04 14:03" on another day."""
    when = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return when.strftime("%H:%M:%S") if when.date() == today else when.strftime("%b %d %H:%M")


def preview(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def status_color(status: str) -> str:
    if status == "ok":
        return state_color("ok")
    if status in ("Cancelled", "RateLimited", "CircuitOpen", "BudgetExceeded"):
        return state_color("warning")
    return state_color("error")


class HistoryPanel(Panel):
    title = "History"
    subtitle = "Every request you made, newest first: search it, read the whole exchange, send a prompt again."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.records: list[RequestRecord] = []
        self._generation = 0
        self._select_after: str | None = None
        self._rerun_task: asyncio.Task[Any] | None = None

        top = QHBoxLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search prompts, answers and model ids…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip("Searches the whole stored history, not just the rows shown")
        top.addWidget(self.search_edit, 1)
        self.count_label = muted("Waiting for the engine…")
        self.count_label.setWordWrap(False)
        top.addWidget(self.count_label)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the history again from the store")
        top.addWidget(self.refresh_button)
        self.body.addLayout(top)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        head = self.table.horizontalHeader()
        head.setHighlightSections(False)
        for col, width in enumerate([84, 210, 170, 72, 86, 84]):
            self.table.setColumnWidth(col, width)
        head.setStretchLastSection(True)
        for col in RIGHT:
            item = self.table.horizontalHeaderItem(col)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.empty_card = Card()
        self.empty_label = QLabel("")
        self.empty_label.setWordWrap(True)
        self.empty_card.body.addWidget(self.empty_label)
        self.empty_card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.empty_card.hide()

        detail = Card()
        row = QHBoxLayout()
        self.detail_title = QLabel("Select a request to read it")
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.detail_title, 1)
        self.rerun_button = QPushButton("Re-run")
        self.rerun_button.setProperty("role", "primary")
        self.rerun_button.setToolTip("Send this prompt again to the same model (fallbacks still apply)")
        self.rerun_button.setEnabled(False)
        row.addWidget(self.rerun_button)
        detail.body.addLayout(row)
        self.detail_view = QTextBrowser()
        self.detail_view.setOpenExternalLinks(False)
        self.detail_view.setFrameShape(QTextBrowser.Shape.NoFrame)
        detail.body.addWidget(self.detail_view, 1)
        detail.setMinimumHeight(200)

        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.table)
        self.split.addWidget(detail)
        self.split.setChildrenCollapsible(False)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 1)
        self.body.addWidget(self.split, 1)
        self.body.addWidget(self.empty_card)
        self.body.addStretch(0)  # takes the room only while the table is hidden (the splitter has stretch 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.refresh_now)
        self._event_timer = QTimer(self)
        self._event_timer.setSingleShot(True)
        self._event_timer.setInterval(EVENT_DEBOUNCE_MS)
        self._event_timer.timeout.connect(self.refresh_now)

        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.refresh_button.clicked.connect(self.refresh_now)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.rerun_button.clicked.connect(self.rerun)
        ctx.events.request_recorded.connect(self._on_recorded)

    # ---- loading ------------------------------------------------------------------------------------------

    def on_shown(self) -> None:
        self.refresh_now()

    def on_hidden(self) -> None:
        self._search_timer.stop()
        self._event_timer.stop()

    def _on_recorded(self, _event: object) -> None:
        if self.isVisible():  # hidden: on_shown reads the history anyway
            self._event_timer.start()

    def refresh_now(self) -> None:
        """Query the store now (with the current search text) and show the rows."""
        if not self.ctx.ready:
            return
        self._search_timer.stop()
        self._event_timer.stop()
        self._generation += 1
        generation = self._generation
        query = self.search_edit.text().strip()
        self.ctx.spawn(
            self.ctx.engine.get_request_history(LIMIT, query or None),
            on_result=lambda rows: self._loaded(rows, generation, query),
            on_error=lambda exc: self._failed(exc, generation),
            name="history.load",
        )

    def _failed(self, exc: BaseException, generation: int) -> None:
        if generation == self._generation:
            self.count_label.setText(f"Could not read the history: {exc}")

    def _loaded(self, rows: Sequence[RequestRecord], generation: int, query: str) -> None:
        if generation != self._generation:
            return  # a newer query is on its way
        current = self.selected_record()
        keep = self._select_after or (current.id if current is not None else None)
        self._select_after = None
        self.records = list(rows)
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.records))
        now = time.time()
        for r, rec in enumerate(self.records):
            cells = [
                fmt_time(rec.ts, now),
                rec.model or "–",
                rec.status,
                fmt_ms(rec.latency_ms),
                f"{fmt_tokens(rec.prompt_tokens)} + {fmt_tokens(rec.completion_tokens)}",
                cost_text(rec.cost_usd, rec.cost_source),
                preview(rec.prompt),
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in RIGHT:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            time_item = self.table.item(r, 0)
            if time_item is not None:
                time_item.setToolTip(datetime.fromtimestamp(rec.ts).strftime("%Y-%m-%d %H:%M:%S"))
            status_item = self.table.item(r, 2)
            if status_item is not None:
                status_item.setForeground(QColor(status_color(rec.status)))
                simulated = rec.status == "ok" and rec.simulated
                status_item.setText(
                    ("✓ " if rec.status == "ok" else "✗ ") + rec.status + (" · simulated" if simulated else "")
                )
                if simulated:
                    status_item.setToolTip(SIMULATED_TIP)
            tokens_item = self.table.item(r, 4)
            if tokens_item is not None:
                tokens_item.setToolTip(f"{rec.prompt_tokens:,} prompt + {rec.completion_tokens:,} completion tokens")
            prompt_item = self.table.item(r, 6)
            if prompt_item is not None:
                prompt_item.setToolTip(preview(rec.prompt, 600))
        self.table.blockSignals(False)

        n = len(self.records)
        more = f" (the newest {LIMIT})" if n >= LIMIT else ""
        if query:
            self.count_label.setText(f"{n:,} request{'s' if n != 1 else ''} match “{query}”{more}")
            self.empty_label.setText(
                f"<b>Nothing in the history matches “{html.escape(query)}”</b><br>"
                f"<span style='color:{MUTED}'>The search looks in prompts, answers and model ids. "
                "Try a shorter word.</span>"
            )
        else:
            self.count_label.setText(f"{n:,} request{'s' if n != 1 else ''}{more}")
            self.empty_label.setText(
                f"<b>No requests yet</b><br><span style='color:{MUTED}'>Send a prompt from Execute (or run a "
                "workflow) and it appears here, with its answer, cost, latency and every model that was tried.</span>"
            )
        self.empty_card.setVisible(n == 0)
        self.split.setVisible(n > 0)
        target = next((i for i, rec in enumerate(self.records) if rec.id == keep), None)
        if target is not None:
            self.table.selectRow(target)
        elif n:
            self.table.selectRow(0)
        else:
            self._show_record(None)

    # ---- detail -------------------------------------------------------------------------------------------

    def selected_record(self) -> RequestRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.records):
            return None
        return self.records[rows[0].row()]

    def _on_selection(self) -> None:
        self._show_record(self.selected_record())

    def _show_record(self, rec: RequestRecord | None) -> None:
        self.rerun_button.setEnabled((rec is not None and bool(rec.prompt.strip())) or self._rerun_task is not None)
        if rec is None:
            self.detail_title.setText("Select a request to read it")
            self.detail_view.clear()
            return
        simulated = rec.status == "ok" and rec.simulated
        self.detail_title.setText(
            f"<b>{html.escape(rec.model or 'no model')}</b>&nbsp;&nbsp;"
            f'<span style="color:{status_color(rec.status)}">{html.escape(rec.status)}</span>'
            + (f"&nbsp;&nbsp;{simulated_html()}" if simulated else "")
        )
        self.detail_title.setToolTip(SIMULATED_TIP if simulated else "")
        self.detail_view.setHtml(record_html(rec))

    # ---- re-run -------------------------------------------------------------------------------------------

    def rerun(self) -> None:
        """Send the selected request's prompt again (or cancel the re-run in flight)."""
        if self._rerun_task is not None:
            self._rerun_task.cancel()
            return
        rec = self.selected_record()
        if rec is None or not self.ctx.ready:
            return
        kw: dict[str, Any] = {}
        if rec.preference in {p.value for p in Preference}:
            kw["preference"] = rec.preference
        if rec.model and self.ctx.engine.find_model(rec.model, rec.provider or None) is not None:
            kw["model"] = rec.model
        try:
            request = ChatRequest.from_prompt(rec.prompt, **kw)
        except ValidationError as exc:
            self.detail_view.setHtml(_error_html("This prompt cannot be sent again", str(exc.errors()[0]["msg"])))
            return
        self.rerun_button.setText("Cancel re-run")
        self.rerun_button.setProperty("role", "")
        self._restyle(self.rerun_button)
        self._rerun_task = self.ctx.spawn(
            self.ctx.engine.execute_enhanced_ai_request(request),
            on_result=self._rerun_done,
            on_error=self._rerun_failed,
            name="history.rerun",
        )
        self._rerun_task.add_done_callback(self._rerun_finished)

    def _rerun_finished(self, task: asyncio.Task[Any]) -> None:
        self._rerun_task = None
        if task.cancelled():
            self.detail_title.setText("<b>Re-run cancelled</b>")
        self.rerun_button.setText("Re-run")
        self.rerun_button.setProperty("role", "primary")
        self._restyle(self.rerun_button)
        self.rerun_button.setEnabled(self.selected_record() is not None)

    @staticmethod
    def _restyle(w: QWidget) -> None:
        w.style().unpolish(w)
        w.style().polish(w)

    def _rerun_done(self, resp: EngineResponse) -> None:
        self.detail_title.setText(
            f"<b>Re-run answered</b> by {html.escape(resp.model)} in {fmt_ms(resp.latency_ms)} "
            f"for {fmt_usd(resp.cost_usd)}"
        )
        self.detail_view.setHtml(
            f"<h4>New answer</h4><div style='white-space:pre-wrap'>{html.escape(resp.content)}</div>"
        )
        self._select_after = resp.request_id
        self.refresh_now()

    def _rerun_failed(self, exc: BaseException) -> None:
        self.detail_title.setText(f'<b style="color:{state_color("error")}">Re-run failed</b>')
        self.detail_view.setHtml(_error_html(type(exc).__name__, str(exc)))
        self.refresh_now()


def _error_html(title: str, message: str) -> str:
    return (
        f'<p><b style="color:{state_color("error")}">{html.escape(title)}</b></p>'
        f"<div style='white-space:pre-wrap'>{html.escape(message)}</div>"
    )


def _section(title: str, text: str, empty: str) -> str:
    body = html.escape(text) if text.strip() else f"<i>{html.escape(empty)}</i>"
    return f"<h4 style='margin-bottom:2px'>{title}</h4><div style='white-space:pre-wrap'>{body}</div>"


def record_html(rec: RequestRecord) -> str:
    """The whole request as rich text: facts, prompt, answer and the attempts trail."""
    when = datetime.fromtimestamp(rec.ts).strftime("%Y-%m-%d %H:%M:%S")
    facts = [
        when,
        f"provider {html.escape(rec.provider or '–')}",
        f"preference {html.escape(rec.preference)}",
        f"latency {fmt_ms(rec.latency_ms)}",
    ]
    if rec.ttft_ms is not None:
        facts.append(f"first token {fmt_ms(rec.ttft_ms)}")
    facts.append(f"{rec.prompt_tokens:,} + {rec.completion_tokens:,} tokens")
    facts.append(f"cost {cost_text(rec.cost_usd, rec.cost_source)}")
    if rec.stream:
        facts.append("streamed")
    if rec.task_class:
        facts.append(f"task {html.escape(rec.task_class)}")
    parts = [f"<p style='color:gray'>{' · '.join(facts)}</p>"]
    parts.append(_section("Prompt", rec.prompt, "not stored"))
    parts.append(_section("Answer", rec.answer, "no answer (the request failed)"))
    parts.append(attempts_html(rec.attempts))
    return "".join(parts)


def attempts_html(attempts: Sequence[Mapping[str, Any]]) -> str:
    if not attempts:
        return ""
    rows = []
    notes = []
    for a in attempts:
        if "model" not in a:
            if a.get("error"):
                notes.append(html.escape(str(a["error"])))
            continue
        outcome = str(a.get("outcome", ""))
        latency = a.get("latency_ms")
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(a.get('provider', '')))}</td>"
            f"<td>{html.escape(str(a.get('model', '')))}</td>"
            f"<td style='color:{status_color(outcome)}'>{html.escape(outcome)}</td>"
            f"<td align='right'>{fmt_ms(float(latency)) if isinstance(latency, int | float) else '–'}</td>"
            f"<td>{html.escape(str(a.get('detail', '')))}</td>"
            "</tr>"
        )
    out = "<h4 style='margin-bottom:2px'>Attempts</h4>"
    if rows:
        out += (
            "<table cellspacing='0' cellpadding='3'>"
            "<tr><th align='left'>Provider</th><th align='left'>Model</th><th align='left'>Outcome</th>"
            "<th align='right'>Time</th><th align='left'>Detail</th></tr>" + "".join(rows) + "</table>"
        )
    for note in notes:
        out += f"<p style='white-space:pre-wrap'>{note}</p>"
    return out
