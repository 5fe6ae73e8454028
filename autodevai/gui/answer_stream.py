"""``AnswerStream``: streams one engine request at a time into a read-only text view. The Execute panel and the
tray's quick-prompt popup both use it.

Owns the pump from ``engine.stream_enhanced_ai_request`` to the UI: text deltas are coalesced and appended to the
view; every other stream item (``StreamDelta``: the marker naming the answering model, reasoning, tool-call and
refusal pieces) is handed on through the ``piece`` signal for views that show them (``answer_extras``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from autodevai.engine.errors import Cancelled, EngineError, StreamInterrupted
from autodevai.engine.types import ChatRequest, EngineResponse, Preference, StreamDelta
from autodevai.gui.bridge import GuiContext

__all__ = ["FLUSH_MS", "AnswerStream"]

log = logging.getLogger("autodevai.gui")

FLUSH_MS = 30  # deltas are coalesced and appended at most ~33 times a second


class AnswerStream(QObject):
    """Streams one request at a time into a read-only text view.

    Deltas are coalesced (appended at most every ``FLUSH_MS``) at the end of the document without touching the
    user's selection; the view follows the end unless the user scrolled up. ``stop()`` cancels the engine call
    (the engine records it as Cancelled) and keeps the partial text. ``model`` names the model answering (from
    the stream's marker) once known.
    """

    first_token = Signal()
    piece = Signal(object)  # StreamDelta: the model marker, reasoning, tool-call or refusal pieces
    finished = Signal(object)  # EngineResponse, or the exception (Cancelled after stop())

    def __init__(self, ctx: GuiContext, view: QPlainTextEdit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.deltas = 0
        self.started_at = 0.0
        self.first_at: float | None = None
        self.model = ""
        self._task: Any = None
        self._run = 0
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    @property
    def running(self) -> bool:
        return self._task is not None

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def start(self, request: ChatRequest, preference: Preference) -> None:
        if self.running:
            raise RuntimeError("a request is already running")
        self._run += 1
        run = self._run
        self.view.clear()
        self._pending.clear()
        self.deltas = 0
        self.first_at = None
        self.model = ""
        self.started_at = time.monotonic()
        self._task = self.ctx.spawn(
            self._consume(request, preference, run),
            on_result=lambda r: self._done(run, r),
            on_error=lambda e: self._done(run, e),
            name="execute-stream",
        )

    def stop(self) -> bool:
        """Cancel the running request, keeping what arrived. Returns False when nothing was running."""
        if self._task is None or self._task.done():
            return False  # done: its result is about to be delivered
        self._run += 1
        self._task.cancel()
        self._task = None
        self.flush()
        self.finished.emit(Cancelled("the request was stopped"))
        return True

    async def _consume(self, request: ChatRequest, preference: Preference, run: int) -> EngineResponse:
        # Read the iterator to its end: closing it right after the final response would count as a cancel.
        it = self.ctx.engine.stream_enhanced_ai_request(request, preference)
        result: EngineResponse | None = None
        try:
            async for item in it:
                if isinstance(item, EngineResponse):
                    result = item
                elif run != self._run:
                    continue
                elif isinstance(item, StreamDelta):
                    self._on_piece(item)
                else:
                    self._on_delta(item)
        finally:
            await it.aclose()
        if result is None:
            raise RuntimeError("the stream ended without a final response")
        return result

    def _on_piece(self, piece: StreamDelta) -> None:
        if piece.is_marker:
            self.model = piece.model
        else:
            self._mark_first()
        self.piece.emit(piece)

    def _on_delta(self, text: str) -> None:
        self.deltas += 1
        self._pending.append(text)
        if not self._mark_first() and not self._timer.isActive():
            self._timer.start()

    def _mark_first(self) -> bool:
        """Note the first output (text, reasoning or a tool call); True when this was it."""
        if self.first_at is not None:
            return False
        self.first_at = time.monotonic()
        self.flush()
        self.first_token.emit()
        return True

    def flush(self) -> None:
        self._timer.stop()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        bar = self.view.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if follow:
            bar.setValue(bar.maximum())

    def _done(self, run: int, result: object) -> None:
        if run != self._run:
            return  # stopped meanwhile: stop() already reported
        self._task = None
        self.flush()
        shown = self.view.toPlainText()
        full = shown
        if isinstance(result, EngineResponse):
            full = result.content
        elif isinstance(result, StreamInterrupted) and len(result.partial) > len(shown):
            full = result.partial
        elif isinstance(result, BaseException) and not isinstance(result, EngineError):
            log.error("streaming failed", exc_info=result)
        if full != shown:
            self.view.setPlainText(full)
            self.view.verticalScrollBar().setValue(self.view.verticalScrollBar().maximum())
        self.finished.emit(result)
