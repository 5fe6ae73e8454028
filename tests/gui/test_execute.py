"""The Execute panel over the real engine and the simulator: streaming, stop, fallback details, validation."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from autodevai.engine.errors import Cancelled
from autodevai.engine.types import EngineResponse
from autodevai.gui.panels.execute import ExecutePanel, details_html
from autodevai.sim.config import SimConfig

from .conftest import Harness

MODEL = "openai/gpt-4o"
OTHER = "google/gemini-2.0-flash-001"


def _panel(harness: Harness, ctx: object) -> ExecutePanel:
    panel = ExecutePanel(ctx)  # type: ignore[arg-type]
    harness.widgets.append(panel)
    panel.setMinimumSize(900, 600)  # as inside the main window; the layout then never resizes the window
    panel.resize(1000, 700)
    panel.show()
    panel.on_shown()
    return panel


def test_a_prompt_streams_an_answer_with_its_details(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=1.0, seed=5))
        panel = _panel(harness, ctx)
        seen: list[str] = []

        def grew() -> None:
            text = panel.answer_view.toPlainText()
            if text and (not seen or seen[-1] != text) and panel.is_running:
                seen.append(text)

        panel.answer_view.textChanged.connect(grew)
        panel.prompt_edit.setPlainText("Explain circuit breakers in distributed systems")
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            assert panel.send()
            assert panel.is_running and not panel.send_button.isEnabled() and panel.stop_button.isEnabled()
            assert "Waiting for the first token" in panel.status_label.text()
        response = done.args[0]
        assert isinstance(response, EngineResponse)
        assert len(seen) >= 2, "the answer grew while streaming"
        assert panel.stream.deltas > 3
        assert panel.answer_view.toPlainText() == response.content
        assert not panel.is_running and panel.send_button.isEnabled() and not panel.stop_button.isEnabled()
        details = panel.details_label.text()
        assert response.model in details and response.provider in details
        assert f"{response.usage.prompt_tokens} in" in details
        assert f"{response.usage.completion_tokens} out" in details
        assert "$0.0000" in details  # a few micro-dollars, formatted
        assert " ms" in details  # latency and first token
        assert response.route.reasons[0].split(":")[0] in details
        assert response.route.candidates[1].model in details, "the fallback candidates are listed"
        assert panel.status_label.text().startswith("Done in")

    harness.run(body())


def test_stop_cancels_mid_stream_and_keeps_the_partial_answer(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=4.0, seed=5))
        panel = _panel(harness, ctx)
        results: list[object] = []
        panel.finished.connect(results.append)
        panel.prompt_edit.setPlainText("Explain circuit breakers in distributed systems")
        has_text = panel.answer_view.toPlainText
        async with harness.wait_signal(panel.answer_view.textChanged, what="the first token", check=has_text):
            panel.send()
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Escape)
        assert not panel.is_running
        assert isinstance(results[-1], Cancelled)
        partial = panel.answer_view.toPlainText()
        assert partial, "the partial answer is kept"
        assert "Stopped" in panel.status_label.text() and "Stopped" in panel.details_label.text()
        assert panel.send_button.isEnabled() and not panel.stop_button.isEnabled()

        async def stored_as_cancelled() -> bool:
            return any(r.status == "Cancelled" for r in await ctx.engine.get_request_history(5))

        await harness.wait_until(stored_as_cancelled, what="the store to record the request as Cancelled")
        assert panel.answer_view.toPlainText() == partial, "nothing arrives after Stop"

    harness.run(body())


def test_a_failing_model_shows_the_fallback_in_the_details(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(routing={"chains": {MODEL: [OTHER]}})
        assert harness.sim is not None
        harness.sim.add_fault({"kind": "http_error", "status": 500, "model": MODEL})
        panel = _panel(harness, ctx)
        panel.model_edit.setText(MODEL)
        panel.prompt_edit.setPlainText("What is the capital of France?")
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            panel.send()
        response = done.args[0]
        assert isinstance(response, EngineResponse) and response.model == OTHER
        details = panel.details_label.text()
        assert "Fell back" in details
        assert f"{MODEL} → ProviderUnavailable" in details and f"{OTHER} ✓" in details
        assert "requested explicitly" in details
        assert panel.answer_view.toPlainText() == response.content

    harness.run(body())


def test_an_empty_prompt_is_refused_inline_and_sends_nothing(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.sim is not None
        panel = _panel(harness, ctx)
        before = harness.sim.stats.total
        panel.prompt_edit.setPlainText("   ")
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        assert panel.invalid_label.isVisible()
        assert "prompt is empty" in panel.invalid_label.text()
        assert not panel.is_running
        panel.prompt_edit.setPlainText("Hello")
        assert not panel.invalid_label.isVisible(), "editing clears the message"
        panel.model_edit.setText("no-such/model")
        async with harness.wait_signal(panel.finished, what="the refusal"):
            panel.send()
        assert "InvalidRequest" in panel.details_label.text() and "unknown model" in panel.details_label.text()
        assert panel.status_label.text() == "Failed"
        assert harness.sim.stats.total == before

    harness.run(body())


def test_ctrl_enter_sends_and_use_model_fills_the_override(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(routing={"default_preference": "cost"})
        panel = _panel(harness, ctx)
        assert panel.preference() == "cost", "the default preference comes from the settings"
        ctx.events.use_model.emit(OTHER)
        assert panel.model_edit.text() == OTHER
        completer = panel.model_edit.completer()
        assert completer is not None and OTHER in completer.model().stringList()  # type: ignore[attr-defined]
        panel.prompt_edit.setPlainText("What is 2+2?")
        await harness.wait_until(panel.isActiveWindow, what="the window to be active")  # shortcuts need it
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert isinstance(done.args[0], EngineResponse) and done.args[0].model == OTHER
        assert panel.prompt_edit.toPlainText() == "What is 2+2?", "Ctrl+Enter does not insert a newline"

    harness.run(body())


def test_a_simulated_answer_wears_a_badge_and_an_unknown_cost_says_so(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx)
        assert not panel.simulated_badge.isVisible(), "no badge before an answer"
        panel.prompt_edit.setPlainText("What is the capital of Japan?")
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            panel.send()
        response = done.args[0]
        assert isinstance(response, EngineResponse) and response.simulated, "the simulator marks its answers"
        assert panel.simulated_badge.isVisible() and panel.simulated_badge.text() == "Simulated"
        assert "simulator" in panel.simulated_badge.toolTip()
        assert "SIMULATED" in panel.details_label.text()

        # A cost nobody reported reads "unknown", never "$0"; one estimated from the catalog says so.
        unknown = details_html(dataclasses.replace(response, cost_usd=0.0, cost_source="unknown"))
        cost_row = unknown.split("Cost</td><td>", 1)[1].split("</td>", 1)[0]
        assert cost_row.startswith("unknown") and "$0" not in cost_row
        estimated = details_html(dataclasses.replace(response, cost_source="catalog"))
        assert "estimated from catalog prices" in estimated

        real = dataclasses.replace(response, simulated=False)  # what a real provider's answer looks like
        panel.stream.finished.emit(real)  # as the stream reports a finished request
        assert not panel.simulated_badge.isVisible() and "SIMULATED" not in panel.details_label.text()

    harness.run(body())
