"""The Capabilities panel: what this installation can do, from ``engine.get_enhanced_capabilities()``, as cards.

Providers (and which answer), the catalog's size, routing strategies, workflow modes, features, where keys live,
and the limits that apply (prompt size, largest window, budget caps and resilience settings, read-only).
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QWidget

from autodevai.engine.reports import Capabilities, SystemStatus
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.widgets import Card, KeyValueGrid, badge_html, muted
from autodevai.text import fmt_tokens

__all__ = ["CapabilitiesPanel", "keys_html"]

STRATEGY_HELP = {
    "cost": "cheapest model that fits",
    "quality": "best benchmark prior",
    "speed": "lowest measured latency",
    "balanced": "weighted price, quality, latency, success",
}

WORKFLOW_HELP = {
    "auto-plan": "give a task; the engine plans the steps from its complexity",
    "sequential steps": "your own steps, each routed on its own",
}


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


class CapabilitiesPanel(Panel):
    title = "Capabilities"
    subtitle = "What this installation can do: providers, models, routing strategies, features and limits."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.capabilities: Capabilities | None = None

        top = QHBoxLayout()
        self.status_label = muted("Waiting for the engine…")
        top.addWidget(self.status_label, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ask the engine again (after adding a provider or a key)")
        top.addWidget(self.refresh_button)
        self.body.addLayout(top)

        content = QWidget()
        grid = QGridLayout(content)
        grid.setContentsMargins(0, 0, 4, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(12)

        self.providers_card = Card("Providers")
        self.providers_label = _label()
        self.providers_card.body.addWidget(self.providers_label)
        self.providers_card.body.addStretch(1)

        self.catalog_card = Card("Models")
        self.catalog_grid = KeyValueGrid(["Models", "Vendors", "Largest window"])
        self.catalog_card.body.addWidget(self.catalog_grid)
        self.catalog_card.body.addStretch(1)

        self.secrets_card = Card("Keys")
        self.secrets_label = _label()
        self.secrets_card.body.addWidget(self.secrets_label)
        self.secrets_card.body.addStretch(1)

        self.strategies_card = Card("Routing strategies")
        self.strategies_label = _label()
        self.strategies_card.body.addWidget(self.strategies_label)
        self.strategies_card.body.addStretch(1)

        self.workflows_card = Card("Workflow modes")
        self.workflows_label = _label()
        self.workflows_card.body.addWidget(self.workflows_label)
        self.workflows_card.body.addStretch(1)

        self.limits_card = Card("Limits")
        self.limits_grid = KeyValueGrid(
            ["Prompt size", "Budget caps", "Per request", "Rate limits", "Deadline", "Attempts"]
        )
        for grid_ in (self.catalog_grid, self.limits_grid):
            for value in grid_.values.values():
                value.setWordWrap(True)
        self.limits_card.body.addWidget(self.limits_grid)
        self.limits_card.body.addStretch(1)

        self.features_card = Card("Features")
        self.features_label = _label()
        self.features_card.body.addWidget(self.features_label)

        grid.addWidget(self.providers_card, 0, 0)
        grid.addWidget(self.catalog_card, 0, 1)
        grid.addWidget(self.secrets_card, 0, 2)
        grid.addWidget(self.strategies_card, 1, 0)
        grid.addWidget(self.workflows_card, 1, 1)
        grid.addWidget(self.limits_card, 1, 2)
        grid.addWidget(self.features_card, 2, 0, 1, 3)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        grid.setRowStretch(3, 1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # cards wrap instead
        scroll.setWidget(content)
        self.body.addWidget(scroll, 1)
        self.refresh_button.clicked.connect(self.refresh_now)

    def on_shown(self) -> None:
        self.refresh_now()

    def refresh_now(self) -> None:
        if not self.ctx.ready:
            self.status_label.setText("Waiting for the engine…")
            return
        engine = self.ctx.engine

        async def both() -> tuple[Capabilities, SystemStatus]:
            caps, status = await asyncio.gather(engine.get_enhanced_capabilities(), engine.get_enhanced_system_status())
            return caps, status

        self.ctx.spawn(
            both(),
            on_result=lambda pair: self._show(*pair),
            on_error=lambda exc: self.status_label.setText(f"Could not read the capabilities: {exc}"),
            name="capabilities.load",
        )

    def _show(self, caps: Capabilities, status: SystemStatus | None = None) -> None:
        self.capabilities = caps
        reachable = set(caps.reachable)
        states: dict[str, Any] = {p.name: p for p in status.providers} if status is not None else {}
        if caps.providers:
            lines = []
            for name in caps.providers:
                ps = states.get(name)
                state = ps.state if ps is not None else ("up" if name in reachable else "unknown")
                word = {"unknown": "not called yet"}.get(state, state)
                where = f" · {html.escape(ps.base_url)}" if ps is not None else ""
                lines.append(
                    badge_html(state, f"<b>{html.escape(name)}</b>")
                    + f" <span style='color:gray'>{html.escape(word)}{where}</span>"
                )
            lines.append(f"<span style='color:gray'>{len(reachable)} of {len(caps.providers)} reachable</span>")
            self.providers_label.setText("<br>".join(lines))
        else:
            self.providers_label.setText("No provider is configured: add one in Configure.")

        self.catalog_grid.set("Models", f"{caps.models:,} models")
        self.catalog_grid.set("Vendors", f"{caps.vendors:,}")
        self.catalog_grid.set("Largest window", f"{fmt_tokens(caps.max_context_tokens)} tokens")

        self.secrets_label.setText(keys_html(caps.secrets_backend))

        settings = self.ctx.engine.settings
        default = str(settings.routing.default_preference.value)
        strategy_lines = []
        for s in caps.strategies:
            name = f"<b>{html.escape(s)}</b>" + (" (default)" if s == default else "")
            help_text = STRATEGY_HELP.get(s)
            strategy_lines.append(name + (f" — <span style='color:gray'>{help_text}</span>" if help_text else ""))
        self.strategies_label.setText("<br>".join(strategy_lines) or "none")
        self.workflows_label.setText(
            "<br>".join(
                f"<b>{html.escape(m)}</b>"
                + (f" — <span style='color:gray'>{WORKFLOW_HELP[m]}</span>" if m in WORKFLOW_HELP else "")
                for m in caps.workflow_modes
            )
            or "none"
        )

        budget = settings.budget
        caps_text = [
            f"{label} ${value:,.2f}"
            for label, value in (
                ("daily", budget.daily_usd),
                ("monthly", budget.monthly_usd),
                ("total", budget.total_usd),
            )
            if value is not None
        ]
        res = settings.resilience
        self.limits_grid.set("Prompt size", f"{caps.max_prompt_chars:,} characters")
        rates = [
            f"{p.name} " + " · ".join(x for x in (p.rpm and f"{p.rpm} rpm", p.tpm and f"{p.tpm:,} tpm") if x)
            for p in settings.providers
            if p.enabled and (p.rpm or p.tpm)
        ]
        self.limits_grid.set("Rate limits", "; ".join(rates) or "none set")
        self.limits_grid.set("Budget caps", " · ".join(caps_text) or "none set")
        self.limits_grid.set(
            "Per request", "no cap" if budget.per_request_usd is None else f"${budget.per_request_usd:,.2f}"
        )
        self.limits_grid.set("Deadline", f"{res.deadline_s:g} s per request")
        retries = res.retries_per_model
        self.limits_grid.set(
            "Attempts", f"up to {res.max_attempts}, {retries} retr{'y' if retries == 1 else 'ies'} per model"
        )

        half = (len(caps.features) + 1) // 2
        columns = [caps.features[:half], caps.features[half:]]
        cells = "".join(
            "<td valign='top' style='padding-right:40px'>"
            + "<br>".join(f"<span style='color:#16a34a'>✓</span> {html.escape(f)}" for f in col)
            + "</td>"
            for col in columns
        )
        self.features_label.setText(f"<table><tr>{cells}</tr></table>")
        self.status_label.setText(
            f"{caps.models:,} models from {caps.vendors:,} vendors through {len(caps.providers)} "
            f"provider{'s' if len(caps.providers) != 1 else ''}"
        )


def keys_html(backend: str) -> str:
    """Where keys come from, in one plain sentence, from ``Capabilities.secrets_backend`` ("keyring: <backend>",
    a sentence saying there is no keyring, or "none")."""
    if backend.startswith("keyring: "):
        name = backend.removeprefix("keyring: ").strip()
        return (
            "Keys are kept in the <b>OS keyring</b>; a provider without one there uses its environment variable "
            "(such as OPENROUTER_API_KEY). Keys are never shown or written to a file."
            f"<br><span style='color:gray'>Keyring backend: {html.escape(name)}</span>"
        )
    if backend == "none" or backend.lower().startswith("no os keyring"):
        return (
            "There is no OS keyring here: each provider's key comes from its environment variable (such as "
            "OPENROUTER_API_KEY). Keys are never shown."
        )
    return f"Keys: {html.escape(backend)}. Keys are never shown."
