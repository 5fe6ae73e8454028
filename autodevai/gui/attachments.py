"""Images attached to a prompt (the Execute panel): reading and encoding them off the UI thread, the strip of
removable chips (thumbnail, name, pixel size and bytes) under the prompt, the prompt editor that takes pasted and
dropped images, and the non-blocking file picker.

An image is sent as a base64 ``data:`` URL in an ``image_url`` part (OpenAI's chat-completions shape), so routing
sends the request to a model that reads images. PNG, JPEG, GIF and WEBP files go as they are; any other format Qt
reads (BMP, TIFF, SVG, ...) and pasted images are encoded as PNG. Reading, decoding and base64 run in a worker
thread (``GuiContext.run_cpu``); files over 20 MB (OpenAI's per-image limit) are refused before they are read.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QImageReader, QImageWriter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.gui.bridge import GuiContext
from autodevai.gui.widgets import see_through

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_IMAGE_BYTES",
    "Attachment",
    "AttachmentError",
    "AttachmentStrip",
    "PromptEdit",
    "image_bytes",
    "image_file",
    "pasted_image",
    "pick_images",
]

log = logging.getLogger("autodevai.gui")

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 8
THUMB_PX = 40
SENT_AS_IS = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
PICKER_FILTER = "Images (*.png *.jpg *.jpeg *.gif *.webp *.bmp *.tif *.tiff *.svg);;All files (*)"


class AttachmentError(ValueError):
    """An image that cannot be attached; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached image, ready to send: ``data_url`` is what goes in the request."""

    name: str
    media_type: str
    data_url: str
    size: int  # bytes sent (before base64)
    width: int
    height: int
    thumb: QImage

    def part(self) -> dict[str, Any]:
        """The ``image_url`` content part for a chat message."""
        return {"type": "image_url", "image_url": {"url": self.data_url}}

    def describe(self) -> str:
        return f"{self.width}×{self.height} · {fmt_bytes(self.size)}"


def fmt_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


# ---- reading and encoding (worker thread: QImage, QImageReader and QBuffer are reentrant) ------------------


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


def _attachment(name: str, media_type: str, data: bytes, image: QImage) -> Attachment:
    url = _data_url(media_type, data)
    return Attachment(name, media_type, url, len(data), image.width(), image.height(), _thumb(image))


def image_bytes(data: bytes, name: str) -> Attachment:
    """An attachment from an image file's bytes. Raises ``AttachmentError`` for anything but a readable image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise AttachmentError(f"{name} is {fmt_bytes(len(data))}; images are limited to {fmt_bytes(MAX_IMAGE_BYTES)}")
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    fmt = bytes(reader.format().data()).decode("ascii", "replace").lower()
    if not fmt:
        raise AttachmentError(f"{name} is not an image (attach PNG, JPEG, GIF, WEBP or another common format)")
    image = reader.read()
    if image.isNull():
        raise AttachmentError(f"{name}: the image cannot be read ({reader.errorString()})")
    media_type = SENT_AS_IS.get(fmt)
    if media_type is None:  # a format models do not take: send it as PNG
        data, media_type = _png(image), "image/png"
        if len(data) > MAX_IMAGE_BYTES:
            raise AttachmentError(f"{name} is {fmt_bytes(len(data))} as PNG; the limit is 20 MB")
    return _attachment(name, media_type, data, image)


def image_file(path: str) -> Attachment:
    """An attachment from an image file; refuses a missing or too large file before reading it."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise AttachmentError(f"{p.name} is not a file")
        if size > MAX_IMAGE_BYTES:
            raise AttachmentError(f"{p.name} is {fmt_bytes(size)}; images are limited to 20 MB")
        data = p.read_bytes()
    except FileNotFoundError:
        raise AttachmentError(f"{p.name}: no such file") from None
    except OSError as exc:
        raise AttachmentError(f"{p.name} cannot be read ({exc.strerror or exc})") from None
    return image_bytes(data, p.name)


def pasted_image(image: QImage, name: str) -> Attachment:
    """An attachment from an image on the clipboard (or dropped as image data), encoded as PNG."""
    if image.isNull():
        raise AttachmentError("the clipboard holds no readable image")
    data = _png(image)
    if len(data) > MAX_IMAGE_BYTES:
        raise AttachmentError(f"the pasted image is {fmt_bytes(len(data))} as PNG; the limit is 20 MB")
    return _attachment(name, "image/png", data, image)


# ---- widgets ----------------------------------------------------------------------------------------------


def pick_images(parent: QWidget, on_chosen: Callable[[list[str]], None]) -> QFileDialog:
    """Open a file picker for images without blocking (``open()``, not ``exec()``); ``on_chosen(paths)`` runs
    when the user picks. Returns the dialog (it deletes itself when closed)."""
    dialog = QFileDialog(parent, "Attach images")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    dialog.setNameFilter(PICKER_FILTER)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.filesSelected.connect(on_chosen)
    dialog.open()
    return dialog


def _local_files(mime: QMimeData) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


class PromptEdit(QPlainTextEdit):
    """The prompt editor: text as usual; pasted or dropped images (and image files) go to the attachments. Text
    wins when the clipboard holds both (a spreadsheet's cells come with a picture of them)."""

    files_dropped = Signal(list)  # local file paths
    image_pasted = Signal(QImage)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(_local_files(source)) or source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = _local_files(source)
        if files:
            self.files_dropped.emit(files)
            return
        if source.hasImage() and not source.text().strip():  # cells copied from a spreadsheet also carry an image
            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.image_pasted.emit(image)
                return
        super().insertFromMimeData(source)


class AttachmentChip(QFrame):
    """One attachment: its thumbnail, name, pixel size and bytes, and a button that removes it."""

    def __init__(self, attachment: Attachment, on_remove: Callable[[Attachment], None]) -> None:
        super().__init__()
        self.attachment = attachment
        self.setObjectName("attachmentChip")
        self.setStyleSheet(
            "QFrame#attachmentChip { border: 1px solid palette(mid); border-radius: 6px; background: palette(base); }"
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 2, 4)
        row.setSpacing(6)
        thumb = QLabel()
        thumb.setFixedSize(THUMB_PX, THUMB_PX)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap.fromImage(attachment.thumb)
        thumb.setPixmap(pixmap.scaled(QSize(THUMB_PX, THUMB_PX), Qt.AspectRatioMode.KeepAspectRatio))
        row.addWidget(thumb)
        text = QVBoxLayout()
        text.setSpacing(0)
        name = attachment.name if len(attachment.name) <= 22 else attachment.name[:10] + "…" + attachment.name[-10:]
        self.name_label = QLabel(name)
        self.name_label.setToolTip(attachment.name)
        self.info_label = QLabel(attachment.describe())
        self.info_label.setProperty("role", "muted")
        text.addWidget(self.name_label)
        text.addWidget(self.info_label)
        row.addLayout(text)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(f"Remove {attachment.name}")
        self.remove_button.clicked.connect(lambda: on_remove(attachment))
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)


