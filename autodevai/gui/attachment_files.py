"""Reading what you attach to a message, off the UI thread: images (sent as base64 ``data:`` URLs in
``image_url`` parts, so routing picks a model that reads images), text and code files (put inline as text, in a
fenced block named after the file, so every model can read them) and PDFs (sent as ``file`` parts in
OpenRouter's shape, so routing picks a model that reads files).

PNG, JPEG, GIF and WEBP images go as they are; any other format Qt reads (BMP, TIFF, SVG, ...) and pasted images
are encoded as PNG. Reading, decoding and base64 run in a worker thread (``GuiContext.run_cpu``; ``QImage``,
``QImageReader`` and ``QBuffer`` are reentrant). Sizes are checked before a file is read: 20 MB for images and
PDFs (OpenAI's per-image limit), ``MAX_TEXT_BYTES`` for text (a larger text file would fill a model's window).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pygments.lexers import find_lexer_class_for_filename
from pygments.util import ClassNotFound
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QImageReader, QImageWriter

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_TEXT_BYTES",
    "THUMB_PX",
    "Attachment",
    "AttachmentError",
    "attachment_bytes",
    "attachment_file",
    "fmt_bytes",
    "pasted_image",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_BYTES = 512 * 1024
THUMB_PX = 40
SENT_AS_IS = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}

Kind = Literal["image", "text", "pdf"]


class AttachmentError(ValueError):
    """A file that cannot be attached; the message names it and says why."""


def fmt_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attachment, ready to send: ``part()`` is what goes in the message."""

    name: str
    kind: Kind
    media_type: str
    size: int  # bytes read (before base64)
    data_url: str = ""  # images and PDFs
    text: str = ""  # text files
    width: int = 0
    height: int = 0
    thumb: QImage | None = None
    language: str = ""  # text files: the fence's language, from the file name

    def part(self) -> dict[str, Any]:
        """The content part for a chat message."""
        if self.kind == "image":
            return {"type": "image_url", "image_url": {"url": self.data_url}}
        if self.kind == "pdf":
            return {"type": "file", "file": {"filename": self.name, "file_data": self.data_url}}
        fence = "`" * max(3, _longest_run(self.text, "`") + 1)
        return {"type": "text", "text": f"File {self.name}:\n{fence}{self.language}\n{self.text}\n{fence}"}

    def describe(self) -> str:
        if self.kind == "image":
            return f"{self.width}×{self.height} · {fmt_bytes(self.size)}"
        if self.kind == "pdf":
            return f"PDF · {fmt_bytes(self.size)}"
        lines = self.text.count("\n") + 1
        return f"{lines:,} line{'s' if lines != 1 else ''} · {fmt_bytes(self.size)}"


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def _data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _thumb(image: QImage) -> QImage:
    return image.scaled(
        THUMB_PX * 2, THUMB_PX * 2, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def _png(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise AttachmentError(f"the image could not be encoded as PNG ({writer.errorString()})")
    return bytes(buffer.data().data())


def _image(name: str, media_type: str, data: bytes, image: QImage) -> Attachment:
    return Attachment(name, "image", media_type, len(data), _data_url(media_type, data), "", image.width(),
                      image.height(), _thumb(image))  # fmt: skip


def _image_format(data: bytes) -> str:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    return bytes(QImageReader(buffer).format().data()).decode("ascii", "replace").lower()


def _image_bytes(data: bytes, name: str) -> Attachment:
    if len(data) > MAX_IMAGE_BYTES:
        raise AttachmentError(f"{name} is {fmt_bytes(len(data))}; images are limited to {fmt_bytes(MAX_IMAGE_BYTES)}")
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    fmt = bytes(reader.format().data()).decode("ascii", "replace").lower()
    image = reader.read()
    if image.isNull():
        raise AttachmentError(f"{name}: the image cannot be read ({reader.errorString()})")
    media_type = SENT_AS_IS.get(fmt)
    if media_type is None:  # a format models do not take: send it as PNG
        data, media_type = _png(image), "image/png"
        if len(data) > MAX_IMAGE_BYTES:
            raise AttachmentError(f"{name} is {fmt_bytes(len(data))} as PNG; the limit is 20 MB")
    return _image(name, media_type, data, image)


def _language(name: str) -> str:
    try:
        lexer = find_lexer_class_for_filename(name)
    except ClassNotFound:  # pragma: no cover - Pygments returns None rather than raising
        return ""
    aliases = getattr(lexer, "aliases", None) or [""]
    return "" if aliases[0] == "text" else str(aliases[0])


def _text_bytes(data: bytes, name: str) -> Attachment:
    if b"\x00" in data[:8192]:
        raise AttachmentError(f"{name} is not an image, a PDF or a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttachmentError(f"{name} is not an image, a PDF or a UTF-8 text file") from None
    if len(data) > MAX_TEXT_BYTES:
        raise AttachmentError(f"{name} is {fmt_bytes(len(data))}; text files are limited to 512 KB")
    return Attachment(name, "text", "text/plain", len(data), text=text.rstrip("\n"), language=_language(name))


def attachment_bytes(data: bytes, name: str) -> Attachment:
    """An attachment from a file's bytes: an image, a PDF or a text file (in that order of sniffing). Raises
    ``AttachmentError`` for anything else or anything too large."""
    if data.startswith(b"%PDF-"):
        if len(data) > MAX_FILE_BYTES:
            raise AttachmentError(f"{name} is {fmt_bytes(len(data))}; files are limited to 20 MB")
        return Attachment(name, "pdf", "application/pdf", len(data), _data_url("application/pdf", data))
    if _image_format(data):
        return _image_bytes(data, name)
    return _text_bytes(data, name)


def attachment_file(path: str) -> Attachment:
    """An attachment from a file; refuses a missing or too large file before reading it."""
    p = Path(path)
    try:
        if not p.is_file():
            raise AttachmentError(f"{p.name}: no such file" if not p.exists() else f"{p.name} is not a file")
        size = p.stat().st_size
        if size > max(MAX_IMAGE_BYTES, MAX_FILE_BYTES):
            raise AttachmentError(f"{p.name} is {fmt_bytes(size)}; attachments are limited to 20 MB")
        data = p.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"{p.name} cannot be read ({exc.strerror or exc})") from None
    return attachment_bytes(data, p.name)


def pasted_image(image: QImage, name: str) -> Attachment:
    """An attachment from an image on the clipboard (or dropped as image data), encoded as PNG."""
    if image.isNull():
        raise AttachmentError("the clipboard holds no readable image")
    data = _png(image)
    if len(data) > MAX_IMAGE_BYTES:
        raise AttachmentError(f"the pasted image is {fmt_bytes(len(data))} as PNG; the limit is 20 MB")
    return _image(name, "image/png", data, image)
