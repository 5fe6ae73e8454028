"""The conversation open in the Execute panel, joined to ``Engine.conversations``: open one (or start a new one,
saved on its first message), send a message, edit one (a new branch), regenerate an answer (with the same model or
another), switch branches, compare 2-4 models on one message and continue with the answer you pick, and keep the
conversation's preset.

Every engine call runs on the event loop (``GuiContext.spawn``); a thread's message bodies (Markdown, code,
thumbnails) are made in a worker thread before it is shown. One turn streams at a time (``ChatStream``); you can
read other conversations meanwhile, and the answer is stored with its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from autodevai.engine.conversations import Preset, Thread
from autodevai.engine.errors import Cancelled, StreamInterrupted
from autodevai.gui.answer_details import error_html
from autodevai.gui.bridge import GuiContext
from autodevai.gui.chat.rows import Row
from autodevai.gui.chat.stream import ChatStream, StreamUpdate
from autodevai.gui.chat.thread_model import PENDING_KEY, ThreadModel, make_bodies

__all__ = ["ChatSession"]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")


class ChatSession(QObject):
    """The open conversation (``cid``; None until a new one's first message saves it) and its turns."""

    opened = Signal(object, str)  # (Thread or None, the key of a row to show, or "" for the end)
    turn_finished = Signal(object)  # ChatTurn, Cancelled or the exception; the thread is reloaded by then
    compare_started = Signal(list, str)  # (targets, your message's text)
    compared = Signal(int, object)  # (column, ChatTurn or EngineError)
    compare_finished = Signal()
    picked = Signal(str)  # the answer that continues the thread
    listing_changed = Signal()  # titles, order or totals changed
    failed = Signal(str, str)  # (title, message)

    def __init__(self, ctx: GuiContext, model: ThreadModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = model
        self.cid: str | None = None
        self.preset = Preset()
        self.stream = ChatStream(ctx, self)
        self.stream.update.connect(self._on_update)
        self.stream.finished.connect(self._on_finished)
        self._turn_cid: str | None = None
        self._compare: Any = None
        self._partials = 0

    @property
    def running(self) -> bool:
        return self.stream.running or self._compare is not None

    # ---- opening -----------------------------------------------------------------------------------------

    def new(self, preset: Preset | None = None) -> None:
        """Start a new conversation (stored when its first message is sent)."""
        self.cid = None
        self.preset = preset or Preset()
        self.model.set_thread(None)
        self.opened.emit(None, "")

    def open(self, cid: str, show: str | None = None) -> None:
        """Show conversation ``cid`` (scrolled to message ``show`` when given)."""
        self.cid = cid
        self.ctx.spawn(
            self._load(cid, show=show), on_result=lambda t: self._show(t, show), on_error=self._fail, name="chat-open"
        )

    async def _load(self, cid: str, thread: Thread | None = None, show: str | None = None) -> Thread:
        if thread is None:
            thread = await self.ctx.engine.conversations.open(cid)
        missing = self.model.missing_bodies(thread, show)
        if missing:  # Markdown, highlighting and thumbnails off the UI thread
            self.model.remember((await self.ctx.run_cpu(make_bodies, missing)).items())
        return thread

    def _show(self, thread: Thread, show: str | None = None) -> None:
        cid = thread.conversation.id
        if cid != self.cid:
            return  # another conversation was opened meanwhile
        turn_here = self.running and self._turn_cid == cid
        current = self.model.current
        if turn_here and (current is None or current.conversation.id == cid):
            return  # its turn is on screen (your message, the answer coming): shown again when it ends
        self.preset = thread.conversation.preset
        self.model.set_thread(thread, show=show)
        if turn_here and self.stream.running:  # back to a conversation whose answer is still streaming
            self.model.begin_turn(keep_through=None, pending=None, model=self.stream.model)
            self.model.live_update(text=self.stream.text)
        self.opened.emit(thread, show or "")

    def prefetch(self, items: list[tuple[str, str, Any]], then: Callable[[], object]) -> None:
        """Make the bodies of ``items`` in a worker thread, then call ``then`` (which shows them)."""
        if not items:
            then()
            return

        async def make() -> None:
            self.model.remember((await self.ctx.run_cpu(make_bodies, items)).items())

        def done(_r: object) -> None:
            then()

        self.ctx.spawn(make(), on_result=done, on_error=self._fail, name="chat-prefetch")

    def _fail(self, exc: BaseException) -> None:
        self.failed.emit(type(exc).__name__, str(exc))

    def set_preset(self, preset: Preset) -> None:
        """Use ``preset`` from now on (and store it with the conversation)."""
        if preset == self.preset:
            return
        self.preset = preset
        if self.cid is not None:
            self.ctx.spawn(self.ctx.engine.conversations.set_preset(self.cid, preset), on_error=self._fail)

    async def _ensure(self) -> str:
        if self.cid is None:
            conv = await self.ctx.engine.conversations.create(preset=self.preset)
            self.cid = conv.id
            self.listing_changed.emit()
        return self.cid

    # ---- turns -------------------------------------------------------------------------------------------

    def send(self, content: Any, **options: Any) -> None:
        """Send ``content`` after the last message and stream the answer."""
        pending = self._pending(content)
        self.model.begin_turn(keep_through=None, pending=pending)

        async def turn() -> AsyncIterator[Any]:
            cid = self._turn_cid = await self._ensure()
            async for item in self.ctx.engine.conversations.send(cid, content, **options):
                yield item

        self._start(turn)

    def edit(self, message_id: str, content: Any, **options: Any) -> None:
        """Send a new version of your message ``message_id`` (a branch beside it)."""
        old = next((r for r in self.model.message_rows() if r.key == message_id), None)
        parent = old.message.parent_id if old is not None and old.message is not None else None
        pending = self._pending(content)
        self.model.begin_turn(keep_through=parent or "", pending=pending)
        cid = self.cid or ""
        self._start(lambda: self.ctx.engine.conversations.edit(cid, message_id, content, **options))

    def regenerate(self, message_id: str, **options: Any) -> None:
        """Another answer in place of ``message_id`` (with ``model=`` or ``preference=``: from another model)."""
        old = next((r for r in self.model.message_rows() if r.key == message_id), None)
        parent = old.message.parent_id if old is not None and old.message is not None else None
        self.model.begin_turn(keep_through=parent or "", pending=None, model=str(options.get("model") or ""))
        cid = self.cid or ""
        self._start(lambda: self.ctx.engine.conversations.regenerate(cid, message_id, **options))

    def _pending(self, content: Any) -> Row:
        """Your message as shown until it is stored (a new key each time: its thumbnails differ)."""
        self._partials += 1
        return Row(f"{PENDING_KEY}:{self._partials}", "pending", "user", text=_text_of(content),
                   extras={"content": content})  # fmt: skip

    def _start(self, turn: Any) -> None:
        self._turn_cid = self.cid
        self.stream.start(turn)

    def stop(self) -> bool:
        """Cancel the answer streaming in (or the comparison running); what arrived stays on screen."""
        if self._compare is not None:
            self._compare.cancel()
            self._compare = None
            self.compare_finished.emit()
            if self.cid is not None:
                self.ctx.spawn(self._load(self.cid), on_result=self._show, on_error=self._fail)
            return True
        return self.stream.stop()

    def _on_update(self, update: StreamUpdate) -> None:
        if self._turn_cid is not None and self._turn_cid != self.cid:
            return  # you opened another conversation meanwhile
        self.model.live_update(text=update.text, model=update.model, reasoning=update.reasoning,
                               tool_calls=update.tool_calls, note="" if update.model else None)  # fmt: skip

    def _on_finished(self, result: object) -> None:
        cid = self._turn_cid or self.cid
        partial = None
        if isinstance(result, BaseException):  # a successful answer is shown by the reload below
            partial = self._partial(result)
            if cid is not None and cid == self.cid:
                self.model.end_turn(partial)
        self.listing_changed.emit()
        if cid is None:  # the conversation could not even be created
            self.model.end_turn(partial)
            self.turn_finished.emit(result)
            return
        self.ctx.spawn(self._reload_after(cid, result, partial), on_error=self._fail, name="chat-reload")

    def _partial(self, exc: BaseException) -> Row:
        text = self.stream.text
        if isinstance(exc, StreamInterrupted) and len(exc.partial) > len(text):
            text = exc.partial
        self._partials += 1
        row = Row(f"partial:{self._partials}", "partial", "assistant", text=text, model=self.stream.model)
        if isinstance(exc, Cancelled):
            row.note = "stopped — this partial answer is not saved" if text else "stopped before the first token"
        else:
            row.note = "interrupted — this partial answer is not saved" if text else ""
            row.error_html = error_html(exc)
        return row

    async def _reload_after(self, cid: str, result: object, partial: Row | None) -> None:
        thread = await self._load(cid)
        if cid == self.cid:
            last = thread.messages[-1] if thread.messages else None
            if partial is not None and last is not None and last.role == "user":
                self.model.partials[last.id] = partial  # shown after your message until it has an answer
            self._show(thread)
        self.turn_finished.emit(result)

    # ---- branches and comparisons ----------------------------------------------------------------------------

    def switch(self, message_id: str) -> None:
        """Make the branch through ``message_id`` current."""
        if self.cid is None:
            return
        cid = self.cid

        async def switch() -> Thread:
            return await self._load(cid, await self.ctx.engine.conversations.switch(cid, message_id), message_id)

        self.ctx.spawn(switch(), on_result=lambda t: self._show(t, message_id), on_error=self._fail)

    def compare(self, content: Any, targets: list[str], **options: Any) -> None:
        """Send ``content`` to each of ``targets`` at once; ``compared`` reports each answer as it finishes."""
        pending = self._pending(content)
        self.model.begin_turn(keep_through=None, pending=pending, live=False)
        self.compare_started.emit(list(targets), _text_of(content))
        self._turn_cid = self.cid

        async def run() -> str:
            cid = self._turn_cid = await self._ensure()
            async for index, result in self.ctx.engine.conversations.compare(cid, content, targets, **options):
                self.compared.emit(index, result)
            return cid

        def done(result: object) -> None:
            self._compare = None
            self.compare_finished.emit()
            if isinstance(result, str):
                self.listing_changed.emit()
                self.ctx.spawn(self._load(result), on_result=self._show, on_error=self._fail)
            else:
                self.model.end_turn()
                if isinstance(result, BaseException):
                    self._fail(result)

        self._compare = self.ctx.spawn(run(), on_result=done, on_error=done, name="chat-compare")

    def pick(self, message_id: str) -> None:
        """Continue the thread with the compared answer ``message_id`` (the router learns from the choice)."""
        if self.cid is None:
            return
        cid = self.cid

        async def pick() -> Thread:
            return await self._load(cid, await self.ctx.engine.conversations.pick(cid, message_id))

        def done(thread: Thread) -> None:
            self._show(thread)
            self.picked.emit(message_id)
            self.listing_changed.emit()

        self.ctx.spawn(pick(), on_result=done, on_error=self._fail, name="chat-pick")
