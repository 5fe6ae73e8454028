"""Conversations as values: a thread's messages form a tree (an edited or regenerated message starts a branch beside
the one it replaces), the conversation remembers which leaf is current (``head_id``), and the thread shown and sent
is the path from the root to that leaf.

Pure: the types, the tree walks, and export to Markdown and to JSON in OpenAI's messages format (plus import from
that JSON). Storage lives behind the ``Store`` port (SQLite, with full-text search); the request path that sends a
turn is ``engine/chat.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autodevai.engine.errors import InvalidRequest
from autodevai.engine.messages import ChatMessage, Tool
from autodevai.engine.types import Preference

__all__ = [
    "TITLE_CHARS",
    "Conversation",
    "MessageKind",
    "Preset",
    "SearchHit",
    "Thread",
    "ThreadMessage",
    "build_thread",
    "children",
    "export_json",
    "export_markdown",
    "leaf_of",
    "parse_import",
    "path_to",
    "title_from",
]

TITLE_CHARS = 60
MessageKind = Literal["message", "summary"]


class Preset(BaseModel):
    """How a conversation talks to models unless a turn says otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str | None = None
    model: str | None = None  # pin a model; None routes by ``preference``
    preference: Preference | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    tools: list[Tool] | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    title: str
    created: float  # epoch seconds
    updated: float
    pinned: bool = False
    preset: Preset = field(default_factory=Preset)
    head_id: str | None = None  # the current leaf; None for an empty conversation
    deleted: bool = False
    message_count: int = 0
    cost_usd: float = 0.0  # every answer in it, every branch included


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One stored message. ``content`` is what ``ChatMessage.content`` holds (a string or parts as JSON-ready
    dicts); an assistant answer also keeps who answered, what it cost and why that model."""

    id: str
    conversation_id: str
    parent_id: str | None
    role: str
    content: Any
    created: float
    kind: MessageKind = "message"  # "summary": a stored summary of the turns before ``summary_of``
    summary_of: str | None = None  # the last message a summary covers
    model: str = ""
    provider: str = ""
    request_id: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_source: str = "provider"
    latency_ms: float = 0.0
    simulated: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)  # tool calls, reasoning, route reasons, attempts, fit

    def chat_message(self) -> ChatMessage:
        """The message as the API takes it (assistant tool calls included)."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.extra.get("tool_calls"):
            data["tool_calls"] = self.extra["tool_calls"]
        if self.extra.get("tool_call_id"):
            data["tool_call_id"] = self.extra["tool_call_id"]
        return ChatMessage.model_validate(data)

    @property
    def text(self) -> str:
        return ChatMessage.model_validate({"role": self.role, "content": self.content}).text if self.content else ""


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation opened: its current path (root first) and, per message on it, its siblings (branches)."""

    conversation: Conversation
    messages: tuple[ThreadMessage, ...]
    siblings: Mapping[str, tuple[str, ...]]  # message id -> ids of the messages sharing its parent, in order

    def branch_of(self, message_id: str) -> tuple[int, int]:
        """(1-based position, count) of ``message_id`` among its siblings, for "2 / 3" controls."""
        group = self.siblings.get(message_id, (message_id,))
        return group.index(message_id) + 1, len(group)


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    conversation_title: str
    message_id: str
    role: str
    snippet: str  # the matching text with the match marked by [ ]
    created: float


def children(messages: Iterable[ThreadMessage]) -> dict[str | None, list[ThreadMessage]]:
    """Messages by parent id, each list oldest first."""
    out: dict[str | None, list[ThreadMessage]] = {}
    for m in sorted(messages, key=lambda m: (m.created, m.id)):
        out.setdefault(m.parent_id, []).append(m)
    return out


def path_to(leaf_id: str | None, by_id: Mapping[str, ThreadMessage]) -> list[ThreadMessage]:
    """The messages from the root to ``leaf_id`` (empty for None or an unknown id)."""
    out: list[ThreadMessage] = []
    seen: set[str] = set()
    current = by_id.get(leaf_id) if leaf_id else None
    while current is not None and current.id not in seen:
        seen.add(current.id)
        out.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    out.reverse()
    return out


def leaf_of(message_id: str, kids: Mapping[str | None, Sequence[ThreadMessage]]) -> str:
    """The newest leaf under ``message_id`` (following the newest child each time): where a branch continues."""
    current = message_id
    while kids.get(current):
        current = kids[current][-1].id
    return current


def build_thread(conversation: Conversation, messages: Sequence[ThreadMessage]) -> Thread:
    """The ``Thread`` of ``conversation`` given all its stored messages."""
    by_id = {m.id: m for m in messages}
    path = path_to(conversation.head_id, by_id)
    kids = children(messages)
    siblings = {m.id: tuple(s.id for s in kids.get(m.parent_id, [m])) for m in path}
    return Thread(conversation, tuple(path), siblings)


def title_from(text: str) -> str:
    """A conversation title from its first message: the first line, at most ``TITLE_CHARS`` characters."""
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else "New conversation"
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rstrip() + "…"


# ---- export and import ----------------------------------------------------------------------------------


def export_json(thread: Thread) -> str:
    """The current path in OpenAI's chat format: ``{"title", "messages": [{"role", "content", ...}]}`` (the
    preset's system prompt first; summaries are AutoDevAI's own and stay out)."""
    messages: list[dict[str, Any]] = []
    system = thread.conversation.preset.system
    if system:
        messages.append({"role": "system", "content": system})
    for m in thread.messages:
        if m.kind != "message":
            continue
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.extra.get("tool_calls"):
            item["tool_calls"] = m.extra["tool_calls"]
        if m.extra.get("tool_call_id"):
            item["tool_call_id"] = m.extra["tool_call_id"]
        if m.role == "assistant" and m.model:
            item["model"] = m.model
        messages.append(item)
    return json.dumps({"title": thread.conversation.title, "messages": messages}, ensure_ascii=False, indent=2)


def export_markdown(thread: Thread) -> str:
    """The current path as Markdown: a heading per message naming its role (and the model that answered)."""
    lines = [f"# {thread.conversation.title}", ""]
    if thread.conversation.preset.system:
        lines += ["## System", "", thread.conversation.preset.system, ""]
    for m in thread.messages:
        if m.kind != "message":
            continue
        who = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}.get(m.role, m.role)
        if m.role == "assistant" and m.model:
            who += f" · {m.model}"
        lines += [f"## {who}", "", m.text or "_(no text)_", ""]
        for call in m.extra.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, dict) else {}
            lines += [
                f"Tool call `{function.get('name', '?')}`:",
                "",
                "```json",
                function.get("arguments", ""),
                "```",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


class _Imported(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    messages: list[dict[str, Any]] = Field(min_length=1)


def parse_import(text: str) -> tuple[str, str | None, list[tuple[ChatMessage, str]]]:
    """(title, system prompt, [(message, the model that answered it or "")]) from an exported JSON document (or a
    bare list of messages). Raises ``InvalidRequest`` naming what is wrong."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"the file is not JSON: {exc}") from None
    if isinstance(raw, list):
        raw = {"messages": raw}
    try:
        doc = _Imported.model_validate(raw)
        system = None
        messages: list[tuple[ChatMessage, str]] = []
        for item in doc.messages:
            clean = {k: v for k, v in item.items() if k != "model"}
            msg = ChatMessage.model_validate(clean)
            if msg.role == "system" and not messages and system is None:
                system = msg.text
                continue
            model = item.get("model")
            messages.append((msg, model if isinstance(model, str) else ""))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRequest(f"not a conversation export: {where}: {first['msg']}") from None
    if not messages:
        raise InvalidRequest("the conversation has no messages besides the system prompt")
    first_user = next((m.text for m, _ in messages if m.role == "user"), "Imported conversation")
    title = doc.title or title_from(first_user)
    return title, system, messages
