"""A conversation's routing options as a bar above its thread: routing preference, a pinned model, max tokens and
the system prompt (and the tools, when the preset has some). Edits become the conversation's ``Preset``
(``changed``), saved with ``Conversations.set_preset``; a message can still override the model on its own (the
composer's "this message only" field).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.conversations import Preset
from autodevai.engine.types import Preference

__all__ = ["PREFERENCE_TIPS", "PresetBar", "model_completer"]

PREFERENCE_TIPS = {
    Preference.BALANCED: "A weighted mix of price, quality, measured latency and success rate",
    Preference.COST: "The cheapest model whose window fits the thread",
    Preference.QUALITY: "The model with the best public benchmark prior",
    Preference.SPEED: "The model with the lowest measured (or estimated) latency",
}
SAVE_MS = 600  # typing in the system prompt saves once the typing pauses


def model_completer(parent: QWidget, model: QStringListModel) -> QCompleter:
    completer = QCompleter(model, parent)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setMaxVisibleItems(12)
    return completer


class PresetBar(QWidget):
    """``set_preset`` shows a conversation's preset; user edits emit ``changed(Preset)``."""

    changed = Signal(object)  # Preset

    def __init__(self, models: QStringListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self._tools: list[object] | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Routing"))
        self.preference_combo = QComboBox()
        self.preference_combo.addItem("Default", None)
        self.preference_combo.setItemData(0, "The default preference from Configure", Qt.ItemDataRole.ToolTipRole)
        for pref, tip in PREFERENCE_TIPS.items():
            self.preference_combo.addItem(pref.value.capitalize(), pref.value)
            self.preference_combo.setItemData(self.preference_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.preference_combo.setToolTip("What routing optimizes for in this conversation when no model is pinned")
        self.preference_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preference_combo.activated.connect(lambda _i: self._emit())
        row.addWidget(self.preference_combo)
        row.addWidget(QLabel("Model"))
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("Routed per message")
        self.model_edit.setClearButtonEnabled(True)
        self.model_edit.setToolTip(
            "Pin a model for this conversation (e.g. openai/gpt-4o), or leave empty to let routing choose each time;"
            " fallbacks still apply"
        )
        self.model_edit.setCompleter(model_completer(self, models))
        self.model_edit.setMinimumWidth(120)
        self.model_edit.editingFinished.connect(self._emit)
        row.addWidget(self.model_edit, 1)
        row.addWidget(QLabel("Max tokens"))
        self.max_tokens_spin = QSpinBox()
        self.max_tokens_spin.setRange(0, 1_000_000)
        self.max_tokens_spin.setSpecialValueText("Default")
        self.max_tokens_spin.setSingleStep(256)
        self.max_tokens_spin.setGroupSeparatorShown(True)
        self.max_tokens_spin.setToolTip("The longest answer allowed; the budget reserves its worst-case cost")
        self.max_tokens_spin.editingFinished.connect(self._emit)
        row.addWidget(self.max_tokens_spin)
        self.system_toggle = QToolButton()
        self.system_toggle.setText("System prompt")
        self.system_toggle.setCheckable(True)
        self.system_toggle.setAutoRaise(True)
        self.system_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.system_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.system_toggle.setToolTip("Instructions the model follows in this conversation")
        self.system_toggle.toggled.connect(self.set_system_visible)
        row.addWidget(self.system_toggle)
        self.tools_label = QLabel()
        self.tools_label.setProperty("role", "muted")
        self.tools_label.setToolTip("Function tools offered to the model in this conversation")
        self.tools_label.hide()  # the panel places it (beside the conversation's title)
        col.addLayout(row)
        self.system_edit = QPlainTextEdit()
        self.system_edit.setPlaceholderText("Optional: instructions the model follows in this conversation")
        self.system_edit.setTabChangesFocus(True)
        self.system_edit.setFixedHeight(60)
        self.system_edit.hide()
        col.addWidget(self.system_edit)
        self._save = QTimer(self)
        self._save.setSingleShot(True)
        self._save.setInterval(SAVE_MS)
        self._save.timeout.connect(self._emit)
        self.system_edit.textChanged.connect(self._system_edited)

    def preset(self) -> Preset:
        """The preset the bar shows now."""
        pref = self.preference_combo.currentData()
        return Preset.model_validate(
            {
                "system": self.system_edit.toPlainText().strip() or None,
                "model": self.model_edit.text().strip() or None,
                "preference": pref,
                "max_tokens": self.max_tokens_spin.value() or None,
                "tools": self._tools,
            }
        )

    def set_preset(self, preset: Preset, default: Preference | None = None) -> None:
        """Show ``preset`` (no ``changed``); ``default`` names the settings' preference in "Default"."""
        self._loading = True
        try:
            if default is not None:
                self.preference_combo.setItemText(0, f"Default ({default.value})")
            value = preset.preference.value if preset.preference is not None else None
            self.preference_combo.setCurrentIndex(max(0, self.preference_combo.findData(value)))
            self.model_edit.setText(preset.model or "")
            self.max_tokens_spin.setValue(preset.max_tokens or 0)
            self.system_edit.setPlainText(preset.system or "")
            self._tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in preset.tools or ()]
            self._tools = self._tools or None
            names = [str(t.function.name) for t in preset.tools or () if t.function is not None]
            self.tools_label.setText(f"Tools: {', '.join(names)}")
            self.tools_label.setVisible(bool(names))
            self._label_system()
        finally:
            self._loading = False

    def set_tools(self, tools: Sequence[dict[str, object]]) -> None:
        """Offer these OpenAI function tools in this conversation (an empty list: none)."""
        preset = self.preset().model_copy(update={"tools": None})
        data = preset.model_dump() | {"tools": [dict(t) for t in tools] or None}
        self.set_preset(Preset.model_validate(data))
        self._emit()

    def set_system_visible(self, on: bool) -> None:
        self.system_edit.setVisible(on)
        self.system_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        if self.system_toggle.isChecked() != on:
            self.system_toggle.setChecked(on)
        self._label_system()
        if on:
            self.system_edit.setFocus()

    def _label_system(self) -> None:
        hidden_text = not self.system_edit.isVisible() and self.system_edit.toPlainText().strip()
        self.system_toggle.setText("System prompt (in use)" if hidden_text else "System prompt")

    def _system_edited(self) -> None:
        if not self._loading:
            self._save.start()

    def _emit(self) -> None:
        self._save.stop()
        if not self._loading:
            self.changed.emit(self.preset())
