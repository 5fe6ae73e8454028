"""The app's icon: the shipped SVG (``autodevai/data/autodevai.svg``) as a ``QIcon`` for the window, the tray and
the screenshots. Its own module so that the app and the tray both use it without importing each other."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

__all__ = ["ICON", "app_icon"]

ICON = Path(__file__).resolve().parent.parent / "data" / "autodevai.svg"


def app_icon() -> QIcon:
    """The app's icon, or an empty one when the SVG is missing (a broken install still starts)."""
    return QIcon(str(ICON)) if ICON.exists() else QIcon()
