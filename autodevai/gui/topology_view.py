"""The Swarm panel's live picture: the topology canvas (``topology_canvas``) and, beside it, a compact timeline of
the swarm's bus messages; the bars of a finished swarm's votes are in ``vote_bars``.

Owns only display. Node states (idle, thinking, answered, failed, cancelled) come from the messages the swarm
publishes on its ``MessageBus`` (``TopologyView.add_message``) and from the final replies (``set_state``).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QWidget

from autodevai.engine.swarm.bus import BusMessage
from autodevai.gui.topology_canvas import KIND_COLORS, NODE_STATES, SWARM, TopologyCanvas, short_text
from autodevai.gui.vote_bars import VoteBars

__all__ = ["KIND_COLORS", "NODE_STATES", "SWARM", "TopologyCanvas", "TopologyView", "VoteBars"]

MAX_LABEL = 14  # a vote shorter than this is shown under its agent ("144", "accept")
MAX_TIMELINE = 400  # older timeline rows are dropped (a long mesh debate stays cheap to show)
_ANSWERING = frozenset({"draft", "critique", "answer", "vote"})


def _kind_icon(kind: str) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(KIND_COLORS.get(kind, "#6b7280")))
    p.drawEllipse(QRectF(1, 1, 10, 10))
    p.end()
    return QIcon(pix)


class TopologyView(QWidget):
    """The canvas and, beside it, the message timeline. ``nodes`` maps agent -> state; ``edges_seen`` counts
    the sender -> recipient edges drawn for messages so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = TopologyCanvas(self)
        self.canvas.setToolTip("Agents (color = state) and the messages between them (color = kind)")
        self.timeline = QListWidget(self)
        self.timeline.setObjectName("swarm-timeline")
        self.timeline.setToolTip("Every message on the swarm's bus, oldest first; hover one for its full text")
        self.timeline.setUniformItemSizes(True)
        self.timeline.setWordWrap(False)
        self.timeline.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.timeline.setMinimumWidth(220)
        self.timeline.setMaximumWidth(360)
        self.timeline.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        lay.addWidget(self.canvas, 3)
        lay.addWidget(self.timeline, 2)
        self.edges_seen = 0
        self._t0: float | None = None
        self._delegated: set[str] = set()  # the agents a hub / coordinator handed work to
        self._answered_round: dict[str, int] = {}
        self.rounds = 0  # a mesh's debate rounds after the first drafts (peers think again until the last)
        self._icons = {kind: _kind_icon(kind) for kind in KIND_COLORS}
        self._empty_timeline()

    @property
    def nodes(self) -> dict[str, str]:
        return self.canvas.states

    @property
    def topology(self) -> str:
        return self.canvas.topology

    def reset(self, topology: str, names: Sequence[str] = (), *, rounds: int = 0) -> None:
        """Start over: no traffic, ``names`` idle, laid out for ``topology`` (a mesh debates ``rounds`` rounds)."""
        c = self.canvas
        c.stop_animation()
        c.topology = topology
        c.order = []
        c.states.clear()
        c.labels.clear()
        c.traffic.clear()
        c.hub = None
        c.leader = None
        for name in names:
            c.ensure_node(name)
        self.edges_seen = 0
        self.rounds = rounds
        self._t0 = None
        self._delegated.clear()
        self._answered_round.clear()
        self._empty_timeline()
        c.update()

    def set_team(self, topology: str, names: Sequence[str]) -> None:
        """Lay out another team (the shape a run really took), keeping the timeline and what the kept agents did."""
        c = self.canvas
        c.topology = topology
        c.hub = None
        keep = {n: c.states[n] for n in names if n in c.states}
        extra = [n for n in c.order if n not in names and n in keep]
        c.order = [*names, *extra]
        c.states.clear()
        c.states.update({n: keep.get(n, "idle") for n in c.order})
        c.traffic = {k: v for k, v in c.traffic.items() if k[0] in c.states and k[1] in c.states}
        c.update()

    def set_state(self, name: str, state: str, label: str | None = None) -> None:
        self.canvas.ensure_node(name)
        self.canvas.states[name] = state
        if label is not None:
            if label:
                self.canvas.labels[name] = label
            else:
                self.canvas.labels.pop(name, None)
        self.canvas.wake()

    def settle(self, states: dict[str, str]) -> None:
        """The run ended: agents not named keep their state unless they were still thinking (-> ``cancelled``)."""
        for name, state in states.items():
            self.set_state(name, state)
        for name, state in list(self.canvas.states.items()):
            if state == "thinking" and name not in states:
                self.canvas.states[name] = "cancelled"
        self.canvas.update()

    def add_message(self, msg: BusMessage) -> None:
        """Show one bus message: the timeline row, the glowing edges, and the agents' states it implies.

        States follow what the message says happened: an agent that is sent a task (or, in a ring, the previous
        stage's draft) is thinking; one that sent a draft, answer or vote has answered; an "error" from an agent
        means it failed. A hub or coordinator that handed out work waits (idle) and thinks again once every agent
        it asked has answered or failed (it then merges or writes the final answer).
        """
        c = self.canvas
        sender = msg.sender
        from_agent = sender != SWARM
        c.ensure_node(sender)
        for r in msg.recipients:
            c.ensure_node(r)
        center = c.center_node()
        if msg.recipients:
            targets = [r for r in msg.recipients if r != sender]
        elif msg.kind == "error":
            targets = [center] if center is not None and center != sender else []
        else:
            targets = [n for n in c.order if n != sender]
        origin = sender if from_agent else center
        if origin is not None:
            for r in targets:
                if r != origin:
                    c.flash(origin, r, msg.kind)
                    self.edges_seen += 1
        vote = msg.content.strip() if msg.kind == "vote" else ""
        self._apply_states(msg, targets, vote if len(vote) <= MAX_LABEL else None)
        c.wake()
        self._add_row(msg)

    def _apply_states(self, msg: BusMessage, targets: list[str], label: str | None) -> None:
        c = self.canvas
        states = c.states
        sender = msg.sender
        from_agent = sender != SWARM
        center = c.center_node()
        if msg.kind == "task" and not from_agent:  # the run starts: who works first depends on the shape
            first = {"mesh": list(c.order), "ring": c.order[:1], "hierarchical": [center] if center else []}
            for name in first.get(c.topology, []):
                states[name] = "thinking"
        elif msg.kind == "task":
            states[sender] = "idle"  # the hub / coordinator waits for the agents it asked
            self._delegated.update(targets)
            for name in targets:
                if states.get(name) != "failed":
                    states[name] = "thinking"
        elif msg.kind == "error" and from_agent:
            states[sender] = "failed"
            if c.topology == "ring":  # the next stage refines the last good draft instead
                after = c.order[c.order.index(sender) + 1 :] if sender in c.order else []
                if after and states.get(after[0]) == "idle":
                    states[after[0]] = "thinking"
        elif msg.kind == "leader" and not from_agent:
            head, _, rest = msg.content.partition(" ")
            if head in states and rest.startswith("leads"):
                c.leader = head
        elif msg.kind in _ANSWERING and from_agent:
            states[sender] = "answered"
            self._answered_round[sender] = max(msg.round, self._answered_round.get(sender, msg.round))
            if label:
                c.labels[sender] = label
            if msg.kind == "draft" and msg.recipients:  # a ring stage hands its draft to the next one
                for name in targets:
                    if states.get(name) in ("idle", "answered"):
                        states[name] = "thinking"
            elif msg.kind == "draft" and c.topology == "mesh":
                self._next_mesh_round(msg.round)
        if (
            center is not None
            and self._delegated
            and states.get(center) == "idle"
            and msg.kind in ("answer", "vote", "error")
            and all(states.get(n) in ("answered", "failed") for n in self._delegated)
            and any(states.get(n) == "answered" for n in self._delegated)
        ):
            states[center] = "thinking"  # everyone it asked is done: it merges / writes the final answer

    def _empty_timeline(self) -> None:
        self.timeline.clear()
        item = QListWidgetItem("Messages appear here as agents send them.")
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        self.timeline.addItem(item)

    def _next_mesh_round(self, round_no: int) -> None:
        """A mesh peer's draft of ``round_no``: once every live peer has one, they all revise (``rounds`` more)."""
        states = self.canvas.states
        live = [n for n, s in states.items() if s != "failed"]
        if round_no < self.rounds and all(self._answered_round.get(n, -1) >= round_no for n in live):
            for name in live:
                states[name] = "thinking"

    def _add_row(self, msg: BusMessage) -> None:
        if self._t0 is None:
            self._t0 = msg.at
            self.timeline.clear()
        to = ", ".join(msg.recipients) if msg.recipients else "all"
        if len(to) > 18:
            to = f"{len(msg.recipients)} agents"
        text = f"{msg.at - self._t0:5.2f}s  {msg.sender} → {to}  {msg.kind}: {short_text(msg.content, 60)}"
        item = QListWidgetItem(self._icons.get(msg.kind, _kind_icon(msg.kind)), text)
        item.setToolTip(f"{msg.kind} · round {msg.round} · {msg.sender} → {to}\n\n{short_text(msg.content, 1200)}")
        self.timeline.addItem(item)
        while self.timeline.count() > MAX_TIMELINE:
            self.timeline.takeItem(0)
        self.timeline.scrollToBottom()
