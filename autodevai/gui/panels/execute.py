"""The Execute panel: conversations with any model. The list of conversations (search, New, rename, pin, delete
with Undo) beside the open thread — message bubbles with Markdown and highlighted code, Copy per message and per
code block, Edit (a new branch), Regenerate with the same model or another, "‹ 2/3 ›" branch switchers, and each
answer's details (model, tokens, cost, latency, context fit, fallbacks and why routing chose it) one click away.

Above the thread, the conversation's preset (routing preference, pinned model, max tokens, system prompt); below
it, the composer (attachments, a model for one message, Compare, Send and Stop). Comparing shows the models' answers
side by side until you continue with one. The parts live in ``autodevai.gui.chat``; this module lays them out and
turns their requests into engine calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Preset, Thread
from autodevai.engine.errors import Cancelled
from autodevai.gui.bridge import GuiContext
from autodevai.gui.chat.bubble_actions import BubbleActions
from autodevai.gui.chat.compare_view import CompareView
from autodevai.gui.chat.composer import Composer
from autodevai.gui.chat.preset_bar import PresetBar
from autodevai.gui.chat.session import ChatSession
from autodevai.gui.chat.thread_list import ThreadList
from autodevai.gui.chat.thread_model import ThreadModel
from autodevai.gui.chat.thread_view import ThreadView
from autodevai.gui.panels.base import Panel
from autodevai.gui.widgets import ElidedLabel
from autodevai.text import fmt_ms

__all__ = ["ExecutePanel"]

EMPTY_HINT = (
    "<p style='font-size:15px'><b>Start a conversation</b></p>"
    "<p>Write a message below. Routing picks the model for each message (or pin one above); every answer says "
    "who answered, what it cost and why.</p><p>Attach images for vision models, PDFs and text files, or press "
    "<b>Compare</b> to ask 2–4 models at once and continue with the best answer.</p>"
)


class ExecutePanel(Panel):
    title = "Execute"
    subtitle = "Conversations with any model: routing, fallbacks, costs and branches, one thread at a time."

    finished = Signal(object)  # ChatTurn, or the exception a turn ended with (the thread is reloaded by then)
    list_refreshed = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._catalog_version = -1
        self._listed = False
        self._edit_media: list[dict[str, Any]] = []
        self.models = QStringListModel(self)
        self.thread_model = ThreadModel(self)
        self.session = ChatSession(ctx, self.thread_model, self)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.thread_list = ThreadList()
        self.thread_list.setMinimumWidth(200)
        split.addWidget(self.thread_list)
        split.addWidget(self._build_main())
        split.setStretchFactor(1, 1)
        split.setSizes([250, 750])
        self.body.addWidget(split, 1)

        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(self._tick)
        self._wire()
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_conversation,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)  # fmt: skip

    def _build_main(self) -> QWidget:
        main = QWidget()
        col = QVBoxLayout(main)
        col.setContentsMargins(8, 0, 0, 0)
        col.setSpacing(6)
        head = QHBoxLayout()
        self.conversation_label = ElidedLabel("New conversation")
        font = self.conversation_label.font()
        font.setBold(True)
        self.conversation_label.setFont(font)
        head.addWidget(self.conversation_label, 1)
        self.preset_bar = PresetBar(self.models)
        head.addWidget(self.preset_bar.tools_label)
        col.addLayout(head)
        col.addWidget(self.preset_bar)
        self.pages = QStackedWidget()
        self.empty_label = QLabel(EMPTY_HINT)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setContentsMargins(40, 0, 40, 0)
        self.thread_view = ThreadView(self.thread_model)
        self.compare_view = CompareView()
        for page in (self.empty_label, self.thread_view, self.compare_view):
            self.pages.addWidget(page)
        col.addWidget(self.pages, 1)
        self.composer = Composer(self.ctx, self.models)
        col.addWidget(self.composer)
        return main

    def _wire(self) -> None:
        s, tl, c = self.session, self.thread_list, self.composer
        s.opened.connect(self._opened)
        s.turn_finished.connect(self._turn_finished)
        s.listing_changed.connect(self.refresh_list)
        s.failed.connect(lambda title, msg: self.ctx.events.error.emit(title, msg))
        s.compare_started.connect(self._compare_started)
        s.compared.connect(self.compare_view.set_result)
        s.compare_finished.connect(self._compare_finished)
        s.picked.connect(lambda _mid: self.pages.setCurrentWidget(self.thread_view))
        s.stream.first_token.connect(self._tick)
        self.compare_view.pick_requested.connect(s.pick)
        self.compare_view.closed.connect(lambda: self._show_page(self.session.model.current))
        tl.open_requested.connect(self.open_conversation)
        tl.new_requested.connect(self.new_conversation)
        tl.rename_requested.connect(lambda cid, title: self._call(self._conversations().rename(cid, title)))
        tl.pin_requested.connect(lambda cid, on: self._call(self._conversations().pin(cid, on)))
        tl.delete_requested.connect(self.delete_conversation)
        tl.undo_requested.connect(self._restore)
        tl.export_requested.connect(self._export)
        tl.search_changed.connect(self._search)
        c.send_requested.connect(self.send)
        c.stop_requested.connect(self.stop)
        self.preset_bar.changed.connect(s.set_preset)
        self.links = BubbleActions(self.ctx, self.thread_view, s, c.once_edit, self.edit_message, self.regenerate, self)
        self.thread_view.action.connect(self.links.run)
        self.ctx.events.use_model.connect(self.use_model)
        self.ctx.events.conversations_changed.connect(self._changed_elsewhere)
        self.ctx.theme.changed.connect(lambda _m, _d: self.compare_view.restyle())

    # ---- public ------------------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.session.running

    def new_conversation(self) -> None:
        """A new conversation with the current routing options (saved with its first message)."""
        self.composer.cancel_edit()
        preset = self.preset_bar.preset() if self.session.cid is None else Preset()
        self.session.new(preset)
        self.composer.prompt_edit.setFocus()

    def open_conversation(self, cid: str, message_id: str = "") -> None:
        """Show conversation ``cid`` (at message ``message_id`` when given)."""
        self.composer.cancel_edit()
        self.thread_list.select(cid)
        self.session.open(cid, message_id or None)

    def send(self) -> bool:
        """Send the composer's message (or the edit, or the comparison). Returns False, saying why, when not."""
        c = self.composer
        if self.is_running:
            c.show_invalid("An answer is still coming: wait for it or press Stop.")
            return False
        if not self.ctx.ready:
            c.show_invalid("The engine is still starting; try again in a moment.")
            return False
        if c.attachments.loading:
            c.show_invalid("An attachment is still being read; send again in a moment.")
            return False
        content = c.content()
        if not c.text().strip() and not c.attachments.attachments:
            c.show_invalid("The message is empty: write something or attach a file.")
            return False
        options = c.options()
        if c.editing is not None:
            if self._edit_media:
                parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
                content = parts + self._edit_media
            self.session.edit(c.editing, content, **options)
        elif c.comparing:
            targets = c.targets()
            if not 2 <= len(targets) <= 4:
                c.show_invalid("Compare needs 2 to 4 models (or cheapest, best, fastest, balanced).")
                return False
            self.session.compare(content, targets, **options)
        else:
            self.session.send(content, **options)
        c.sent()
        self._edit_media = []
        self._set_running(True)
        if not c.comparing:
            self.pages.setCurrentWidget(self.thread_view)
            self.thread_view.scroll_to_end()
        return True

    def stop(self) -> bool:
        """Cancel the answer streaming in (Esc); what arrived stays on screen. False when nothing runs."""
        return self.session.stop()

    def regenerate(self, message_id: str, **options: Any) -> bool:
        """Another answer in place of ``message_id`` (``model=``: from that model)."""
        if self.is_running or self.session.cid is None:
            return False
        self.session.regenerate(message_id, **options)
        self._set_running(True)
        return True

    def edit_message(self, message_id: str) -> None:
        """Put your message ``message_id`` in the composer to send a new version of it."""
        row = next((r for r in self.thread_model.message_rows() if r.key == message_id), None)
        if row is None or row.message is None:
            return
        content = row.message.content
        self._edit_media = [p for p in content if p.get("type") != "text"] if isinstance(content, list) else []
        self.composer.begin_edit(message_id, row.plain_text)

    def use_model(self, model_id: str) -> None:
        """Send the next message to ``model_id`` (from the Models panel's "Use in Execute")."""
        self.composer.once_edit.setText(model_id)
        self.composer.prompt_edit.setFocus()

    def set_tools(self, tools: Sequence[dict[str, Any]]) -> None:
        """Offer these OpenAI function tools in this conversation (an empty list: none)."""
        self.preset_bar.set_tools(tools)

    def refresh_list(self) -> None:
        if not self.ctx.ready:
            return

        def show(conversations: list[Any]) -> None:
            self.thread_list.set_conversations(conversations)
            if self.session.cid is not None:
                self.thread_list.select(self.session.cid)
            self.list_refreshed.emit()

        self.ctx.spawn(self._conversations().listing(), on_result=show, name="conversations-list")

    def delete_conversation(self, cid: str) -> None:
        conv = next((c for c in self.thread_list.conversations if c.id == cid), None)

        async def delete() -> None:
            await self._conversations().delete(cid)

        def done(_r: object) -> None:
            self.thread_list.show_undo(cid, conv.title if conv is not None else "the conversation")
            if self.session.cid == cid:
                self.session.new(Preset())
            self.refresh_list()

        self.ctx.spawn(delete(), on_result=done, name="conversation-delete")

    # ---- Panel ---------------------------------------------------------------------------------------------

    def on_engine_ready(self) -> None:
        self._listed = False
        super().on_engine_ready()

    def on_shown(self) -> None:
        if not self.ctx.ready:
            return
        self._refresh_models()
        if not self._listed:
            self._listed = True
            self._open_latest()
        if not self.is_running:
            self.composer.prompt_edit.setFocus()

    # ---- internals -----------------------------------------------------------------------------------------

    def _conversations(self) -> Any:
        return self.ctx.engine.conversations

    def _call(self, coro: Any) -> None:
        self.ctx.spawn(coro, on_result=lambda _r: self.refresh_list())

    def _open_latest(self) -> None:
        async def latest() -> list[Any]:
            result: list[Any] = await self._conversations().listing()
            return result

        def show(conversations: list[Any]) -> None:
            self.thread_list.set_conversations(conversations)
            self.list_refreshed.emit()
            if self.session.cid is None and not self.is_running and self.thread_model.rowCount() == 0:
                if conversations:
                    self.open_conversation(max(conversations, key=lambda c: c.updated).id)
                else:
                    self.new_conversation()

        self.ctx.spawn(latest(), on_result=show, name="conversations-open-latest")

    def _refresh_models(self) -> None:
        engine = self.ctx.engine
        if engine.catalog_version != self._catalog_version:
            self._catalog_version = engine.catalog_version
            self.models.setStringList(sorted({m.id for m in engine.models()}))

    def _show_page(self, thread: Thread | None) -> None:
        has = (thread is not None and bool(thread.messages)) or self.thread_model.rowCount() > 0
        self.pages.setCurrentWidget(self.thread_view if has else self.empty_label)

    def _opened(self, thread: Thread | None, show: str) -> None:
        default = self.ctx.engine.settings.routing.default_preference if self.ctx.ready else None
        if thread is None:
            self.conversation_label.setText("New conversation")
            self.preset_bar.set_preset(self.session.preset, default)
            self.thread_list.select("")
        else:
            conv = thread.conversation
            self.conversation_label.setText(conv.title)
            self.preset_bar.set_preset(conv.preset, default)
            self.thread_list.select(conv.id)
        if self.pages.currentWidget() is not self.compare_view or thread is None:
            self._show_page(thread)
        if show:
            at = self.thread_model.show_message(show)
            if at >= 0:
                self.thread_view.show_row(at)
        else:
            self.thread_view.scroll_to_end()

    def _set_running(self, running: bool) -> None:
        self.composer.set_running(running)
        if running:
            self._ticker.start()
            self._tick()
        else:
            self._ticker.stop()

    def _tick(self) -> None:
        stream = self.session.stream
        if not stream.running:
            return
        source = f" · {stream.model}" if stream.model else ""
        what = "Waiting for the first token…" if stream.first_at is None else "Streaming…"
        self.composer.status_label.setText(f"{what} {stream.elapsed():.1f} s{source}")

    def _turn_finished(self, result: object) -> None:
        self._set_running(False)
        status = self.composer.status_label
        if isinstance(result, ChatTurn):
            status.setText(f"Done in {fmt_ms(result.response.latency_ms)} · {result.answer.model}")
        elif isinstance(result, Cancelled):
            status.setText("Stopped — the partial answer stays on screen")
        elif isinstance(result, BaseException):
            status.setText(f"Failed: {type(result).__name__}")
        self.finished.emit(result)

    def _compare_started(self, targets: list[str], prompt: str) -> None:
        self.compare_view.start(targets, prompt)
        self.pages.setCurrentWidget(self.compare_view)
        self.composer.status_label.setText(f"Comparing {len(targets)} models…")

    def _compare_finished(self) -> None:
        self._set_running(False)
        self.composer.status_label.setText("Pick the answer to continue with")
        self.composer.compare_button.setChecked(False)
        self.finished.emit(None)

    def _search(self, text: str) -> None:
        if not text or not self.ctx.ready:
            return
        self.ctx.spawn(self._conversations().search(text), on_result=lambda hits: self.thread_list.set_hits(
            text, hits), name="conversations-search")  # fmt: skip

    def _restore(self, cid: str) -> None:
        async def restore() -> None:
            await self._conversations().restore(cid)

        def done(_r: object) -> None:
            self.refresh_list()
            self.open_conversation(cid)

        self.ctx.spawn(restore(), on_result=done, name="conversation-restore")

    def _export(self, cid: str) -> None:
        self.ctx.spawn(self._conversations().export(cid, "markdown"),
                       on_result=QGuiApplication.clipboard().setText)  # fmt: skip

    def _changed_elsewhere(self, cid: str) -> None:
        self.refresh_list()
        if cid == self.session.cid and not self.is_running:
            self.session.open(cid)
