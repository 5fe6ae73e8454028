"""Markdown as rich text for Qt's ``QTextDocument``: answers rendered with markdown-it-py (CommonMark with tables
and strikethrough, raw HTML escaped), fenced code highlighted with Pygments, each code block in a framed box with
its language and a "Copy" link, and the exact code kept beside the HTML for that link.

The HTML carries class names only (``span.k``, ``table.code``, ...); ``stylesheet(dark)`` gives the colors, set as
the document's default style sheet, so one rendering serves both themes. Pure and thread-safe (no Qt): a long
thread is rendered in a worker thread. Your own messages are rendered as text with fenced code blocks only, so
``2*3 and 4*5`` stays as typed instead of turning into emphasis.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from pygments import highlight as _pygmentize
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

__all__ = ["COPY_CODE", "Rendered", "code_html", "render_markdown", "stylesheet"]

COPY_CODE = "copy-code:"  # anchor prefix of a code block's Copy link; the block's index follows
HIGHLIGHT_MAX = 60_000  # characters: longer blocks are shown plain (highlighting them would take too long)
LIGHT_STYLE, DARK_STYLE = "default", "github-dark"
MONO = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message body as HTML, and the exact text of each of its code blocks (index = the Copy link's number)."""

    html: str
    code: tuple[str, ...] = ()


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


@cache
def _formatter() -> HtmlFormatter[str]:
    return HtmlFormatter(nowrap=True)


def _highlighted(code: str, lang: str) -> str:
    if not lang or len(code) > HIGHLIGHT_MAX:
        return _escape(code)
    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return _escape(code)
    return str(_pygmentize(code, lexer, _formatter())).removesuffix("\n")


def code_html(code: str, lang: str, index: int) -> str:
    """One code block: a header row with the language and a Copy link (``copy-code:<index>``), then the code."""
    label = _escape(lang) if lang else "code"
    body = _highlighted(code, lang.lower())
    return (
        '<table class="code" width="100%" cellspacing="0" cellpadding="6">'
        f'<tr><td class="codehead">{label}</td>'
        f'<td class="codehead" align="right"><a href="{COPY_CODE}{index}">Copy</a></td></tr>'
        f'<tr><td class="codebody" colspan="2"><pre>{body}</pre></td></tr></table>'
    )


def _fence(self: Any, tokens: Sequence[Any], idx: int, _options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    code = token.content[:-1] if token.content.endswith("\n") else token.content
    blocks: list[str] = env.setdefault("code", [])
    blocks.append(code)
    lang = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    return code_html(code, lang, len(blocks) - 1)


def _code_inline(self: Any, tokens: Sequence[Any], idx: int, _options: Any, _env: Any) -> str:
    return f'<code class="ic">{_escape(tokens[idx].content)}</code>'


def _image(self: Any, tokens: Sequence[Any], idx: int, _options: Any, _env: Any) -> str:
    # Never fetched: a remote image in an answer is shown as a link to it.
    token = tokens[idx]
    src = html.escape(str(token.attrGet("src") or ""))
    alt = _escape(token.content or "image")
    return f'<a href="{src}">[image: {alt}]</a>'


def _table_open(self: Any, _tokens: Sequence[Any], _idx: int, _options: Any, _env: Any) -> str:
    return '<table class="md" cellspacing="0" cellpadding="4" border="1">'


def _parser(full: bool) -> MarkdownIt:
    if full:
        md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
        md.add_render_rule("code_inline", _code_inline)
        md.add_render_rule("image", _image)
        md.add_render_rule("table_open", _table_open)
    else:  # your own messages: paragraphs, line breaks and fenced code, nothing else
        md = MarkdownIt("zero", {"breaks": True}).enable(["fence", "newline"])
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _fence)
    return md


_FULL = _parser(True)
_PLAIN = _parser(False)


def render_markdown(text: str, *, plain: bool = False) -> Rendered:
    """``text`` as HTML (Markdown; with ``plain``, only paragraphs and fenced code) and its code blocks."""
    env: dict[str, Any] = {}
    out = (_PLAIN if plain else _FULL).render(text, env)
    return Rendered(out, tuple(env.get("code", ())))


def _token_css(style_name: str) -> list[str]:
    style = get_style_by_name(style_name)
    rules = []
    for ttype, short in STANDARD_TYPES.items():
        if not short:
            continue
        s = style.style_for_token(ttype)
        decl = []
        if s["color"]:
            decl.append(f"color: #{s['color']}")
        if s["bold"]:
            decl.append("font-weight: bold")
        if s["italic"]:
            decl.append("font-style: italic")
        if decl:
            rules.append(f"span.{short} {{ {'; '.join(decl)} }}")
    return rules


@cache
def stylesheet(dark: bool) -> str:
    """The CSS a bubble's ``QTextDocument`` uses for this theme: text, links, code boxes and token colors."""
    if dark:
        text, muted, link, code_bg, code_fg, head_bg, edge, inline_bg = (
            "#e6e6e6", "#9aa0a6", "#60a5fa", "#0d1117", "#e6edf3", "#161b22", "#30363d", "#3a3d44",
        )  # fmt: skip
    else:
        text, muted, link, code_bg, code_fg, head_bg, edge, inline_bg = (
            "#1f2328", "#6b7280", "#2563eb", "#f6f8fa", "#1f2328", "#eaeef2", "#d0d7de", "#eceef1",
        )  # fmt: skip
    rules = [
        f"body {{ color: {text}; }}",
        f"a {{ color: {link}; text-decoration: none; }}",
        "p { margin-top: 0px; margin-bottom: 6px; }",
        "h1 { font-size: 17px; } h2 { font-size: 15px; } h3, h4, h5, h6 { font-size: 14px; }",
        f"table.code {{ background-color: {code_bg}; border-color: {edge}; margin-top: 4px; margin-bottom: 8px; }}",
        f"td.codehead {{ background-color: {head_bg}; color: {muted}; font-size: 11px; }}",
        f"td.codebody {{ color: {code_fg}; }}",
        f"pre {{ font-family: {MONO}; white-space: pre-wrap; margin: 0px; color: {code_fg}; }}",
        f"code.ic {{ font-family: {MONO}; background-color: {inline_bg}; }}",
        f"table.md {{ border-color: {edge}; margin-bottom: 8px; }}",
        f"th {{ background-color: {head_bg}; }}",
        f"blockquote {{ color: {muted}; }}",
        f".muted {{ color: {muted}; }}",
        f"td.key {{ color: {muted}; padding-right: 12px; }}",
        f"div.reasoning {{ color: {muted}; font-style: italic; }}",
        *_token_css(DARK_STYLE if dark else LIGHT_STYLE),
    ]
    return "\n".join(rules)
