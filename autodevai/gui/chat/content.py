"""What a message bubble shows of a message's content: the text (Markdown for answers; text and fenced code for
your own messages), each attached image as a thumbnail, and each attached file or audio clip as a line naming it.

``message_body`` is pure apart from decoding images with ``QImage`` (reentrant), so a thread's bodies can be made
in a worker thread. Thumbnails are referenced from the HTML as ``att:<key>/<n>`` and added to the bubble's
document as image resources.
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QImage

from autodevai.gui.chat.markdown import Rendered, render_markdown

__all__ = ["THUMB_H", "THUMB_W", "Body", "image_ref", "message_body", "size_text"]

THUMB_W, THUMB_H = 260, 180


@dataclass(frozen=True, slots=True)
class Body:
    """A bubble's content: its HTML with code blocks (``rendered``) and the thumbnails the HTML refers to."""

    rendered: Rendered
    images: tuple[QImage, ...] = ()

    @property
    def html(self) -> str:
        return self.rendered.html

    @property
    def code(self) -> tuple[str, ...]:
        return self.rendered.code


def image_ref(key: str, n: int) -> str:
    return f"att:{key}/{n}"


def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


def _decoded(url: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of a base64 ``data:`` URL; None for anything else."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, _, data = url.partition(";base64,")
    try:
        return head[5:], base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None


def _thumbnail(data: bytes) -> QImage | None:
    image = QImage()
    if not image.loadFromData(QByteArray(data)):
        return None
    if image.width() > THUMB_W or image.height() > THUMB_H:
        image = image.scaled(
            THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return image


def _file_line(label: str, detail: str) -> str:
    return f'<p class="muted">▣ {html.escape(label)} · {html.escape(detail)}</p>'


def _parts(key: str, parts: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str], list[QImage]]:
    """(texts, HTML lines for media, thumbnails) of a multimodal content list."""
    texts: list[str] = []
    lines: list[str] = []
    images: list[QImage] = []
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            decoded = _decoded(url)
            thumb = _thumbnail(decoded[1]) if decoded else None
            if thumb is None:
                lines.append(_file_line("Image", "remote" if not decoded else "not readable"))
                continue
            ref = image_ref(key, len(images))
            images.append(thumb)
            lines.append(f'<p><img src="{ref}" width="{thumb.width()}" height="{thumb.height()}"></p>')
        elif kind == "file":
            file = part.get("file") or {}
            decoded = _decoded(str(file.get("file_data") or ""))
            size = size_text(len(decoded[1])) if decoded else "by reference"
            lines.append(_file_line(str(file.get("filename") or "file"), size))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            lines.append(_file_line("Audio clip", str(audio.get("format") or "audio")))
    return texts, lines, images


def message_body(key: str, role: str, content: Any) -> Body:
    """The bubble content of a message with this ``content`` (a string or OpenAI content parts)."""
    plain = role == "user"
    if content is None:
        return Body(Rendered(""))
    if isinstance(content, str):
        return Body(render_markdown(content, plain=plain))
    texts, lines, images = _parts(key, [p for p in content if isinstance(p, Mapping)])
    rendered = render_markdown("\n\n".join(t for t in texts if t.strip()), plain=plain)
    return Body(Rendered("".join(lines) + rendered.html, rendered.code), tuple(images))
