"""The system tray: an icon with a menu (quick prompt, show the window, quit), the "keep running in the tray"
setting, and the quick-prompt popup — a small window that continues your last conversation (or starts one) and
streams the answer through the same conversation API as the Execute panel. The popup works on its own, so it is
usable (and testable) where no tray exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QIcon, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Conversation
from autodevai.engine.errors import Cancelled
from autodevai.gui.bridge import GuiContext
from autodevai.gui.chat.stream import ChatStream, StreamUpdate
from autodevai.gui.icon import app_icon
from autodevai.gui.labels import cost_text, simulated_badge
from autodevai.gui.theme import state_color
from autodevai.text import fmt_ms

__all__ = ["QuickPromptPopup", "TrayController"]

KEEP_RUNNING_KEY = "tray/keep_running"


class QuickPromptPopup(QWidget):
    """A small always-on-top window: continue the last conversation or start a new one, one prompt line (Enter
    sends), the streamed answer, Copy, Open in the window, and a line with the model, cost and latency. Esc stops a
    running answer, or hides the popup."""

    finished = Signal(object)  # ChatTurn, or the exception the turn ended with

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        flags = Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        super().__init__(parent, flags)
        self.ctx = ctx
        self.last: Conversation | None = None  # the conversation "Continue" sends to
        self.conversation_id = ""  # the conversation of the last answer shown
        self.setObjectName("quick-prompt")
        self.setWindowTitle("AutoDevAI quick prompt")
        self.resize(480, 360)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        frame = QFrame()
        frame.setObjectName("quickFrame")
        frame.setStyleSheet("QFrame#quickFrame { border: 1px solid palette(mid); background: palette(window); }")
        outer.addWidget(frame)
        col = QVBoxLayout(frame)
        col.setContentsMargins(12, 8, 8, 12)
        col.setSpacing(8)

        top = QHBoxLayout()
        title = QLabel("<b>Quick prompt</b>")
        top.addWidget(title)
        top.addStretch(1)
        hint = QLabel("Enter sends · Esc stops or hides")
        hint.setProperty("role", "muted")
        top.addWidget(hint)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide (Esc)")
        close.clicked.connect(self.hide)
        top.addWidget(close)
        col.addLayout(top)

        where = QHBoxLayout()
        self.continue_radio = QRadioButton("Continue")
        self.continue_radio.setToolTip("Send to your most recent conversation: the model sees what was said there")
        self.new_radio = QRadioButton("New conversation")
        self.new_radio.setToolTip("Start a new conversation with this prompt")
        self.new_radio.setChecked(True)
        self.continue_radio.setEnabled(False)
        group = QButtonGroup(self)
        group.addButton(self.continue_radio)
        group.addButton(self.new_radio)
        where.addWidget(self.continue_radio)
        where.addWidget(self.new_radio)
        where.addStretch(1)
        col.addLayout(where)

        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText("Ask anything…")
        self.prompt_edit.setClearButtonEnabled(True)
        self.prompt_edit.returnPressed.connect(self.send)
        col.addWidget(self.prompt_edit)
        self.answer_view = QPlainTextEdit()
        self.answer_view.setReadOnly(True)
        self.answer_view.setPlaceholderText("The answer streams here; the router picks the model.")
        col.addWidget(self.answer_view, 1)

        bottom = QHBoxLayout()
        self.simulated_badge = simulated_badge()
        bottom.addWidget(self.simulated_badge, 0, Qt.AlignmentFlag.AlignTop)
        self.info_label = QLabel()
        self.info_label.setProperty("role", "muted")
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom.addWidget(self.info_label, 1)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this conversation in the AutoDevAI window")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open)
        bottom.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the answer to the clipboard")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        bottom.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(bottom)

        self.stream = ChatStream(ctx, self)
        self.stream.first_token.connect(lambda: self._info("Streaming…"))
        self.stream.update.connect(self._append)
        self.stream.finished.connect(self._on_finished)
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(1500)
        self._copied.timeout.connect(lambda: self.copy_button.setText("Copy"))
        ctx.events.engine_ready.connect(lambda _app: self.refresh_last())

    @property
    def is_running(self) -> bool:
        return self.stream.running

    def refresh_last(self) -> None:
        """Look up the most recent conversation for "Continue" (in the background)."""
        if not self.ctx.ready:
            return

        def show(conversations: list[Conversation]) -> None:
            latest = max(conversations, key=lambda c: c.updated, default=None)
            self.set_last(latest)

        self.ctx.spawn(self.ctx.engine.conversations.listing(), on_result=show, name="quick-prompt-last")

    def set_last(self, conversation: Conversation | None) -> None:
        """The conversation "Continue" sends to (None: only "New conversation" is possible)."""
        had = self.last is not None
        self.last = conversation
        self.continue_radio.setEnabled(conversation is not None)
        if conversation is None:
            self.continue_radio.setText("Continue")
            self.new_radio.setChecked(True)
            return
        title = conversation.title if len(conversation.title) <= 32 else conversation.title[:31] + "…"
        self.continue_radio.setText(f"Continue “{title}”")
        self.continue_radio.setToolTip(f"Send to “{conversation.title}”: the model sees what was said there")
        if not had:
            self.continue_radio.setChecked(True)

    def send(self) -> bool:
        """Stream the prompt's answer in the last conversation or a new one. Returns False when nothing was sent."""
        if self.is_running:
            return False
        if not self.ctx.ready:
            self._info("The engine is still starting; try again in a moment.", error=True)
            return False
        text = self.prompt_edit.text()
        if not text.strip():
            self._info("The prompt is empty: type a question first.", error=True)
            return False
        target = self.last.id if self.continue_radio.isChecked() and self.last is not None else None
        conversations = self.ctx.engine.conversations

        async def turn() -> AsyncIterator[Any]:
            cid = target or (await conversations.create()).id
            self.conversation_id = cid
            async for item in conversations.send(cid, text):
                yield item

        self.copy_button.setEnabled(False)
        self.simulated_badge.hide()
        self.answer_view.clear()
        self.stream.start(turn)
        self._info("Waiting for the first token…")
        return True

    def stop(self) -> bool:
        return self.stream.stop()

    def copy(self) -> None:
        text = self.answer_view.toPlainText()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copy_button.setText("Copied ✓")
            self._copied.start()

    def show_near(self, anchor: QPoint | None = None) -> None:
        """Show the popup next to ``anchor`` (the tray icon or the cursor), inside that screen, and focus it."""
        self.refresh_last()
        anchor = anchor if anchor is not None else QCursor.pos()
        screen = QGuiApplication.screenAt(anchor) or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            x = anchor.x() - self.width() // 2
            # Open away from the screen edge the anchor is on (a bottom taskbar: above it; a top bar: below).
            y = anchor.y() - self.height() - 8 if anchor.y() > area.center().y() else anchor.y() + 8
            x = max(area.left() + 8, min(x, area.right() - self.width() - 8))
            y = max(area.top() + 8, min(y, area.bottom() - self.height() - 8))
            self.move(x, y)
        if self.isVisible():
            self.raise_()  # a newly shown window is on top already (and stays there)
        self.show()
        self.activateWindow()
        self.prompt_edit.setFocus()
        self.prompt_edit.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if not self.stop():
                self.hide()
            event.accept()
            return
        super().keyPressEvent(event)

    def _append(self, update: StreamUpdate) -> None:
        if update.text:
            cursor = QTextCursor(self.answer_view.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(update.text)
            bar = self.answer_view.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _info(self, text: str, *, error: bool = False) -> None:
        self.info_label.setStyleSheet(f"color: {state_color('error')};" if error else "")
        self.info_label.setText(text)

    def _open(self) -> None:
        if self.conversation_id:
            self.ctx.events.open_conversation.emit(self.conversation_id)

    def _on_finished(self, result: object) -> None:
        if isinstance(result, ChatTurn):
            answer = result.answer
            if answer.text != self.answer_view.toPlainText():
                self.answer_view.setPlainText(answer.text)
            fell = " · fell back" if result.response.fell_back else ""
            cost = cost_text(answer.cost_usd, answer.cost_source)
            cost = f"cost {cost}" if cost == "unknown" else cost
            self._info(f"{answer.model} · {cost} · {fmt_ms(answer.latency_ms)}{fell}")
            self.simulated_badge.setVisible(answer.simulated)
        elif isinstance(result, Cancelled):
            self._info("Stopped — the partial answer is kept" if self.answer_view.toPlainText() else "Stopped")
        elif isinstance(result, BaseException):
            self._info(str(result), error=True)
        self.copy_button.setEnabled(bool(self.answer_view.toPlainText()))
        self.open_button.setEnabled(bool(self.conversation_id))
        if self.conversation_id:
            self.ctx.events.conversations_changed.emit(self.conversation_id)
            self.refresh_last()  # "Continue" now means this conversation
        self.finished.emit(result)


class TrayController(QObject):
    """The tray icon and its menu, when the desktop has a tray (``available``); the popup in any case."""

    quit_requested = Signal()

    def __init__(self, ctx: GuiContext, window: Any, icon: QIcon | None = None) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: QSystemTrayIcon | None = None
        self.menu: QMenu | None = None
        self._popup: QuickPromptPopup | None = None
        self._told = False
        if self.available:
            self.tray = QSystemTrayIcon(app_icon() if icon is None else icon, self)
            self.tray.setToolTip("AutoDevAI")
            self.menu = QMenu(window)
            self.menu.addAction("Quick prompt…", self.show_popup)
            self.menu.addAction("Show AutoDevAI", self.show_window)
            self.menu.addSeparator()
            self.menu.addAction("Quit", self.quit_requested.emit)
            self.tray.setContextMenu(self.menu)
            self.tray.activated.connect(self._on_activated)
            self.tray.show()
            window.installEventFilter(self)
        self.apply_settings()
        ctx.events.settings_changed.connect(lambda _s: self.apply_settings())

    @property
    def popup(self) -> QuickPromptPopup:
        """The quick-prompt popup (built on first use)."""
        if self._popup is None:
            self._popup = QuickPromptPopup(self.ctx)
            quit_action = getattr(self.window, "quit_action", None)
            if quit_action is not None:  # Ctrl+Q quits from the popup too, while the window hides in the tray
                self._popup.addAction(quit_action)
        return self._popup

    def apply_settings(self) -> None:
        """Re-read "keep running in the tray when the window closes" (only meaningful with a tray)."""
        keep = self.ctx.qsettings.value(KEEP_RUNNING_KEY, False, type=bool)
        self.window.keep_in_tray = bool(self.available and keep)

    def show_popup(self) -> None:
        anchor = None
        if self.tray is not None:
            rect = self.tray.geometry()
            anchor = rect.center() if rect.isValid() and not rect.isEmpty() else None
        self.popup.show_near(anchor)

    def toggle_popup(self) -> None:
        if self._popup is not None and self._popup.isVisible():
            self._popup.hide()
        else:
            self.show_popup()

    def show_window(self) -> None:
        w = self.window
        w.setWindowState(w.windowState() & ~Qt.WindowState.WindowMinimized)
        w.show()
        w.raise_()
        w.activateWindow()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_popup()
        elif reason == QSystemTrayIcon.ActivationReason.DoubleClick:
            self.show_window()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The first time the window hides into the tray, say where the app went.
        hides = bool(self.window.keep_in_tray) and event.type() == QEvent.Type.Close
        if hides and watched is self.window and not self._told and self.tray is not None:
            self._told = True
            self.tray.showMessage(
                "AutoDevAI is still running",
                "It keeps running in the tray. Use Quit in the tray menu to exit.",
                QSystemTrayIcon.MessageIcon.Information,
                4000,
            )
        return False
