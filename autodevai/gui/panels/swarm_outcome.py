"""The Swarm panel's lower half: each agent's reply in a table (model, latency, cost, answer or error; live rows
while a run is on), and beside it the outcome: the consensus line (green when reached, red otherwise), the votes'
bars, totals with why the topology was chosen, and the final answer, or the selected agent's own.

Reads a finished ``SwarmResult`` and the ``TopologyView`` (for the agents' order and the hub); owns no engine call.
"""

from __future__ import annotations

import html
from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.swarm.agents import AgentReply
from autodevai.engine.swarm.consensus import votes_of
from autodevai.engine.swarm.topologies import SwarmResult
from autodevai.gui.theme import state_color
from autodevai.gui.topology_view import TopologyView, VoteBars
from autodevai.gui.widgets import muted, set_table_rows
from autodevai.text import fmt_ms, fmt_usd

__all__ = ["ANSWER", "COLUMNS", "SwarmOutcome"]

COLUMNS = [
    ("Agent", "The agent's name in the swarm"),
    ("Model", "The model that answered (the last call, when the agent spoke in several rounds)"),
    ("Latency", "Time spent in the agent's calls, summed over its rounds"),
    ("Cost", "What the agent's calls cost (USD), summed over its rounds"),
    ("Answer or error", "The agent's last answer, or why it failed; select the row to read all of it"),
]
AGENT, MODEL, LATENCY, COST, ANSWER = range(5)


class SwarmOutcome(QSplitter):
    """The replies table and the outcome column, side by side. ``result`` is the run shown (None: none yet)."""

    def __init__(self, view: TopologyView, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.view = view
        self.result: SwarmResult | None = None
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
        self.replies_table.itemSelectionChanged.connect(self.show_selected)

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

        self.addWidget(self.replies_table)
        self.addWidget(outcome)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.setChildrenCollapsible(False)

    def clear(self) -> None:
        """Before a run: no rows, no consensus, no votes, no answer."""
        self.result = None
        self.replies_table.setRowCount(0)
        self.consensus_label.setText("")
        self.votes.set_votes([], None, False)
        self.summary_label.setText("")
        self.summary_label.setToolTip("")
        self.answer_caption.setText("<b>Answer</b>")
        self.answer_view.clear()

    def fill_live(self, live: dict[str, list[str]]) -> None:
        """While a run is on: one row per agent (model, latency, cost, what it is doing)."""
        set_table_rows(self.replies_table, [[name, *row] for name, row in live.items()])

    def by_agent(self, result: SwarmResult) -> dict[str, list[AgentReply]]:
        """Each agent's replies in the order they came (the last one is its final word), agents in the view's
        order (hub or coordinator first)."""
        by_agent: dict[str, list[AgentReply]] = {}
        for reply in result.replies:
            by_agent.setdefault(reply.agent, []).append(reply)
        rank = {name: i for i, name in enumerate(self.view.canvas.order)}
        return dict(sorted(by_agent.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    def show_result(self, result: SwarmResult, asked_topology: str) -> None:
        """A finished run: the agents' final states in the view, their rows, votes, consensus, totals, and the
        final answer. ``asked_topology`` is what the run asked for ("adaptive" says what it chose)."""
        self.result = result
        by_agent = self.by_agent(result)
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
        if asked_topology == "adaptive":
            why = f"Adaptive chose {result.topology}: {why}"
        self.summary_label.setText(f"{totals}\n{why[:1].upper()}{why[1:]}" if why else totals)
        self.summary_label.setToolTip(result.reason)
        self.replies_table.clearSelection()
        self.show_final()

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

    def show_final(self) -> None:
        """The swarm's final answer (or why there is none)."""
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

    def show_selected(self) -> None:
        """The selected agent's last reply, or the final answer when no row is selected."""
        result = self.result
        rows = {i.row() for i in self.replies_table.selectedIndexes()}
        if result is None or not rows:
            self.show_final()
            return
        item = self.replies_table.item(min(rows), AGENT)
        replies = self.by_agent(result).get(item.text() if item is not None else "")
        if not replies:
            return
        last = replies[-1]
        self.answer_caption.setText(
            f"<b>{html.escape(last.agent)}</b> ({html.escape(last.model or 'no model')}, round {last.round})"
        )
        self.answer_view.setPlainText(last.error or last.content)
