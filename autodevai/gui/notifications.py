"""Alerts reaching people: the engine's ``AlertEvent`` s (a breaker opened, a budget cap 80 %/100 % spent, a
latency or error-rate trend) as desktop notifications, an in-window toast where there is no tray, and the list
of recent alerts the Status panel shows.

``AlertNotifier`` receives every alert (``ctx.events.alert``, emitted on the GUI thread by the bridge) and routes
it: through the tray icon's ``showMessage`` when a system tray is there, else to a ``ToastStack`` floating in the
window's corner, where each toast fades out on its own. ``Settings.alerts.desktop_notifications`` is read at
each alert, so muting it in Configure takes effect at once; muted alerts are still listed in Status.
"""

from __future__ import annotations

import html
from collections import deque
from datetime import datetime

from PySide6.QtCore import QEasingCurve, QEvent, QObject, QPropertyAnimation, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QEnterEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.alerts import AlertEvent
from autodevai.gui.bridge import GuiContext
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import style_data_table

__all__ = ["AlertNotifier", "AlertsTable", "Toast", "ToastStack", "alert_time"]

TOAST_MS = 8000  # how long a toast stays before it fades (a critical one stays twice as long)
FADE_MS = 600
TRAY_MS = 10_000
MAX_TOASTS = 3
TOAST_WIDTH = 360
KIND_WORDS = {
    "breaker_open": "breaker opened",
    "budget": "budget",
    "latency_trend": "latency trend",
    "error_trend": "error-rate trend",
}


def alert_time(event: AlertEvent) -> str:
    return datetime.fromtimestamp(event.wall).strftime("%H:%M:%S")


class Toast(QFrame):
    """One alert as a card: a colored edge, the title, the message and a close button. Clicking it asks for
    the Status panel (``activated``); after ``ms`` it fades out and deletes itself (``gone``)."""

    activated = Signal()
    gone = Signal(object)  # the toast, once it faded or was closed

    def __init__(self, event: AlertEvent, ms: int = TOAST_MS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alert = event
        color = state_color(event.severity)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            f"QFrame#toast {{ background: palette(tooltip-base); border: 1px solid palette(mid);"
            f" border-left: 4px solid {color}; border-radius: 6px; }}"
        )
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Open Status to see every recent alert")
        self.setFixedWidth(TOAST_WIDTH)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 6, 10)
        col = QVBoxLayout()
        col.setSpacing(2)
        self.title_label = QLabel(f'<b style="color:{color}">{html.escape(event.title)}</b>')
        self.title_label.setWordWrap(True)
        self.message_label = QLabel(html.escape(event.message))
        self.message_label.setWordWrap(True)
        col.addWidget(self.title_label)
        col.addWidget(self.message_label)
        row.addLayout(col, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        # Word-wrapped labels: the height follows from the fixed width (a layout would not ask for it here).
        self.setFixedHeight(row.totalHeightForWidth(TOAST_WIDTH))

        self._effect = QGraphicsOpacityEffect(self)
        self._effect.setOpacity(1.0)
        self.setGraphicsEffect(self._effect)
        self._fade = QPropertyAnimation(self._effect, b"opacity", self)
        self._fade.setDuration(FADE_MS)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.Type.InQuad)
        self._fade.finished.connect(self.dismiss)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(ms * (2 if event.severity == "critical" else 1))
        self.timer.timeout.connect(self._fade.start)
        self.timer.start()
        self._done = False

    def text(self) -> str:
        """What a user reads on it."""
        return f"{self.title_label.text()} {self.message_label.text()}"

    def dismiss(self) -> None:
        if self._done:
            return
        self._done = True
        self.timer.stop()
        self.hide()
        self.gone.emit(self)
        self.deleteLater()

    def enterEvent(self, event: QEnterEvent) -> None:  # a toast being read does not fade away
        self.timer.stop()
        self._fade.stop()
        self._effect.setOpacity(1.0)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if not self._done:
            self.timer.start()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit()
            self.dismiss()
        super().mouseReleaseEvent(event)


