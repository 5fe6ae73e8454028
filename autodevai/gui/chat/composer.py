"""Writing a message: the prompt (Ctrl+Enter sends, Esc stops), attachments by picker, paste or drop, a model
for this message only, the compare row (2-4 models or "cheapest / best / fastest / balanced"), Send and Stop,
the running status, and the banner shown while you edit an earlier message (sending then makes a branch).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.chat import COMPARE_ALIASES
from autodevai.engine.prompt import user_content
from autodevai.gui.answer_details import MUTED
from autodevai.gui.attachments import AttachmentStrip, PromptEdit, pick_files
from autodevai.gui.bridge import GuiContext
from autodevai.gui.chat.preset_bar import model_completer
from autodevai.gui.widgets import ElidedLabel

__all__ = ["Composer"]

COMPARE_SLOTS = 4
COMPARE_DEFAULTS = ("cheapest", "best", "", "")


class Composer(QWidget):
    """``send_requested`` when you send, ``stop_requested`` on Stop or Esc; read ``content()`` and ``options()``."""

    send_requested = Signal()
    stop_requested = Signal()
    edit_cancelled = Signal()

    invalid_label: QLabel

    def __init__(self, ctx: GuiContext, models: QStringListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editing: str | None = None  # the id of the message being edited
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)

        self.edit_banner = QFrame()
        self.edit_banner.setProperty("role", "card")
        banner = QHBoxLayout(self.edit_banner)
        banner.setContentsMargins(10, 4, 4, 4)
        self.edit_label = QLabel("Editing your message — sending makes a new branch; the old one stays.")
        banner.addWidget(self.edit_label, 1)
        cancel = QToolButton()
        cancel.setText("Cancel")
        cancel.setAutoRaise(True)
        cancel.setToolTip("Stop editing (the message stays as it was)")
        cancel.clicked.connect(self.cancel_edit)
        banner.addWidget(cancel)
        self.edit_banner.hide()
        col.addWidget(self.edit_banner)

        self.prompt_edit = PromptEdit()
        self.prompt_edit.setPlaceholderText("Message… Paste or drop images, PDFs and text files. Ctrl+Enter sends.")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setFixedHeight(84)
        self.prompt_edit.textChanged.connect(lambda: self.invalid_label.hide())
        col.addWidget(self.prompt_edit)
        self.attachments = AttachmentStrip(ctx)
        self.attachments.failed.connect(self.show_invalid)
        self.prompt_edit.files_dropped.connect(self.attachments.add_files)
        self.prompt_edit.image_pasted.connect(self.attachments.add_image)
        col.addWidget(self.attachments)
        self.invalid_label = QLabel()
        self.invalid_label.setProperty("role", "error")
        self.invalid_label.setWordWrap(True)
        self.invalid_label.hide()
        col.addWidget(self.invalid_label)

        self.compare_row = QWidget()
        compare = QHBoxLayout(self.compare_row)
        compare.setContentsMargins(0, 0, 0, 0)
        compare.addWidget(QLabel("Compare"))
        self.target_combos: list[QComboBox] = []
        for default in COMPARE_DEFAULTS:
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(["", *COMPARE_ALIASES])
            combo.setCurrentText(default)
            combo.setMinimumWidth(110)
            line = combo.lineEdit()
            if line is not None:
                line.setPlaceholderText("model or alias")
                line.setCompleter(model_completer(combo, models))
            combo.setToolTip("A model id, or cheapest / best / fastest / balanced (routing picks the model)")
            compare.addWidget(combo, 1)
            self.target_combos.append(combo)
        self.compare_row.hide()
        col.addWidget(self.compare_row)

        row = QHBoxLayout()
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setToolTip("Attach images, PDFs or text files (or paste or drop them on the message)")
        self.attach_button.clicked.connect(lambda: pick_files(self, self.attachments.add_files))
        row.addWidget(self.attach_button)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip("Send the next message to 2-4 models side by side, then continue with one")
        self.compare_button.toggled.connect(self._compare_toggled)
        row.addWidget(self.compare_button)
        self.once_edit = QLineEdit()
        self.once_edit.setPlaceholderText("Model for this message")
        self.once_edit.setClearButtonEnabled(True)
        self.once_edit.setToolTip("Send this message to another model than the conversation's; cleared after it")
        self.once_edit.setCompleter(model_completer(self, models))
        self.once_edit.setMinimumWidth(170)
        self.once_edit.setMaximumWidth(230)
        row.addWidget(self.once_edit, 1)
        self.status_label = ElidedLabel()
        self.status_label.setProperty("role", "muted")
        row.addWidget(self.status_label, 1)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Cancel the answer; what arrived is kept on screen (Esc)")
        self.stop_button.setStyleSheet(f"QPushButton:disabled {{ color: {MUTED}; }}")
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.send_button = QPushButton("Send")
        self.send_button.setProperty("role", "primary")
        self.send_button.setToolTip("Send the message (Ctrl+Enter)")
        self.send_button.clicked.connect(self.send_requested.emit)
        row.addWidget(self.stop_button)
        row.addWidget(self.send_button)
        col.addLayout(row)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.send_requested.emit, context=context)
        QShortcut(QKeySequence("Escape"), self, self._escape, context=context)
        self.set_running(False)

    # ---- reading -------------------------------------------------------------------------------------------

    @property
    def comparing(self) -> bool:
        return self.compare_button.isChecked()

    def text(self) -> str:
        return self.prompt_edit.toPlainText()

    def content(self) -> str | list[dict[str, Any]]:
        """The message: its text, or (with attachments) a text part and one part per attachment."""
        return user_content(self.text(), self.attachments.parts())

    def options(self) -> dict[str, Any]:
        """This message's own options: the "this message only" model, when set."""
        model = self.once_edit.text().strip()
        return {"model": model} if model else {}

    def targets(self) -> list[str]:
        return [t for t in (c.currentText().strip() for c in self.target_combos) if t]

    # ---- state -------------------------------------------------------------------------------------------

    def sent(self) -> None:
        """The message went: clear the prompt, attachments and the one-message model, and leave edit mode."""
        self.prompt_edit.clear()
        self.attachments.clear()
        self.once_edit.clear()
        self.invalid_label.hide()
        self._leave_edit()

    def set_running(self, running: bool) -> None:
        self.send_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_invalid(self, text: str) -> None:
        self.invalid_label.setText(text)
        self.invalid_label.show()

    def begin_edit(self, message_id: str, text: str) -> None:
        """Put an earlier message of yours in the prompt; sending it makes a new branch."""
        self.editing = message_id
        self.compare_button.setChecked(False)
        self.prompt_edit.setPlainText(text)
        self.edit_banner.show()
        self.send_button.setText("Send edit")
        self.prompt_edit.setFocus()

    def cancel_edit(self) -> None:
        if self.editing is not None:
            self.prompt_edit.clear()
            self._leave_edit()
            self.edit_cancelled.emit()

    def _leave_edit(self) -> None:
        self.editing = None
        self.edit_banner.hide()
        self.send_button.setText("Compare" if self.comparing else "Send")

    def _compare_toggled(self, on: bool) -> None:
        self.compare_row.setVisible(on)
        if self.editing is None:
            self.send_button.setText("Compare" if on else "Send")

    def _escape(self) -> None:
        if self.stop_button.isEnabled():
            self.stop_requested.emit()
        elif self.editing is not None:
            self.cancel_edit()
