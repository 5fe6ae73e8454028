"""Splitting chat messages into units, and the text-level minifier.

A *unit* is the smallest piece compression keeps or drops: a sentence (or a line of a list or log), a whole fenced
code block (``` or ~~~, never split), or a JSON block (a message or paragraph that parses as JSON) — whole when small,
else one unit per element of its outer levels, so a tool result's relevant items can be kept without the rest. The
units of a message are exact slices of its content: joined back together they give the content unchanged.

Where the slices are cut follows how BPE tokenizers pre-split text (tiktoken's cl100k/o200k patterns): the spaces
between sentences start the next unit (" The" is one pre-token), newlines end the previous one (".\\n\\n" is one).
So the sum of the units' token counts is (nearly always exactly) the count of the whole message, and compression
can do its arithmetic on unit counts without tokenizing the conversation again.

Also here: ``minify_text``, which collapses whitespace outside code fences and minifies JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from autodevai.engine.types import ChatMessage

__all__ = ["MAX_UNIT_CHARS", "Unit", "UnitKind", "looks_json", "minify_text", "split_content", "split_messages"]

UnitKind = Literal["text", "code", "json"]

# Prose without any sentence break (a minified blob, a long line of CJK without punctuation) is cut into pieces of
# at most this many characters, so that one unit never dominates a budget and extractive selection stays fine.
MAX_UNIT_CHARS = 2_000

# A fence opens at the start of a line (up to 3 spaces of indentation, CommonMark) with 3+ backticks or tildes.
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*(?:\n|$)", re.M)
# Paragraph breaks: a newline followed by one or more blank (or whitespace-only) lines.
_PARA_BREAK = re.compile(r"\n(?:[ \t\r\f\v]*\n)+")
# Where a paragraph breaks into units: after a newline run, after a sentence end followed by spaces, after a CJK
# sentence end. Not before a lowercase letter: that is a hard-wrapped sentence going on, or an abbreviation
# ("e.g. this"); the lowercase class covers Latin, Greek and Cyrillic, other scripts break at every sentence end.
# The break itself is captured, so ``re.split`` does the whole scan in C and returns [text, break, text, ...].
_LOWER = "a-z\u00df-\u00f6\u00f8-\u00ff\u03ac-\u03ce\u0430-\u045f"
_SPLIT = re.compile(
    rf"(\n(?:[ \t\r\f\v]*\n)*(?=[ \t\r\f\v]*[^\s{_LOWER}])"
    rf"|[.!?…]+[\"'”’»)\]]*(?=[ \t]+[^\s{_LOWER}])"
    r"|[。！？]+[」』）)]*)"
)
# JSON structure: strings (skipped whole, so brackets inside them do not count) and the structural characters.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_JSON_MAX_DEPTH = 3
_SPACE_RUN = re.compile(r"(?<=\S)[ \t]{2,}")
_TRAILING_SPACE = re.compile(r"[ \t\r\f\v]+(?=\n|$)")
_BLANK_LINES = re.compile(r"\n{3,}")
_LEADING_BLANKS = re.compile(r"\A\n{2,}")


@dataclass(slots=True)
class Unit:
    """One keep-or-drop piece of one message. ``para`` is a paragraph id, unique across the conversation."""

    msg: int
    para: int
    kind: UnitKind
    text: str


def looks_json(text: str) -> bool:
    """True when ``text`` (stripped) is a JSON object or array."""
    s = text.strip()
    if len(s) < 2 or s[0] not in "{[" or s[-1] not in "}]":
        return False
    try:
        json.loads(s)
    except (ValueError, RecursionError):  # nested deeper than the parser recurses: treat it as text
        return False
    return True


def _regions(content: str) -> Iterator[tuple[bool, str]]:
    """Yield ``(is_code, slice)`` covering ``content`` in order; a code slice is one whole fenced block (an
    unclosed fence runs to the end of the text, as in CommonMark)."""
    pos = 0
    while True:
        m = _FENCE_OPEN.search(content, pos)
        if m is None:
            break
        fence = m.group(1)
        close = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*(?:\n|$)", re.M)
        c = close.search(content, m.end())
        end = len(content) if c is None else c.end()
        if m.start() > pos:
            yield False, content[pos : m.start()]
        yield True, content[m.start() : end]
        pos = end
        if pos >= len(content):
            return
    if pos < len(content):
        yield False, content[pos:]


def _paragraphs(prose: str) -> Iterator[str]:
    """Exact slices of ``prose``, each ending with the blank lines that follow it."""
    pos = 0
    for m in _PARA_BREAK.finditer(prose):
        yield prose[pos : m.end()]
        pos = m.end()
    if pos < len(prose):
        yield prose[pos:]


def _cap(piece: str) -> Iterator[str]:
    """``piece`` in slices of at most ``MAX_UNIT_CHARS``, cut before a space where there is one."""
    while len(piece) > MAX_UNIT_CHARS:
        cut = piece.rfind(" ", MAX_UNIT_CHARS // 2, MAX_UNIT_CHARS)
        if cut <= 0:
            cut = MAX_UNIT_CHARS
        yield piece[:cut]
        piece = piece[cut:]
    yield piece


def _sentences(paragraph: str) -> Iterator[str]:
    """Exact slices of one paragraph: sentences and lines, none longer than ``MAX_UNIT_CHARS``."""
    parts = _SPLIT.split(paragraph)
    for piece in [a + b for a, b in zip(parts[0::2], parts[1::2], strict=False)] + [parts[-1]]:
        if len(piece) > MAX_UNIT_CHARS:
            yield from _cap(piece)
        elif piece:
            yield piece


def _json_elements(text: str) -> list[str]:
    """A large JSON block as exact slices cut after the commas of its outer levels (object members, array
    elements): a tool result's items become units of their own. The shallowest depth whose commas make pieces of
    about ``MAX_UNIT_CHARS`` is used; a newline after a comma stays with the piece before it."""
    commas: list[tuple[int, int]] = []  # (depth, position after the comma)
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        ch = m.group()
        if ch in ("[", "{"):
            depth += 1
        elif ch in ("]", "}"):
            depth -= 1
        elif ch == "," and depth <= _JSON_MAX_DEPTH:
            commas.append((depth, m.end()))
    if not commas:
        return [text]
    wanted = len(text) // MAX_UNIT_CHARS
    level = next(
        (d for d in range(1, _JSON_MAX_DEPTH + 1) if sum(1 for cd, _ in commas if cd <= d) >= wanted),
        _JSON_MAX_DEPTH,
    )
    pieces: list[str] = []
    pos = 0
    for d, cut in commas:
        if d > level:
            continue
        while cut < len(text) and text[cut] in "\r\n":
            cut += 1
        pieces.append(text[pos:cut])
        pos = cut
    pieces.append(text[pos:])
    return [p for p in pieces if p]


def _json_units(para: int, text: str) -> list[tuple[UnitKind, int, str]]:
    if len(text) <= MAX_UNIT_CHARS:
        return [("json", para, text)]
    return [("json", para, piece) for piece in _json_elements(text)]


def split_content(content: str) -> list[tuple[UnitKind, int, str]]:
    """The units of one message as ``(kind, paragraph number within the message, text)``; their texts joined give
    ``content`` back. An empty content gives one empty text unit (every message has at least one unit)."""
    if not content:
        return [("text", 0, "")]
    if looks_json(content):
        return _json_units(0, content)
    out: list[tuple[UnitKind, int, str]] = []
    para = 0
    for is_code, region in _regions(content):
        if is_code:
            out.append(("code", para, region))
            para += 1
            continue
        for paragraph in _paragraphs(region):
            if paragraph.lstrip()[:1] in ("{", "[") and looks_json(paragraph):
                out.extend(_json_units(para, paragraph))
            else:
                out.extend(("text", para, s) for s in _sentences(paragraph))
            para += 1
    return out


def split_messages(messages: Sequence[ChatMessage]) -> tuple[list[Unit], list[range]]:
    """All units of ``messages`` in order, and for each message the range of its unit indices."""
    units: list[Unit] = []
    ranges: list[range] = []
    para_base = 0
    for i, message in enumerate(messages):
        start = len(units)
        parts = split_content(message.text)
        units.extend(Unit(i, para_base + p, kind, text) for kind, p, text in parts)
        para_base += parts[-1][1] + 1
        ranges.append(range(start, len(units)))
    return units, ranges


def _minify_prose(prose: str) -> str:
    # Each pass only runs when a cheap substring test says it can change something (most text is clean).
    if any(ws + "\n" in prose for ws in " \t\r\f\v") or prose[-1:] in (" ", "\t", "\r", "\f", "\v"):
        prose = _TRAILING_SPACE.sub("", prose)
    if "  " in prose or "\t" in prose:
        prose = _SPACE_RUN.sub(" ", prose)
    return _BLANK_LINES.sub("\n\n", prose) if "\n\n\n" in prose else prose


def minify_text(content: str, role: str) -> str:
    """``content`` with JSON minified (tool messages and contents that parse as JSON) or, for other text, trailing
    spaces removed, runs of spaces inside lines and runs of blank lines collapsed, and the ends stripped. Fenced
    code blocks are left exactly as they are; leading indentation is kept (it carries meaning in lists)."""
    stripped = content.strip()
    if (role == "tool" or stripped[:1] in ("{", "[")) and stripped:
        try:
            return json.dumps(json.loads(stripped), separators=(",", ":"), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass
    if not stripped:
        return ""
    regions = list(_regions(content))
    parts: list[str] = []
    for k, (is_code, region) in enumerate(regions):
        if is_code:
            parts.append(region)
            continue
        region = _minify_prose(region)
        if k > 0 and regions[k - 1][1].endswith("\n"):
            region = _LEADING_BLANKS.sub("\n", region)  # the fence's own newline already ends the line
        parts.append(region)
    text = "".join(parts)
    # Strip the ends, but never into a code block (an unclosed fence runs to the end of the text).
    text = text.lstrip() if not regions[0][0] else text
    return text.rstrip() if not regions[-1][0] else text
