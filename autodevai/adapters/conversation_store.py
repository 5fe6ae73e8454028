"""SqliteConversations: conversations and their message trees in the store's SQLite file (schema v5), with
full-text search over message text (FTS5 ``messages_fts``, kept in step by triggers) and per-conversation totals.

It shares the store's one SQLite thread (``sqlite_writer.Writer``): a message and the conversation's new head are
written in one transaction, committed before the caller hears it. Texts are redacted on the way in, like request
rows, so a key pasted into a chat never reaches the file.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from autodevai.adapters.sqlite_writer import Kind, Writer
from autodevai.engine.conversations import Conversation, Preset, SearchHit, ThreadMessage
from autodevai.engine.errors import redact
from autodevai.engine.input_limits import storable

__all__ = ["SqliteConversations", "fts_query"]

_CONV_COLS = (
    "c.id, c.title, c.created, c.updated, c.pinned, c.preset, c.head_id, c.deleted_at, "
    "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), "
    "(SELECT total(m.cost_usd) FROM messages m WHERE m.conversation_id = c.id)"
)
_MSG_COLS = (
    "id, conversation_id, parent_id, role, content, created, kind, summary_of, model, provider, request_id, "
    "prompt_tokens, completion_tokens, cost_usd, cost_source, latency_ms, simulated, extra"
)
_INSERT_MSG = (
    f"INSERT INTO messages ({_MSG_COLS}, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """A user's words as an FTS5 query: every word must appear (quoted, so no operator syntax leaks in), the last
    one as a prefix (search as you type)."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _dumps(value: Any) -> str:
    return storable(redact(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)))


def _conversation(row: tuple[Any, ...]) -> Conversation:
    return Conversation(
        id=row[0],
        title=row[1],
        created=row[2],
        updated=row[3],
        pinned=bool(row[4]),
        preset=Preset.model_validate(json.loads(row[5] or "{}")),
        head_id=row[6],
        deleted=row[7] is not None,
        message_count=int(row[8]),
        cost_usd=float(row[9]),
    )


def _message(row: tuple[Any, ...]) -> ThreadMessage:
    return ThreadMessage(
        id=row[0],
        conversation_id=row[1],
        parent_id=row[2],
        role=row[3],
        content=json.loads(row[4]),
        created=row[5],
        kind=row[6],
        summary_of=row[7],
        model=row[8],
        provider=row[9],
        request_id=row[10],
        prompt_tokens=row[11],
        completion_tokens=row[12],
        cost_usd=row[13],
        cost_source=row[14],
        latency_ms=row[15],
        simulated=bool(row[16]),
        extra=json.loads(row[17] or "{}"),
    )


class SqliteConversations:
    """The ``ConversationStore`` port on the store's writer thread."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def create(self, conversation: Conversation) -> None:
        c = conversation

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO conversations (id, title, created, updated, pinned, preset, head_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.id, storable(redact(c.title)), c.created, c.updated, int(c.pinned),
                 _dumps(c.preset.model_dump(mode="json", exclude_none=True)), c.head_id),
            )  # fmt: skip

        await self._writer.submit(Kind.WRITE, write)

    async def update(self, conversation_id: str, updated: float | None, **fields: Any) -> None:
        """Set ``title``, ``pinned``, ``preset`` (a ``Preset``), ``head_id`` or ``deleted_at`` (None restores), and
        ``updated`` unless it is None (renaming or pinning does not make a conversation the most recent)."""
        columns: dict[str, Any] = {} if updated is None else {"updated": updated}
        for name, value in fields.items():
            if name == "preset":
                value = _dumps(value.model_dump(mode="json", exclude_none=True))
            elif name == "title":
                value = storable(redact(value))
            elif name == "pinned":
                value = int(value)
            elif name not in ("head_id", "deleted_at"):
                raise ValueError(f"not a conversation field: {name}")
            columns[name] = value
        sets = ", ".join(f"{k} = ?" for k in columns)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(f"UPDATE conversations SET {sets} WHERE id = ?", (*columns.values(), conversation_id))

        await self._writer.submit(Kind.WRITE, write)

    async def add_message(self, message: ThreadMessage, *, head: bool = True) -> None:
        """Insert ``message``; with ``head`` it becomes the conversation's current leaf (one transaction)."""
        m = message
        text = storable(redact(m.text))  # a lone surrogate (from an upstream's answer) as a visible escape
        row = (m.id, m.conversation_id, m.parent_id, m.role, _dumps(m.content), m.created, m.kind, m.summary_of,
               m.model, m.provider, m.request_id, m.prompt_tokens, m.completion_tokens, m.cost_usd, m.cost_source,
               m.latency_ms, int(m.simulated), _dumps(dict(m.extra)), text)  # fmt: skip

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(_INSERT_MSG, row)
            if head:
                conn.execute(
                    "UPDATE conversations SET head_id = ?, updated = ? WHERE id = ?",
                    (m.id, m.created, m.conversation_id),
                )

        await self._writer.submit(Kind.WRITE, write)

    async def get(self, conversation_id: str) -> Conversation | None:
        def read(conn: sqlite3.Connection) -> Conversation | None:
            sql = f"SELECT {_CONV_COLS} FROM conversations c WHERE c.id = ?"
            row = conn.execute(sql, (conversation_id,)).fetchone()
            return None if row is None else _conversation(row)

        result: Conversation | None = await self._writer.read(read)
        return result

    async def listing(self, *, deleted: bool = False, limit: int = 1000) -> list[Conversation]:
        """Conversations, pinned first, then the most recently updated; ``deleted`` lists the soft-deleted ones."""
        where = "c.deleted_at IS NOT NULL" if deleted else "c.deleted_at IS NULL"

        def read(conn: sqlite3.Connection) -> list[Conversation]:
            sql = (
                f"SELECT {_CONV_COLS} FROM conversations c WHERE {where} ORDER BY c.pinned DESC, c.updated DESC LIMIT ?"
            )
            return [_conversation(r) for r in conn.execute(sql, (limit,)).fetchall()]

        result: list[Conversation] = await self._writer.read(read)
        return result

    async def messages(self, conversation_id: str) -> list[ThreadMessage]:
        """Every message of the conversation, every branch, oldest first."""

        def read(conn: sqlite3.Connection) -> list[ThreadMessage]:
            sql = f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ? ORDER BY created, rowid"
            return [_message(r) for r in conn.execute(sql, (conversation_id,)).fetchall()]

        result: list[ThreadMessage] = await self._writer.read(read)
        return result

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages whose text has every word of ``text`` (the last as a prefix), best match first, in
        conversations that are not deleted."""
        query = fts_query(text)
        if not query:
            return []

        def read(conn: sqlite3.Connection) -> list[SearchHit]:
            sql = (
                "SELECT m.conversation_id, c.title, m.id, m.role, "
                "snippet(messages_fts, 0, '[', ']', '…', 12), m.created "
                "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL ORDER BY rank LIMIT ?"
            )
            return [SearchHit(*row) for row in conn.execute(sql, (query, limit)).fetchall()]

        result: list[SearchHit] = await self._writer.read(read)
        return result

    async def purge(self, conversation_id: str) -> None:
        """Delete the conversation and its messages for good."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

        await self._writer.submit(Kind.WRITE, write)
