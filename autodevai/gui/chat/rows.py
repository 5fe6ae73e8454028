"""The rows of a thread view and the rich text of each row's bubble.

A row is a stored message, your message on its way (``pending``), the answer streaming in (``live``), an answer
you stopped or that failed (``partial``, kept on screen but not stored), or the "Show earlier messages" line at the
top of a long thread (``earlier``; ``later`` at the bottom after a jump back to an old message). ``bubble_html``
builds what the bubble shows: a head (who wrote it, a "SIMULATED" tag, the "‹ 2/3 ›" branch switcher), the
reasoning (collapsible), the body, the tool calls, and a foot (timing, cost and tokens; Copy, Edit or Regenerate,
Details) with the details table when expanded.

Actions are links inside the bubble (``copy``, ``edit``, ``regen``, ``toggle:details``, ``toggle:reasoning``,
``branch:prev``, ``branch:next``, ``copy-code:<n>``, ``earlier``, ``later``); the thread view turns clicks on them
into calls.
"""

from __future__ import annotations

import html
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from autodevai.engine.conversations import ThreadMessage
from autodevai.gui.answer_details import message_details_html
from autodevai.gui.chat.content import Body
from autodevai.gui.chat.markdown import code_html
from autodevai.gui.labels import cost_text, simulated_html
from autodevai.text import fmt_ms, fmt_tokens

__all__ = ["ROLE_NAMES", "Row", "RowKind", "bubble_html", "code_blocks", "row_tool_calls", "tool_calls_html"]

RowKind = Literal["message", "pending", "live", "partial", "earlier", "later"]
ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool result"}


@dataclass(slots=True)
class Row:
    """One row of the thread view. ``message`` is set for stored messages; the other kinds carry ``text``."""

    key: str
    kind: RowKind
    role: str = "assistant"
    message: ThreadMessage | None = None
    text: str = ""
    model: str = ""
    branch: tuple[int, int] = (1, 1)
    earlier: int = 0  # "earlier" / "later": how many messages are not shown on that side
    reasoning: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments) while streaming
    note: str = ""  # pending/live: a status; partial: why it ended
    error_html: str = ""  # partial: the error, as rich text
    simulated: bool = False
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def is_user(self) -> bool:
        return self.role == "user"

    @property
    def plain_text(self) -> str:
        """What Copy puts on the clipboard: the message's text."""
        return self.message.text if self.message is not None else self.text


def _e(text: object) -> str:
    return html.escape(str(text))


def _flashed(html_text: str, href: str, flash: str) -> str:
    """``html_text`` with the link ``href`` saying "Copied ✓" while ``flash`` names it."""
    if flash != href:
        return html_text
    return html_text.replace(f'href="{href}">Copy</a>', f'href="{href}">Copied ✓</a>')


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments  # still streaming, or not valid JSON: as written


def tool_calls_html(calls: Collection[tuple[str, str]], first_index: int) -> str:
    """Each tool call as a code block headed by its name, the arguments as indented JSON."""
    out = []
    for n, (name, arguments) in enumerate(calls):
        out.append(f'<p class="muted" style="margin-top:6px">Tool call <b>{_e(name or "…")}</b></p>')
        out.append(code_html(_pretty(arguments), "json", first_index + n))
    return "".join(out)


def stored_tool_calls(message: ThreadMessage) -> tuple[tuple[str, str], ...]:
    calls = []
    for c in message.extra.get("tool_calls") or ():
        function = c.get("function") or {} if isinstance(c, dict) else {}
        calls.append((str(function.get("name", "")), str(function.get("arguments", ""))))
    return tuple(calls)


def _head(row: Row) -> str:
    m = row.message
    if row.is_user:
        who = "You"
    elif m is not None:
        who = _e(m.model) if m.model else ROLE_NAMES.get(m.role, _e(m.role))
    else:
        who = _e(row.model) if row.model else "Assistant"
    parts = [f"<b>{who}</b>"]
    if (m is not None and m.simulated) or row.simulated:
        parts.append(simulated_html())
    position, count = row.branch
    if count > 1:
        prev = '<a href="branch:prev">‹</a>' if position > 1 else '<span class="muted">‹</span>'
        nxt = '<a href="branch:next">›</a>' if position < count else '<span class="muted">›</span>'
        parts.append(f"{prev} {position}/{count} {nxt}")
    if row.note:
        parts.append(f'<span class="muted">{_e(row.note)}</span>')
    return f"<p>{'&nbsp;&nbsp;'.join(parts)}</p>"


