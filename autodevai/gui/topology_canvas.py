"""The Swarm panel's canvas: agents as nodes laid out for their topology, and bus messages as edges that light up
(a dot travelling from sender to recipient) as they arrive; node colors say each agent's state.

Owns painting and layout only: a star has its hub in the middle, a hierarchy is a tree under its coordinator, a
ring and a mesh sit on a circle (ring neighbours, mesh everyone, joined by faint lines). What the states are is
decided by ``TopologyView`` from the swarm's messages.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from autodevai.gui.theme import state_color

__all__ = ["KIND_COLORS", "NODE_STATES", "SWARM", "TopologyCanvas", "short_text"]

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


def short_text(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
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
            label = short_text(name if name not in self.labels else f"{name}: {self.labels[name]}", 26)
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
