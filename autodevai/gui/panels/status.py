"""The Status panel: providers' health, rate-limit headroom and last background probe (with the probe mode),
circuit breakers with a live countdown to half-open, budget gauges per cap, the engine's own numbers (in flight,
catalog, uptime), and the recent alerts (``Engine.recent_alerts``, also the ones whose desktop notification was
muted).

Data comes from ``engine.get_enhanced_system_status()`` (one call at a time, through ``ctx.spawn``), every
second while the panel is visible and shortly after each recorded request (coalesced). Between answers the
breakers' countdown keeps ticking from the local clock. Cells are updated in place so selection survives.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QTableWidget,
    QWidget,
)

from autodevai.gui.bridge import GuiContext
from autodevai.gui.notifications import AlertsTable
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.status_cells import PROBE_NOTES, BudgetGauge, fmt_duration, probe_cell, set_cell, state_table
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, KeyValueGrid, muted
from autodevai.text import fmt_tokens, fmt_usd

__all__ = ["BudgetGauge", "StatusPanel"]

TICK_MS = 1000
AFTER_REQUEST_MS = 150  # coalesce a burst of recorded requests into one refresh
COUNTDOWN_MS = 250  # the countdown's own tick, so a second never shows twice (no engine call)

PROVIDER_COLUMNS = [
    "Provider", "Kind", "Base URL", "State", "Calls", "Failures", "Last error", "Last probe", "Key", "Rate limit",
]  # fmt: skip
BREAKER_COLUMNS = ["Provider", "Model", "State", "Calls", "Failure rate", "Slow rate", "Half-open in", "Opens"]
_BREAKER_ORDER = {"open": 0, "half_open": 1, "closed": 2}
_KEY_TEXT = {"keyring": "keyring", "env": "environment variable", "none": "missing", "not needed": "not needed"}
CAPS = ("daily", "monthly", "total")


class StatusPanel(Panel):
    title = "Status"
    subtitle = "Providers, circuit breakers, budget and the engine, refreshed every second."
    refreshed = Signal(object)  # the SystemStatus just shown

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
        self.providers_table = state_table(PROVIDER_COLUMNS, 2)
        self._fit_height(self.providers_table, 1)
        providers.body.addWidget(self.providers_table)
        self.probe_note = muted("")
        providers.body.addWidget(self.probe_note)
        self.body.addWidget(providers)

        alerts = Card("Recent alerts")
        self.alerts_note = muted("")
        alerts.body.addWidget(self.alerts_note)
        self.alerts_table = AlertsTable()
        head = self.alerts_table.horizontalHeader().sizeHint().height()
        self.alerts_table.setFixedHeight(head + 3 * self.alerts_table.verticalHeader().defaultSectionSize() + 4)
        self.alerts_table.hide()
        alerts.body.addWidget(self.alerts_table)
        self.body.addWidget(alerts)

        breakers = Card("Circuit breakers")
        breakers.body.addWidget(
            muted(
                "One per provider and model. Open: calls are refused until it half-opens, "
                "then a few probe calls decide whether it closes again."
            )
        )
        self.breakers_table = state_table(BREAKER_COLUMNS, 1)
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
        ctx.events.alert.connect(self._on_alert)

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
        self._fill_alerts()
        self.refreshed.emit(st)
        self._followup()

    def _on_alert(self, _event: object) -> None:
        self._fill_alerts()

    def _fill_alerts(self) -> None:
        events = self.ctx.engine.recent_alerts() if self.ctx.ready else []
        self.alerts_table.show_alerts(events)
        self.alerts_table.setVisible(bool(events))
        muted_now = self.ctx.ready and not self.ctx.engine.settings.alerts.desktop_notifications
        off = " Desktop notifications are off (Configure → Desktop); alerts are still listed here." if muted_now else ""
        if events:
            n = len(events)
            self.alerts_note.setText(f"{n} alert{'s' if n != 1 else ''} since the engine started, newest first.{off}")
        else:
            self.alerts_note.setText(
                "No alerts. You are told here, and by a desktop notification, when a model's breaker opens, a "
                f"budget cap is 80 % or 100 % spent, or latency or errors trend up.{off}"
            )

    def _fill_providers(self, providers: Any) -> None:
        mode = str(self.ctx.engine.settings.health.probe)
        self.probe_note.setText(PROBE_NOTES.get(mode, f"Background probes: {mode}."))
        t = self.providers_table
        if t.rowCount() != len(providers):
            t.setRowCount(len(providers))
            self._fit_height(t, len(providers))
        for r, p in enumerate(providers):
            key = _KEY_TEXT.get(p.key_source, p.key_source)
            set_cell(t, r, 0, p.name)
            set_cell(t, r, 1, p.kind)
            set_cell(t, r, 2, p.base_url)
            set_cell(t, r, 3, p.state, color=state_color(p.state), dot=state_color(p.state), tip=_state_tip(p.state))
            set_cell(t, r, 4, f"{p.calls:,}", right=True)
            set_cell(t, r, 5, f"{p.failures:,}", right=True, color=state_color("error") if p.failures else None)
            set_cell(t, r, 6, p.last_error or "–")
            text, color, tip = probe_cell(p, mode, time.time())
            set_cell(t, r, 7, text, color=color, tip=tip)
            missing = p.key_source == "none"
            set_cell(
                t,
                r,
                8,
                key,
                color=state_color("warning") if missing else None,
                tip="No API key: add one in Settings" if missing else f"The key is read from the {key}",
            )
            rate = _headroom(p.rate)
            set_cell(t, r, 9, rate, tip="Requests and tokens per minute left of the configured limit")

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
            set_cell(t, r, 0, b.provider)
            set_cell(t, r, 1, b.model)
            set_cell(t, r, 2, state.replace("_", "-"), color=color, dot=color, tip=_breaker_tip(state))
            set_cell(t, r, 3, f"{s.calls:,}", right=True, tip="Calls in the breaker's sliding window")
            fail_color = state_color("error") if s.failure_rate >= 0.5 else None
            set_cell(t, r, 4, f"{s.failure_rate * 100:.0f} %", right=True, color=fail_color)
            set_cell(t, r, 5, f"{s.slow_rate * 100:.0f} %", right=True)
            if s.retry_in_s is not None:
                self._deadlines[r] = now + s.retry_in_s
            set_cell(t, r, 6, "–", right=True)
            set_cell(t, r, 7, f"{s.consecutive_opens}", right=True, tip="Times it opened since it last closed")
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
                set_cell(self.breakers_table, r, 6, text, right=True, color=state_color("open") if left > 0 else None)

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
