"""The rows a thread view shows, as a Qt list model: the last ``WINDOW`` messages of the current branch (a long
thread loads earlier ones on request, ``STEP`` at a time), your message on its way, the answer streaming in, and
answers stopped or failed (kept on screen for the session, not stored).

Owns each row's bubble HTML (cached by message id: a message never changes), which sections are expanded, the
"Copied ✓" flash, and the throttle of the streaming bubble: its Markdown is rendered again at most every
``LIVE_RENDER_MS`` (longer when rendering takes long), and the text that arrives in between is appended as plain
text (``Bubble.tail``) until the next rendering.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QImage

from autodevai.engine.conversations import Thread, ThreadMessage
from autodevai.gui.chat.content import Body, message_body
from autodevai.gui.chat.markdown import Rendered
from autodevai.gui.chat.rows import Row, bubble_html, code_blocks

__all__ = ["LIVE_KEY", "PENDING_KEY", "STEP", "WINDOW", "Bubble", "ThreadModel", "make_bodies"]

WINDOW = 40  # messages shown when a thread opens
STEP = 60  # more each time "Show earlier messages" is clicked
LIVE_RENDER_MS = 80  # the streaming bubble's Markdown is re-rendered at most this often
LIVE_RENDER_MAX_MS = 1000
BODY_CACHE = 3000
FLASH_MS = 1500
LIVE_KEY, PENDING_KEY, EARLIER_KEY, LATER_KEY = "live", "pending", "earlier", "later"
BubbleRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex
_EMPTY = Body(Rendered(""))


@dataclass(frozen=True, slots=True)
class Bubble:
    """What the delegate paints for a row: rich text, plain text appended after it, and image resources."""

    key: str
    html: str
    tail: str
    images: tuple[QImage, ...]
    user: bool
    kind: str


def make_bodies(items: Iterable[tuple[str, str, Any]]) -> dict[str, Body]:
    """Bodies of ``(key, role, content)`` items: Markdown, code and thumbnails (for a worker thread)."""
    return {key: message_body(key, role, content) for key, role, content in items}


def shown_messages(thread: Thread) -> list[ThreadMessage]:
    return [m for m in thread.messages if m.kind == "message"]


class ThreadModel(QAbstractListModel):
    """``set_thread`` shows a thread; ``begin_turn`` / ``live_*`` / ``end_turn`` show one turn as it happens."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: Thread | None = None
        self.rows: list[Row] = []
        self.start = self.end = 0  # the messages shown: thread messages [start, end)
        self.total = 0
        self.partials: dict[str, Row] = {}  # user message id -> the answer stopped or failed after it
        self.expanded: dict[str, set[str]] = {}
        self.flash: tuple[str, str] | None = None
        self._bodies: OrderedDict[str, Body] = OrderedDict()
        self._html: dict[str, str] = {}
        self._live: Row | None = None
        self._live_html = ""
        self._live_rendered = 0  # characters of the live text in _live_html
        self._live_at = 0.0
        self._live_interval = LIVE_RENDER_MS / 1000
        self.render_ms: list[float] = []  # how long each live rendering took (for tuning and tests)
        self._catch_up = QTimer(self)
        self._catch_up.setSingleShot(True)
        self._catch_up.timeout.connect(self._render_live)
        self._unflash = QTimer(self)
        self._unflash.setSingleShot(True)
        self._unflash.setInterval(FLASH_MS)
        self._unflash.timeout.connect(lambda: self.set_flash(None))

    # ---- Qt model ------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008  # Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == RowRole:
            return row
        if role == BubbleRole:
            return self.bubble(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return row.plain_text
        return None

    # ---- rows ----------------------------------------------------------------------------------------------

    def row(self, i: int) -> Row:
        return self.rows[i]

    def find(self, key: str) -> int:
        """The row index of ``key`` (a message id, "live", "pending"), or -1."""
        return next((i for i, r in enumerate(self.rows) if r.key == key), -1)

    def message_rows(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "message"]

    def body(self, row: Row) -> Body:
        body = self._bodies.get(row.key)
        if body is None:
            content = row.message.content if row.message is not None else row.extras.get("content", row.text)
            body = message_body(row.key, row.role, content)
            self.remember(((row.key, body),))
        else:
            self._bodies.move_to_end(row.key)
        return body

    def remember(self, bodies: Iterable[tuple[str, Body]]) -> None:
        """Keep ready-made bodies (from a worker thread) for rows to come."""
        for key, body in bodies:
            self._bodies[key] = body
        while len(self._bodies) > BODY_CACHE:
            self._bodies.popitem(last=False)

    def missing_bodies(self, thread: Thread, show: str | None = None) -> list[tuple[str, str, Any]]:
        """(key, role, content) of the messages ``set_thread(thread, show=show)`` would show without a body yet."""
        messages = shown_messages(thread)
        start, end = self._window(thread, messages, show)
        return [(m.id, m.role, m.content) for m in messages[start:end] if m.id not in self._bodies]

    def bubble(self, row: Row) -> Bubble:
        if row.kind == "live":
            return Bubble(row.key, self._live_html, row.text[self._live_rendered :], (), False, "live")
        html = self._html.get(row.key)
        body = self.body(row) if row.kind not in ("earlier", "later") else _EMPTY
        if html is None:
            flash = self.flash[1] if self.flash and self.flash[0] == row.key else None
            html = bubble_html(row, body, expanded=self.expanded.get(row.key, ()), flash=flash)
            self._html[row.key] = html
        return Bubble(row.key, html, "", body.images, row.is_user, row.kind)

    def code(self, row: Row) -> tuple[str, ...]:
        return code_blocks(row, self.body(row))

    def _same(self, thread: Thread | None) -> bool:
        current = self.current
        return thread is not None and current is not None and thread.conversation.id == current.conversation.id

    def _window(self, thread: Thread, messages: Sequence[ThreadMessage], show: str | None) -> tuple[int, int]:
        """(start, end) of the messages to show: around ``show`` when given, else the end of the thread (as many
        as are shown now, at least ``WINDOW``)."""
        n = len(messages)
        same = self._same(thread)
        at = next((i for i, m in enumerate(messages) if m.id == show), -1) if show else -1
        if at >= 0:
            if same and self.start <= at < self.end:  # already on screen (a branch switch): keep the window
                return self.start, n if self.end >= self.total else min(n, self.end)
            start = max(0, at - 2)
            return start, min(n, start + WINDOW)
        shown = sum(1 for r in self.rows if r.kind == "message") if same else 0
        return max(0, n - max(WINDOW, shown)), n

    def set_thread(self, thread: Thread | None, *, show: str | None = None) -> None:
        """Show ``thread`` (None: nothing): its last messages, or those around message ``show``."""
        if not self._same(thread):  # (stopped answers are kept by message id: they show again when you come back)
            self.expanded.clear()
            self.rows = []
        messages = shown_messages(thread) if thread is not None else []
        self.start, self.end = self._window(thread, messages, show) if thread is not None else (0, 0)
        self.total = len(messages)
        self.beginResetModel()
        self.current = thread
        self._live = None
        self._html.clear()
        self.rows = self._rows(thread, messages) if thread is not None else []
        self.endResetModel()

    def _message_rows(self, thread: Thread, messages: Sequence[ThreadMessage], start: int, end: int) -> list[Row]:
        answered = {m.parent_id for m in messages if m.role == "assistant"}
        rows = []
        for m in messages[start:end]:
            rows.append(Row(m.id, "message", m.role, m, branch=thread.branch_of(m.id)))
            partial = self.partials.get(m.id)
            if partial is not None and m.id not in answered:
                rows.append(partial)
        return rows

    def _rows(self, thread: Thread, messages: Sequence[ThreadMessage]) -> list[Row]:
        rows = [Row(EARLIER_KEY, "earlier", earlier=self.start)] if self.start else []
        rows += self._message_rows(thread, messages, self.start, self.end)
        if self.end < len(messages):
            rows.append(Row(LATER_KEY, "later", earlier=len(messages) - self.end))
        return rows

    def upcoming(self, side: str) -> list[tuple[str, str, Any]]:
        """(key, role, content) of the messages "Show earlier" (``side`` "earlier") or "Show later" would add that
        have no body yet: made in a worker thread first, so loading them does not stall the window."""
        thread = self.current
        if thread is None:
            return []
        messages = shown_messages(thread)
        first, last = (max(0, self.start - STEP), self.start) if side == "earlier" else (self.end, self.end + STEP)
        return [(m.id, m.role, m.content) for m in messages[first:last] if m.id not in self._bodies]

    def load_earlier(self) -> int:
        """Show up to ``STEP`` more of the earlier messages; returns how many rows were added at the top."""
        thread = self.current
        if thread is None or self.start == 0:
            return 0
        messages = shown_messages(thread)
        new_start = max(0, self.start - STEP)
        added = self._message_rows(thread, messages, new_start, self.start)
        self.start = new_start
        self.beginRemoveRows(QModelIndex(), 0, 0)
        self.rows.pop(0)  # the "earlier" row
        self.endRemoveRows()
        new_rows = ([Row(EARLIER_KEY, "earlier", earlier=new_start)] if new_start else []) + added
        self.beginInsertRows(QModelIndex(), 0, len(new_rows) - 1)
        self.rows[0:0] = new_rows
        self.endInsertRows()
        return len(new_rows)

    def load_later(self) -> int:
        """Show up to ``STEP`` more of the later messages (after a jump back to a search hit)."""
        thread = self.current
        if thread is None or self.end >= self.total or not self.rows or self.rows[-1].kind != "later":
            return 0
        messages = shown_messages(thread)
        new_end = min(len(messages), self.end + STEP)
        added = self._message_rows(thread, messages, self.end, new_end)
        self.end = new_end
        last = len(self.rows) - 1
        self.beginRemoveRows(QModelIndex(), last, last)
        self.rows.pop()
        self.endRemoveRows()
        tail = [Row(LATER_KEY, "later", earlier=len(messages) - new_end)] if new_end < len(messages) else []
        new_rows = added + tail
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new_rows) - 1)
        self.rows.extend(new_rows)
        self.endInsertRows()
        return len(new_rows)

    def show_message(self, message_id: str) -> int:
        """The row of ``message_id``, the window moved to it when it was not shown; -1 when it is not on the
        current branch."""
        current = self.current
        if self.find(message_id) < 0 and current is not None and any(m.id == message_id for m in current.messages):
            self.set_thread(current, show=message_id)
        return self.find(message_id)

    # ---- sections and flashes ---------------------------------------------------------------------------------

    def toggle(self, key: str, section: str) -> None:
        opened = self.expanded.setdefault(key, set())
        opened.symmetric_difference_update({section})
        self.refresh(key)

    def set_flash(self, target: tuple[str, str] | None) -> None:
        """Make the Copy link ``(row key, href)`` say "Copied ✓" for a moment (None: back to "Copy")."""
        old, self.flash = self.flash, target
        for key in {t[0] for t in (old, target) if t is not None}:
            self.refresh(key)
        if target is not None:
            self._unflash.start()

    def refresh(self, key: str) -> None:
        """Build ``key``'s bubble again (its sections or flash changed)."""
        self._html.pop(key, None)
        i = self.find(key)
        if i >= 0:
            index = self.index(i)
            self.dataChanged.emit(index, index, [BubbleRole])

    # ---- one turn as it happens ---------------------------------------------------------------------------

    @property
    def live(self) -> Row | None:
        return self._live

    def begin_turn(self, *, keep_through: str | None, pending: Row | None, model: str = "", live: bool = True) -> None:
        """Show a turn starting: rows after ``keep_through`` (a message id; "" for all, None for none) leave the
        screen, then ``pending`` (your message) and, with ``live``, the answer to come."""
        if self.current is not None and self.end < self.total:  # jumped back to an old message: go to the end
            self.set_thread(self.current)
        if keep_through is not None:
            at = self.find(keep_through) if keep_through else -1
            if at + 1 < len(self.rows):
                self.beginRemoveRows(QModelIndex(), at + 1, len(self.rows) - 1)
                del self.rows[at + 1 :]
                self.endRemoveRows()
        if not live:
            self._live = None
            if pending is not None:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
                self.rows.append(pending)
                self.endInsertRows()
            return
        self._live = Row(LIVE_KEY, "live", "assistant", model=model, note="waiting for the first token…")
        self.expanded[LIVE_KEY] = {"reasoning"}  # reasoning shows while it streams
        self._live_html, self._live_rendered, self._live_at = "", 0, 0.0
        new = [r for r in (pending, self._live) if r is not None]
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
        self.rows.extend(new)
        self.endInsertRows()
        self._render_live()

    def live_update(
        self,
        *,
        text: str = "",
        model: str | None = None,
        reasoning: str = "",
        tool_calls: tuple[tuple[str, str], ...] | None = None,
        note: str | None = None,
    ) -> None:
        """Text, the answering model, reasoning or tool calls arrived for the streaming answer."""
        live = self._live
        if live is None:
            return
        live.text += text
        named = (model is not None and model != live.model) or (note is not None and note != live.note)
        if model is not None:
            live.model = model
        live.reasoning += reasoning
        if tool_calls is not None:
            live.tool_calls = tool_calls
        if note is not None:
            live.note = note
        due = time.monotonic() - self._live_at >= self._live_interval
        if due or named:
            self._render_live()
        else:
            if not self._catch_up.isActive():
                remaining = self._live_interval - (time.monotonic() - self._live_at)
                self._catch_up.start(max(1, int(remaining * 1000)))
            self._changed(LIVE_KEY)  # the plain tail grew

    def _render_live(self) -> None:
        live = self._live
        if live is None:
            return
        self._catch_up.stop()
        began = time.perf_counter()
        body = message_body(LIVE_KEY, "assistant", live.text)
        self._live_html = bubble_html(live, body, expanded=self.expanded.get(LIVE_KEY, ()))
        self._live_rendered = len(live.text)
        took = time.perf_counter() - began
        self.render_ms.append(took * 1000)
        # Rendering must stay a small share of the time: a long answer is re-rendered less often.
        self._live_interval = min(LIVE_RENDER_MAX_MS / 1000, max(LIVE_RENDER_MS / 1000, took * 8))
        self._live_at = time.monotonic()
        self._changed(LIVE_KEY)

    def end_turn(self, partial: Row | None = None, after: str | None = None) -> None:
        """The turn ended: the streaming row goes; ``partial`` (a stopped or failed answer) stays on screen
        after the message ``after`` until that message gets an answer."""
        self._catch_up.stop()
        at = self.find(LIVE_KEY)
        self._live = None
        if at >= 0:
            if partial is not None:
                self.rows[at] = partial
                self._changed(partial.key)
            else:
                self.beginRemoveRows(QModelIndex(), at, at)
                del self.rows[at]
                self.endRemoveRows()
        if partial is not None and after is not None:
            self.partials[after] = partial

    def _changed(self, key: str) -> None:
        i = self.find(key)
        if i >= 0:
            index = self.index(i)
            self.dataChanged.emit(index, index, [BubbleRole])
