"""The Swarm panel's live picture: agents as nodes laid out for their topology, bus messages as edges that light
up as they arrive, and a compact timeline of the messages beside it; and the bars of a finished swarm's votes.

Owns only display. Node states (idle, thinking, answered, failed, cancelled) come from the messages the swarm
publishes on its ``MessageBus`` (``TopologyView.add_message``) and from the final replies (``set_state``); the
layout follows the topology: a star has its hub in the middle, a hierarchy is a tree under its coordinator, a
ring and a mesh sit on a circle (ring neighbours, mesh everyone, joined by faint lines).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QHelpEvent, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QSizePolicy, QToolTip, QWidget

from autodevai.engine.swarm.bus import BusMessage
from autodevai.gui.theme import state_color

__all__ = ["KIND_COLORS", "NODE_STATES", "SWARM", "TopologyCanvas", "TopologyView", "VoteBars"]

NODE_STATES = ("idle", "thinking", "answered", "failed", "cancelled")
_STATE_COLOR = {"idle": "unknown", "thinking": "info", "answered": "ok", "failed": "error", "cancelled": "warning"}
KIND_COLORS = {
    "task": "#3b82f6",
    "draft": "#8b5cf6",
    "critique": "#d97706",
    "answer": "#16a34a",
    "vote": "#0891b2",
    "consensus": "#16a34a",
    "leader": "#db2777",
    "error": "#dc2626",
}
SWARM = "swarm"  # the sender name of messages from the swarm itself (not an agent)
FLASH_S = 1.4  # how long an edge glows after a message
TRAVEL_S = 0.45  # how long the message's dot takes to travel along the edge
FRAME_MS = 33
NODE_R = 17.0
MAX_LABEL = 14  # a vote shorter than this is shown under its agent ("144", "accept")
MAX_TIMELINE = 400  # older timeline rows are dropped (a long mesh debate stays cheap to show)
_ANSWERING = frozenset({"draft", "critique", "answer", "vote"})


@dataclass(slots=True)
class _Flash:
    a: str
    b: str
    kind: str
    born: float


def _mix(color: QColor, alpha: float) -> QColor:
    c = QColor(color)
    c.setAlphaF(max(0.0, min(1.0, alpha)))
    return c


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


def _short(text: str, limit: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


class TopologyCanvas(QWidget):
    """Paints the agents and the traffic between them; animates while edges glow or agents think."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.topology = "adaptive"
        self.order: list[str] = []
        self.states: dict[str, str] = {}
        self.labels: dict[str, str] = {}  # a short answer shown under a node
        self.hub: str | None = None
        self.leader: str | None = None
        self.placeholder = "Run a swarm to see its agents and their messages here."
        self.traffic: dict[tuple[str, str], int] = {}  # (sender, recipient) -> messages, drawn as edge weight
        self.flashes: list[_Flash] = []
        self._phase = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self.setMinimumSize(300, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ---- model -----------------------------------------------------------------------------------------------

    def ensure_node(self, name: str) -> None:
        if name and name != SWARM and name not in self.states:
            self.order.append(name)
            self.states[name] = "idle"

    def flash(self, a: str, b: str, kind: str) -> None:
        self.traffic[(a, b)] = self.traffic.get((a, b), 0) + 1
        self.flashes.append(_Flash(a, b, kind, time.monotonic()))
        self.wake()

    def wake(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
        self.update()

    def stop_animation(self) -> None:
        self._timer.stop()
        self.flashes.clear()
        self.update()

    def _tick(self) -> None:
        now = time.monotonic()
        self.flashes = [f for f in self.flashes if now - f.born < FLASH_S]
        self._phase = now
        if not self.flashes and "thinking" not in self.states.values():
            self._timer.stop()
        self.update()

    # ---- layout ----------------------------------------------------------------------------------------------

    def center_node(self) -> str | None:
        """The node drawn in the middle (star) or at the root (hierarchical), if the topology has one."""
        if self.topology not in ("star", "hierarchical") or not self.order:
            return None
        return self.hub if self.hub in self.states else self.order[0]

    def positions(self) -> dict[str, QPointF]:
        names = list(self.order)
        if not names:
            return {}
        w, h = float(self.width()), float(self.height())
        top_pad, bottom_pad, side_pad = 30.0, 54.0, 46.0
        cx, cy = w / 2, top_pad + (h - top_pad - bottom_pad) / 2
        # An ellipse a little wider than tall uses a wide canvas without crowding the labels.
        ry = max(30.0, min(w / 2 - side_pad, (h - top_pad - bottom_pad) / 2))
        rx = max(ry, min(w / 2 - side_pad, ry * 1.5))
        center = self.center_node()
        pos: dict[str, QPointF] = {}
        if self.topology == "hierarchical" and center is not None:
            rest = [n for n in names if n != center]
            pos[center] = QPointF(cx, top_pad + 14)
            rows = [rest] if len(rest) <= 6 else [rest[: (len(rest) + 1) // 2], rest[(len(rest) + 1) // 2 :]]
            span_y = h - bottom_pad - (top_pad + 14)
            for r, row in enumerate(rows):
                y = top_pad + 14 + span_y * (0.65 if len(rows) == 1 else 0.45 + 0.55 * r)
                step = (w - 2 * side_pad) / max(len(row), 1)
                for i, name in enumerate(row):
                    pos[name] = QPointF(side_pad + step * (i + 0.5), y)
            return pos
        ring = names
        if center is not None:
            pos[center] = QPointF(cx, cy)
            ring = [n for n in names if n != center]
        for i, name in enumerate(ring):
            angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
            pos[name] = QPointF(cx + rx * math.cos(angle), cy + ry * math.sin(angle))
        return pos

    def structure(self) -> list[tuple[str, str]]:
        """The topology's own links, drawn faintly under the traffic."""
        names = self.order
        center = self.center_node()
        if center is not None:
            return [(center, n) for n in names if n != center]
        if self.topology == "ring" and len(names) > 1:
            return list(itertools.pairwise(names))  # each stage hands its draft to the next; the last answers
        if self.topology == "mesh":
            return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        return []

    def node_at(self, point: QPointF) -> str | None:
        for name, c in self.positions().items():
            if math.hypot(c.x() - point.x(), c.y() - point.y()) <= NODE_R + 5:
                return name
        return None

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            name = self.node_at(QPointF(e.pos()))
            if name is not None:
                state = self.states.get(name, "idle")
                extra = f" · answer {self.labels[name]}" if name in self.labels else ""
                lead = " · leader" if name == self.leader else ""
                QToolTip.showText(e.globalPos(), f"{name}: {state}{lead}{extra}", self)
                return True
        return super().event(e)

    # ---- painting --------------------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(520, 320)

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        base = pal.color(QPalette.ColorRole.Base)
        mid = pal.color(QPalette.ColorRole.Mid)
        p.fillRect(self.rect(), base)
        if not self.order:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(20, 0, -20, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.placeholder)  # fmt: skip
            p.end()
            return
        pos = self.positions()
        now = time.monotonic()
        # The topology's links, faint; then every pair that exchanged messages, heavier with more traffic.
        p.setPen(QPen(mid, 1.0, Qt.PenStyle.DashLine))
        for a, b in self.structure():
            if a in pos and b in pos:
                p.drawLine(pos[a], pos[b])
        for (a, b), count in self.traffic.items():
            if a in pos and b in pos and a != b:
                p.setPen(QPen(_mix(text, 0.22), min(1.0 + 0.6 * count, 4.0)))
                p.drawLine(pos[a], pos[b])
        for f in self.flashes:
            if f.a not in pos or f.b not in pos or f.a == f.b:
                continue
            age = now - f.born
            color = QColor(KIND_COLORS.get(f.kind, "#6b7280"))
            p.setPen(QPen(_mix(color, 1.0 - age / FLASH_S), 3.0))
            p.drawLine(pos[f.a], pos[f.b])
            if age < TRAVEL_S:  # the message itself, travelling from sender to recipient
                t = age / TRAVEL_S
                dot = pos[f.a] + (pos[f.b] - pos[f.a]) * t
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(color)
                p.drawEllipse(dot, 4.5, 4.5)
        self._paint_nodes(p, pos, text, base)
        p.end()

    def _paint_nodes(self, p: QPainter, pos: dict[str, QPointF], text: QColor, base: QColor) -> None:
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        bold = QFont(self.font())
        bold.setBold(True)
        pulse = 0.5 + 0.5 * math.sin(self._phase * 6.0)
        for name in self.order:
            if name not in pos:
                continue
            c = pos[name]
            state = self.states.get(name, "idle")
            color = QColor(state_color(_STATE_COLOR.get(state, "unknown")))
            if state == "thinking":  # a soft halo that breathes while the agent's call is in flight
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(_mix(color, 0.15 + 0.25 * pulse))
                p.drawEllipse(c, NODE_R + 5 + 3 * pulse, NODE_R + 5 + 3 * pulse)
            r = NODE_R + (3.0 if name == self.center_node() else 0.0)
            p.setPen(QPen(base, 2.0))
            p.setBrush(QBrush(color))
            p.drawEllipse(c, r, r)
            if name == self.leader:
                p.setPen(QPen(QColor(KIND_COLORS["leader"]), 2.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(c, r + 4, r + 4)
            p.setPen(QColor("#ffffff"))  # the node's initials inside
            p.setFont(bold)
            p.drawText(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter, self._initials(name))
        # Names (and short answers) below the nodes, on a backing so that edges never run through the text.
        p.setFont(small)
        metrics = QFontMetrics(small)
        for name in self.order:
            if name not in pos:
                continue
            c = pos[name]
            r = NODE_R + (3.0 if name == self.center_node() else 0.0)
            label = _short(name if name not in self.labels else f"{name}: {self.labels[name]}", 26)
            width = metrics.horizontalAdvance(label) + 8
            box = QRectF(c.x() - width / 2, c.y() + r + 3, width, metrics.height() + 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(_mix(base, 0.85))
            p.drawRoundedRect(box, 4, 4)
            p.setPen(text)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        self._paint_legend(p, metrics, text)
        p.setFont(self.font())

    def _paint_legend(self, p: QPainter, metrics: QFontMetrics, text: QColor) -> None:
        """The node colors, bottom left."""
        x, y = 10.0, float(self.height() - 10 - metrics.height())
        shown = ["idle", "thinking", "answered", "failed"]
        if "cancelled" in self.states.values():
            shown.append("cancelled")
        for state in shown:
            color = QColor(state_color(_STATE_COLOR[state]))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawEllipse(QPointF(x + 5, y + metrics.height() / 2), 5, 5)
            p.setPen(_mix(text, 0.75))
            p.drawText(QPointF(x + 14, y + metrics.ascent()), state)
            x += 14 + metrics.horizontalAdvance(state) + 14

    @staticmethod
    def _initials(name: str) -> str:
        head, _, tail = name.rpartition("-")
        if head and tail.isdigit():
            return f"{head[:1].upper()}{tail}"
        return name[:2].capitalize()


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
        text = f"{msg.at - self._t0:5.2f}s  {msg.sender} → {to}  {msg.kind}: {_short(msg.content, 60)}"
        item = QListWidgetItem(self._icons.get(msg.kind, _kind_icon(msg.kind)), text)
        item.setToolTip(f"{msg.kind} · round {msg.round} · {msg.sender} → {to}\n\n{_short(msg.content, 1200)}")
        self.timeline.addItem(item)
        while self.timeline.count() > MAX_TIMELINE:
            self.timeline.takeItem(0)
        self.timeline.scrollToBottom()


class VoteBars(QWidget):
    """The votes: one bar per normalized answer with its count; the winner's bar in the consensus color."""

    ROW_H = 20
    MAX_ROWS = 5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, int]] = []
        self._winner: str | None = None
        self._reached = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.hide()

    def set_votes(self, counts: list[tuple[str, int]], winner: str | None, reached: bool) -> None:
        self.rows, self._winner, self._reached = counts, winner, reached
        self.setToolTip("\n".join(f"{n} × {answer}" for answer, n in counts))
        self.setVisible(bool(counts))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        extra = 1 if len(self.rows) > self.MAX_ROWS else 0
        return QSize(300, self.ROW_H * (min(len(self.rows), self.MAX_ROWS) + extra))

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        metrics = p.fontMetrics()
        total = sum(n for _a, n in self.rows) or 1
        label_w = min(180, self.width() * 2 // 5)
        bar_x, bar_w = label_w + 8, self.width() - label_w - 8
        for i, (answer, n) in enumerate(self.rows[: self.MAX_ROWS]):
            y = i * self.ROW_H
            p.setPen(pal.color(QPalette.ColorRole.Text))
            name = metrics.elidedText(answer or "(empty)", Qt.TextElideMode.ElideRight, label_w)
            p.drawText(QRectF(0, y, label_w, self.ROW_H), Qt.AlignmentFlag.AlignVCenter, name)
            track = QRectF(bar_x, y + 3, bar_w, self.ROW_H - 6)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.Mid))
            p.drawRoundedRect(track, 4, 4)
            state = ("ok" if self._reached else "error") if answer == self._winner else "unknown"
            p.setBrush(QColor(state_color(state)))
            p.drawRoundedRect(QRectF(track.x(), track.y(), max(track.width() * n / total, 8), track.height()), 4, 4)
            p.setPen(pal.color(QPalette.ColorRole.Text))
            p.drawText(track.adjusted(0, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"{n} of {total}")  # fmt: skip
        if len(self.rows) > self.MAX_ROWS:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            more = len(self.rows) - self.MAX_ROWS
            p.drawText(QRectF(0, self.MAX_ROWS * self.ROW_H, self.width(), self.ROW_H), Qt.AlignmentFlag.AlignVCenter,
                       f"and {more} other answer(s) with fewer votes")  # fmt: skip
        p.end()