def _reasoning(text: str, tokens: int, open_: bool) -> str:
    if not text.strip():
        return ""
    count = f" · {tokens:,} tokens" if tokens else ""
    arrow = "▾" if open_ else "▸"
    out = f'<p><a href="toggle:reasoning">{arrow} Reasoning{count}</a></p>'
    if open_:
        body = _e(text.strip()).replace("\n", "<br>")
        out += f'<div class="reasoning">{body}</div>'
    return out


def _meta(m: ThreadMessage) -> str:
    if not m.request_id and not m.latency_ms:
        return "imported"  # from a file: no request behind it
    cost = cost_text(m.cost_usd, m.cost_source)
    cost = "cost unknown" if cost == "unknown" else cost
    tokens = m.prompt_tokens + m.completion_tokens
    hedged = "hedged" if m.extra.get("hedged") else ""  # a second model raced a late first token (see Details)
    return " · ".join(x for x in (fmt_ms(m.latency_ms), cost, f"{fmt_tokens(tokens)} tokens", hedged) if x)


def _foot(row: Row, expanded: Collection[str]) -> str:
    m = row.message
    links = ['<a href="copy">Copy</a>']
    meta = ""
    if row.kind == "message" and m is not None:
        if row.is_user:
            links.append('<a href="edit">Edit</a>')
        elif m.role == "assistant":
            links.append('<a href="regen">Regenerate</a>')
            arrow = "▾" if "details" in expanded else "▸"
            links.append(f'<a href="toggle:details">Details {arrow}</a>')
            meta = _meta(m)
    elif row.kind == "partial" and row.is_user:
        links = []
    shown = " · ".join(links)
    meta_html = f'<span class="muted">{_e(meta)}</span>&nbsp;&nbsp;&nbsp;' if meta else ""
    return f"<p>{meta_html}{shown}</p>" if shown or meta else ""


def bubble_html(row: Row, body: Body, *, expanded: Collection[str] = (), flash: str | None = None) -> str:
    """The rich text of ``row``'s bubble; ``expanded`` names the open sections ("details", "reasoning") and
    ``flash`` a Copy link that just copied."""
    if row.kind in ("earlier", "later"):
        noun = "message" if row.earlier == 1 else "messages"
        return f'<p align="center"><a href="{row.kind}">Show {row.kind} {noun} ({row.earlier:,} more)</a></p>'
    m = row.message
    parts = [_head(row)]
    if m is not None and not row.is_user:
        usage = m.extra.get("reasoning_tokens")
        parts.append(_reasoning(str(m.extra.get("reasoning") or ""), int(usage or 0), "reasoning" in expanded))
    elif row.reasoning:
        parts.append(_reasoning(row.reasoning, 0, "reasoning" in expanded))
    parts.append(body.html)
    calls = row_tool_calls(row)
    if calls:
        parts.append(tool_calls_html(calls, len(body.code)))
    if row.error_html:
        parts.append(row.error_html)
    if row.kind in ("message", "partial"):
        parts.append(_foot(row, expanded))
    if m is not None and "details" in expanded and m.role == "assistant":
        parts.append(message_details_html(m))
    out = "".join(parts)
    return _flashed(out, flash, flash) if flash else out


def row_tool_calls(row: Row) -> tuple[tuple[str, str], ...]:
    return stored_tool_calls(row.message) if row.message is not None else row.tool_calls


def code_blocks(row: Row, body: Body) -> tuple[str, ...]:
    """The exact text behind each ``copy-code:<n>`` link of the bubble: the body's code, then the tool calls'."""
    return body.code + tuple(_pretty(arguments) for _name, arguments in row_tool_calls(row))
