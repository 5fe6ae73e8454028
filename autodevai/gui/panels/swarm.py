"""The Swarm panel: run a multi-agent swarm on a task and watch it live.

The user picks a topology (adaptive, hierarchical, mesh, ring, star), the number of agents, a consensus rule
(majority, plurality, quorum with f faulty agents, leader, none) and mesh debate rounds. The run goes through
the engine (``execute_swarm``); a ``MessageBus`` subscription drives the ``TopologyView`` as agents think,
answer and fail. When the run ends the panel shows each agent's reply (model, latency, cost, answer or error),
the votes, the consensus line (green when reached, red otherwise), totals, and the final answer. Cancel cancels
the run and with it every agent's call in flight.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from autodevai.cli.render import fmt_ms, fmt_usd
from autodevai.engine.swarm.agents import AgentReply
from autodevai.engine.swarm.bus import BusMessage, MessageBus
from autodevai.engine.swarm.consensus import votes_of
from autodevai.engine.swarm.topologies import SwarmResult, SwarmSpec, choose_topology, default_team
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.topology_view import SWARM, TopologyView, VoteBars
from autodevai.gui.widgets import RunBox, muted, set_table_rows

__all__ = ["SwarmPanel", "execute_swarm"]

TOPOLOGY_TIPS = {
    "adaptive": "Let the engine pick from the task's complexity and what worked before",
    "hierarchical": "A coordinator splits the task, workers solve the parts, the coordinator merges",
    "mesh": "Every agent drafts, then revises after seeing the others' drafts, for a number of rounds",
    "ring": "Each agent refines the previous agent's answer; the last one is the answer",
    "star": "A hub sends the same task to every agent and aggregates their answers by the consensus rule",
}
CONSENSUS_TIPS = {
    "majority": "More than half of the answers must agree",
    "plurality": "The most common answer wins; a tie is no consensus",
    "quorum": "Tolerates f faulty agents: needs n >= 3f+1 agents and 2f+1 agreeing",
    "leader": "A leader proposes, the others accept or adopt; a failed leader is replaced",
    "none": "No vote: the topology's own final answer",
}
COLUMNS = [
    ("Agent", "The agent's name in the swarm"),
    ("Model", "The model that answered (the last call, when the agent spoke in several rounds)"),
    ("Latency", "Time spent in the agent's calls, summed over its rounds"),
    ("Cost", "What the agent's calls cost (USD), summed over its rounds"),
    ("Answer or error", "The agent's last answer, or why it failed; select the row to read all of it"),
]
AGENT, MODEL, LATENCY, COST, ANSWER = range(5)
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
THINKING = "thinking…"
PENDING = "…"  # model, latency and cost of an agent are known when the run ends
NO_VOTE = {
    "ring": "No vote in a ring: its answer is the last stage's refinement",
    "hierarchical": "No vote in a hierarchy: the coordinator merges the workers' parts",
}
EXAMPLE = "e.g. What is 12*12?  ·  Compare token bucket and sliding window rate limiting"


async def execute_swarm(engine: Any, spec: SwarmSpec, bus: MessageBus | None = None) -> SwarmResult:
    """Run ``spec`` through the engine facade's ``execute_swarm``."""
    result: SwarmResult = await engine.execute_swarm(spec, bus)
    return result


