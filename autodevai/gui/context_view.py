"""The Execute panel's context view: tokens per message, how much of the chosen model's window the prompt
uses, and — after an answer whose prompt had to be compressed — what compression removed.

Counting runs through ``engine.count_tokens`` (long prompts go to a worker thread there), debounced while the
user types, so a 128K-token paste never freezes the window.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QToolButton

from autodevai.engine.errors import EngineError
from autodevai.engine.types import ChatMessage, ChatRequest
from autodevai.gui.bridge import GuiContext
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, muted
from autodevai.text import fmt_tokens

__all__ = ["ContextView"]

DEBOUNCE_MS = 300

Source = Callable[[], tuple[list[ChatMessage], str | None, int]]  # (messages, model override, max tokens)


class ContextView(Card):
    """``schedule()`` after every edit; ``show_compression(report)`` after an answer."""

    def __init__(self, ctx: GuiContext, source: Source) -> None:
        super().__init__("Context")
        self.ctx = ctx
        self.source = source
        self.counts_label = QLabel("–")
        self.counts_label.setWordWrap(True)
        self.window_bar = QProgressBar()
        self.window_bar.setRange(0, 1000)
        self.window_bar.setTextVisible(True)
        self.window_bar.setFormat("window usage")
        self.window_label = muted("")
        self.fit_label = QLabel("")
        self.fit_label.setWordWrap(True)
        self.fit_label.setTextFormat(Qt.TextFormat.RichText)
        self.removed_toggle = QToolButton()
        self.removed_toggle.setText("Show what compression removed")
        self.removed_toggle.setCheckable(True)
        self.removed_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.removed_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.removed_view = QPlainTextEdit()
        self.removed_view.setReadOnly(True)
        self.removed_view.setMaximumHeight(140)
        self.removed_toggle.toggled.connect(self._toggle_removed)
        for w in (self.counts_label, self.window_bar, self.window_label, self.fit_label, self.removed_toggle):
            self.body.addWidget(w)
        self.body.addWidget(self.removed_view)
        self.removed_toggle.hide()
        self.removed_view.hide()
        self.fit_label.hide()
        self.total: int | None = None
        self.per_message: tuple[int, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_now)
        self._generation = 0

    # ---- counting ---------------------------------------------------------------------------------------------

    def schedule(self) -> None:
        """Count again shortly (edits restart the wait)."""
        self._timer.start()

    def refresh_now(self) -> None:
        if not self.ctx.ready:
            return
        messages, model, max_tokens = self.source()
        if not any(m.text.strip() for m in messages):
            self.counts_label.setText("Type a prompt to see its tokens and how much of the window it uses.")
            self.window_bar.setValue(0)
            self.window_label.setText("")
            self.total = None
            return
        self._generation += 1
        generation = self._generation
        self.ctx.spawn(
            self._count(messages, model, max_tokens),
            on_result=lambda r: self._show_counts(generation, *r),
            on_error=lambda e: self._show_error(generation, e),
            name="context-count",
        )

    async def _count(self, messages: list[ChatMessage], model: str | None, max_tokens: int) -> tuple[Any, ...]:
        engine = self.ctx.engine
        count = await engine.count_tokens(messages, model)  # long prompts are counted in a worker thread
        if model:
            return count, max_tokens
        try:  # the model routing would choose now (nothing is sent), with the tokens already counted
            request = ChatRequest.model_validate({"messages": messages, "max_tokens": max_tokens})
            target = engine.explain_route(request, prompt_tokens=count.total).chosen.model
        except (EngineError, ValueError):
            return count, max_tokens
        return await engine.count_tokens(messages, target), max_tokens

    def _show_counts(self, generation: int, count: Any, max_tokens: int) -> None:
        if generation != self._generation:
            return  # an older count finished after a newer edit
        self.total = count.total
        self.per_message = count.per_message
        roles = self.source()[0]
        parts = [f"{m.role} {fmt_tokens(n)}" for m, n in zip(roles, count.per_message, strict=False)]
        exact = "exact" if count.exact else "approximate"
        self.counts_label.setText(
            f"<b>{count.total:,}</b> prompt tokens ({', '.join(parts)}) · {html.escape(count.encoding)}, {exact}"
        )
        if count.context_length:
            used = count.total + max_tokens
            share = used / count.context_length
            self.window_bar.setValue(min(1000, int(share * 1000)))
            self.window_bar.setFormat(f"{share:.1%} of {fmt_tokens(count.context_length)}")
            color = state_color("ok" if share <= 0.8 else "warning" if share <= 1.0 else "error")
            self.window_bar.setStyleSheet(f"QProgressBar::chunk {{ background: {color}; }}")
            over = " — over the window: it will be compressed or routed to a larger model" if share > 1 else ""
            self.window_label.setText(
                f"{html.escape(count.model or '')}: prompt + {max_tokens:,} reserved for the answer{over}"
            )
        else:
            self.window_bar.setValue(0)
            self.window_bar.setFormat("window unknown")
            self.window_label.setText("Pick a model from the catalog to see its window usage.")

    def _show_error(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.counts_label.setText(f'<span style="color:{state_color("error")}">{html.escape(str(exc))}</span>')

    # ---- compression ------------------------------------------------------------------------------------------

    def show_compression(self, report: Any) -> None:
        """After an answer: what fitting the prompt did (hidden when nothing was removed)."""
        if report is None or report.tokens_after >= report.tokens_before:
            self.fit_label.hide()
            self.removed_toggle.hide()
            self.removed_view.hide()
            return
        self.fit_label.setText(
            f"<b>Compressed</b> ({html.escape(report.strategy)}): {report.tokens_before:,} → "
            f"{report.tokens_after:,} tokens (−{report.ratio:.0%}) in {report.elapsed_ms:.0f} ms; "
            f"kept {report.quality:.0%} of the query-relevant content"
        )
        self.fit_label.show()
        removed = list(report.removed)
        self.removed_view.setPlainText(
            "\n\n".join(f"– {text}" for text in removed) if removed else "(whitespace and duplicates only)"
        )
        self.removed_toggle.show()

    def _toggle_removed(self, on: bool) -> None:
        self.removed_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.removed_view.setVisible(on)
