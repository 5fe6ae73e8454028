"""The Status panel: providers' health and rate-limit headroom, circuit breakers with a live countdown to
half-open, budget gauges per cap, and the engine's own numbers (in flight, catalog, uptime).

Data comes from ``engine.get_enhanced_system_status()`` (one call at a time, through ``ctx.spawn``), every
second while the panel is visible and shortly after each recorded request (coalesced). Between answers the
breakers' countdown keeps ticking from the local clock. Cells are updated in place so selection survives.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from autodevai.cli.render import fmt_tokens, fmt_usd
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, KeyValueGrid, muted

__all__ = ["BudgetGauge", "StatusPanel"]

TICK_MS = 1000
AFTER_REQUEST_MS = 150  # coalesce a burst of recorded requests into one refresh
COUNTDOWN_MS = 250  # the countdown's own tick, so a second never shows twice (no engine call)

PROVIDER_COLUMNS = ["Provider", "Kind", "Base URL", "State", "Calls", "Failures", "Last error", "Key", "Rate limit"]
BREAKER_COLUMNS = ["Provider", "Model", "State", "Calls", "Failure rate", "Slow rate", "Half-open in", "Opens"]
_BREAKER_ORDER = {"open": 0, "half_open": 1, "closed": 2}
_KEY_TEXT = {"keyring": "keyring", "env": "environment variable", "none": "missing", "not needed": "not needed"}
CAPS = ("daily", "monthly", "total")


_DOTS: dict[str, QIcon] = {}


def _dot(color: str) -> QIcon:
    """A small filled circle of ``color`` (the state badge in a table cell), made once per color."""
    icon = _DOTS.get(color)
    if icon is None:
        pix = QPixmap(12, 12)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(color))
        p.drawEllipse(1, 1, 10, 10)
        p.end()
        icon = _DOTS[color] = QIcon(pix)
    return icon


def fmt_duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    if seconds is None:
        return "–"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86_400} d {s % 86_400 // 3600} h"


def _table(columns: list[str], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(24)
    t.setWordWrap(False)
    t.setAlternatingRowColors(True)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    h = t.horizontalHeader()
    h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    h.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return t


def _cell(
    table: QTableWidget,
    row: int,
    col: int,
    text: str,
    *,
    color: str | None = None,
    dot: str | None = None,
    tip: str = "",
    right: bool = False,
) -> None:
    """Set one cell, reusing its item (so selection and scroll position survive a refresh)."""
    item = table.item(row, col)
    if item is None:
        item = QTableWidgetItem()
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        table.setItem(row, col, item)
    if item.text() != text:
        item.setText(text)
    item.setToolTip(tip or text)
    if color is not None:
        item.setForeground(QColor(color))
    else:
        item.setData(Qt.ItemDataRole.ForegroundRole, None)
    item.setIcon(_dot(dot) if dot else QIcon())
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class BudgetGauge(QWidget):
    """One budget cap: its name, a bar of spent / limit, and the numbers in words."""

    def __init__(self, cap: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cap = cap
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        name = QLabel(cap.capitalize())
        name.setMinimumWidth(64)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(140)
        self.bar.setMaximumHeight(18)
        self.detail = QLabel("–")
        self.detail.setMinimumWidth(260)
        lay.addWidget(name)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.detail)

    def set(self, limit: float | None, spent: float, left: float | None) -> None:
        if limit is None:
            self.bar.setValue(0)
            self.bar.setFormat("no cap")
            self.bar.setEnabled(False)
            self.detail.setText(f"{fmt_usd(spent)} spent · no cap")
            self.setToolTip(f"No {self.cap} cap is set (Configure → Budget)")
            color = state_color("unknown")
        else:
            frac = 1.0 if limit <= 0 else min(1.0, spent / limit)
            self.bar.setEnabled(True)
            self.bar.setValue(round(frac * 1000))
            self.bar.setFormat(f"{frac * 100:.1f} % used")
            shown_left = max(0.0, left if left is not None else limit - spent)
            self.detail.setText(f"{fmt_usd(spent)} of {fmt_usd(limit)} · {fmt_usd(shown_left)} left")
            self.setToolTip(f"{self.cap.capitalize()} cap {fmt_usd(limit)}; requests are refused once it is spent")
            color = state_color("ok" if frac < 0.7 else "warning" if frac < 0.9 else "error")
        self.bar.setStyleSheet(
            "QProgressBar { border: 1px solid palette(mid); border-radius: 4px; text-align: center; }"
            f"QProgressBar::chunk {{ background: {color}; border-radius: 3px; }}"
        )

    def text(self) -> str:
        """What a user reads: the bar's label and the numbers."""
        return f"{self.bar.format()} — {self.detail.text()}"