class ToastStack(QWidget):
    """Toasts stacked in the bottom-right corner of ``host`` (newest at the bottom, at most ``MAX_TOASTS``)."""

    activated = Signal()

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.col = QVBoxLayout(self)
        self.col.setContentsMargins(0, 0, 0, 0)
        self.col.setSpacing(8)
        self.toasts: list[Toast] = []
        host.installEventFilter(self)
        self.hide()

    def add(self, event: AlertEvent, ms: int = TOAST_MS) -> Toast:
        while len(self.toasts) >= MAX_TOASTS:
            self.toasts[0].dismiss()
        toast = Toast(event, ms, self)
        toast.gone.connect(self._forget)
        toast.activated.connect(self.activated.emit)
        self.toasts.append(toast)
        self.col.addWidget(toast)
        self.show()
        self._place()
        self.raise_()
        return toast

    def clear(self) -> None:
        """Dismiss every toast (their timers stop)."""
        for toast in list(self.toasts):
            toast.dismiss()

    def _forget(self, toast: Toast) -> None:
        if toast in self.toasts:
            self.toasts.remove(toast)
        self.col.removeWidget(toast)
        if not self.toasts:
            self.hide()
        else:
            self._place()

    def _place(self) -> None:
        height = sum(t.height() for t in self.toasts) + self.col.spacing() * (len(self.toasts) - 1)
        self.resize(TOAST_WIDTH, height)
        margin = 16
        x = max(0, self.host.width() - self.width() - margin)
        y = max(0, self.host.height() - self.height() - margin)
        self.move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.host and event.type() == QEvent.Type.Resize and self.toasts:
            self._place()
        return False


class AlertNotifier(QObject):
    """Routes each alert to the tray (when there is one) or to the window's toasts, unless muted.

    ``routed`` says where each went ("tray", "toast" or "muted"), for the status bar and for tests."""

    routed = Signal(object, str)  # (AlertEvent, where)
    open_status = Signal()  # the user clicked a notification

    def __init__(self, ctx: GuiContext, toasts: ToastStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.toasts = toasts
        self.tray: QSystemTrayIcon | None = None
        self.history: deque[tuple[AlertEvent, str]] = deque(maxlen=50)
        toasts.activated.connect(self.open_status.emit)
        ctx.events.alert.connect(self.notify)

    def use_tray(self, tray: QSystemTrayIcon | None) -> None:
        """Send notifications through ``tray`` from now on (None: back to in-window toasts)."""
        if self.tray is not None:
            self.tray.messageClicked.disconnect(self.open_status.emit)
        self.tray = tray
        if tray is not None:
            tray.messageClicked.connect(self.open_status.emit)

    @property
    def enabled(self) -> bool:
        """``Settings.alerts.desktop_notifications`` as the engine holds it now (True before it is ready)."""
        if not self.ctx.ready:
            return True
        return bool(self.ctx.engine.settings.alerts.desktop_notifications)

    def route(self) -> str:
        """Where the next alert would go: "muted", "tray" or "toast"."""
        if not self.enabled:
            return "muted"
        tray = self.tray
        if tray is not None and tray.isVisible() and QSystemTrayIcon.supportsMessages():
            return "tray"
        return "toast"

    def notify(self, event: AlertEvent) -> None:
        where = self.route()
        if where == "tray" and self.tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if event.severity == "critical"
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self.tray.showMessage(event.title, event.message, icon, TRAY_MS)
        elif where == "toast":
            self.toasts.add(event)
        self.history.append((event, where))
        self.routed.emit(event, where)


class AlertsTable(QTableWidget):
    """Recent alerts, newest first: time, what (a colored dot and the title) and the message."""

    COLUMNS = ("Time", "Kind", "Alert", "What happened")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        style_data_table(self, stretch=3)
        self.events: list[AlertEvent] = []

    def show_alerts(self, events: list[AlertEvent]) -> None:
        """Show ``events`` (oldest first, as ``Engine.recent_alerts`` returns them) newest first."""
        newest = list(reversed(events))
        if newest == self.events:
            return
        self.events = newest
        self.setRowCount(len(newest))
        for r, ev in enumerate(newest):
            color = state_color(ev.severity)
            cells = (alert_time(ev), KIND_WORDS.get(ev.kind, ev.kind), ev.title, ev.message)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{ev.title}\n{ev.message}\n({ev.severity}, {ev.subject})")
                if c == 2:
                    item.setForeground(QColor(color))
                self.setItem(r, c, item)
