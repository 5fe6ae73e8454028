"""The Execute panel: write a prompt (attach images by button, paste or drop), let the router pick a model (or
name one), watch the answer stream in — with the model's reasoning above it and its tool calls below — and see
which model answered, what it cost, how long it took and why it was chosen.

A "Simulated" badge next to the answer's title marks answers AutoDevAI's simulator wrote. The details' formatting
(``details_html``, ``error_html``, re-exported here) lives in ``answer_details``; the streaming pump
(``AnswerStream``, re-exported here for the tray), the attachment strip and the reasoning / tool-call views live
in ``answer_stream``, ``attachments`` and ``answer_extras``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.constants import DEFAULT_MAX_TOKENS
from autodevai.engine.errors import Cancelled, StreamInterrupted
from autodevai.engine.prompt import build_request, user_content
from autodevai.engine.types import ChatMessage, EngineResponse, Preference
from autodevai.gui.answer_details import MUTED, attempts_trail, details_html, error_html, validation_text
from autodevai.gui.answer_extras import AnswerExtras
from autodevai.gui.answer_stream import AnswerStream
from autodevai.gui.attachments import AttachmentStrip, PromptEdit, pick_images
from autodevai.gui.bridge import GuiContext
from autodevai.gui.context_view import ContextView
from autodevai.gui.labels import simulated_badge
from autodevai.gui.panels.base import Panel
from autodevai.gui.widgets import Card, see_through
from autodevai.text import fmt_ms

__all__ = ["AnswerStream", "ExecutePanel", "attempts_trail", "details_html", "error_html", "validation_text"]

ANSWER_PLACEHOLDER = "The answer streams here as it arrives."
PREFERENCE_TIPS = {
    Preference.BALANCED: "A weighted mix of price, quality, measured latency and success rate",
    Preference.COST: "The cheapest model whose window fits the request",
    Preference.QUALITY: "The model with the best public benchmark prior",
    Preference.SPEED: "The model with the lowest measured (or estimated) latency",
}


# ---- the panel --------------------------------------------------------------------------------------------


class ExecutePanel(Panel):
    title = "Execute"
    subtitle = (
        "Send a prompt to the model that best fits your preference across every configured provider. "
        "If it fails, the next one answers; the details say who answered, what it cost and why."
    )

    finished = Signal(object)  # EngineResponse, or the exception the request ended with

    prompt_edit: QPlainTextEdit
    system_edit: QPlainTextEdit
    invalid_label: QLabel
    answer_view: QPlainTextEdit
    details_label: QLabel

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._pref_touched = False
        self._catalog_version = -1
        self._tools: list[dict[str, Any]] = []
        self.extras = AnswerExtras(self)  # the reasoning and tool-call views, placed around the answer

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_main())
        split.addWidget(self._build_side())
        split.setStretchFactor(0, 1)
        split.setSizes([640, 320])
        self.body.addWidget(split, 1)

        self.stream = AnswerStream(ctx, self.answer_view, self)
        self.stream.first_token.connect(self._tick)
        self.stream.piece.connect(self.extras.feed)
        self.stream.finished.connect(self._on_finished)
        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(self._tick)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.send, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Escape"), self, self.stop, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for changed in (
            self.prompt_edit.textChanged,
            self.system_edit.textChanged,
            self.model_edit.textChanged,
            self.max_tokens_spin.valueChanged,
            self.attachments.changed,
        ):
            changed.connect(self.context_view.schedule)
        ctx.events.use_model.connect(self.use_model)
        ctx.events.settings_changed.connect(lambda _s: self._apply_defaults())
        self._set_running(False)
        self._show_idle_details()
        if ctx.ready:
            self._apply_defaults()

    def _build_main(self) -> QWidget:
        main = QWidget()
        col = QVBoxLayout(main)
        col.setContentsMargins(0, 0, 6, 0)
        col.setSpacing(6)
        self.system_toggle = QToolButton()
        self.system_toggle.setText("System prompt")
        self.system_toggle.setAutoRaise(True)
        self.system_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.system_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.system_toggle.setToolTip("Show or hide the instructions sent before your prompt")
        self.system_toggle.clicked.connect(lambda: self.set_system_visible(not self.system_edit.isVisible()))
        col.addWidget(self.system_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.system_edit = QPlainTextEdit()
        self.system_edit.setPlaceholderText("Optional: instructions the model follows for this request")
        self.system_edit.setTabChangesFocus(True)
        self.system_edit.setFixedHeight(64)
        self.system_edit.hide()
        self.system_edit.textChanged.connect(self._label_system_toggle)
        col.addWidget(self.system_edit)

        self.prompt_edit = PromptEdit()
        self.prompt_edit.setPlaceholderText("Ask anything… Paste or drop images here. Ctrl+Enter sends.")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setMinimumHeight(90)
        self.prompt_edit.textChanged.connect(lambda: self.invalid_label.hide())
        col.addWidget(self.prompt_edit, 2)
        self.attachments = AttachmentStrip(self.ctx)
        self.attachments.failed.connect(self._show_invalid)
        self.prompt_edit.files_dropped.connect(self.attachments.add_files)
        self.prompt_edit.image_pasted.connect(self.attachments.add_image)
        col.addWidget(self.attachments)
        self.invalid_label = QLabel()
        self.invalid_label.setProperty("role", "error")
        self.invalid_label.setWordWrap(True)
        self.invalid_label.hide()
        col.addWidget(self.invalid_label)

        row = QHBoxLayout()
        self.attach_button = QPushButton("Attach image…")
        self.attach_button.setToolTip("Attach images (or paste or drop them on the prompt); routing then picks a model")
        self.attach_button.clicked.connect(lambda: pick_images(self, self.attachments.add_files))
        row.addWidget(self.attach_button)
        hint = QLabel("Ctrl+Enter to send · Esc to stop")
        hint.setProperty("role", "muted")
        row.addWidget(hint)
        row.addStretch(1)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Cancel the request; the partial answer is kept (Esc)")
        self.stop_button.clicked.connect(self.stop)
        # The palette gives disabled buttons the same text color; say "not now" the way the Send button does.
        self.stop_button.setStyleSheet(f"QPushButton:disabled {{ color: {MUTED}; }}")
        self.send_button = QPushButton("Send")
        self.send_button.setProperty("role", "primary")
        self.send_button.setToolTip("Send the prompt (Ctrl+Enter)")
        self.send_button.clicked.connect(self.send)
        row.addWidget(self.stop_button)
        row.addWidget(self.send_button)
        col.addLayout(row)

        head = QHBoxLayout()
        head.setContentsMargins(0, 6, 0, 0)
        head.addWidget(QLabel("<b>Answer</b>"))
        self.simulated_badge = simulated_badge()
        head.addWidget(self.simulated_badge)
        head.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setProperty("role", "muted")
        head.addWidget(self.status_label)
        col.addLayout(head)
        self.answer_view = QPlainTextEdit()
        self.answer_view.setReadOnly(True)
        self.answer_view.setPlaceholderText(ANSWER_PLACEHOLDER)
        col.addWidget(self.extras.reasoning)
        col.addWidget(self.answer_view, 5)
        col.addWidget(self.extras.tool_calls)
        return main

    def _build_side(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(280)
        col = QVBoxLayout(side)
        col.setContentsMargins(6, 0, 0, 0)
        col.setSpacing(10)

        options = Card("Options")
        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.preference_combo = QComboBox()
        for pref in (Preference.BALANCED, Preference.COST, Preference.QUALITY, Preference.SPEED):
            self.preference_combo.addItem(pref.value.capitalize(), pref.value)
            self.preference_combo.setItemData(
                self.preference_combo.count() - 1, PREFERENCE_TIPS[pref], Qt.ItemDataRole.ToolTipRole
            )
        self.preference_combo.setToolTip("What routing optimizes for when no model is named")
        self.preference_combo.activated.connect(lambda _i: setattr(self, "_pref_touched", True))
        form.addRow("Routing", self.preference_combo)
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("Routed automatically")
        self.model_edit.setClearButtonEnabled(True)
        self.model_edit.setToolTip(
            "Leave empty to let routing choose, or type a model id (e.g. openai/gpt-4o); fallbacks still apply"
        )
        self._completer_model = QStringListModel(self)
        completer = QCompleter(self._completer_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(12)
        self.model_edit.setCompleter(completer)
        form.addRow("Model", self.model_edit)
        self.max_tokens_spin = QSpinBox()
        self.max_tokens_spin.setRange(1, 1_000_000)
        self.max_tokens_spin.setSingleStep(256)
        self.max_tokens_spin.setGroupSeparatorShown(True)
        self.max_tokens_spin.setValue(DEFAULT_MAX_TOKENS)
        self.max_tokens_spin.setToolTip("The longest answer allowed; the budget reserves its worst-case cost")
        form.addRow("Max tokens", self.max_tokens_spin)
        self.tools_label = QLabel()
        self.tools_label.setWordWrap(True)
        self.tools_label.setToolTip("Function tools offered to the model; its calls show under the answer")
        form.addRow("Tools", self.tools_label)
        form.setRowVisible(self.tools_label, False)
        self._options_form = form
        options.body.addLayout(form)
        col.addWidget(options)

        self.context_view = ContextView(self.ctx, self._context_source)
        col.addWidget(self.context_view)

        details = Card("Details")
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.RichText)
        self.details_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.details_label)
        see_through(scroll)
        details.body.addWidget(scroll, 1)
        col.addWidget(details, 1)
        return side

    def _context_source(self) -> tuple[list[ChatMessage], str | None, int]:
        messages = []
        system = self.system_edit.toPlainText()
        if system.strip():
            messages.append(ChatMessage(role="system", content=system))
        messages.append(ChatMessage.model_validate({"role": "user", "content": self._user_content()}))
        return messages, self.model_edit.text().strip() or None, self.max_tokens_spin.value()

    def _user_content(self) -> str | list[dict[str, Any]]:
        """The prompt: its text, or (with attachments) a text part and one image part per attachment."""
        return user_content(self.prompt_edit.toPlainText(), self.attachments.parts())

    # ---- public -------------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.stream.running

    def preference(self) -> Preference:
        return Preference(self.preference_combo.currentData())

    def set_preference(self, pref: Preference | str) -> None:
        self.preference_combo.setCurrentIndex(self.preference_combo.findData(Preference(pref).value))
        self._pref_touched = True

    def use_model(self, model_id: str) -> None:
        """Fill the model override (from the Models panel) and get ready for a prompt."""
        self.model_edit.setText(model_id)
        self.prompt_edit.setFocus()

    def set_tools(self, tools: Sequence[dict[str, Any]]) -> None:
        """Offer these OpenAI function tools (``{"type": "function", "function": {...}}``) with the next
        requests; an empty list offers none. The model's calls show under the answer."""
        self._tools = [dict(t) for t in tools]
        names = [str(t.get("function", {}).get("name", "?")) for t in self._tools]
        self.tools_label.setText(", ".join(names))
        self._options_form.setRowVisible(self.tools_label, bool(names))

    def set_system_visible(self, on: bool) -> None:
        """Show or hide the system prompt field (its text is sent either way when not empty)."""
        self.system_edit.setVisible(on)
        self.system_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._label_system_toggle()
        if on:
            self.system_edit.setFocus()

    def _label_system_toggle(self) -> None:
        # Collapsed but not empty: it is still sent, so say so.
        hidden_text = not self.system_edit.isVisible() and self.system_edit.toPlainText().strip()
        self.system_toggle.setText("System prompt (in use)" if hidden_text else "System prompt")

    def send(self) -> bool:
        """Validate and stream the prompt. Returns False (and says why inline) when nothing was sent."""
        if self.is_running:
            return False
        if not self.ctx.ready:
            self._show_invalid("The engine is still starting; try again in a moment.")
            return False
        if self.attachments.loading:
            self._show_invalid("An image is still being read; send again in a moment.")
            return False
        pref = self.preference()
        try:
            request = build_request(
                self.prompt_edit.toPlainText(),
                system=self.system_edit.toPlainText().strip(),
                model=self.model_edit.text().strip() or None,
                preference=pref,
                max_tokens=self.max_tokens_spin.value(),
                parts=self.attachments.parts(),
                tools=self._tools or None,
            )
        except ValidationError as exc:
            self._show_invalid(validation_text(exc))
            return False
        self.invalid_label.hide()
        self.simulated_badge.hide()
        self.extras.reset()
        self.answer_view.setPlaceholderText(ANSWER_PLACEHOLDER)
        self.stream.start(request, pref)
        self._set_running(True)
        self.details_label.setText(f'<span style="color:{MUTED}">Waiting for the answer…</span>')
        self._tick()
        return True

    def stop(self) -> bool:
        """Cancel the running request (Esc); the partial answer stays. Returns False when idle."""
        return self.stream.stop()

    # ---- Panel ---------------------------------------------------------------------------------------------

    def on_engine_ready(self) -> None:
        self._apply_defaults()
        super().on_engine_ready()

    def on_shown(self) -> None:
        self._refresh_models()
        if not self.is_running:
            self.prompt_edit.setFocus()

    # ---- internals -----------------------------------------------------------------------------------------

    def _apply_defaults(self) -> None:
        if not self.ctx.ready:
            return
        engine = self.ctx.engine
        if not self._pref_touched:
            index = self.preference_combo.findData(engine.settings.routing.default_preference.value)
            self.preference_combo.setCurrentIndex(max(index, 0))
        self._refresh_models()

    def _refresh_models(self) -> None:
        if not self.ctx.ready or self.ctx.engine.catalog_version == self._catalog_version:
            return
        engine = self.ctx.engine
        models = engine.models()
        self._catalog_version = engine.catalog_version
        self._completer_model.setStringList(sorted({m.id for m in models}))

    def _show_invalid(self, text: str) -> None:
        self.invalid_label.setText(text)
        self.invalid_label.show()

    def _set_running(self, running: bool) -> None:
        self.send_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self._ticker.start()
        else:
            self._ticker.stop()

    def _tick(self) -> None:
        if not self.is_running:
            return
        s = self.stream
        source = f" · {s.model}" if s.model else ""
        if s.first_at is None:
            self.status_label.setText(f"Waiting for the first token… {s.elapsed():.1f} s{source}")
        elif self.extras.reasoning.isVisible() and self.answer_view.document().isEmpty():
            self.status_label.setText(f"Reasoning… {s.elapsed():.1f} s{source}")
        else:
            self.status_label.setText(f"Streaming… {s.elapsed():.1f} s{source}")

    def _show_idle_details(self) -> None:
        self.details_label.setText(
            f'<span style="color:{MUTED}">Send a prompt to see which model answered, its tokens, cost and '
            "latency, and why routing chose it.</span>"
        )

    def _on_finished(self, result: object) -> None:
        self._set_running(False)
        elapsed = self.stream.elapsed()
        kept = len(self.answer_view.toPlainText())
        self.extras.finish(result)
        if isinstance(result, EngineResponse):
            if result.tool_calls and not result.content:
                self.answer_view.setPlaceholderText("No text: the model answered with tool calls (below).")
            self.status_label.setText(f"Done in {fmt_ms(result.latency_ms)}")
            self.simulated_badge.setVisible(result.simulated)
            self.details_label.setText(details_html(result))
            self.context_view.show_compression(result.compression)
        elif isinstance(result, Cancelled):
            what = f"the partial answer ({kept:,} characters) is kept" if kept else "before the first token"
            self.status_label.setText("Stopped" + (" — partial answer kept" if kept else ""))
            self.details_label.setText(
                f"<p><b>Stopped</b> after {elapsed:.1f} s; {what}.</p>"
                f'<p style="color:{MUTED}">Nothing is charged beyond what the provider reported.</p>'
            )
        elif isinstance(result, BaseException):
            interrupted = isinstance(result, StreamInterrupted)
            self.status_label.setText("Interrupted — partial answer kept" if interrupted and kept else "Failed")
            self.details_label.setText(error_html(result))
        self.finished.emit(result)
