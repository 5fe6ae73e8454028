"""Swarm panel: a star swarm runs live (nodes light up, messages flash) and ends with a consensus line and the
answer; quorum refuses impossible options with the reason; failing agents show red with their errors; Cancel
stops every agent's call."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import pytest

from autodevai.engine.swarm import BusMessage
from autodevai.gui.panels.swarm import ANSWER, SwarmPanel
from autodevai.gui.topology_view import TopologyView
from autodevai.sim.config import SimConfig

from .conftest import Harness, SignalWait

# The offscreen platform warns on every top-level show(); harmless.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

SLOW = SimConfig(latency_scale=0.2, seed=5)  # a run lasts long enough to watch (and cancel) it


def _column(panel: SwarmPanel, col: int) -> list[str]:
    table = panel.replies_table
    return [table.item(r, col).text() for r in range(table.rowCount())]  # type: ignore[union-attr]


def _panel(harness: Harness, ctx: object, task: str) -> SwarmPanel:
    panel = SwarmPanel(ctx)  # type: ignore[arg-type]
    harness.widgets.append(panel)
    panel.resize(1180, 760)
    panel.show()
    panel.on_shown()
    panel.task_edit.setPlainText(task)
    return panel


def _finish(harness: Harness, panel: SwarmPanel) -> AbstractAsyncContextManager[SignalWait]:
    """Wait for the run started in the block to end: the panel reports "not busy" once it shows the outcome."""
    return harness.wait_signal(panel.ctx.events.busy, limit_s=20, what="the swarm to finish", check=lambda on: not on)


def test_a_star_swarm_runs_live_and_ends_with_consensus_and_answer(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(sim_config=SLOW)
        panel = _panel(harness, ctx, "What is 12*12?")
        panel.topology_combo.setCurrentText("star")
        panel.agents_spin.setValue(5)
        panel.consensus_combo.setCurrentText("majority")
        assert list(panel.view.nodes) == ["hub", *(f"spoke-{i}" for i in range(1, 6))], "the team is previewed"
        assert set(panel.view.nodes.values()) == {"idle"}
        assert not panel.faulty_spin.isEnabled(), "f only matters for quorum"

        async with _finish(harness, panel):
            panel.run()
            assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
            assert not panel.topology_combo.isEnabled(), "options are locked while the swarm runs"
            await harness.wait_until(lambda: panel.view.edges_seen > 0, what="the first message edges")
            assert panel.running, "edges light up while the swarm is still running"
            assert "thinking" in panel.view.nodes.values()
            assert panel.view.timeline.count() >= 2 and "task" in panel.view.timeline.item(1).text()

        result = panel.result
        assert result is not None and result.topology == "star"
        assert set(panel.view.nodes.values()) == {"answered"}
        line = panel.consensus_label.text()
        assert "Consensus" in line and "majority" in line and "agree" in line
        assert "144" in panel.answer_view.toPlainText()
        assert _column(panel, 0) == ["hub", *(f"spoke-{i}" for i in range(1, 6))]
        assert all(m.strip("–…") for m in _column(panel, 1)), "every agent names the model that answered"
        assert all(c.startswith("$") for c in _column(panel, 3))
        assert panel.votes.rows and panel.votes.rows[0][0] == "144"
        assert sum(n for _a, n in panel.votes.rows) == 5
        assert "6 calls" in panel.summary_label.text() and "total $" in panel.summary_label.text()
        assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()

        panel.replies_table.selectRow(1)  # one agent's own reply
        assert "spoke-1" in panel.answer_caption.text()
        panel.replies_table.clearSelection()  # back to the final answer
        assert "Final answer" in panel.answer_caption.text()

    harness.run(body())


def test_quorum_needs_n_at_least_3f_plus_1(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx, "What is 12*12?")
        panel.consensus_combo.setCurrentText("quorum")
        assert panel.faulty_spin.isEnabled()
        panel.agents_spin.setValue(4)
        panel.faulty_spin.setValue(2)
        assert not panel.run_button.isEnabled()
        assert "needs n >= 3f+1" in panel.rule_label.text() and "7 agents" in panel.rule_label.text()
        assert panel.rule_label.isVisible()
        panel.run()  # refused: nothing starts
        assert not panel.running and panel.view.edges_seen == 0

        panel.faulty_spin.setValue(1)  # 4 >= 3*1+1
        assert panel.run_button.isEnabled()
        assert "needs n >= 3f+1" in panel.rule_label.text() and "3 agreeing" in panel.rule_label.text()
        panel.consensus_combo.setCurrentText("majority")
        assert not panel.faulty_spin.isEnabled() and "3f+1" not in panel.rule_label.text()

    harness.run(body())


def test_failing_agents_turn_red_and_there_is_no_consensus(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience={"max_attempts": 1, "retries_per_model": 0})
        harness.sim.add_fault({"kind": "http_error", "status": 400})  # type: ignore[union-attr]
        panel = _panel(harness, ctx, "What is 12*12?")
        panel.topology_combo.setCurrentText("star")
        panel.agents_spin.setValue(3)
        async with _finish(harness, panel):
            panel.run()
        assert [panel.view.nodes[f"spoke-{i}"] for i in (1, 2, 3)] == ["failed"] * 3
        assert all(a.startswith("✗") for a in _column(panel, ANSWER)), "each failed agent shows its error"
        assert "No consensus" in panel.consensus_label.text()
        assert "none" in panel.answer_caption.text() and not panel.answer_view.toPlainText()

    harness.run(body())


def test_cancel_stops_every_agent(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(sim_config=SLOW)
        sim = harness.sim
        assert sim is not None
        panel = _panel(harness, ctx, "What is 12*12?")
        panel.topology_combo.setCurrentText("mesh")
        panel.agents_spin.setValue(4)
        panel.run()

        def chat_calls() -> int:
            return sim.stats.by_route.get("/chat/completions", 0)

        await harness.wait_until(lambda: chat_calls() >= 4, what="every peer's first call to reach the simulator")
        assert list(panel.view.nodes.values()).count("thinking") == 4
        panel.cancel_button.click()
        assert not panel.running and panel.result is None
        assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
        assert panel.topology_combo.isEnabled()
        assert "Cancelled" in panel.consensus_label.text()
        assert "thinking" not in panel.view.nodes.values() and "cancelled" in panel.view.nodes.values()
        assert "thinking…" not in _column(panel, ANSWER)

        # Nothing goes on behind the user's back: no agent starts another call, no message arrives, no result.
        calls, edges = chat_calls(), panel.view.edges_seen
        # Proving that nothing happens takes time: several times what one debate round takes at this latency.
        await asyncio.sleep(0.8)
        assert chat_calls() == calls and panel.view.edges_seen == edges and panel.result is None
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "swarm"], "the swarm's task is gone"

    harness.run(body())


def test_adaptive_picks_a_shape_for_the_task_and_says_why(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx, "What is 12*12?")
        panel.topology_combo.setCurrentText("adaptive")
        panel.agents_spin.setValue(3)
        assert panel.view.topology == "star" and "hub" in panel.view.nodes, "a simple task previews a star"
        panel.task_edit.setPlainText("Refine this paragraph about connection pools so that it reads well.")
        assert panel.view.topology == "ring", "a refinement task previews a ring"
        async with _finish(harness, panel):
            panel.run()
        assert panel.result is not None and panel.result.topology == "ring"
        assert list(panel.view.nodes) == ["stage-1", "stage-2", "stage-3"]
        assert "Adaptive chose ring" in panel.summary_label.text()
        assert "no vote" in panel.consensus_label.text() and panel.answer_view.toPlainText().strip()

    harness.run(body())


def test_the_view_follows_the_bus_messages(qapp: object) -> None:
    """Without an engine: a ring stage that fails hands over to the next; a mesh round restarts thinking; the
    leader election marks the leader; messages from an agent the preview did not show add it."""
    view = TopologyView()
    view.reset("ring", ["stage-1", "stage-2", "stage-3"])
    view.add_message(BusMessage("task", "swarm", (), 0, "Refine it", 0.0))
    assert view.nodes == {"stage-1": "thinking", "stage-2": "idle", "stage-3": "idle"}
    view.add_message(BusMessage("draft", "stage-1", ("stage-2",), 1, "draft one", 0.1))
    view.add_message(BusMessage("error", "stage-2", (), 2, "timeout", 0.2))
    assert view.nodes == {"stage-1": "answered", "stage-2": "failed", "stage-3": "thinking"}
    assert view.edges_seen == 1 and view.timeline.count() == 3 and "timeout" in view.timeline.item(2).text()

    view.reset("mesh", ["peer-1", "peer-2"], rounds=1)
    view.add_message(BusMessage("task", "swarm", (), 0, "What is 2+2?", 0.0))
    view.add_message(BusMessage("draft", "peer-1", (), 0, "4", 0.1))
    assert view.nodes == {"peer-1": "answered", "peer-2": "thinking"}
    view.add_message(BusMessage("draft", "peer-2", (), 0, "4", 0.1))
    assert view.nodes == {"peer-1": "thinking", "peer-2": "thinking"}, "round 1 starts once both drafted"
    view.add_message(BusMessage("leader", "swarm", (), 1, "peer-2 leads", 0.2))
    view.add_message(BusMessage("vote", "peer-3", ("peer-2",), 1, "accept", 0.3))
    assert view.canvas.leader == "peer-2" and view.nodes["peer-3"] == "answered"
    assert view.canvas.labels["peer-3"] == "accept"
    view.deleteLater()
