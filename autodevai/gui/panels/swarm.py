"""The Swarm panel: run a multi-agent swarm on a task and watch it live.

The user picks a topology (adaptive, hierarchical, mesh, ring, star), the number of agents, a consensus rule
(majority, plurality, quorum with f faulty agents, leader, none) and mesh debate rounds. The run goes through
the engine (``execute_swarm``); a ``MessageBus`` subscription drives the ``TopologyView`` as agents think,
answer and fail. When the run ends the panel shows each agent's reply (model, latency, cost, answer or error),
the votes, the consensus line (green when reached, red otherwise), totals, and the final answer. Cancel cancels
the run and with it every agent's call in flight. The option row lives in ``swarm_options``, the replies table
and the outcome in ``swarm_outcome``; this module runs the swarm and keeps the live rows.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter, QWidget

from autodevai.engine.swarm.bus import BusMessage, MessageBus
from autodevai.engine.swarm.topologies import SwarmResult, SwarmSpec, choose_topology, default_team
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.swarm_options import SwarmOptions
from autodevai.gui.panels.swarm_outcome import ANSWER, COLUMNS, SwarmOutcome
from autodevai.gui.theme import state_color
from autodevai.gui.topology_view import SWARM, TopologyView
from autodevai.gui.widgets import RunBox
from autodevai.text import fmt_ms

if TYPE_CHECKING:
    from autodevai.engine.orchestrator import Engine

__all__ = ["ANSWER", "COLUMNS", "SwarmPanel", "execute_swarm"]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
THINKING = "thinking…"
PENDING = "…"  # model, latency and cost of an agent are known when the run ends
EXAMPLE = "e.g. What is 12*12?  ·  Compare token bucket and sliding window rate limiting"
SHAPES = ("star", "hierarchical", "mesh", "ring")


async def execute_swarm(engine: Engine, spec: SwarmSpec, bus: MessageBus | None = None) -> SwarmResult:
    """Run ``spec`` through the engine facade's ``execute_swarm``."""
    return await engine.execute_swarm(spec, bus)


def _team(topology: str, n: int) -> list[str]:
    return [a.name for a in default_team(topology, n)]


