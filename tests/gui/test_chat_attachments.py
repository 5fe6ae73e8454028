"""Attachments in the conversation view, over the real engine and the simulator: an image (by the picker, paste
or drop) is sent and answered by a vision model and shows in your bubble; a text file goes inline as a code block;
a PDF goes as a file part; what cannot be attached is refused with a reason."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from autodevai.engine.chat import ChatTurn
from autodevai.gui.attachments import MAX_ATTACHMENTS

from .chat_helpers import chat_panel, send
from .conftest import Harness


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _chips(panel: object) -> list[str]:
    strip = panel.composer.attachments  # type: ignore[attr-defined]
    return [f"{c.name_label.text()} {c.info_label.text()}" for c in strip.chips if c.isVisible()]


def test_an_attached_image_is_answered_by_a_vision_model(harness: Harness, qtbot: QtBot, tmp_path: Path) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(png(64, 48))

    async def body() -> None:
        ctx = await harness.start()
        panel = await chat_panel(harness, ctx)
        strip = panel.composer.attachments
        assert not strip.isVisible(), "no strip without attachments"
        qtbot.mouseClick(panel.composer.attach_button, Qt.MouseButton.LeftButton)  # the picker does not block
        dialog = panel.findChild(QFileDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.selectFile(str(image))
        dialog.accept()
        await harness.wait_until(lambda: bool(_chips(panel)), what="the chip")
        assert _chips(panel) == [f"chart.png 64×48 · {image.stat().st_size} B"]
        result = await send(harness, panel, "What does this chart show?")
        assert isinstance(result, ChatTurn), result
        models = await ctx.engine.get_openrouter_models(text=result.answer.model)
        assert "image" in next(m for m in models if m.id == result.answer.model).input_modalities
        texts = panel.thread_view.texts()
        assert "64×48 PNG" in texts[1], "the vision model saw the image"
        bubble = panel.thread_model.bubble(panel.thread_model.rows[0])
        assert len(bubble.images) == 1 and bubble.images[0].width() == 64, "your bubble shows the image"
        assert "<img" in bubble.html
        assert _chips(panel) == [] and not strip.isVisible(), "sent: the composer is empty again"

    harness.run(body())


def test_paste_drop_text_and_pdf_attachments(harness: Harness, qtbot: QtBot, tmp_path: Path) -> None:
    dropped = tmp_path / "dropped.png"
    dropped.write_bytes(png(12, 10))
    code = tmp_path / "retry.py"
    code.write_text("def backoff(n):\n    return 2 ** n\n", encoding="utf-8")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    big = tmp_path / "huge.png"

    async def body() -> None:
        ctx = await harness.start()
        panel = await chat_panel(harness, ctx)
        c = panel.composer
        pasted = QImage(30, 20, QImage.Format.Format_RGB32)
        pasted.fill(QColor("#3b82f6"))
        QGuiApplication.clipboard().setImage(pasted)
        c.prompt_edit.paste()
        await harness.wait_until(lambda: len(_chips(panel)) == 1, what="the pasted image")
        assert _chips(panel)[0].startswith("pasted image 1.png 30×20")
        assert c.prompt_edit.toPlainText() == "", "the image did not go into the text"

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(dropped)), QUrl.fromLocalFile(str(code)), QUrl.fromLocalFile(str(pdf))])
        viewport = c.prompt_edit.viewport()
        at, copy = QPointF(20, 20), Qt.DropAction.CopyAction
        for kind in (QDragEnterEvent, QDragMoveEvent, QDropEvent):  # a drag from a file manager, as Qt sees it
            event = kind(at, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(viewport, event)
            assert event.isAccepted(), kind.__name__
        await harness.wait_until(lambda: len(_chips(panel)) == 4, what="the dropped files")
        chips = _chips(panel)
        assert chips[1].startswith("dropped.png 12×10") and chips[2].startswith("retry.py 2 lines")
        assert chips[3].startswith("paper.pdf PDF ·")
        parts = c.attachments.parts()
        assert parts[2]["type"] == "text" and "```python\ndef backoff(n):" in parts[2]["text"]
        assert parts[3]["type"] == "file" and parts[3]["file"]["file_data"].startswith("data:application/pdf;base64,")

        async with harness.wait_signal(c.attachments.failed, what="the refusal"):
            c.attachments.add_files([str(binary)])
        assert "blob.bin is not an image, a PDF or a text file" in c.invalid_label.text()
        with big.open("wb") as f:
            f.write(png(1, 1))
            os.truncate(f.fileno(), 21 * 1024 * 1024)  # sparse: refused by its size before it is read
        async with harness.wait_signal(c.attachments.failed, what="the size refusal"):
            c.attachments.add_files([str(big)])
        assert "huge.png is 21.0 MB" in c.invalid_label.text()

        result = await send(harness, panel, "Review these.")
        assert isinstance(result, ChatTurn), result
        mine = panel.thread_view.row_text(0)
        assert "File retry.py:" in mine and "def backoff(n):" in mine and "paper.pdf" in mine
        models = await ctx.engine.get_openrouter_models(text=result.answer.model)
        info = next(m for m in models if m.id == result.answer.model)
        assert {"image", "file"} <= set(info.input_modalities), "routed to a model that reads images and files"

        loaded = c.attachments.changed
        async with harness.wait_signal(loaded, what="the images", check=lambda: not c.attachments.loading):
            c.attachments.add_files([str(dropped)] * (MAX_ATTACHMENTS + 1))
        assert len(c.attachments.attachments) == MAX_ATTACHMENTS
        assert f"At most {MAX_ATTACHMENTS} attachments" in c.invalid_label.text()

    harness.run(body())
