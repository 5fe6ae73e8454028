"""``ChatStream``: the pump from one conversation turn (``Engine.conversations.send``, ``edit`` or
``regenerate``: an async generator of text deltas, ``StreamDelta`` pieces and a final ``ChatTurn``) to the UI.
The Execute panel's thread and the tray's quick prompt both use it.

What arrives is coalesced and handed on at most every ``FLUSH_MS`` as one ``StreamUpdate`` (new text, new
reasoning, the answering model once named, the tool calls assembled so far), so a fast model never floods the
event loop. ``stop()`` cancels the task reading the generator: the cancellation reaches the engine's request,
which records it as Cancelled; the text received so far stays in ``text``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from autodevai.engine.chat import ChatTurn
from autodevai.engine.errors import Cancelled, EngineError
from autodevai.engine.types import StreamDelta, ToolCallDelta
from autodevai.gui.bridge import GuiContext

__all__ = ["FLUSH_MS", "ChatStream", "StreamUpdate", "ToolCallAssembler"]

log = logging.getLogger("autodevai.gui")

FLUSH_MS = 33  # updates reach the UI at most ~30 times a second

Turn = Callable[[], AsyncIterator[Any]]


class ToolCallAssembler:
    """Joins streamed ``ToolCallDelta`` pieces: the same ``index`` is one call; id and name arrive once, argument
    fragments are concatenated in order (OpenAI's streaming format)."""

    def __init__(self) -> None:
        self._calls: dict[int, list[str]] = {}  # index -> [name, arguments]

    def feed(self, delta: ToolCallDelta) -> None:
        call = self._calls.setdefault(delta.index, ["", ""])
        if delta.name:
            call[0] = delta.name
        call[1] += delta.arguments

    def calls(self) -> tuple[tuple[str, str], ...]:
        """(name, arguments so far) of each call, in index order."""
        return tuple((name, args) for _i, (name, args) in sorted(self._calls.items()))


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """What arrived since the last update."""

    text: str = ""
    reasoning: str = ""
    model: str | None = None  # set once, when the answering model is named
    tool_calls: tuple[tuple[str, str], ...] | None = None  # every call so far, when they changed


class ChatStream(QObject):
    """Streams one turn at a time; ``update`` carries what arrived, ``finished`` the ``ChatTurn`` or the
    exception (``Cancelled`` after ``stop()``)."""

    first_token = Signal()
    update = Signal(object)  # StreamUpdate
    finished = Signal(object)  # ChatTurn, or the exception the turn ended with

    def __init__(self, ctx: GuiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.text = ""
        self.model = ""
        self.started_at = 0.0
        self.first_at: float | None = None
        self._task: Any = None
        self._run = 0
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._model: str | None = None
        self._tools = ToolCallAssembler()
        self._tools_changed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    @property
    def running(self) -> bool:
        return self._task is not None

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def start(self, turn: Turn) -> None:
        """Read ``turn()`` (an async iterator: the engine's turn) until it ends."""
        if self.running:
            raise RuntimeError("a turn is already streaming")
        self._run += 1
        run = self._run
        self.text, self.model, self.first_at = "", "", None
        self._text.clear()
        self._reasoning.clear()
        self._model = None
        self._tools = ToolCallAssembler()
        self._tools_changed = False
        self.started_at = time.monotonic()
        self._task = self.ctx.spawn(
            self._consume(turn, run),
            on_result=lambda r: self._done(run, r),
            on_error=lambda e: self._done(run, e),
            name="chat-stream",
        )

    def stop(self) -> bool:
        """Cancel the turn, keeping what arrived. Returns False when nothing was streaming."""
        if self._task is None or self._task.done():
            return False  # done: its result is about to be delivered
        self._run += 1
        self._task.cancel()
        self._task = None
        self.flush()
        self.finished.emit(Cancelled("the request was stopped"))
        return True

    async def _consume(self, turn: Turn, run: int) -> ChatTurn:
        it = turn()
        result: ChatTurn | None = None
        try:
            async for item in it:
                if isinstance(item, ChatTurn):
                    result = item
                elif run != self._run:
                    continue
                elif isinstance(item, StreamDelta):
                    self._on_piece(item)
                elif isinstance(item, str):
                    self._text.append(item)
                    self._arrived()
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()
        if result is None:
            raise RuntimeError("the turn ended without an answer")
        return result

    def _on_piece(self, piece: StreamDelta) -> None:
        if piece.is_marker:
            self.model = self._model = piece.model
            self.flush()
            return
        if piece.reasoning:
            self._reasoning.append(piece.reasoning)
        for delta in piece.tool_calls:
            self._tools.feed(delta)
            self._tools_changed = True
        self._arrived()

    def _arrived(self) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.flush()
            self.first_token.emit()
        elif not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if not (self._text or self._reasoning or self._model is not None or self._tools_changed):
            return
        text = "".join(self._text)
        self.text += text
        update = StreamUpdate(
            text, "".join(self._reasoning), self._model, self._tools.calls() if self._tools_changed else None
        )
        self._text.clear()
        self._reasoning.clear()
        self._model = None
        self._tools_changed = False
        self.update.emit(update)

    def _done(self, run: int, result: object) -> None:
        if run != self._run:
            return  # stopped meanwhile: stop() already reported
        self._task = None
        self.flush()
        if isinstance(result, BaseException) and not isinstance(result, EngineError):
            log.error("a conversation turn failed", exc_info=result)
        self.finished.emit(result)
