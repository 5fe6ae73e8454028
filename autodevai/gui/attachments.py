"""Attachments on a message being written (the Execute panel's composer): the strip of removable chips
(thumbnail or file mark, name, size) under the prompt, the prompt editor that takes pasted and dropped images and
files, and the non-blocking file picker. Reading and encoding the files is ``attachment_files``' job, in a worker
thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
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

from autodevai.gui.attachment_files import THUMB_PX, Attachment, AttachmentError, attachment_file, pasted_image
from autodevai.gui.bridge import GuiContext
from autodevai.gui.widgets import see_through

__all__ = ["MAX_ATTACHMENTS", "AttachmentChip", "AttachmentStrip", "PromptEdit", "pick_files"]

log = logging.getLogger("autodevai.gui")

MAX_ATTACHMENTS = 8
PICKER_FILTER = (
    "Images, PDFs and text (*.png *.jpg *.jpeg *.gif *.webp *.bmp *.tif *.tiff *.svg *.pdf *.txt *.md *.py *.js "
    "*.ts *.json *.toml *.yaml *.yml *.csv *.html *.css *.sql *.sh *.rs *.go *.java *.c *.h *.cpp *.rb *.log);;"
    "All files (*)"
)


def pick_files(parent: QWidget, on_chosen: Callable[[list[str]], None]) -> QFileDialog:
    """Open a file picker without blocking (``open()``, not ``exec()``); ``on_chosen(paths)`` runs when the user
    picks. Returns the dialog (it deletes itself when closed)."""
    dialog = QFileDialog(parent, "Attach files")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    dialog.setNameFilter(PICKER_FILTER)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.filesSelected.connect(on_chosen)
    dialog.open()
    return dialog


def _local_files(mime: QMimeData) -> list[str]:
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


class PromptEdit(QPlainTextEdit):
    """The prompt editor: text as usual; pasted or dropped images and files go to the attachments. Text wins when
    the clipboard holds both (a spreadsheet's cells come with a picture of them)."""

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
    """One attachment: its thumbnail (or a mark saying PDF or TXT), name and size, and a button that removes it."""

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
        if attachment.thumb is not None:
            pixmap = QPixmap.fromImage(attachment.thumb)
            thumb.setPixmap(pixmap.scaled(QSize(THUMB_PX, THUMB_PX), Qt.AspectRatioMode.KeepAspectRatio))
        else:
            thumb.setText("PDF" if attachment.kind == "pdf" else "TXT")
            thumb.setStyleSheet(
                "font-weight: 600; font-size: 11px; border: 1px solid palette(mid); border-radius: 4px;"
            )
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
    """The attachments as chips in one scrollable row; hidden while there are none. Files and images are read in a
    worker thread (``add_files`` / ``add_image`` return at once); ``failed`` says why one was refused."""

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
        self._added = 0
        self._orders: list[int] = []  # when each attachment was added, for keeping them in that order
        self.setAcceptDrops(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        inner = QWidget()
        self._row = QHBoxLayout(inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(6)
        self.loading_label = QLabel("Reading…")
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
        """The content part of every attachment (image, file or text), in the order they were added."""
        return [a.part() for a in self.attachments]

    def add_files(self, paths: Sequence[str]) -> None:
        """Attach files (read in a worker thread; each appears as a chip when ready)."""
        for path in paths:
            if self._full():
                return
            self._load(self.ctx.run_cpu(attachment_file, path))

    def add_image(self, image: QImage, name: str | None = None) -> None:
        """Attach image data (a paste), encoded as PNG in a worker thread."""
        if self._full():
            return
        self._pasted += 1
        name = name or f"pasted image {self._pasted}.png"
        self._load(self.ctx.run_cpu(pasted_image, image.copy(), name))  # a detached copy for the worker

    def remove(self, attachment: Attachment) -> None:
        if attachment in self.attachments:
            del self._orders[self.attachments.index(attachment)]
            self.attachments.remove(attachment)
            self._rebuild()

    def clear(self) -> None:
        """Remove every attachment; images still being read are dropped when they arrive."""
        self._generation += 1
        self.pending = 0
        self.attachments.clear()
        self._orders.clear()
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
        self.failed.emit(f"At most {MAX_ATTACHMENTS} attachments per message; remove one to attach another.")
        return True

    def _load(self, work: Any) -> None:
        generation = self._generation
        self._added += 1
        order = self._added
        self.pending += 1
        self._update()
        self.ctx.spawn(
            work,
            on_result=lambda a: self._arrived(generation, order, a, None),
            on_error=lambda e: self._arrived(generation, order, None, e),
            name="attach-file",
        )

    def _arrived(self, generation: int, order: int, attachment: Attachment | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # cleared meanwhile
        self.pending -= 1
        if attachment is not None:  # in the order they were added, whichever was read first
            at = sum(1 for n in self._orders if n < order)
            self._orders.insert(at, order)
            self.attachments.insert(at, attachment)
            self._rebuild()
        else:
            if not isinstance(error, AttachmentError | OSError):
                log.error("attaching a file failed", exc_info=error)
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
