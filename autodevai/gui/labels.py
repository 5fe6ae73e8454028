"""How an answer's provenance reads wherever it is shown (Execute, the tray popup, History): the "Simulated" badge
for answers AutoDevAI's simulator wrote, and a cost that says "unknown" instead of a made-up "$0".

``EngineResponse.simulated`` and ``cost_source`` say it for a fresh answer, ``RequestRecord.simulated`` and
``cost_source`` for a stored one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy

from autodevai.gui.theme import state_color
from autodevai.text import fmt_usd

__all__ = [
    "SIMULATED_TIP",
    "UNKNOWN_COST",
    "cost_html",
    "cost_text",
    "simulated_badge",
    "simulated_html",
]

SIMULATED = "Simulated"
SIMULATED_TIP = (
    "AutoDevAI's built-in simulator wrote this answer: generated text, not a real model's reply; its cost is "
    "simulated too (no money was spent). Add an OpenRouter key or a local server in Configure for real answers."
)
UNKNOWN_COST = "unknown"
UNKNOWN_TIP = "The provider reported no cost and the catalog lists no price for this model"
CATALOG_TIP = "Estimated from the catalog's prices × the tokens used (the provider reported no cost)"


def cost_text(cost_usd: float, source: str = "provider") -> str:
    """``$0.000123``, ``~$0.000123`` when estimated from the catalog, or ``unknown`` — never ``$0`` for unknown."""
    if source == "unknown":
        return UNKNOWN_COST
    return f"~{fmt_usd(cost_usd)}" if source == "catalog" else fmt_usd(cost_usd)


def cost_html(cost_usd: float, source: str = "provider", muted: str = "#8b9099") -> str:
    """``cost_text`` with a muted word on where the number came from (rich text for details panes)."""
    if source == "unknown":
        return f'unknown <span style="color:{muted}">(not reported, no catalog price)</span>'
    if source == "catalog":
        return f'{fmt_usd(cost_usd)} <span style="color:{muted}">(estimated from catalog prices)</span>'
    return fmt_usd(cost_usd)


def simulated_html() -> str:
    """A small colored "SIMULATED" tag for rich text (a details pane, a history header)."""
    color = state_color("simulated")
    return (
        f'<span style="background:{color}; color:white; font-weight:600; font-size:small">'
        f"&nbsp;{SIMULATED.upper()}&nbsp;</span>"
    )


def simulated_badge(tip: str = SIMULATED_TIP) -> QLabel:
    """A hidden badge label ("Simulated", white on violet via the theme's ``role=badge``); show it when needed."""
    badge = QLabel(SIMULATED)
    badge.setObjectName("simulatedBadge")
    badge.setProperty("role", "badge")
    badge.setToolTip(tip)
    badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    badge.hide()
    return badge
