"""The Metrics panel against a real engine and the simulator: charts and table fill in after traffic, the window
selector switches the data, redraws are rate-limited, and a hidden panel stops polling."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from autodevai.engine.errors import Cancelled
from autodevai.engine.types import ChatRequest
from autodevai.gui.main_window import MainWindow
from autodevai.gui.panels.metrics import TICK_MS, MetricsPanel
from autodevai.gui.panels.metrics_table import COLUMNS
from autodevai.sim.config import SimConfig

from .conftest import Harness

# The offscreen platform warns whenever a shown top-level widget's size hints change: not a defect of ours.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

MODEL = "google/gemini-2.0-flash-001"


def _finite(panel: MetricsPanel, name: str) -> np.ndarray:
    _x, y = panel.charts[name].getData()
    y = np.asarray([] if y is None else y, dtype=float)
    return y[np.isfinite(y)]


def _table_models(panel: MetricsPanel) -> list[str]:
    return [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]


async def _send(ctx, n: int, model: str = MODEL) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(f"What is {i}+2?", model=model))


def _panel(harness: Harness, ctx, window: str = "1m") -> MetricsPanel:  # type: ignore[no-untyped-def]
    w = MetricsPanel(ctx)
    harness.widgets.append(w)
    w.window_combo.setCurrentIndex(w.window_combo.findData(window))
    w.resize(1000, 720)
    w.show()
    w.on_shown()
    return w


def test_charts_tiles_and_table_fill_in_after_requests(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = _panel(harness, ctx)
        await harness.wait_until(lambda: "No requests in the last minute" in w.empty_label.text(), what="empty state")
        assert w.stack.currentIndex() == 0 and "Execute" in w.empty_label.text()
        assert _finite(w, "latency_p50").size == 0

        await _send(ctx, 8)
        await harness.wait_until(lambda: _finite(w, "latency_p50").size > 0, what="latency points")
        # charts get their points two at a time (so one paint never stalls the loop): wait for the last one
        await harness.wait_until(lambda: _finite(w, "cost").max(initial=0) > 0, what="cost points")
        await harness.wait_until(lambda: any(MODEL in m for m in _table_models(w)), what="the model in the table")
        assert w.stack.currentIndex() == 1, "the charts replace the empty state"
        x, _y = w.charts["requests_per_s"].getData()
        assert len(x) == 60, "the 1-minute window has a fixed 60 points"
        assert _finite(w, "requests_per_s").sum() > 0
        assert _finite(w, "latency_p95").size > 0 and _finite(w, "latency_p99").size > 0
        assert _finite(w, "cost").max() > 0, "cost accumulates"
        assert _finite(w, "error_rate").max() == 0.0
        await harness.wait_until(lambda: w.tiles["requests"].value.text() == "8", what="the requests tile")
        assert w.tiles["success"].value.text() == "100.0 %"
        row = _table_models(w).index(MODEL)
        assert w.table.item(row, 1).text() == "8"
        assert w.table.item(row, 3).text().endswith("ms")

    harness.run(body())


def test_window_selector_switches_the_series_and_table(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = _panel(harness, ctx, "1m")
        await _send(ctx, 3)
        await harness.wait_until(lambda: MODEL in _table_models(w), what="1m table")
        assert "in the last minute" in w.table_note.text()
        assert len(w.charts["requests_per_s"].getData()[0]) == 60

        w.window_combo.setCurrentIndex(w.window_combo.findData("24h"))
        assert len(w.charts["requests_per_s"].getData()[0]) == 72, "24 h: one point per 20 minutes"
        assert len(w.charts["latency_p50"].getData()[0]) == 72
        assert "hours ago" in w.chart_widgets["rps"].plot.getPlotItem().getAxis("bottom").labelText
        await harness.wait_until(lambda: "in the last 24 hours" in w.table_note.text(), what="24h table")
        assert any(MODEL in m for m in _table_models(w))
        # All three requests fall into the last 20-minute point of the 24 h series.
        _x, rps = w.charts["requests_per_s"].getData()
        assert np.count_nonzero(rps) == 1
        assert ctx.qsettings.value("metrics/window") == "24h"

    harness.run(body())


def test_a_burst_of_requests_redraws_at_the_timer_rate_not_per_event(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = _panel(harness, ctx)
        await harness.wait_until(lambda: w.redraws >= 1, what="the first redraw")
        start_redraws, t0 = w.redraws, time.monotonic()
        done: list[object] = []
        for i in range(30):
            ctx.spawn(
                ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(f"What is {i}+5?", model=MODEL)),
                on_result=done.append,
            )
        await harness.wait_until(lambda: len(done) == 30, what="30 answers")
        await harness.wait_until(lambda: _finite(w, "requests_per_s").sum() >= 30, what="the burst on the chart")
        elapsed = time.monotonic() - t0
        redraws = w.redraws - start_redraws
        assert 1 <= redraws <= elapsed / (TICK_MS / 1000) + 2, f"{redraws} redraws in {elapsed:.2f} s"

    harness.run(body())


def test_a_hidden_panel_stops_polling_and_catches_up_when_shown(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = _panel(harness, ctx)
        await harness.wait_until(lambda: w.redraws >= 1, what="the first redraw")
        w.on_hidden()
        assert not w.poll_timer.isActive()
        before = w.redraws
        await _send(ctx, 4)
        # Proving that nothing happens takes time: three redraw ticks, during which a live timer would fire.
        await asyncio.sleep(3 * TICK_MS / 1000)
        assert w.redraws == before, "no redraw while hidden"
        assert _finite(w, "latency_p50").size == 0

        w.on_shown()
        assert w.poll_timer.isActive()
        assert w.redraws > before and _finite(w, "latency_p50").size > 0, "showing it redraws at once"

    harness.run(body())


def test_a_request_stopped_in_execute_shows_as_cancelled_not_as_a_failure(harness: Harness, qtbot: QtBot) -> None:
    """The user's own Stop is not a failed request: Metrics counts it under "cancelled" (``Stats.cancelled``),
    the success rate and the error-rate chart leave it out, and "Top error" does not name it."""

    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=4.0, seed=5))
        await ctx.engine.execute_enhanced_ai_request(
            ChatRequest.from_prompt("What is 2+2?", model=MODEL, max_tokens=16)
        )
        window = MainWindow(ctx)
        harness.widgets.append(window)
        window.resize(1100, 760)
        window.show()
        execute: Any = window.show_panel("Execute")
        results: list[object] = []
        execute.finished.connect(results.append)
        execute.composer.once_edit.setText(MODEL)
        execute.composer.prompt_edit.setPlainText("Explain circuit breakers in distributed systems")
        assert execute.send()
        live = execute.thread_model
        await harness.wait_until(lambda: live.live is not None and live.live.text != "", what="the first token")
        async with harness.wait_signal(execute.finished, what="the stop"):
            qtbot.mouseClick(execute.composer.stop_button, Qt.MouseButton.LeftButton)
        assert isinstance(results[-1], Cancelled)

        metrics: Any = window.show_panel("Metrics")
        metrics.window_combo.setCurrentIndex(metrics.window_combo.findData("1m"))
        tiles = metrics.tiles
        await harness.wait_until(lambda: tiles["requests"].value.text() == "2", what="both requests counted")
        assert tiles["success"].value.text() == "100.0 %", "a Stop does not lower the success rate"
        assert tiles["success"].detail.text() == "0 failed · 1 cancelled"

        # The model's rows (a cancelled request may be recorded without its provider: then it has a row of its own).
        def rows() -> list[dict[str, str]]:
            table = metrics.table
            heads = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
            out = [{h: table.item(r, c).text() for c, h in enumerate(heads)} for r in range(table.rowCount())]
            return [row for row in out if row["Model"].startswith(MODEL)]

        await harness.wait_until(lambda: sum(int(r["Calls"]) for r in rows()) == 2, what="the model's rows")
        assert sum(int(r["Cancelled"]) for r in rows() if r["Cancelled"] != "–") == 1
        assert not metrics.table.isColumnHidden(COLUMNS.index("Cancelled")), "a Stop shows its column"
        assert all(r["Top error"] == "–" for r in rows()), "a Stop is not an error"
        assert all(r["Success"] in ("100.0 %", "–") for r in rows()), "nor a lower success rate"
        await harness.wait_until(lambda: _finite(metrics, "error_rate").size > 0, what="the error-rate points")
        assert _finite(metrics, "error_rate").max() == 0.0, "the error-rate chart leaves the Stop out"

    harness.run(body())


def test_hedged_requests_are_counted_in_the_tiles_and_the_model_table(harness: Harness) -> None:
    """A request whose first model was late and raced by a second one (hedging) is counted as hedged: in the
    Requests tile and in the row of the model that answered."""
    mini, cheap = "openai/gpt-4o-mini", "meta-llama/llama-3.1-8b-instruct"

    async def body() -> None:
        ctx = await harness.start()
        await _send(ctx, 5, mini)  # measured first-token times: hedging waits for the model's p95
        w = _panel(harness, ctx, "15m")
        hedged_col = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())].index("Hedged")
        async with harness.wait_signal(w.table_filled, check=lambda s: s.overall.count == 5, what="the table"):
            w.refresh_now()
        assert w.table.isColumnHidden(hedged_col), "no hedges yet: no Hedged column"
        assert "hedged" not in w.tiles["requests"].detail.text()
        assert harness.sim is not None
        harness.sim.add_fault({"kind": "slow_first_byte", "model": mini, "delay_s": 1.5, "times": 1})
        request = ChatRequest.from_prompt("What is 6*7?", model=mini, fallbacks=[cheap], max_tokens=16, hedge=True)
        answer = await ctx.engine.execute_enhanced_ai_request(request)
        assert answer.hedged and answer.model == cheap

        async with harness.wait_signal(w.table_filled, check=lambda s: s.overall.count == 6, what="the hedge"):
            w.refresh_now()
        assert not w.table.isColumnHidden(hedged_col)
        assert w.table.isColumnHidden(COLUMNS.index("Cancelled")), "nothing was stopped: no Cancelled column"
        assert w.tiles["requests"].detail.text().endswith(" · 1 hedged")
        table = w.table
        heads = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
        rows = {table.item(r, 0).text(): table.item(r, heads.index("Hedged")).text() for r in range(table.rowCount())}
        assert rows == {mini: "–", cheap: "1"}

    harness.run(body())
