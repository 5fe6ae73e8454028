"""What an answer carries besides its text, as the Execute panel shows it: the model's reasoning (a collapsible
"Reasoning" section above the answer, streamed live) and the tool calls it made (name and indented arguments, in
a monospace view below the answer).

Owns ``ToolCallAssembler`` (stream pieces → whole calls, by index, as OpenAI's streaming spec joins them),
``tool_calls_text`` (the pure formatting), the two views, and ``AnswerExtras``, which feeds both from an
``AnswerStream``'s pieces and settles them from the final ``EngineResponse`` (the source of truth when they
differ, e.g. after a fallback).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRect, Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase, QResizeEvent, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from autodevai.engine.types import EngineResponse, StreamDelta, ToolCall, ToolCallDelta

__all__ = ["AnswerExtras", "ReasoningView", "ToolCallAssembler", "ToolCallsView", "tool_calls_text"]

FLUSH_MS = 40  # reasoning pieces are coalesced like answer text
MUTED = "#8b9099"  # the themes' placeholder gray: readable on light and dark backgrounds
REASONING_MAX_HEIGHT = 150
TOOLS_MAX_HEIGHT = 220


@dataclass
class _Partial:
    id: str = ""
    name: str = ""
    arguments: str = ""
    type: str = "function"


class ToolCallAssembler:
    """Joins streamed ``ToolCallDelta`` pieces: the same ``index`` is one call; id, type and name arrive once,
    argument fragments are concatenated in order."""

    def __init__(self) -> None:
        self._calls: dict[int, _Partial] = {}

    def reset(self) -> None:
        self._calls.clear()

    def feed(self, delta: ToolCallDelta) -> None:
        call = self._calls.setdefault(delta.index, _Partial())
        if delta.id:
            call.id = delta.id
        if delta.name:
            call.name = delta.name
        if delta.type:
            call.type = delta.type
        call.arguments += delta.arguments

    def calls(self) -> list[ToolCall]:
        return [ToolCall(c.id, c.name, c.arguments, c.type) for _, c in sorted(self._calls.items())]


def _pretty_arguments(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments  # still streaming, or the model wrote invalid JSON: show it as it is


def tool_calls_text(calls: Sequence[ToolCall]) -> str:
    """Each call as ``name  · id`` then its arguments as indented JSON (as written when not valid JSON)."""
    blocks = []
    for call in calls:
        head = f"{call.name or '…'}  · {call.id}" if call.id else call.name or "…"
        blocks.append(f"{head}\n{_pretty_arguments(call.arguments)}")
    return "\n\n".join(blocks)


class ReasoningView(QWidget):
    """A collapsible "Reasoning" section: hidden until reasoning arrives, then streamed in live. Whether it is
    expanded is the user's choice and stays so for the next answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        self._expanded = True
        self.toggle = QToolButton()  # styled like the panel's "System prompt" toggle
        self.toggle.setText("Reasoning")
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setToolTip("Show or hide how the model reasoned before answering")
        self.toggle.clicked.connect(lambda: self.set_expanded(not self._expanded))
        col.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        font = self.text_view.font()
        font.setItalic(True)
        self.text_view.setFont(font)
        self.text_view.setStyleSheet(f"QPlainTextEdit {{ color: {MUTED}; }}")
        col.addWidget(self.text_view)
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self.hide()

    @property
    def expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, on: bool) -> None:
        """Show or hide the reasoning text (the header stays); the choice holds for the next answers."""
        self._expanded = on
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.text_view.setVisible(on)

    def text(self) -> str:
        self.flush()
        return self.text_view.toPlainText()

    def reset(self) -> None:
        self._timer.stop()
        self._pending.clear()
        self.text_view.clear()
        self.toggle.setText("Reasoning")
        self.hide()

    def append(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        if self.isHidden():
            self.show()
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        bar = self.text_view.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.text_view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._fit()
        if follow:
            bar.setValue(bar.maximum())

    def finish(self, reasoning: str | None, tokens: int) -> None:
        """Settle on the final response's reasoning (and name its token count in the header)."""
        self.flush()
        if reasoning and reasoning.strip() != self.text_view.toPlainText().strip():
            self.text_view.setPlainText(reasoning)
            self._fit()
        if self.text_view.toPlainText():
            self.show()
            self.toggle.setText(f"Reasoning · {tokens:,} tokens" if tokens else "Reasoning")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """As tall as the text (two lines at least), up to ``REASONING_MAX_HEIGHT``; then it scrolls."""
        view = self.text_view
        metrics = view.fontMetrics()
        width = max(view.viewport().width() - 2 * int(view.document().documentMargin()), 60)
        bounds = metrics.boundingRect(QRect(0, 0, width, 1_000_000), Qt.TextFlag.TextWordWrap, view.toPlainText())
        chrome = 2 * view.frameWidth() + 2 * int(view.document().documentMargin()) + 2
        height = max(bounds.height(), 2 * metrics.lineSpacing()) + chrome
        view.setFixedHeight(min(REASONING_MAX_HEIGHT, height))


class ToolCallsView(QWidget):
    """The tool calls of an answer: a header with their count and a monospace view of each call's name and
    arguments. Hidden when the answer has none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 4, 0, 0)
        col.setSpacing(4)
        head = QHBoxLayout()
        self.title_label = QLabel("<b>Tool calls</b>")
        head.addWidget(self.title_label)
        hint = QLabel("the model asks your program to run it and send back the result")
        hint.setProperty("role", "muted")
        head.addWidget(hint)
        head.addStretch(1)
        col.addLayout(head)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text_view.setMaximumHeight(TOOLS_MAX_HEIGHT)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text_view.setFont(font)
        col.addWidget(self.text_view)
        self.calls: list[ToolCall] = []
        self.hide()

    def text(self) -> str:
        return self.text_view.toPlainText()

    def show_calls(self, calls: Sequence[ToolCall]) -> None:
        self.calls = list(calls)
        if not self.calls:
            self.text_view.clear()
            self.hide()
            return
        n = len(self.calls)
        self.title_label.setText(f"<b>Tool calls</b> ({n})" if n > 1 else "<b>Tool call</b>")
        text = tool_calls_text(self.calls)
        if text != self.text_view.toPlainText():
            self.text_view.setPlainText(text)
        lines = text.count("\n") + 1
        metrics = self.text_view.fontMetrics()
        self.text_view.setFixedHeight(min(TOOLS_MAX_HEIGHT, lines * metrics.lineSpacing() + 16))
        self.show()


class AnswerExtras(QObject):
    """Feeds a ``ReasoningView`` and a ``ToolCallsView`` from stream pieces (``feed``) and settles both from
    the final response (``finish``); ``reset`` before each request."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reasoning = ReasoningView()
        self.tool_calls = ToolCallsView()
        self.refusal = ""
        self._assembler = ToolCallAssembler()

    def reset(self) -> None:
        self._assembler.reset()
        self.refusal = ""
        self.reasoning.reset()
        self.tool_calls.show_calls(())

    def feed(self, piece: StreamDelta) -> None:
        if piece.is_marker:
            return
        if piece.reasoning:
            self.reasoning.append(piece.reasoning)
        if piece.refusal:
            self.refusal += piece.refusal
        if piece.tool_calls:
            for delta in piece.tool_calls:
                self._assembler.feed(delta)
            self.tool_calls.show_calls(self._assembler.calls())

    def finish(self, result: object) -> None:
        """The request ended: show the response's reasoning and tool calls (or keep what streamed on an error)."""
        if isinstance(result, EngineResponse):
            self.reasoning.finish(result.reasoning, result.usage.reasoning_tokens)
            self.tool_calls.show_calls(result.tool_calls)
            self.refusal = result.refusal or self.refusal
        else:
            self.reasoning.finish(None, 0)
