"""The Metrics panel's per-model table (calls, success, latency percentiles, tokens, cost, top error, and —
when there are any — cancelled and hedged requests, sortable by the numbers) and how a ``Stats`` splits into
outcomes: a request the user stopped (``Cancelled``) is neither a success nor a failure — it is counted on its own (the
engine's ``Stats.cancelled``; from ``errors["Cancelled"]`` with an engine that has no such field yet) and left out
of the success rate, the error rate and "Top error".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from autodevai.gui.theme import state_color
from autodevai.gui.widgets import style_data_table
from autodevai.text import fmt_ms, fmt_tokens, fmt_usd

__all__ = ["CANCELLED", "COLUMNS", "ModelStatsTable", "error_pct", "outcomes"]

COLUMNS = [
    "Model", "Calls", "Success", "p50", "p95", "p99", "TTFT", "Tokens", "Cost", "Top error", "Cancelled", "Hedged",
]  # fmt: skip
MODEL_MAX_WIDTH = 260  # the model column fits its longest name up to this; "Top error" takes the rest and elides
CANCELLED = "Cancelled"  # the outcome class of a request the user stopped
_TIPS = {
    "Calls": "Requests that finished in the window, failures and cancelled ones included",
    "Success": "Answered requests as a share of those that finished (requests you stopped are left out)",
    "p50": "Median latency (whole request, failures included)",
    "p95": "95th percentile latency",
    "p99": "99th percentile latency",
    "TTFT": "Median time to first token (p50, streamed requests only)",
    "Tokens": "Prompt + completion tokens",
    "Cost": "Cost in USD over the window",
    "Top error": "The most frequent error class and how often it happened",
    "Cancelled": "Requests you stopped (Stop or Esc): not counted as failures",
    "Hedged": "Requests this model answered after a second model was started because a first token was late",
}


def outcomes(s: Any) -> tuple[int, dict[str, int], float | None]:
    """(cancelled, failures by error class, success rate of the requests that were not cancelled) of ``Stats``."""
    errors = {k: n for k, n in s.errors.items() if k != CANCELLED}
    cancelled = getattr(s, "cancelled", None)
    if not isinstance(cancelled, int):  # an engine without Stats.cancelled counts a Stop as an error class
        cancelled = int(s.errors.get(CANCELLED, 0))
    decided = s.ok + sum(errors.values())
    return cancelled, errors, (s.ok / decided if decided else None)


class _Item(QTableWidgetItem):
    """A read-only cell that shows formatted text but sorts by a number (or text)."""

    def __init__(self, text: str, key: float | str | None = None, right: bool = False) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, text.lower() if key is None else key)
        self.setFlags(self.flags() & ~Qt.ItemFlag.ItemIsEditable)
        if right:
            self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if isinstance(a, int | float) and isinstance(b, int | float):
            return bool(a < b)
        return str(a) < str(b)


def error_pct(s: Any) -> float | None:
    """Failed requests as a percentage of those that were not cancelled (None: nothing finished)."""
    _cancelled, errors, _rate = outcomes(s)
    failed = sum(errors.values())
    decided = s.ok + failed
    return 100.0 * failed / decided if decided else None


def _ms_item(value: float | None) -> _Item:
    return _Item(fmt_ms(value), -1.0 if value is None else value, right=True)


class ModelStatsTable(QTableWidget):
    """One row per provider:model of a ``MetricsSummary``, sorted by calls; cells sort by their numbers."""

    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        for c, name in enumerate(COLUMNS):
            head = self.horizontalHeaderItem(c)
            if head is not None and name in _TIPS:
                head.setToolTip(_TIPS[name])
        # Model ids are what a user scans for: their column fits them (up to MODEL_MAX_WIDTH, see ``fill``); the
        # error text takes what is left and elides (its tooltip has all of it).
        style_data_table(self, stretch=COLUMNS.index("Top error"))
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        # Up to twelve columns: narrower header padding than the app's leaves "Top error" room to be read.
        header.setStyleSheet("QHeaderView::section { padding: 4px 2px; }")

    def fill(self, per_model: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """Show ``per_model`` ("provider:model" -> Stats); returns the rows shown."""
        rows = sorted(per_model.items())
        named = [key for key, _ in rows if key.partition(":")[0]]
        several = len({key.partition(":")[2] for key in named}) < len(named)
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        for r, (key, s) in enumerate(rows):
            provider, _, model = key.partition(":")
            model = model or "(model not recorded)"  # e.g. a request stopped before its first attempt ended
            name = _Item(f"{model} · {provider}" if several and provider else model)
            name.setToolTip(f"{model} via {provider}" if provider else f"{model} (the engine recorded no provider)")
            cancelled, errors, rate = outcomes(s)
            success = rate if rate is not None else 0.0
            ok = _Item(f"{success * 100:.1f} %" if rate is not None else "–", success, right=True)
            if rate is not None and success < 0.95:
                ok.setForeground(QColor(state_color("error" if success < 0.8 else "warning")))
            tokens = s.prompt_tokens + s.completion_tokens
            tok = _Item(fmt_tokens(tokens), tokens, right=True)
            tok.setToolTip(f"prompt {s.prompt_tokens:,} · completion {s.completion_tokens:,}")
            top = max(errors.items(), key=lambda kv: kv[1], default=None)
            cells = [
                name,
                _Item(f"{s.count:,}", s.count, right=True),
                ok,
                _ms_item(s.latency_p50_ms),
                _ms_item(s.latency_p95_ms),
                _ms_item(s.latency_p99_ms),
                _ms_item(s.ttft_p50_ms),
                tok,
                _Item(fmt_usd(s.cost_usd), s.cost_usd, right=True),
                _Item(f"{top[0]} ×{top[1]}" if top else "–", top[1] if top else 0),
                _Item(f"{cancelled:,}" if cancelled else "–", cancelled, right=True),
                _Item(f"{s.hedged:,}" if s.hedged else "–", s.hedged, right=True),
            ]
            if top:
                cells[-3].setToolTip(", ".join(f"{k} ×{n}" for k, n in errors.items()))
            if cancelled:
                cells[-2].setToolTip(f"{cancelled:,} stopped by you; not counted as failures")
            if s.hedged:
                cells[-1].setToolTip(f"{s.hedged:,} hedged: a second model raced a late first token")
            for c, item in enumerate(cells):
                self.setItem(r, c, item)
        self.setSortingEnabled(True)
        # The rare counts get a column only when some model has one in the window: twelve columns squeeze
        # "Top error" out of a normal-sized window.
        self.setColumnHidden(COLUMNS.index("Cancelled"), not any(outcomes(s)[0] for _key, s in rows))
        self.setColumnHidden(COLUMNS.index("Hedged"), not any(s.hedged for _key, s in rows))
        names = [cell.text() for r in range(self.rowCount()) if (cell := self.item(r, 0)) is not None]
        widest = max((self.fontMetrics().horizontalAdvance(n) for n in names), default=0)
        self.setColumnWidth(0, max(120, min(MODEL_MAX_WIDTH, widest + 16)))
        return rows
