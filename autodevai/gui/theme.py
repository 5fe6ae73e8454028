"""Light and dark themes, the user's choice between them (System / Light / Dark, applied live and remembered),
one accent color, and the colors panels use for states.

``apply_theme`` sets the palette, the style sheet and ``AppStyle`` (Fusion with indicators that stay visible on
dark cards) on the application. ``ThemeController`` owns the choice: it keeps it in the UI state file
(``ui/theme`` beside the window geometry), applies it at once, follows the system's light/dark switch while
the choice is "system", and announces every change (``changed``) so menus and Configure stay in step.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from autodevai.gui.style import AppStyle

__all__ = [
    "ACCENT",
    "STATE_COLORS",
    "THEME_KEY",
    "THEME_MODES",
    "ThemeController",
    "apply_theme",
    "is_dark",
    "state_color",
    "system_is_dark",
]

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
    "cancelled": "#6b7280",
    "simulated": "#7c3aed",
}
THEME_KEY = "ui/theme"
THEME_MODES = {"system": "System", "light": "Light", "dark": "Dark"}  # stored value -> what menus show

_platform_dark: bool | None = None  # the platform palette's darkness, read before our first palette replaces it
_style: AppStyle | None = None  # kept referenced: the application does not own it on the Python side


def state_color(state: str) -> str:
    return STATE_COLORS.get(state, "#6b7280")


def _remember_platform(app: QApplication) -> None:
    global _platform_dark
    if _platform_dark is None:
        _platform_dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def system_is_dark(app: QApplication | None = None) -> bool:
    """Whether the desktop asks for dark: its color scheme when it states one, else its palette at start-up."""
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    app = app or QApplication.instance()  # type: ignore[assignment]
    if isinstance(app, QApplication):
        _remember_platform(app)
    return bool(_platform_dark)


def is_dark(app: QApplication | None = None) -> bool:
    """Whether the palette in use is dark (whatever chose it)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    if not isinstance(app, QApplication):
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        base, window, text, alt, mid, button = "#1e1f22", "#2b2d31", "#e6e6e6", "#26282c", "#4a4d55", "#34363c"
        tip = "#3a3c42"
    else:
        base, window, text, alt, mid, button = "#ffffff", "#f4f5f7", "#1f2328", "#f8f9fb", "#d0d4da", "#f4f5f7"
        tip = "#ffffff"
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.ToolTipBase: tip,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: mid,
        QPalette.ColorRole.PlaceholderText: "#8b9099",
        QPalette.ColorRole.Link: "#60a5fa" if dark else "#2563eb",
        QPalette.ColorRole.BrightText: "#ffffff",
    }
    if dark:  # Fusion derives bevels and frames from these; Qt's defaults are for light palettes
        roles |= {
            QPalette.ColorRole.Light: "#4a4d55",
            QPalette.ColorRole.Midlight: "#3d4047",
            QPalette.ColorRole.Dark: "#17181a",
            QPalette.ColorRole.Shadow: "#000000",
        }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    disabled = "#6b6f76" if dark else "#a0a6ae"
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    # Disabled inputs and buttons sit on the window color: "not now" reads at a glance in both themes.
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, QColor(window))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, QColor(window))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor("#4b5563" if dark else "#9ca3af"))
    return p


def _stylesheet(dark: bool) -> str:
    side = "#232428" if dark else "#e9ebef"
    side_sel = "#3b3d44" if dark else "#ffffff"
    border = "#3a3c42" if dark else "#d0d4da"
    edge = "#55585f" if dark else "#c3c8cf"  # inputs' frames: a step stronger than the cards' borders
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
    QLabel[role="badge"] {{ color: white; background: {STATE_COLORS["simulated"]}; border-radius: 4px;
                           padding: 1px 6px; font-size: 11px; font-weight: 600; }}
    QFrame[role="card"] {{ border: 1px solid {border}; border-radius: 8px; background: {card}; }}
    QPushButton[role="primary"] {{ background: {ACCENT}; color: white; border: none; border-radius: 6px;
                                   padding: 6px 14px; font-weight: 600; }}
    QPushButton[role="primary"]:disabled {{ background: {border}; color: {muted}; }}
    QPushButton {{ padding: 5px 12px; }}
    QTableView, QTableWidget {{ gridline-color: {border}; }}
    QHeaderView::section {{ padding: 4px 6px; font-weight: 600; border: none;
                            border-bottom: 1px solid {edge}; background: palette(window); color: palette(text); }}
    QToolTip {{ color: palette(tooltip-text); background: palette(tooltip-base); border: 1px solid {edge};
                padding: 4px 6px; }}
    QTabWidget::pane {{ border: none; border-top: 1px solid {border}; }}
    QTabBar::tab {{ padding: 6px 14px; margin-right: 2px; border: none; border-bottom: 2px solid transparent;
                    color: {muted}; background: transparent; }}
    QTabBar::tab:selected {{ color: palette(text); border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
    QTabBar::tab:hover:!selected {{ color: palette(text); }}
    """


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Apply the light or dark theme (the system's when ``dark`` is None); return whether it is dark."""
    global _style
    _remember_platform(app)
    if _style is None or app.style() is not _style:
        _style = AppStyle()
        app.setStyle(_style)
    dark = system_is_dark(app) if dark is None else dark
    app.setPalette(_palette(dark))
    app.setStyleSheet(_stylesheet(dark))
    return dark


class ThemeController(QObject):
    """The user's theme choice: ``mode`` is "system", "light" or "dark"; ``set_mode`` applies and remembers it."""

    changed = Signal(str, bool)  # (mode, dark)

    def __init__(self, qsettings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qsettings = qsettings
        self.dark = False
        value = str(qsettings.value(THEME_KEY, "system"))
        self._mode = value if value in THEME_MODES else "system"
        self._following = False

    @property
    def mode(self) -> str:
        return self._mode

    def apply_saved(self) -> bool:
        """Apply the remembered choice (at start-up); returns whether the result is dark."""
        return self._apply()

    def set_mode(self, mode: str) -> bool:
        """Switch to ``mode`` now and remember it; returns whether the result is dark. Unknown modes raise."""
        if mode not in THEME_MODES:
            raise ValueError(f"theme must be one of {', '.join(THEME_MODES)}, not {mode!r}")
        self._mode = mode
        self.qsettings.setValue(THEME_KEY, mode)
        self.qsettings.sync()
        return self._apply()

    def _apply(self) -> bool:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return False
        if not self._following:  # the desktop switching light/dark re-applies "system"
            QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_scheme)
            self._following = True
        self.dark = apply_theme(app, None if self._mode == "system" else self._mode == "dark")
        self.changed.emit(self._mode, self.dark)
        return self.dark

    def _on_system_scheme(self, _scheme: Qt.ColorScheme) -> None:
        if self._mode == "system" and system_is_dark() != self.dark:
            self._apply()