class StatusPanel(Panel):
    title = "Status"
    subtitle = "Providers, circuit breakers, budget and the engine, refreshed every second."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._task: Any = None
        self._again = False
        self._deadlines: dict[int, float] = {}  # breaker row -> local monotonic time it may half-open

        top = QHBoxLayout()
        top.setSpacing(10)
        budget = Card("Budget")
        self.budget_bars: dict[str, BudgetGauge] = {}
        for cap in CAPS:
            gauge = BudgetGauge(cap)
            self.budget_bars[cap] = gauge
            budget.body.addWidget(gauge)
        self.reserved = muted("")
        budget.body.addWidget(self.reserved)
        top.addWidget(budget, 3)

        engine = Card("Engine")
        self.engine_grid = KeyValueGrid(["In flight", "Catalog", "Catalog fetched", "Uptime"])
        engine.body.addWidget(self.engine_grid)
        engine.body.addStretch(1)
        top.addWidget(engine, 2)
        self.body.addLayout(top)

        providers = Card("Providers")
        self.providers_table = _table(PROVIDER_COLUMNS, 2)
        self._fit_height(self.providers_table, 1)
        providers.body.addWidget(self.providers_table)
        self.body.addWidget(providers)

        breakers = Card("Circuit breakers")
        breakers.body.addWidget(
            muted(
                "One per provider and model. Open: calls are refused until it half-opens, "
                "then a few probe calls decide whether it closes again."
            )
        )
        self.breakers_table = _table(BREAKER_COLUMNS, 1)
        breakers.body.addWidget(self.breakers_table, 1)
        self.breakers_note = muted("")
        breakers.body.addWidget(self.breakers_note)
        self.body.addWidget(breakers, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.countdown = QTimer(self)
        self.countdown.setInterval(COUNTDOWN_MS)
        self.countdown.timeout.connect(self._update_countdowns)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(AFTER_REQUEST_MS)
        self._soon.timeout.connect(self.refresh_now)
        ctx.events.request_recorded.connect(self._on_recorded)

    # ---- lifecycle ------------------------------------------------------------------------------------------

    def on_shown(self) -> None:
        if not self.timer.isActive():
            self.timer.start()
            self.countdown.start()
        self.refresh_now()

    def on_hidden(self) -> None:
        self.timer.stop()
        self.countdown.stop()
        self._soon.stop()

    def refresh_now(self) -> None:
        """Ask the engine for its status now (or right after the request already in flight)."""
        if not self.ctx.ready:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._again = False
        self._task = self.ctx.spawn(
            self.ctx.engine.get_enhanced_system_status(),
            on_result=self._on_status,
            on_error=self._on_error,
            name="status-refresh",
        )

    def _tick(self) -> None:
        if not self.isVisible():
            self.on_hidden()  # hidden without on_hidden (e.g. the window went to the tray)
            return
        self.refresh_now()

    def _on_recorded(self, _event: object) -> None:
        if self.isVisible() and not self._soon.isActive():
            self._soon.start()

    def _on_error(self, exc: BaseException) -> None:
        self.breakers_note.setText(f"Could not read the status: {exc}")
        self._followup()

    def _followup(self) -> None:
        if self._again:
            self._soon.start()  # another refresh was asked for while this one ran

    # ---- rendering ------------------------------------------------------------------------------------------

    def _on_status(self, st: Any) -> None:
        self._fill_providers(st.providers)
        self._fill_breakers(st.breakers)
        self._fill_budget(st.budget)
        g = self.engine_grid
        g.set("In flight", f"{st.in_flight} request{'s' if st.in_flight != 1 else ''}")
        g.set("Catalog", f"{st.models:,} models")
        g.set(
            "Catalog fetched",
            "not yet (offline?)" if st.catalog_age_s is None else f"{fmt_duration(st.catalog_age_s)} ago",
        )
        g.set("Uptime", fmt_duration(st.uptime_s))
        self._followup()

    def _fill_providers(self, providers: Any) -> None:
        t = self.providers_table
        if t.rowCount() != len(providers):
            t.setRowCount(len(providers))
            self._fit_height(t, len(providers))
        for r, p in enumerate(providers):
            key = _KEY_TEXT.get(p.key_source, p.key_source)
            _cell(t, r, 0, p.name)
            _cell(t, r, 1, p.kind)
            _cell(t, r, 2, p.base_url)
            _cell(t, r, 3, p.state, color=state_color(p.state), dot=state_color(p.state), tip=_state_tip(p.state))
            _cell(t, r, 4, f"{p.calls:,}", right=True)
            _cell(t, r, 5, f"{p.failures:,}", right=True, color=state_color("error") if p.failures else None)
            _cell(t, r, 6, p.last_error or "–")
            missing = p.key_source == "none"
            _cell(
                t,
                r,
                7,
                key,
                color=state_color("warning") if missing else None,
                tip="No API key: add one in Settings" if missing else f"The key is read from the {key}",
            )
            rate = _headroom(p.rate)
            _cell(t, r, 8, rate, tip="Requests and tokens per minute left of the configured limit")

    @staticmethod
    def _fit_height(t: QTableWidget, rows: int) -> None:
        """Providers are few: size the table to its rows (up to 6) instead of leaving an empty box."""
        head = t.horizontalHeader().sizeHint().height()
        t.setFixedHeight(head + max(1, min(rows, 6)) * t.verticalHeader().defaultSectionSize() + 2 * t.frameWidth() + 2)

    def _fill_breakers(self, rows: Any) -> None:
        t = self.breakers_table
        ordered = sorted(rows, key=lambda b: (_BREAKER_ORDER.get(str(b.snapshot.state), 3), b.provider, b.model))
        t.setRowCount(len(ordered))
        now = time.monotonic()
        self._deadlines = {}
        for r, b in enumerate(ordered):
            s = b.snapshot
            state = str(s.state)
            color = state_color(state)
            _cell(t, r, 0, b.provider)
            _cell(t, r, 1, b.model)
            _cell(t, r, 2, state.replace("_", "-"), color=color, dot=color, tip=_breaker_tip(state))
            _cell(t, r, 3, f"{s.calls:,}", right=True, tip="Calls in the breaker's sliding window")
            fail_color = state_color("error") if s.failure_rate >= 0.5 else None
            _cell(t, r, 4, f"{s.failure_rate * 100:.0f} %", right=True, color=fail_color)
            _cell(t, r, 5, f"{s.slow_rate * 100:.0f} %", right=True)
            if s.retry_in_s is not None:
                self._deadlines[r] = now + s.retry_in_s
            _cell(t, r, 6, "–", right=True)
            _cell(t, r, 7, f"{s.consecutive_opens}", right=True, tip="Times it opened since it last closed")
        self._update_countdowns()
        n_open = sum(1 for b in ordered if str(b.snapshot.state) != "closed")
        if not ordered:
            self.breakers_note.setText("No breakers yet: each model gets one with its first call.")
        else:
            self.breakers_note.setText(
                f"{len(ordered)} breaker{'s' if len(ordered) != 1 else ''}, {n_open} not closed."
                if n_open
                else f"{len(ordered)} breaker{'s' if len(ordered) != 1 else ''}, all closed: every model may be called."
            )

    def _update_countdowns(self) -> None:
        now = time.monotonic()
        for r, deadline in self._deadlines.items():
            left = deadline - now
            if r < self.breakers_table.rowCount():
                text = f"{math.ceil(left)} s" if left > 0 else "now (next call probes)"
                _cell(self.breakers_table, r, 6, text, right=True, color=state_color("open") if left > 0 else None)

    def _fill_budget(self, b: Any) -> None:
        for cap, gauge in self.budget_bars.items():
            gauge.set(b.caps.get(cap), b.spent.get(cap, 0.0), b.left.get(cap))
        self.reserved.setText(
            f"Reserved for requests in flight: {fmt_usd(b.reserved)} (worst case, settled to the real cost after)"
        )


def _headroom(h: Any) -> str:
    parts = []
    if h.rpm_limit is not None:
        parts.append(f"{h.rpm_left or 0:.0f} of {h.rpm_limit} req/min")
    if h.tpm_limit is not None:
        parts.append(f"{fmt_tokens(int(h.tpm_left or 0))} of {fmt_tokens(h.tpm_limit)} tokens/min")
    text = " · ".join(parts) or "no limit"
    return f"paused after a 429 · {text}" if h.blocked_until is not None else text


def _state_tip(state: str) -> str:
    return {
        "up": "Answering normally",
        "degraded": "Some recent calls failed",
        "down": "Three or more calls in a row failed",
        "unknown": "Not called yet",
    }.get(state, state)


def _breaker_tip(state: str) -> str:
    return {
        "closed": "Calls go through",
        "open": "Calls are refused until it half-opens",
        "half_open": "A few probe calls decide whether it closes again",
    }.get(state, state)