class AttachmentStrip(QWidget):
    """The attached images as chips in one scrollable row; hidden while there are none. Files and images are read
    in a worker thread (``add_files`` / ``add_image`` return at once); ``failed`` says why one was refused."""

    changed = Signal()
    failed = Signal(str)

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.attachments: list[Attachment] = []
        self._chips: list[AttachmentChip] = []
        self.pending = 0
        self._generation = 0
        self._pasted = 0
        self.setAcceptDrops(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        inner = QWidget()
        self._row = QHBoxLayout(inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(6)
        self.loading_label = QLabel("Reading image…")
        self.loading_label.setProperty("role", "muted")
        self._row.addWidget(self.loading_label)
        self._row.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedHeight(THUMB_PX + 14)
        scroll.setWidget(inner)
        see_through(scroll)
        outer.addWidget(scroll)
        self._update()

    # ---- public -----------------------------------------------------------------------------------------

    @property
    def chips(self) -> list[AttachmentChip]:
        return list(self._chips)

    @property
    def loading(self) -> bool:
        return self.pending > 0

    def parts(self) -> list[dict[str, Any]]:
        """The ``image_url`` parts of every attachment, in the order they were added."""
        return [a.part() for a in self.attachments]

    def add_files(self, paths: Sequence[str]) -> None:
        """Attach image files (read in a worker thread; each appears as a chip when ready)."""
        for path in paths:
            if self._full():
                return
            self._load(self.ctx.run_cpu(image_file, path))

    def add_image(self, image: QImage, name: str | None = None) -> None:
        """Attach image data (a paste), encoded as PNG in a worker thread."""
        if self._full():
            return
        self._pasted += 1
        name = name or f"pasted image {self._pasted}.png"
        self._load(self.ctx.run_cpu(pasted_image, image.copy(), name))  # a detached copy for the worker

    def remove(self, attachment: Attachment) -> None:
        if attachment in self.attachments:
            self.attachments.remove(attachment)
            self._rebuild()

    def clear(self) -> None:
        """Remove every attachment; images still being read are dropped when they arrive."""
        self._generation += 1
        self.pending = 0
        self.attachments.clear()
        self._rebuild()

    # ---- drag and drop onto the strip -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if _local_files(mime) or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        files = _local_files(mime)
        if files:
            self.add_files(files)
        elif mime.hasImage() and isinstance(mime.imageData(), QImage):
            self.add_image(mime.imageData())
        event.acceptProposedAction()

    # ---- internals --------------------------------------------------------------------------------------

    def _full(self) -> bool:
        if len(self.attachments) + self.pending < MAX_ATTACHMENTS:
            return False
        self.failed.emit(f"At most {MAX_ATTACHMENTS} images per prompt; remove one to attach another.")
        return True

    def _load(self, work: Any) -> None:
        generation = self._generation
        self.pending += 1
        self._update()
        self.ctx.spawn(
            work,
            on_result=lambda a: self._arrived(generation, a, None),
            on_error=lambda e: self._arrived(generation, None, e),
            name="attach-image",
        )

    def _arrived(self, generation: int, attachment: Attachment | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # cleared meanwhile
        self.pending -= 1
        if attachment is not None:
            self.attachments.append(attachment)
            self._rebuild()
        else:
            if not isinstance(error, AttachmentError | OSError):
                log.error("attaching an image failed", exc_info=error)
            self._update()
            self.failed.emit(str(error) or type(error).__name__)

    def _rebuild(self) -> None:
        for chip in self._chips:
            self._row.removeWidget(chip)
            chip.deleteLater()
        self._chips = [AttachmentChip(attachment, self.remove) for attachment in self.attachments]
        for index, chip in enumerate(self._chips):
            self._row.insertWidget(index, chip)
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        self.loading_label.setVisible(self.pending > 0)
        self.setVisible(bool(self.attachments) or self.pending > 0)
