"""The Metrics panel: live charts of latency, time to first token, throughput, cost and errors over a chosen
window, summary tiles, and a sortable per-model table.

A request the user stopped (``Cancelled``) is neither a success nor a failure: see ``metrics_table.outcomes``.

Charts redraw at a steady rate, never per event: a timer ticks every ``TICK_MS`` while the panel is visible and
redraws when a request was recorded since the last redraw (``request_recorded`` only marks the panel dirty) or
when the window moved by one point. ``engine.metrics_series`` is synchronous and cheap, so it is read on the
tick; the per-model table and tiles come from ``engine.get_performance_metrics`` through ``ctx.spawn`` every
``TABLE_EVERY_S`` (sooner after traffic). Buffers have a fixed number of points per window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from autodevai.gui.bridge import GuiContext
from autodevai.gui.charts import Curve, LiveChart, StatTile
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.metrics_table import ModelStatsTable, error_pct, outcomes
from autodevai.gui.theme import ACCENT, state_color
from autodevai.gui.widgets import Card, muted
from autodevai.text import fmt_ms, fmt_usd

__all__ = ["WINDOWS", "MetricsPanel"]

TICK_MS = 500  # the redraw rate ceiling
# Painting a chart costs a few ms (offscreen raster: ~5 ms each); painting all six in one event-loop turn would
# stall the loop ~30 ms. So a redraw computes every series at once, then hands them to the charts two at a
# time on a faster paint timer: the loop never stalls for more than two charts' paint.
PAINT_MS = 80
CHARTS_PER_PAINT = 2
TABLE_EVERY_S = 2.0  # per-model table and tiles, while visible
TABLE_AFTER_TRAFFIC_S = 0.5  # ... or this soon after a request was recorded


@dataclass(frozen=True, slots=True)
class WindowSpec:
    key: str  # the engine's window name
    label: str  # in the selector: "Last minute"
    span_s: float
    points: int  # fixed buffer length for this window
    unit_s: float  # x axis unit in seconds
    x_label: str

    @property
    def phrase(self) -> str:
        return f"in the {self.label.lower()}"


WINDOWS = (
    WindowSpec("1m", "Last minute", 60.0, 60, 1.0, "seconds ago"),
    WindowSpec("15m", "Last 15 minutes", 900.0, 60, 60.0, "minutes ago"),
    WindowSpec("24h", "Last 24 hours", 86_400.0, 72, 3600.0, "hours ago"),
)

_LATENCY = (
    Curve("p50", "p50", ACCENT, gaps=True),
    Curve("p95", "p95", "#d97706", gaps=True),
    Curve("p99", "p99", "#dc2626", gaps=True, dashed=True),
)
_OK, _ERR = state_color("ok"), state_color("error")
# (name, title, unit, minimum y span, curves), laid out three per row
_CHARTS = (
    ("latency", "Latency", "ms", 10.0, _LATENCY),
    ("ttft", "Time to first token", "p50, ms", 10.0, (Curve("ttft", "p50", "#8b5cf6", gaps=True),)),
    ("errors", "Error rate", "% of requests", 5.0, (Curve("errors", "errors", _ERR, gaps=True),)),
    ("rps", "Requests", "per second", 0.1, (Curve("rps", "req/s", ACCENT, fill=True),)),
    ("tps", "Tokens", "per second (prompt + completion)", 1.0, (Curve("tps", "tokens/s", "#0d9488", fill=True),)),
    ("cost", "Cost", "USD, cumulative since the window's start", 1e-4, (Curve("cost", "USD", _OK, fill=True),)),
)
_CHART_TIPS = {
    "latency": "Request latency percentiles per interval, in milliseconds (failures included)",
    "ttft": "Median time to the first streamed token per interval (streamed requests only)",
    "errors": "Failed requests as a share of the interval's requests",
    "rps": "Finished requests per second",
    "tps": "Throughput of the whole engine, not one model's generation speed",
    "cost": "Running total of spending across the window",
}
# public chart name (tests, screenshots) -> (chart, curve)
_CHART_KEYS = {
    "latency_p50": ("latency", "p50"),
    "latency_p95": ("latency", "p95"),
    "latency_p99": ("latency", "p99"),
    "ttft_p50": ("ttft", "ttft"),
    "error_rate": ("errors", "errors"),
    "requests_per_s": ("rps", "rps"),
    "tokens_per_s": ("tps", "tps"),
    "cost": ("cost", "cost"),
}


class MetricsPanel(Panel):
    title = "Metrics"
    subtitle = "Latency, throughput, cost and errors, live from the engine's sliding windows."
    table_filled = Signal(object)  # the MetricsSummary the tiles and the per-model table now show

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.redraws = 0
        self._dirty = True
        self._table_dirty = True
        self._last_redraw = -1e9
        self._last_table = -1e9
        self._table_task: Any = None

        # -- top row: tiles and the window selector
        top = QHBoxLayout()
        top.setSpacing(10)
        self.tiles = {
            "requests": StatTile("Requests", "Requests that finished in the window, and the average rate"),
            "success": StatTile(
                "Success rate",
                "Share of finished requests that returned an answer (a request you stopped is no failure)",
            ),
            "p95": StatTile("Latency p95", "95 % of requests finished faster than this"),
            "cost": StatTile("Cost", "What the window's requests cost, in USD"),
        }
        for tile in self.tiles.values():
            top.addWidget(tile)
        top.addStretch(1)
        pick = QVBoxLayout()
        pick.addStretch(1)
        pick.addWidget(muted("Window"))
        self.window_combo = QComboBox()
        self.window_combo.setToolTip("The time window of the charts, tiles and table")
        for spec in WINDOWS:
            self.window_combo.addItem(spec.label, spec.key)
        saved = str(ctx.qsettings.value("metrics/window", "15m"))
        self.window_combo.setCurrentIndex(max(0, self.window_combo.findData(saved)))
        self.window_combo.currentIndexChanged.connect(self._on_window)
        pick.addWidget(self.window_combo)
        top.addLayout(pick)
        self.body.addLayout(top)

        # -- charts
        self.chart_widgets = {
            name: LiveChart(title, unit, curves, tooltip=_CHART_TIPS[name], y_min_span=span)
            for name, title, unit, span, curves in _CHARTS
        }
        self.charts: dict[str, Any] = {key: self.chart_widgets[c].items[k] for key, (c, k) in _CHART_KEYS.items()}
        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(10)
        for i, chart in enumerate(self.chart_widgets.values()):
            grid.addWidget(chart, i // 3, i % 3)

        # -- per-model table
        self.table = ModelStatsTable()
        self.table_note = muted("")

        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 4, 0, 0)
        tl.setSpacing(4)
        tl.addWidget(QLabel("<b>Per model</b>"))
        tl.addWidget(self.table, 1)
        tl.addWidget(self.table_note)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(grid_box)
        split.addWidget(table_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([380, 240])
        self.table.setMinimumHeight(110)

        # -- empty state
        empty = Card()
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        go = QPushButton("Open Execute")
        go.setProperty("role", "primary")
        go.setToolTip("Send a prompt; every request shows up here within a second")
        go.clicked.connect(self._open_execute)
        empty.body.addStretch(1)
        empty.body.addWidget(self.empty_label)
        empty.body.addWidget(go, 0, Qt.AlignmentFlag.AlignCenter)
        empty.body.addStretch(1)

        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(split)
        self.body.addWidget(self.stack, 1)

        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(TICK_MS)
        self.poll_timer.timeout.connect(self._tick)
        self._pending: list[tuple[str, list[float], dict[str, list[float | None]]]] = []
        self.paint_timer = QTimer(self)
        self.paint_timer.setInterval(PAINT_MS)
        self.paint_timer.timeout.connect(self._paint_some)
        ctx.events.request_recorded.connect(self._on_recorded)
        self._apply_window()

    # ---- public ---------------------------------------------------------------------------------------------

    @property
    def window_key(self) -> str:
        return str(self.window_combo.currentData())

    def refresh_now(self) -> None:
        """Redraw the charts and refresh the table and tiles at once."""
        self._redraw()
        self._paint_some(everything=True)
        self._refresh_table()

    def on_shown(self) -> None:
        if not self.poll_timer.isActive():
            self.poll_timer.start()
        self.refresh_now()

    def on_hidden(self) -> None:
        self.poll_timer.stop()
        self.paint_timer.stop()

    # ---- timing ---------------------------------------------------------------------------------------------

    def _spec(self) -> WindowSpec:
        return next((s for s in WINDOWS if s.key == self.window_key), WINDOWS[1])

    def _on_recorded(self, _event: object) -> None:
        self._dirty = True  # drawn on the next tick, however many events arrive meanwhile
        self._table_dirty = True

    def _tick(self) -> None:
        if not self.isVisible():
            self.poll_timer.stop()  # hidden without on_hidden (e.g. the window went to the tray)
            return
        now = time.monotonic()
        spec = self._spec()
        if self._dirty or now - self._last_redraw >= spec.span_s / spec.points:
            self._redraw()
        since = now - self._last_table
        if since >= TABLE_EVERY_S or (self._table_dirty and since >= TABLE_AFTER_TRAFFIC_S):
            self._refresh_table()

    def _on_window(self) -> None:
        self.ctx.qsettings.setValue("metrics/window", self.window_key)
        self._apply_window()
        if self.ctx.ready:
            self.refresh_now()

    def _apply_window(self) -> None:
        spec = self._spec()
        for i, chart in enumerate(self.chart_widgets.values()):
            label = spec.x_label if i >= 3 else ""  # the bottom row names the shared time axis
            chart.set_points(spec.points, label, -spec.span_s / spec.unit_s)
        self.empty_label.setText(
            f"<p style='font-size:15px'><b>No requests {spec.phrase} yet.</b></p>"
            "<p>Send a prompt from the <b>Execute</b> panel (Ctrl+1) and the charts fill in within a second.<br>"
            "Traffic from the CLI and the local gateway shows up here too, or pick a longer window above.</p>"
        )

    # ---- charts ---------------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        if not self.ctx.ready:
            return
        spec = self._spec()
        series = self.ctx.engine.metrics_series(spec.key, spec.points)
        self._dirty = False
        self._last_redraw = time.monotonic()
        self.redraws += 1
        x = [t / spec.unit_s for t, _ in series]
        stats = [s for _, s in series]
        cost = np.cumsum([s.cost_usd for s in stats]).tolist()
        self._pending = [
            (
                "latency",
                x,
                {
                    "p50": [s.latency_p50_ms for s in stats],
                    "p95": [s.latency_p95_ms for s in stats],
                    "p99": [s.latency_p99_ms for s in stats],
                },
            ),
            ("ttft", x, {"ttft": [s.ttft_p50_ms for s in stats]}),
            ("errors", x, {"errors": [error_pct(s) for s in stats]}),
            ("rps", x, {"rps": [s.requests_per_s for s in stats]}),
            ("tps", x, {"tps": [s.tokens_per_s for s in stats]}),
            ("cost", x, {"cost": cost}),
        ]
        self.stack.setCurrentIndex(1 if any(s.count for s in stats) else 0)
        if not self.paint_timer.isActive():
            self.paint_timer.start()

    def _paint_some(self, everything: bool = False) -> None:
        """Give the next charts their new points (each then repaints once)."""
        count = len(self._pending) if everything else CHARTS_PER_PAINT
        batch, self._pending = self._pending[:count], self._pending[count:]
        for name, x, values in batch:
            self.chart_widgets[name].set_values(x, values)
        if not self._pending:
            self.paint_timer.stop()

    def _open_execute(self) -> None:
        show = getattr(self.window(), "show_panel", None)
        if callable(show):
            show("Execute")

    # ---- table and tiles ------------------------------------------------------------------------------------

    def _refresh_table(self) -> None:
        if not self.ctx.ready or (self._table_task is not None and not self._table_task.done()):
            return
        self._last_table = time.monotonic()
        self._table_dirty = False
        window = self.window_key
        self._table_task = self.ctx.spawn(
            self.ctx.engine.get_performance_metrics(window),
            on_result=lambda summary: self._on_summary(window, summary),
            on_error=lambda exc: self.table_note.setText(f"Could not read the metrics: {exc}"),
            name="metrics-table",
        )

    def _on_summary(self, window: str, summary: Any) -> None:
        if window != self.window_key:
            self._refresh_table()  # the selector moved meanwhile: ask again for the window now shown
            return
        self._fill_tiles(summary.overall)
        rows = self.table.fill(summary.per_model)
        n = len(rows)
        self.table_note.setText(f"{n} model{'s' if n != 1 else ''} {self._spec().phrase}. Click a header to sort.")
        self.table_filled.emit(summary)

    def _fill_tiles(self, o: Any) -> None:
        if not o.count:
            for tile in self.tiles.values():
                tile.set("–", "no requests yet")
            return
        hedged = f" · {o.hedged:,} hedged" if o.hedged else ""
        self.tiles["requests"].set(f"{o.count:,}", f"{o.requests_per_s:.2f}/s on average{hedged}")
        cancelled, errors, rate = outcomes(o)
        failed = sum(errors.values())
        detail = f"{failed:,} failed" + (f" · {cancelled:,} cancelled" if cancelled else "")
        if rate is None:
            self.tiles["success"].set("–", detail)
        else:
            color = None if rate >= 0.95 else state_color("error" if rate < 0.8 else "warning")
            self.tiles["success"].set(f"{rate * 100:.1f} %", detail, color)
        self.tiles["p95"].set(fmt_ms(o.latency_p95_ms), f"p50 {fmt_ms(o.latency_p50_ms)}")
        per = o.cost_usd / o.count
        self.tiles["cost"].set(fmt_usd(o.cost_usd), f"{fmt_usd(per)} per request")
