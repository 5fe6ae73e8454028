"""The sidebar's panels, in order, by import path (imported lazily on first show)."""

from __future__ import annotations

import importlib

from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel

__all__ = ["PANELS", "create_panel"]

# (sidebar title, "module:Class")
PANELS: list[tuple[str, str]] = [
    ("Execute", "autodevai.gui.panels.execute:ExecutePanel"),
    ("Models", "autodevai.gui.panels.models:ModelsPanel"),
    ("Metrics", "autodevai.gui.panels.metrics:MetricsPanel"),
    ("Status", "autodevai.gui.panels.status:StatusPanel"),
    ("Configure", "autodevai.gui.panels.configure:ConfigurePanel"),
    ("Recommendations", "autodevai.gui.panels.recommendations:RecommendationsPanel"),
    ("Workflows", "autodevai.gui.panels.workflows:WorkflowsPanel"),
    ("Swarm", "autodevai.gui.panels.swarm:SwarmPanel"),
    ("Diagnostics", "autodevai.gui.panels.diagnostics:DiagnosticsPanel"),
    ("History", "autodevai.gui.panels.history:HistoryPanel"),
    ("Capabilities", "autodevai.gui.panels.capabilities:CapabilitiesPanel"),
]


def create_panel(spec: str, ctx: GuiContext) -> Panel:
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    panel: Panel = cls(ctx)
    return panel
