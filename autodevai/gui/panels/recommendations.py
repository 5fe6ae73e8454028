"""The Recommendations panel: the engine's advice, one card per recommendation, with the numbers behind it.

Each card shows a severity badge, the title, what to do, the evidence (the measured numbers that triggered the
advice) and the impact in USD per day when the advisor could estimate one. The advice is computed by the engine
(``get_optimization_recommendations``); this panel only formats it.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.advisor import Recommendation
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, muted
from autodevai.text import fmt_ms, fmt_usd

__all__ = ["RecommendationCard", "RecommendationsPanel", "evidence_label", "evidence_value"]

EVENT_DEBOUNCE_MS = 1000
EVIDENCE_PER_ROW = 5
EMPTY_TEXT = (
    "Advice comes from measured history. Once a model has a few requests (at least 5) in the last 24 hours, "
    "the advisor looks for models that fail or are slow, cheaper models of similar quality, very long prompts, "
    "and spending that would exceed your daily budget. Send some requests from Execute or Workflows, then Refresh."
)
LABELS = {
    "recent_calls": "recent calls",
    "p95_ms": "p95 latency",
    "overall_p50_ms": "overall p50 latency",
    "cost_per_call_now": "cost per call now",
    "cost_per_call_alt": "cost per call instead",
    "recent_cost_usd": "recent cost",
    "window_s": "measured over",
    "projected_usd_per_day": "projected per day",
    "daily_cap_usd": "daily cap",
    "top_error": "most common error",
    "breaker": "breaker",
}


def evidence_label(key: str) -> str:
    """A readable name for an evidence key ("failure_rate" -> "failure rate")."""
    if key in LABELS:
        return LABELS[key]
    for suffix in ("_usd", "_ms", "_s"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.replace("_", " ")


def evidence_value(key: str, value: float | int | str) -> str:
    """An evidence number formatted by what it measures (rates as %, money, durations, counts)."""
    if isinstance(value, str | bool):
        return str(value)
    if key.endswith("_rate"):
        return f"{value:.0%}" if float(round(value * 100, 6)).is_integer() else f"{value:.1%}"
    if key.endswith("_usd") or key.startswith("cost"):
        return fmt_usd(float(value))
    if key.endswith("_ms"):
        return fmt_ms(float(value))
    if key.endswith("_s"):
        seconds = float(value)
        return (
            f"{seconds / 3600:g} h"
            if seconds >= 3600
            else f"{seconds / 60:g} min"
            if seconds >= 60
            else f"{seconds:g} s"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}"


class RecommendationCard(QFrame):
    """One recommendation: badge, title, action, evidence grid, impact."""

    def __init__(self, rec: Recommendation, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rec = rec
        color = state_color(rec.severity)
        self.setObjectName(f"rec{index}")
        self.setStyleSheet(
            f"QFrame#rec{index} {{ border: 1px solid palette(mid); border-left: 4px solid {color};"
            " border-radius: 8px; background: palette(base); }"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 12)
        lay.setSpacing(6)

        top = QHBoxLayout()
        top.setSpacing(10)
        self.badge = QLabel(rec.severity.upper())
        self.badge.setStyleSheet(
            f"background: {color}; color: white; border-radius: 4px; padding: 1px 7px;"
            " font-size: 11px; font-weight: 700;"
        )
        self.badge.setToolTip(
            {"critical": "act now", "warning": "worth a look", "info": "an opportunity"}.get(rec.severity, rec.severity)
        )
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        self.title_label = QLabel(f"<b>{html.escape(rec.title)}</b>")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.title_label, 1)
        self.impact_label = QLabel("")
        if rec.impact_usd_per_day > 0:
            self.impact_label.setText(f"impact <b>{fmt_usd(rec.impact_usd_per_day)}</b>/day")
            self.impact_label.setToolTip(
                "Estimated USD per day at stake (saved by following the advice, or spent over the cap)"
            )
        top.addWidget(self.impact_label, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        self.action_label = QLabel(f"<b>Do:</b> {html.escape(rec.action)}")
        self.action_label.setWordWrap(True)
        self.action_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.action_label)

        if rec.evidence:
            grid = QGridLayout()
            grid.setContentsMargins(0, 4, 0, 0)
            grid.setHorizontalSpacing(28)
            grid.setVerticalSpacing(1)
            for i, (key, value) in enumerate(rec.evidence.items()):
                row, col = 2 * (i // EVIDENCE_PER_ROW), i % EVIDENCE_PER_ROW
                k = QLabel(evidence_label(key))
                k.setProperty("role", "muted")
                k.setToolTip(key)
                v = QLabel(evidence_value(key, value))
                v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(k, row, col)
                grid.addWidget(v, row + 1, col)
            grid.setColumnStretch(min(len(rec.evidence), EVIDENCE_PER_ROW), 1)
            box = QWidget()
            box.setLayout(grid)
            self.evidence_box = box
            lay.addWidget(box)

    def text(self) -> str:
        """Everything the card shows, as plain text (for tests and copy)."""
        labels = self.findChildren(QLabel)
        return " | ".join(label.text() for label in labels if label.text())


class RecommendationsPanel(Panel):
    title = "Recommendations"
    subtitle = "Advice from your measured history, with the numbers behind it: what to change and why."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.cards: list[RecommendationCard] = []
        self.recommendations: list[Recommendation] = []

        top = QHBoxLayout()
        self.summary_label = muted("Waiting for the engine…")
        top.addWidget(self.summary_label, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Compute the advice again from the latest metrics")
        top.addWidget(self.refresh_button)
        self.body.addLayout(top)

        self.empty_card = Card()
        self.empty_label = QLabel(f"<b>No recommendations yet</b><br><span style='color:#8b9099'>{EMPTY_TEXT}</span>")
        self.empty_label.setWordWrap(True)
        self.empty_card.body.addWidget(self.empty_label)
        self.empty_card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.empty_card.hide()
        self.body.addWidget(self.empty_card)

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 6, 0)
        self._list_layout.setSpacing(10)
        self._list_layout.addStretch(1)
        self.list_scroll = QScrollArea()
        self.list_scroll.setWidgetResizable(True)
        self.list_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.list_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_scroll.setWidget(self._list)
        self.body.addWidget(self.list_scroll, 1)
        self.body.addStretch(0)  # takes the room only while the list is hidden (the list has stretch 1)

        self._event_timer = QTimer(self)
        self._event_timer.setSingleShot(True)
        self._event_timer.setInterval(EVENT_DEBOUNCE_MS)
        self._event_timer.timeout.connect(self.refresh_now)
        self.refresh_button.clicked.connect(self.refresh_now)
        ctx.events.request_recorded.connect(self._on_recorded)

    def on_shown(self) -> None:
        self.refresh_now()

    def on_hidden(self) -> None:
        self._event_timer.stop()

    def _on_recorded(self, _event: object) -> None:
        if self.isVisible():
            self._event_timer.start()

    def refresh_now(self) -> None:
        """Ask the engine for its advice now and rebuild the cards."""
        if not self.ctx.ready:
            self.summary_label.setText("Waiting for the engine…")
            return
        self._event_timer.stop()
        self.ctx.spawn(
            self.ctx.engine.get_optimization_recommendations(),
            on_result=self._show,
            on_error=lambda exc: self.summary_label.setText(f"Could not compute recommendations: {exc}"),
            name="recommendations.load",
        )

    def _show(self, recs: list[Recommendation]) -> None:
        self.recommendations = list(recs)
        for card in self.cards:
            self._list_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        for i, rec in enumerate(recs):
            card = RecommendationCard(rec, i)
            self._list_layout.insertWidget(i, card)
            self.cards.append(card)
        self.empty_card.setVisible(not recs)
        self.list_scroll.setVisible(bool(recs))
        at = time.strftime("%H:%M:%S")
        if not recs:
            self.summary_label.setText(f"Nothing to advise right now · checked at {at}")
            return
        counts = []
        for severity in ("critical", "warning", "info"):
            n = sum(1 for r in recs if r.severity == severity)
            if n:
                counts.append(f'<span style="color:{state_color(severity)}">{n} {severity}</span>')
        total = sum(r.impact_usd_per_day for r in recs if r.impact_usd_per_day > 0)
        impact = f" · about {fmt_usd(total)}/day at stake" if total > 0 else ""
        self.summary_label.setText(
            f"{len(recs)} recommendation{'s' if len(recs) != 1 else ''}: {', '.join(counts)}{impact} · checked at {at}"
        )