class SwarmPanel(Panel):
    title = "Swarm"
    subtitle = (
        "Several agents work on one task in a topology you choose and agree by a consensus rule. "
        "Watch their messages live; the answer comes with its votes."
    )

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.spec_topology = ""  # the topology the last run asked for ("adaptive" lets the engine choose)
        self._task: Any = None
        self._unsubscribe: Any = None
        self._bus: MessageBus | None = None
        self._live: dict[str, list[str]] = {}  # agent -> [model, latency, cost, answer] while running
        self._started = 0.0
        self._frame = 0

        # ---- the task and the run buttons
        top = RunBox(
            placeholder=f"A task for the swarm. {EXAMPLE}",
            height=62,
            tip="What every agent works on (Ctrl+Enter runs the swarm)",
            run_tip="Run the swarm (Ctrl+Enter)",
            cancel_tip="Stop the swarm and every agent's call in flight (finished calls keep their cost)",
        )
        self.task_edit, self.run_button, self.cancel_button = top.task_edit, top.run_button, top.cancel_button
        self.task_edit.textChanged.connect(self._task_changed)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.body.addLayout(top)

        # ---- options
        opts = self.options = SwarmOptions()
        self.topology_combo, self.agents_spin, self.consensus_combo = (
            opts.topology_combo,
            opts.agents_spin,
            opts.consensus_combo,
        )
        self.faulty_spin, self.rounds_spin, self.rule_label = opts.faulty_spin, opts.rounds_spin, opts.rule_label
        self.body.addLayout(opts)
        for combo in (self.topology_combo, self.consensus_combo):
            combo.currentTextChanged.connect(self._options_changed)
        for spin in (self.agents_spin, self.faulty_spin, self.rounds_spin):
            spin.valueChanged.connect(self._options_changed)

        # ---- live view (top), replies and outcome (bottom)
        self.view = TopologyView()
        out = self.outcome = SwarmOutcome(self.view)
        self.replies_table, self.consensus_label, self.votes = out.replies_table, out.consensus_label, out.votes
        self.summary_label, self.answer_caption, self.answer_view = (
            out.summary_label,
            out.answer_caption,
            out.answer_view,
        )
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(out)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.body.addWidget(split, 1)

        self._tick = QTimer(self)
        self._tick.setInterval(100)
        self._tick.timeout.connect(self._animate)
        self._sync_controls()
        self._preview()
        self.consensus_label.setText(
            f'<span style="color:{state_color("unknown")}">No run yet.</span> Type a task and press Run; '
            "the answer, its votes and whether the agents agreed appear here."
        )

    # ---- options ---------------------------------------------------------------------------------------------

    def spec(self) -> SwarmSpec:
        """The swarm the controls describe."""
        return SwarmSpec(
            task=self.task_edit.toPlainText().strip(),
            topology=self.options.topology,  # type: ignore[arg-type]
            n_agents=self.agents_spin.value(),
            rounds=self.rounds_spin.value(),
            consensus=self.options.consensus,  # type: ignore[arg-type]
            faulty=self.options.faulty,
        )

    def _options_changed(self) -> None:
        """The user changed an option: check it, and show the team it describes."""
        self._sync_controls()
        if not self.running:
            self._preview()

    def _task_changed(self) -> None:
        self._sync_controls()
        if not self.running and self.topology_combo.currentText() == "adaptive":
            self._preview()  # the adaptive choice depends on the task

    def _sync_controls(self) -> None:
        idle = not self.running
        self.task_edit.setEnabled(idle)
        problem = self.options.sync(idle)
        ok = bool(self.task_edit.toPlainText().strip()) and not problem
        self.run_button.setEnabled(idle and ok and self.ctx.ready)
        self.run_button.setToolTip(problem or "Run the swarm (Ctrl+Enter)")
        self.cancel_button.setEnabled(self.running)

    # ---- running ---------------------------------------------------------------------------------------------

    @property
    def result(self) -> SwarmResult | None:
        """The last finished run (None before one, and while one runs)."""
        return self.outcome.result

    @property
    def running(self) -> bool:
        return self._task is not None

    def run(self) -> None:
        """Start the swarm the controls describe (no-op while one runs or when the options are invalid)."""
        if self.running or not self.ctx.ready or not self.run_button.isEnabled():
            return
        spec = self.spec()
        self.spec_topology = spec.topology
        self._live = {}
        self.outcome.clear()
        shape = self._expected_shape(spec.task)
        self.view.reset(shape, _team(shape, spec.n_agents), rounds=spec.rounds)
        self.consensus_label.setText(
            f'<span style="color:{state_color("info")}">Agents at work…</span> The votes and the consensus '
            "appear when they finish."
        )
        self._bus = MessageBus()
        self._unsubscribe = self._bus.subscribe(self._on_message)
        self._started = time.monotonic()
        self._task = self.ctx.spawn(
            execute_swarm(self.ctx.engine, spec, self._bus),
            on_result=self._finished,
            on_error=self._failed,
            name="swarm",
        )
        self._set_running(True)

    def cancel(self) -> None:
        """Cancel the run: the swarm's task, and with it every agent's call in flight."""
        if not self.running:
            return
        self._task.cancel()
        self._task = None
        self._detach()
        self._stop_live("cancelled")
        self._set_running(False)
        self.consensus_label.setText(
            f'<span style="color:{state_color("warning")}"><b>Cancelled</b></span> after '
            f"{fmt_ms((time.monotonic() - self._started) * 1000)}: no answer. Calls already finished keep their cost."
        )
        self.summary_label.setText("")

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = None
        self._bus = None

    def _expected_shape(self, task: str) -> str:
        """The topology the run will most likely take (adaptive: the choice without history)."""
        topology = self.topology_combo.currentText()
        return choose_topology(task, None)[0] if topology == "adaptive" else topology

    def _on_message(self, msg: BusMessage) -> None:
        if self._task is None:  # cancelled: late messages change nothing
            return
        if msg.sender != SWARM and msg.sender not in self.view.nodes:
            self._relayout_for(msg.sender)
        self.view.add_message(msg)
        for name, state in self.view.nodes.items():
            row = self._live.setdefault(name, [PENDING, PENDING, PENDING, ""])
            if state == "thinking":
                row[-1] = THINKING
            elif msg.sender == name and state == "failed":
                row[-1] = f"✗ {msg.content}"
            elif msg.sender == name and msg.kind == "task":
                row[-1] = "waiting for its agents' answers"
            elif msg.sender == name and msg.kind in ("draft", "answer"):
                row[-1] = " ".join(msg.content.split())[:200]
            elif row[-1] in (THINKING, ""):
                row[-1] = "waiting" if state == "idle" else row[-1]
        self._fill_live()

    def _relayout_for(self, agent: str) -> None:
        """An agent of another shape spoke (adaptive chose differently, e.g. from history): lay that team out."""
        n = self.agents_spin.value()
        shape = next((t for t in SHAPES if agent in _team(t, n)), None)
        if shape is not None and shape != self.view.topology:
            self.view.set_team(shape, _team(shape, n))
            self._live = {}

    def _stop_live(self, word: str) -> None:
        """The run ended without a result: agents still thinking are marked ``word`` (the view: cancelled)."""
        self.view.settle({})
        self.view.canvas.stop_animation()
        for row in self._live.values():
            if row[-1] == THINKING:
                row[-1] = word
        self._fill_live()

    def _fill_live(self) -> None:
        self.outcome.fill_live(self._live)

    def _finished(self, result: SwarmResult) -> None:
        self._task = None
        self._detach()
        self.outcome.result = result
        self._set_running(False)
        self._show_result(result)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self._detach()
        self._stop_live("stopped")
        self._set_running(False)
        self.consensus_label.setText(
            f'<span style="color:{state_color("error")}"><b>The swarm stopped</b></span>: {html.escape(str(exc))}'
        )

    def _set_running(self, running: bool) -> None:
        if running:
            self._tick.start()
        else:
            self._tick.stop()
        self._sync_controls()
        self.ctx.events.busy.emit(running)

    def _animate(self) -> None:
        self._frame += 1
        spin = SPINNER[self._frame % len(SPINNER)]
        states = list(self.view.nodes.values())
        self.summary_label.setText(
            f"{spin} Running {self.view.topology}: {states.count('thinking')} thinking, "
            f"{states.count('answered')} answered, {len(self._bus.history) if self._bus else 0} messages · "
            f"{fmt_ms((time.monotonic() - self._started) * 1000)}"
        )

    # ---- display ---------------------------------------------------------------------------------------------

    def _preview(self) -> None:
        """Before a run: the team the options describe, idle."""
        shape = self._expected_shape(self.task_edit.toPlainText().strip())
        self.view.reset(shape, _team(shape, self.agents_spin.value()))

    def _show_result(self, result: SwarmResult) -> None:
        if result.topology != self.view.topology:
            self.view.set_team(result.topology, _team(result.topology, self.agents_spin.value()))
        self.outcome.show_result(result, self.spec_topology)

    # ---- panel hooks -----------------------------------------------------------------------------------------

    def on_shown(self) -> None:
        if self.running:
            self._tick.start()
        self._sync_controls()

    def on_hidden(self) -> None:
        self._tick.stop()

    def on_engine_ready(self) -> None:
        self._sync_controls()
