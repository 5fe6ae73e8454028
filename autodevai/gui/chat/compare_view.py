"""One message, 2-4 models, side by side: a column per model (or per "cheapest / best / fastest / balanced"),
each filled with its answer, model, cost and latency as it finishes, and a "Continue with this" button that makes
that answer the thread's next message (``Conversations.pick``; the router learns from the choice).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.chat import ChatTurn
from autodevai.gui.answer_details import error_html
from autodevai.gui.chat.markdown import COPY_CODE, render_markdown, stylesheet
from autodevai.gui.labels import cost_text, simulated_badge
from autodevai.gui.theme import is_dark
from autodevai.text import fmt_ms, fmt_tokens

__all__ = ["CompareColumn", "CompareView"]


class CompareColumn(QFrame):
    """One model's answer: who (as asked, then as answered), the answer, cost · latency · tokens, and Continue."""

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.target = target
        self.turn: ChatTurn | None = None
        self.code: tuple[str, ...] = ()
        col = QVBoxLayout(self)
        col.setContentsMargins(10, 8, 10, 10)
        col.setSpacing(6)
        self.title_label = QLabel(f"<b>{html.escape(target)}</b>")
        self.title_label.setWordWrap(True)
        col.addWidget(self.title_label)
        self.asked_label = QLabel("")
        self.asked_label.setProperty("role", "muted")
        self.asked_label.setWordWrap(True)
        self.asked_label.hide()
        col.addWidget(self.asked_label)
        meta = QHBoxLayout()
        self.meta_label = QLabel("Waiting for the answer…")
        self.meta_label.setProperty("role", "muted")
        self.meta_label.setWordWrap(True)
        meta.addWidget(self.meta_label, 1)
        self.simulated_badge = simulated_badge()
        meta.addWidget(self.simulated_badge, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(meta)
        self.answer_view = QTextBrowser()
        self.answer_view.setOpenLinks(False)
        self.answer_view.setFrameShape(QFrame.Shape.NoFrame)
        self.answer_view.anchorClicked.connect(self._link)
        self.answer_view.setStyleSheet("QTextBrowser { background: transparent; }")  # the card shows through
        col.addWidget(self.answer_view, 1)
        self.continue_button = QPushButton("Continue with this")
        self.continue_button.setToolTip("Make this answer the thread's next message; the others stay as branches")
        self.continue_button.setEnabled(False)
        col.addWidget(self.continue_button)
        self._html = ""

    def show_turn(self, turn: ChatTurn) -> None:
        self.turn = turn
        m = turn.answer
        self.title_label.setText(f"<b>{html.escape(m.model)}</b>")
        if m.model != self.target:  # an alias routing resolved, or a fallback
            how = "fell back from" if "/" in self.target else "chosen as"
            self.asked_label.setText(f"{how} {self.target}")
            self.asked_label.show()
        cost = cost_text(m.cost_usd, m.cost_source)
        cost = "cost unknown" if cost == "unknown" else cost
        tokens = fmt_tokens(m.prompt_tokens + m.completion_tokens)
        parts = (cost, fmt_ms(m.latency_ms), f"{tokens} tokens")
        self.meta_label.setText(" · ".join(p.replace(" ", "\u00a0") for p in parts))  # wrap between, not inside
        self.simulated_badge.setVisible(m.simulated)
        rendered = render_markdown(m.text)
        self.code = rendered.code
        self._set_html(rendered.html or '<p class="muted">No text (the model answered with tool calls).</p>')
        self.continue_button.setEnabled(True)

    def show_error(self, exc: BaseException) -> None:
        self.meta_label.setText("Failed")
        self._set_html(error_html(exc))

    def restyle(self) -> None:
        if self._html:
            self._set_html(self._html)

    def _set_html(self, text: str) -> None:
        self._html = text
        self.answer_view.document().setDefaultStyleSheet(stylesheet(is_dark()))
        self.answer_view.setHtml(text)

    def _link(self, url: QUrl) -> None:
        href = url.toString()
        if href.startswith(COPY_CODE):
            n = int(href.removeprefix(COPY_CODE) or 0)
            if 0 <= n < len(self.code):
                QGuiApplication.clipboard().setText(self.code[n])


class CompareView(QWidget):
    """The columns of one comparison; ``pick_requested(message id)`` from a column's Continue button."""

    pick_requested = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(8)
        head = QHBoxLayout()
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        head.addWidget(self.title_label, 1)
        self.back_button = QPushButton("Back to the thread")
        self.back_button.setToolTip("Leave the comparison; every answer stays in the thread as a branch")
        self.back_button.clicked.connect(self.closed.emit)
        head.addWidget(self.back_button)
        col.addLayout(head)
        self.row = QHBoxLayout()
        self.row.setSpacing(8)
        col.addLayout(self.row, 1)
        self.columns: list[CompareColumn] = []

    def start(self, targets: list[str], prompt: str) -> None:
        """New columns, one per target, waiting for their answers."""
        for column in self.columns:
            self.row.removeWidget(column)
            column.deleteLater()
        self.columns = []
        short = prompt if len(prompt) <= 90 else prompt[:89] + "…"
        self.title_label.setText(f"<b>Comparing {len(targets)} models</b> on “{html.escape(short)}”")
        for target in targets:
            column = CompareColumn(target)
            column.continue_button.clicked.connect(lambda _c=False, col=column: self._pick(col))
            self.row.addWidget(column, 1)
            self.columns.append(column)

    def set_result(self, index: int, result: object) -> None:
        if not 0 <= index < len(self.columns):
            return
        if isinstance(result, ChatTurn):
            self.columns[index].show_turn(result)
        elif isinstance(result, BaseException):
            self.columns[index].show_error(result)

    def restyle(self) -> None:
        for column in self.columns:
            column.restyle()

    def _pick(self, column: CompareColumn) -> None:
        if column.turn is not None:
            for c in self.columns:
                c.continue_button.setEnabled(False)
            self.pick_requested.emit(column.turn.answer.id)
