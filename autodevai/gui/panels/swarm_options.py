"""The Swarm panel's option row: topology, number of agents, consensus rule, f faulty agents (quorum) and mesh
debate rounds, each with its tooltip, and a line that says the rule in force or why the options cannot run.

The quorum rule (n >= 3f+1 agents, 2f+1 agreeing) is the engine's (``engine.swarm.consensus.quorum_size``),
asked before a run so the Run button can say why it is disabled; the engine would refuse such a swarm anyway.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox

from autodevai.engine.swarm.consensus import quorum_size

__all__ = ["CONSENSUS_TIPS", "NO_VOTE", "TOPOLOGY_TIPS", "SwarmOptions", "quorum_problem"]

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
NO_VOTE = {
    "ring": "No vote in a ring: its answer is the last stage's refinement",
    "hierarchical": "No vote in a hierarchy: the coordinator merges the workers' parts",
}


def quorum_problem(n: int, f: int) -> str:
    """Why ``n`` agents cannot run a quorum that tolerates ``f`` faulty ones (it needs n >= 3f+1), or ""."""
    need = quorum_size(f).agents
    if n >= need:
        return ""
    return f"Quorum needs n >= 3f+1: {need} agents for f = {f} (you have {n})."


class SwarmOptions(QHBoxLayout):
    """The option widgets in one row (a layout, placed in the panel's body like ``RunBox``)."""

    def __init__(self) -> None:
        super().__init__()
        self.setSpacing(6)
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
            self.addWidget(caption)
            self.addWidget(widget)
            self.addSpacing(10)
        self.rule_label = QLabel()
        self.rule_label.setTextFormat(Qt.TextFormat.PlainText)
        self.rule_label.setWordWrap(True)
        self.addWidget(self.rule_label, 1)

    @property
    def topology(self) -> str:
        return self.topology_combo.currentText()

    @property
    def consensus(self) -> str:
        return self.consensus_combo.currentText()

    @property
    def faulty(self) -> int:
        """f as the run uses it: the spin's value under quorum, else 0."""
        return self.faulty_spin.value() if self.consensus == "quorum" else 0

    def problem(self) -> str:
        """Why the options cannot run, or ""."""
        if self.consensus != "quorum":
            return ""
        return quorum_problem(self.agents_spin.value(), self.faulty_spin.value())

    def sync(self, idle: bool) -> str:
        """Enable what applies (nothing while a run is on), update the tooltips and the rule line; returns the
        problem (or "") so the panel can disable Run and say why."""
        topology, consensus = self.topology, self.consensus
        self.topology_combo.setToolTip(TOPOLOGY_TIPS.get(topology, ""))
        self.consensus_combo.setToolTip(CONSENSUS_TIPS.get(consensus, ""))
        for w in (self.topology_combo, self.agents_spin, self.consensus_combo):
            w.setEnabled(idle)
        self.faulty_spin.setEnabled(idle and consensus == "quorum")
        self.rounds_spin.setEnabled(idle and topology in ("mesh", "adaptive"))
        problem = self.problem()
        if problem:
            text = f"✗ {problem}"
        elif consensus == "quorum":
            size = quorum_size(self.faulty_spin.value())
            text = f"Quorum: needs n >= 3f+1 ({self.agents_spin.value()} >= {size.agents}) and {size.agreeing} agreeing"
        elif topology in ("ring", "hierarchical"):
            text = NO_VOTE[topology]
        else:
            text = ""
        self.rule_label.setText(text)
        self.rule_label.setProperty("role", "error" if problem else "muted")
        self.rule_label.style().unpolish(self.rule_label)
        self.rule_label.style().polish(self.rule_label)
        return problem