SHAPES = ("star", "hierarchical", "mesh", "ring")
CENTERED = ("star", "hierarchical")


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
        self.result: SwarmResult | None = None
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
        opts = QHBoxLayout()
        opts.setSpacing(6)
        self.topology_combo = QComboBox()
        for name, tip in TOPOLOGY_TIPS.items():
            self.topology_combo.addItem(name)
            self.topology_combo.setItemData(self.topology_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.topology_combo.setToolTip("How the agents are connected and who talks to whom")
        self.agents_spin = QSpinBox()
        self.agents_spin.setRange(2, 9)
        self.agents_spin.setValue(5)
        self.agents_spin.setToolTip(
            "How many agents answer: workers, peers, stages or spokes (a hub or coordinator comes on top)"
        )
        self.consensus_combo = QComboBox()
        for name, tip in CONSENSUS_TIPS.items():
            self.consensus_combo.addItem(name)
            self.consensus_combo.setItemData(self.consensus_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.consensus_combo.setToolTip("How the agents' answers become one answer")
        self.faulty_spin = QSpinBox()
        self.faulty_spin.setRange(0, 3)
        self.faulty_spin.setValue(1)
        self.faulty_spin.setToolTip("f: how many agents may be faulty (quorum only; needs n >= 3f+1 agents)")
        self.rounds_spin = QSpinBox()
        self.rounds_spin.setRange(0, 5)
        self.rounds_spin.setValue(2)
        self.rounds_spin.setToolTip(
            "Mesh debate rounds: how often each agent revises after seeing the others (0 = draft and vote)"
        )
        for label, widget in (
            ("Topology", self.topology_combo),
            ("Agents", self.agents_spin),
            ("Consensus", self.consensus_combo),
            ("Faulty f", self.faulty_spin),
            ("Rounds", self.rounds_spin),
        ):
            caption = QLabel(label)
            caption.setProperty("role", "muted")
            caption.setToolTip(widget.toolTip())
            opts.addWidget(caption)
            opts.addWidget(widget)
            opts.addSpacing(10)
        self.rule_label = QLabel()
        self.rule_label.setTextFormat(Qt.TextFormat.PlainText)
        self.rule_label.setWordWrap(True)
        opts.addWidget(self.rule_label, 1)
        self.body.addLayout(opts)
        for combo in (self.topology_combo, self.consensus_combo):
            combo.currentTextChanged.connect(self._options_changed)
        for spin in (self.agents_spin, self.faulty_spin, self.rounds_spin):
            spin.valueChanged.connect(self._options_changed)

        # ---- live view (top), replies and outcome (bottom)
        self.view = TopologyView()
        self.replies_table = QTableWidget(0, len(COLUMNS))
        self.replies_table.setHorizontalHeaderLabels([c for c, _ in COLUMNS])
        for i, (_c, tip) in enumerate(COLUMNS):
            item = self.replies_table.horizontalHeaderItem(i)
            if item is not None:
                item.setToolTip(tip)
        head = self.replies_table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(ANSWER, QHeaderView.ResizeMode.Stretch)
        head.setMaximumSectionSize(230)  # long model ids are elided (their tooltip has them whole)
        self.replies_table.verticalHeader().hide()
        self.replies_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.replies_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.replies_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.replies_table.setWordWrap(False)
        self.replies_table.itemSelectionChanged.connect(self._show_selected)

        outcome = QWidget()
        col = QVBoxLayout(outcome)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        self.consensus_label = QLabel()
        self.consensus_label.setWordWrap(True)
        self.consensus_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.votes = VoteBars()
        self.summary_label = muted("")
        self.answer_caption = QLabel("<b>Answer</b>")
        self.answer_caption.setWordWrap(True)
        self.answer_view = QPlainTextEdit()
        self.answer_view.setReadOnly(True)
        self.answer_view.setPlaceholderText("The swarm's final answer appears here; select an agent for its own.")
        col.addWidget(self.consensus_label)
        col.addWidget(self.votes)
        col.addWidget(self.summary_label)
        col.addWidget(self.answer_caption)
        col.addWidget(self.answer_view, 1)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.replies_table)
        lower.addWidget(outcome)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(lower)
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
            topology=self.topology_combo.currentText(),  # type: ignore[arg-type]
            n_agents=self.agents_spin.value(),
            rounds=self.rounds_spin.value(),
            consensus=self.consensus_combo.currentText(),  # type: ignore[arg-type]
            faulty=self.faulty_spin.value() if self.consensus_combo.currentText() == "quorum" else 0,
        )

    def _rule_problem(self) -> str:
        """Why the options cannot run, or ""."""
        if self.consensus_combo.currentText() != "quorum":
            return ""
        n, f = self.agents_spin.value(), self.faulty_spin.value()
        if n >= 3 * f + 1:
            return ""
        return f"Quorum needs n >= 3f+1: {3 * f + 1} agents for f = {f} (you have {n})."

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
        topology = self.topology_combo.currentText()
        consensus = self.consensus_combo.currentText()
        self.topology_combo.setToolTip(TOPOLOGY_TIPS.get(topology, ""))
        self.consensus_combo.setToolTip(CONSENSUS_TIPS.get(consensus, ""))
        idle = not self.running
        for w in (self.task_edit, self.topology_combo, self.agents_spin, self.consensus_combo):
            w.setEnabled(idle)
        self.faulty_spin.setEnabled(idle and consensus == "quorum")
        self.rounds_spin.setEnabled(idle and topology in ("mesh", "adaptive"))
        problem = self._rule_problem()
        if problem:
            text = f"✗ {problem}"
        elif consensus == "quorum":
            n, f = self.agents_spin.value(), self.faulty_spin.value()
            text = f"Quorum: needs n >= 3f+1 ({n} >= {3 * f + 1}) and {2 * f + 1} agreeing"
        elif topology in ("ring", "hierarchical"):
            text = NO_VOTE[topology]
        else:
            text = ""
        self.rule_label.setText(text)
        self.rule_label.setProperty("role", "error" if problem else "muted")
        self.rule_label.style().unpolish(self.rule_label)
        self.rule_label.style().polish(self.rule_label)
        ok = bool(self.task_edit.toPlainText().strip()) and not problem
        self.run_button.setEnabled(idle and ok and self.ctx.ready)
        self.run_button.setToolTip(problem or "Run the swarm (Ctrl+Enter)")
        self.cancel_button.setEnabled(self.running)

    # ---- running ---------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None

    def run(self) -> None:
        """Start the swarm the controls describe (no-op while one runs or when the options are invalid)."""
        if self.running or not self.ctx.ready or not self.run_button.isEnabled():
            return
        spec = self.spec()
        self.spec_topology = spec.topology
        self.result = None
        self._live = {}
        self._clear_outcome()
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
        set_table_rows(self.replies_table, [[name, *row] for name, row in self._live.items()])

    def _finished(self, result: SwarmResult) -> None:
        self._task = None
        self._detach()
        self.result = result
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

    def _clear_outcome(self) -> None:
        self.replies_table.setRowCount(0)
        self.consensus_label.setText("")
        self.votes.set_votes([], None, False)
        self.summary_label.setText("")
        self.summary_label.setToolTip("")
        self.answer_caption.setText("<b>Answer</b>")
        self.answer_view.clear()

    def _preview(self) -> None:
        """Before a run: the team the options describe, idle."""
        shape = self._expected_shape(self.task_edit.toPlainText().strip())
        self.view.reset(shape, _team(shape, self.agents_spin.value()))

    def _by_agent(self, result: SwarmResult) -> dict[str, list[AgentReply]]:
        """Each agent's replies in the order they came (the last one is its final word), agents in the view's
        order (hub or coordinator first)."""
        by_agent: dict[str, list[AgentReply]] = {}
        for reply in result.replies:
            by_agent.setdefault(reply.agent, []).append(reply)
        rank = {name: i for i, name in enumerate(self.view.canvas.order)}
        return dict(sorted(by_agent.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    def _show_result(self, result: SwarmResult) -> None:
        if result.topology != self.view.topology:
            self.view.set_team(result.topology, _team(result.topology, self.agents_spin.value()))
        by_agent = self._by_agent(result)
        states = {name: "failed" if rs[-1].error else "answered" for name, rs in by_agent.items()}
        self.view.settle(states)
        rows: list[list[object]] = []
        for name, replies in by_agent.items():
            last = replies[-1]
            rows.append(
                [
                    name,
                    last.model or "–",
                    fmt_ms(sum(r.latency_ms for r in replies)),
                    fmt_usd(sum(r.cost_usd for r in replies)),
                    f"✗ {last.error}" if last.error else " ".join(last.content.split())[:200],
                ]
            )
        set_table_rows(self.replies_table, rows, align_right=(LATENCY, COST))
        for r, replies in enumerate(by_agent.values()):
            last = replies[-1]
            model = self.replies_table.item(r, MODEL)
            if model is not None:
                model.setToolTip(", ".join(dict.fromkeys(x.model for x in replies if x.model)))
            item = self.replies_table.item(r, ANSWER)
            if item is not None:
                calls = f" ({len(replies)} calls)" if len(replies) > 1 else ""
                item.setToolTip(f"round {last.round}{calls}\n\n{(last.error or last.content)[:1500]}")
                if last.error:
                    item.setForeground(QColor(state_color("error")))
        self._show_votes(result, by_agent)
        self._show_consensus(result)
        failed = sum(r.error is not None for r in result.replies)
        totals = (
            f"{len(by_agent)} agents · {len(result.replies)} calls" + (f" ({failed} failed)" if failed else "")
            + f" · total {fmt_usd(result.cost_usd)} · {fmt_ms(result.latency_ms)}"
        )  # fmt: skip
        why = result.reason.removeprefix(f"{result.topology} as requested").removeprefix("; ")
        if self.spec_topology == "adaptive":
            why = f"Adaptive chose {result.topology}: {why}"
        self.summary_label.setText(f"{totals}\n{why[:1].upper()}{why[1:]}" if why else totals)
        self.summary_label.setToolTip(result.reason)
        self.replies_table.clearSelection()
        self._show_final()

    def _show_votes(self, result: SwarmResult, by_agent: dict[str, list[AgentReply]]) -> None:
        """The answers' vote counts: the votes cast on the bus, or (leader rounds) each agent's last answer."""
        c = result.consensus
        if c is None:
            self.votes.set_votes([], None, False)
            return
        votes = [m.content for m in result.messages if m.kind == "vote"]
        if c.rule == "leader" or not votes:
            center = self.view.canvas.center_node()
            votes = [v.normalized for v in votes_of([rs[-1] for name, rs in by_agent.items() if name != center])]
        ranked = sorted(Counter(votes).items(), key=lambda kv: (-kv[1], kv[0]))
        self.votes.set_votes(ranked, c.normalized, c.reached)

    def _show_consensus(self, result: SwarmResult) -> None:
        c = result.consensus
        shape = html.escape(result.topology)
        if c is None:
            done = "answered" if result.answer.strip() else "<b>no answer</b>"
            color = state_color("unknown" if result.answer.strip() else "error")
            self.consensus_label.setText(
                f'<span style="color:{color}"><b>{shape.capitalize()}</b>: {done}, no vote taken</span> '
                "(consensus rules apply to star and mesh)."
            )
            return
        ok = c.reached
        mark, text = ("✓ Consensus", "ok") if ok else ("✗ No consensus", "error")
        detail = c.detail.removeprefix("no consensus: ")
        self.consensus_label.setText(
            f'<span style="color:{state_color(text)}"><b>{mark}</b> ({html.escape(c.rule)}, {shape}): '
            f"{html.escape(detail)}</span>"
        )
        self.consensus_label.setToolTip(f"Why {result.topology}: {result.reason}")

    def _show_final(self) -> None:
        result = self.result
        if result is None:
            return
        if result.answer.strip():
            self.answer_caption.setText("<b>Final answer</b>")
            self.answer_view.setPlainText(result.answer)
        else:
            why = "the agents did not agree" if result.consensus is not None else "no agent produced one"
            self.answer_caption.setText(f"<b>Final answer</b>: none, {why}. Select an agent to read its reply.")
            self.answer_view.setPlainText("")

    def _show_selected(self) -> None:
        result = self.result
        rows = {i.row() for i in self.replies_table.selectedIndexes()}
        if result is None or not rows:
            self._show_final()
            return
        item = self.replies_table.item(min(rows), AGENT)
        replies = self._by_agent(result).get(item.text() if item is not None else "")
        if not replies:
            return
        last = replies[-1]
        self.answer_caption.setText(
            f"<b>{html.escape(last.agent)}</b> ({html.escape(last.model or 'no model')}, round {last.round})"
        )
        self.answer_view.setPlainText(last.error or last.content)

    # ---- panel hooks -----------------------------------------------------------------------------------------

    def on_shown(self) -> None:
        if self.running:
            self._tick.start()
        self._sync_controls()

    def on_hidden(self) -> None:
        self._tick.stop()

    def on_engine_ready(self) -> None:
        self._sync_controls()
