"""The History, Diagnostics and Recommendations panels against the real engine and the simulator."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from autodevai.engine.errors import EngineError
from autodevai.engine.types import ChatRequest
from autodevai.gui.panels.diagnostics import DiagnosticsPanel
from autodevai.gui.panels.history import HistoryPanel
from autodevai.gui.panels.recommendations import RecommendationsPanel

from .conftest import Harness

# The offscreen platform warns when a top-level widget is shown; it says nothing about our code.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
PROMPT = 6  # History's prompt column


def test_history_lists_searches_and_reruns(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        prompts = ["What is 2+3?", "Name the capital of France.", "What is 7*6?"]
        for p in prompts:
            await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(p))
        w = HistoryPanel(ctx)
        harness.widgets.append(w)
        w.resize(1000, 700)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.table.rowCount() == 3, what="three rows")
        assert [w.table.item(r, PROMPT).text() for r in range(3)] == prompts[::-1]
        # Every answer came from the simulator (the harness's provider is named "sim"): the rows say so.
        assert all(w.table.item(r, 2).text() == "✓ ok · simulated" for r in range(3))
        assert "SIMULATED" in w.detail_title.text()
        assert w.count_label.text() == "3 requests"
        # the newest is selected and shown in full
        assert "What is 7*6?" in w.detail_view.toPlainText() and "Attempts" in w.detail_view.toPlainText()

        qtbot.keyClicks(w.search_edit, "capital")
        await harness.wait_until(lambda: w.table.rowCount() == 1, what="one search hit")
        assert w.table.item(0, PROMPT).text() == "Name the capital of France."
        assert "match “capital”" in w.count_label.text()

        qtbot.mouseClick(w.rerun_button, Qt.MouseButton.LeftButton)
        await harness.wait_until(lambda: w.table.rowCount() == 2, what="the re-run's row")
        await harness.wait_until(lambda: w.rerun_button.text() == "Re-run", what="the re-run to finish")
        new = w.records[0]
        assert new.id != w.records[1].id and new.answer
        assert w.selected_record() == new and new.answer in w.detail_view.toPlainText()
        w.search_edit.clear()
        await harness.wait_until(lambda: w.table.rowCount() == 4, what="four rows after the search is cleared")
        assert w.table.item(0, PROMPT).text() == "Name the capital of France."

    harness.run(body())


def test_history_empty_state_and_live_refresh(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = HistoryPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.count_label.text() == "0 requests", what="the empty history")
        assert w.empty_card.isVisible() and "Execute" in w.empty_label.text()
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is 1+1?"))
        await harness.wait_until(lambda: w.table.rowCount() == 1, what="the new request to appear by itself")
        assert not w.empty_card.isVisible() and w.table.isVisible()

    harness.run(body())


def test_diagnostics_all_checks_pass_against_the_simulator(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = DiagnosticsPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.on_shown()
        qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
        await harness.wait_until(lambda: w.report is not None, what="the self-test report")
        rows = w.table.rowCount()
        assert rows >= 4
        assert [w.table.item(r, 0).text() for r in range(rows)] == ["✓"] * rows
        names = [w.table.item(r, 1).text() for r in range(rows)]
        assert "sim: round trip" in names
        assert f"All {rows} checks passed" in w.summary_label.text()
        assert w.run_button.isEnabled() and not w.cancel_button.isVisible()

    harness.run(body())


def test_diagnostics_shows_a_rejected_key(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.sim is not None
        harness.sim.config.keys = {"other"}
        w = DiagnosticsPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.run()
        await harness.wait_until(lambda: w.report is not None, what="the self-test report")
        row = next(r for r in range(w.table.rowCount()) if w.table.item(r, 1).text() == "sim: round trip")
        assert w.table.item(row, 0).text() == "✗"
        detail = w.table.item(row, 3).text()
        assert "401" in detail and "key was rejected" in detail
        assert "checks failed" in w.summary_label.text() and "sim: round trip" in w.summary_label.text()

    harness.run(body())


def test_diagnostics_can_be_cancelled(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.sim is not None
        harness.sim.add_fault({"kind": "slow_first_byte", "delay_s": 5.0})
        w = DiagnosticsPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.run()
        assert w.cancel_button.isVisible() and w.busy.isVisible() and not w.run_button.isEnabled()
        await harness.wait_until(lambda: "Running" in w.summary_label.text(), what="the running state")
        qtbot.mouseClick(w.cancel_button, Qt.MouseButton.LeftButton)
        await harness.wait_until(lambda: "cancelled" in w.summary_label.text(), what="the cancelled state")
        assert w.run_button.isEnabled() and not w.cancel_button.isVisible() and not w.busy.isVisible()
        assert w.report is None

    harness.run(body())


def test_recommendations_empty_then_a_critical_card_for_a_failing_model(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience={"retries_per_model": 0, "breaker": {"min_calls": 3}})
        w = RecommendationsPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: "Nothing to advise" in w.summary_label.text(), what="the empty state")
        assert w.empty_card.isVisible() and not w.cards

        assert harness.sim is not None
        harness.sim.add_fault({"kind": "http_error", "status": 500, "model": "openai/gpt-4o"})
        for i in range(6):
            with pytest.raises(EngineError):
                await ctx.engine.execute_enhanced_ai_request(
                    ChatRequest.from_prompt(f"What is {i}+1?", model="openai/gpt-4o", fallbacks=[])
                )
        w.refresh_now()
        await harness.wait_until(lambda: bool(w.cards), what="a recommendation card")
        card = w.cards[0]
        assert card.badge.text() == "CRITICAL"
        assert "openai/gpt-4o" in card.title_label.text()
        assert card.action_label.text().startswith("<b>Do:</b>")
        text = card.text()
        assert "calls | 6" in text and "success rate | 0%" in text
        assert not w.empty_card.isVisible()
        assert "1 critical" in w.summary_label.text()

    harness.run(body())
