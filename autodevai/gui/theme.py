"""Light and dark themes that follow the system, one accent color, and the colors panels use for states."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["STATE_COLORS", "apply_theme", "is_dark", "state_color"]

ACCENT = "#3b82f6"
STATE_COLORS = {
    "ok": "#16a34a",
    "up": "#16a34a",
    "closed": "#16a34a",
    "half_open": "#d97706",
    "degraded": "#d97706",
    "warning": "#d97706",
    "open": "#dc2626",
    "down": "#dc2626",
    "critical": "#dc2626",
    "error": "#dc2626",
    "unknown": "#6b7280",
    "info": "#3b82f6",
    "skipped": "#6b7280",
}


def state_color(state: str) -> str:
    return STATE_COLORS.get(state, "#6b7280")


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()  # type: ignore[assignment]
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return bool(app) and app.palette().color(QPalette.ColorRole.Window).lightness() < 128  # type: ignore[union-attr]


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        base, window, text, alt, mid = "#1e1f22", "#2b2d31", "#e6e6e6", "#26282c", "#3a3c42"
    else:
        base, window, text, alt, mid = "#ffffff", "#f4f5f7", "#1f2328", "#f8f9fb", "#d0d4da"
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: mid,
        QPalette.ColorRole.PlaceholderText: "#8b9099",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    disabled = "#6b6f76" if dark else "#a0a6ae"
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


def _stylesheet(dark: bool) -> str:
    side = "#232428" if dark else "#e9ebef"
    side_sel = "#3b3d44" if dark else "#ffffff"
    border = "#3a3c42" if dark else "#d0d4da"
    muted = "#9aa0a6" if dark else "#6b7280"
    # Dark cards sit a step above the inputs' base color so edit boxes and checkboxes keep their edges.
    card = "#26282c" if dark else "palette(base)"
    return f"""
    QListWidget#sidebar {{ background: {side}; border: none; padding: 8px 4px; font-size: 13px; }}
    QListWidget#sidebar::item {{ padding: 8px 10px; border-radius: 6px; margin: 1px 4px; }}
    QListWidget#sidebar::item:selected {{ background: {side_sel}; color: palette(text); font-weight: 600; }}
    QLabel[role="title"] {{ font-size: 18px; font-weight: 600; }}
    QLabel[role="subtitle"] {{ color: {muted}; }}
    QLabel[role="muted"] {{ color: {muted}; }}
    QLabel[role="error"] {{ color: #dc2626; }}
    QFrame[role="card"] {{ border: 1px solid {border}; border-radius: 8px; background: {card}; }}
    QPushButton[role="primary"] {{ background: {ACCENT}; color: white; border: none; border-radius: 6px;
                                   padding: 6px 14px; font-weight: 600; }}
    QPushButton[role="primary"]:disabled {{ background: {border}; color: {muted}; }}
    QPushButton {{ padding: 5px 12px; }}
    QTableView, QTableWidget {{ gridline-color: {border}; }}
    QHeaderView::section {{ padding: 4px 6px; font-weight: 600; border: none;
                            border-bottom: 1px solid {border}; background: palette(window); }}
    """


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Apply the light or dark theme (the system's when ``dark`` is None); return whether it is dark."""
    app.setStyle("Fusion")
    dark = is_dark(app) if dark is None else dark
    app.setPalette(_palette(dark))
    app.setStyleSheet(_stylesheet(dark))
    return dark
