"""What text and structure the engine accepts at its boundary: valid Unicode (no lone UTF-16 surrogates, which also
stand for bytes that were not UTF-8) and JSON-like values nested at most ``MAX_JSON_DEPTH`` deep.

Python strings can hold lone surrogates (``"\\ud800"`` from a JSON escape, ``\\udcff`` from a command-line byte
that was not UTF-8, decoded with ``surrogateescape``); neither UTF-8 nor SQLite can take them, so such text is
refused here, before anything is sent or stored, naming the field that holds it. Deep nesting is refused because
JSON encoders and decoders recurse (``RecursionError`` near 1000 levels). ``storable`` is the last line of
defence for text that arrives from elsewhere (an upstream's answer): lone surrogates become visible escapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from autodevai.engine.constants import MAX_JSON_DEPTH
from autodevai.engine.errors import InvalidRequest
from autodevai.engine.messages import ChatMessage
from autodevai.engine.request import ChatRequest

__all__ = ["check_request", "find_problem", "storable", "user_message"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Fields of a request that hold text or JSON-like values beyond the messages (checked only when set).
_FIELDS = (
    "model", "provider", "fallbacks", "task_class", "extra_headers", "stop", "logit_bias", "user", "tools",
    "tool_choice", "response_format", "reasoning", "openrouter", "extra_body",
)  # fmt: skip


def _describe(text: str, at: int) -> str:
    char = text[at]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # what surrogateescape makes of a byte that is not UTF-8
        return f"invalid UTF-8 (the byte 0x{code - 0xDC00:02x}) at character {at}"
    return f"a lone UTF-16 surrogate (\\u{code:04x}) at character {at}, which is not valid Unicode text"


def _short(where: str) -> str:
    return where if len(where) <= 60 else where[:60] + "…"


def _value(path: str, value: Any) -> tuple[str, str] | None:
    """(where, what) of the first invalid string or too-deep nesting inside ``value``; iterative, so a value nested
    far too deep is reported instead of overflowing the stack."""
    todo: list[tuple[str, Any, int]] = [(path, value, 0)]
    while todo:
        where, item, depth = todo.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found is not None:
                return where, _describe(item, found.start())
            continue
        if isinstance(item, BaseModel):
            fields = dict(item.__dict__)
            fields.update(item.__pydantic_extra__ or {})
            item = fields
        if depth >= MAX_JSON_DEPTH and isinstance(item, Mapping | list | tuple):
            return _short(where), f"nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(item, Mapping):
            for key, sub in item.items():
                name = f"{where}.{key}" if isinstance(key, str) and key.isidentifier() else f"{where}[{key!r}]"
                bad_key = _SURROGATE.search(key) if isinstance(key, str) else None
                if bad_key is not None:
                    return where, f"a key holds {_describe(key, bad_key.start())}"
                if sub is not None:
                    todo.append((name, sub, depth + 1))
        elif isinstance(item, list | tuple):
            todo.extend((f"{where}[{i}]", sub, depth + 1) for i, sub in enumerate(item) if sub is not None)
    return None


def _in_messages(messages: Sequence[ChatMessage]) -> tuple[str, str] | None:
    for i, message in enumerate(messages):
        content = message.content
        if isinstance(content, str):
            found = _SURROGATE.search(content)
            if found is not None:
                return f"messages[{i}].content", _describe(content, found.start())
            rest = {k: v for k, v in message.__dict__.items() if k not in ("content", "role") and v is not None}
        else:
            rest = {k: v for k, v in message.__dict__.items() if k != "role" and v is not None}
        rest.update(message.__pydantic_extra__ or {})
        if rest:
            problem = _value(f"messages[{i}]", rest)
            if problem is not None:
                return problem
    return None


def find_problem(request: ChatRequest) -> tuple[str, str] | None:
    """(field path, what is wrong) for the first text that is not valid Unicode or value nested too deep in
    ``request``, or None. The messages' texts are searched first (one regex pass each: microseconds)."""
    problem = _in_messages(request.messages)
    if problem is not None:
        return problem
    for name in _FIELDS:
        value = getattr(request, name)
        if value:
            problem = _value(name, value)
            if problem is not None:
                return problem
    return None


def _refuse(problem: tuple[str, str]) -> InvalidRequest:
    where, what = problem
    nested = what.startswith("nested")
    hint = "flatten the value" if nested else "send valid UTF-8 text (check the file's or the terminal's encoding)"
    return InvalidRequest(f"{where}: {what}", field=where, hint=hint)


def user_message(content: Any) -> ChatMessage:
    """A user's new message from ``content`` (a string or content parts). Raises pydantic's ``ValidationError``
    for a shape that is not a message, ``InvalidRequest`` when it is empty or holds invalid text."""
    message = ChatMessage.model_validate({"role": "user", "content": content})
    if not (message.text.strip() or message.has_media):
        raise InvalidRequest("the message is empty")
    problem = _in_messages([message])
    if problem is not None:
        raise _refuse(("content", problem[1]))
    return message


def check_request(request: ChatRequest) -> None:
    """Raise ``InvalidRequest`` naming the field when ``request`` holds invalid text or nesting too deep."""
    problem = find_problem(request)
    if problem is not None:
        raise _refuse(problem)


def storable(text: str) -> str:
    """``text`` with every lone surrogate replaced by its ``\\udXXX`` escape, so UTF-8 and SQLite can take it."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
