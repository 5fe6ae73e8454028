"""The votes of a finished swarm: one bar per normalized answer with its count, the winner's bar in the consensus
color (green when reached, red when not), at most five rows and a line for the rest."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from autodevai.gui.theme import state_color

__all__ = ["VoteBars"]


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
