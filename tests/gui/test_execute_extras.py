"""The Execute panel with the rest of the chat API, over the real engine and the simulator: attached images (by
the attach method, paste and drop) as removable chips answered by a vision model, tool calls shown with their
arguments, and a reasoning model's reasoning streamed into the Reasoning section."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from autodevai.engine.types import EngineResponse, StreamDelta, ToolCall, ToolCallDelta
from autodevai.gui.answer_extras import AnswerExtras, ToolCallAssembler, tool_calls_text
from autodevai.gui.attachments import MAX_ATTACHMENTS
from autodevai.gui.panels.execute import ExecutePanel
from autodevai.sim.config import SimConfig

from .conftest import Harness

REASONER = "deepseek/deepseek-r1"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _panel(harness: Harness, ctx: object) -> ExecutePanel:
    panel = ExecutePanel(ctx)  # type: ignore[arg-type]
    harness.widgets.append(panel)
    panel.setMinimumSize(900, 600)
    panel.resize(1000, 700)
    panel.show()
    panel.on_shown()
    return panel


async def _answer(harness: Harness, panel: ExecutePanel) -> EngineResponse:
    async with harness.wait_signal(panel.finished, what="the answer") as done:
        assert panel.send(), panel.invalid_label.text()
    response = done.args[0]
    assert isinstance(response, EngineResponse), response
    return response


def _chip_texts(panel: ExecutePanel) -> list[str]:
    return [f"{c.name_label.text()} {c.info_label.text()}" for c in panel.attachments.chips if c.isVisible()]


def test_an_attached_image_shows_a_chip_and_a_vision_model_answers(
    harness: Harness, qtbot: QtBot, tmp_path: Path
) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(png(64, 48))

    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx)
        assert not panel.attachments.isVisible(), "no strip without attachments"
        qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)  # the picker opens without blocking
        dialog = panel.findChild(QFileDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.selectFile(str(image))
        dialog.accept()
        await harness.wait_until(lambda: bool(_chip_texts(panel)), what="the chip")
        assert _chip_texts(panel) == [f"chart.png 64×48 · {image.stat().st_size} B"]
        assert panel.attachments.isVisible()
        panel.prompt_edit.setPlainText("What does this chart show?")
        response = await _answer(harness, panel)
        assert "64×48 PNG" in panel.answer_view.toPlainText()
        models = await ctx.engine.get_openrouter_models(text=response.model)
        assert "image" in next(m for m in models if m.id == response.model).input_modalities
        assert response.model in panel.details_label.text()
        assert _chip_texts(panel), "attachments stay for the next send, like the prompt"

        qtbot.mouseClick(panel.attachments.chips[0].remove_button, Qt.MouseButton.LeftButton)
        assert panel.attachments.attachments == [] and not panel.attachments.isVisible()

    harness.run(body())


def test_paste_and_drop_attach_images_and_non_images_are_refused(
    harness: Harness, qtbot: QtBot, tmp_path: Path
) -> None:
    dropped = tmp_path / "dropped.png"
    dropped.write_bytes(png(12, 10))
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image", encoding="utf-8")
    big = tmp_path / "huge.png"

    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx)
        pasted = QImage(30, 20, QImage.Format.Format_RGB32)
        pasted.fill(QColor("#3b82f6"))
        QGuiApplication.clipboard().setImage(pasted)
        panel.prompt_edit.paste()
        await harness.wait_until(lambda: len(_chip_texts(panel)) == 1, what="the pasted image")
        assert _chip_texts(panel)[0].startswith("pasted image 1.png 30×20")
        assert panel.prompt_edit.toPlainText() == "", "the image did not go into the text"
        cells = QMimeData()  # what a spreadsheet copies: the cells' text and a picture of them
        cells.setText("a\tb")
        cells.setImageData(pasted)
        QGuiApplication.clipboard().setMimeData(cells)
        panel.prompt_edit.paste()
        assert panel.prompt_edit.toPlainText() == "a\tb", "text wins over the picture"
        assert len(panel.attachments.attachments) + panel.attachments.pending == 1
        panel.prompt_edit.clear()

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(dropped))])
        viewport = panel.prompt_edit.viewport()
        at, copy = QPointF(20, 20), Qt.DropAction.CopyAction
        for kind in (QDragEnterEvent, QDragMoveEvent, QDropEvent):  # a drag from a file manager, as Qt sees it
            event = kind(at, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(viewport, event)
            assert event.isAccepted(), kind.__name__
        await harness.wait_until(lambda: len(_chip_texts(panel)) == 2, what="the dropped image")
        assert _chip_texts(panel)[1].startswith("dropped.png 12×10")

        async with harness.wait_signal(panel.attachments.failed, what="the refusal"):
            panel.attachments.add_files([str(notes)])
        assert panel.invalid_label.isVisible()
        assert "notes.txt is not an image" in panel.invalid_label.text()
        panel.invalid_label.hide()
        with big.open("wb") as f:
            f.write(png(1, 1))
            os.truncate(f.fileno(), 21 * 1024 * 1024)  # sparse: refused by its size before it is read
        async with harness.wait_signal(panel.attachments.failed, what="the size refusal"):
            panel.attachments.add_files([str(big)])
        assert panel.invalid_label.isVisible()
        assert "huge.png is 21.0 MB; images are limited to 20 MB" in panel.invalid_label.text()
        assert len(panel.attachments.attachments) == 2

        loaded = panel.attachments.changed
        async with harness.wait_signal(loaded, what="the images", check=lambda: not panel.attachments.loading):
            panel.attachments.add_files([str(dropped)] * MAX_ATTACHMENTS)
        assert len(panel.attachments.attachments) == MAX_ATTACHMENTS
        assert f"At most {MAX_ATTACHMENTS} images" in panel.invalid_label.text()

    harness.run(body())


def test_a_tool_call_shows_its_name_and_arguments(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx)
        panel.set_tools([WEATHER])
        assert panel.tools_label.isVisible() and panel.tools_label.text() == "get_weather"
        panel.prompt_edit.setPlainText("What is the weather in Paris?")
        response = await _answer(harness, panel)
        assert response.tool_calls, "the simulator's tool model called the tool"
        view = panel.extras.tool_calls
        assert view.isVisible() and "Tool call" in view.title_label.text()
        text = view.text()
        assert text.startswith("get_weather  · ")
        arguments = json.loads(text.split("\n", 1)[1])
        assert arguments == json.loads(response.tool_calls[0].arguments) and arguments["city"] == "Paris"
        assert "Tool calls" in panel.details_label.text() and "get_weather" in panel.details_label.text()
        if not response.content:
            assert "tool calls" in panel.answer_view.placeholderText()

        panel.set_tools([])
        assert not panel.tools_label.isVisible()
        panel.prompt_edit.setPlainText("What is 2+2?")
        await _answer(harness, panel)
        assert not view.isVisible(), "an answer without tool calls hides the view"

    harness.run(body())


def test_reasoning_streams_live_into_the_reasoning_section(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=1.0, seed=5))
        panel = _panel(harness, ctx)
        reasoning = panel.extras.reasoning
        assert not reasoning.isVisible()
        panel.model_edit.setText(REASONER)
        panel.prompt_edit.setPlainText("Is 91 a prime number?")
        shown = harness.wait_signal(panel.stream.piece, what="the reasoning", check=lambda _p: reasoning.isVisible())
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            async with shown:
                assert panel.send()
            assert not done.future.done(), "the reasoning showed while the answer was still coming"
            assert reasoning.text(), "reasoning text arrived"
            assert panel.answer_view.toPlainText() == "", "the reasoning is not mixed into the answer"
        response = done.args[0]
        assert isinstance(response, EngineResponse) and response.reasoning
        assert reasoning.text().strip() == response.reasoning.strip()
        assert reasoning.toggle.text() == f"Reasoning · {response.usage.reasoning_tokens:,} tokens"
        assert response.reasoning not in panel.answer_view.toPlainText()
        assert "reasoning" in panel.details_label.text()

        qtbot.mouseClick(reasoning.toggle, Qt.MouseButton.LeftButton)
        assert not reasoning.text_view.isVisible() and reasoning.isVisible(), "collapsed, header still shown"
        panel.model_edit.setText("openai/gpt-4o-mini")
        panel.prompt_edit.setPlainText("What is 2+2?")
        await _answer(harness, panel)
        assert not reasoning.isVisible(), "no reasoning section for a model that did not reason"

    harness.run(body())


def test_tool_call_pieces_are_assembled_and_the_response_settles_the_view(qtbot: QtBot) -> None:
    assembler = ToolCallAssembler()
    for delta in (
        ToolCallDelta(0, id="call_1", name="search", type="function"),
        ToolCallDelta(1, id="call_2", name="get_weather"),
        ToolCallDelta(0, arguments='{"query": "circ'),
        ToolCallDelta(1, arguments='{"city":'),
        ToolCallDelta(0, arguments='uit breakers"}'),
        ToolCallDelta(1, arguments=' "Oslo"}'),
    ):
        assembler.feed(delta)
    calls = assembler.calls()
    assert [c.name for c in calls] == ["search", "get_weather"]
    assert calls[0].parsed_arguments() == {"query": "circuit breakers"}
    assert tool_calls_text(calls) == (
        'search  · call_1\n{\n  "query": "circuit breakers"\n}\n\nget_weather  · call_2\n{\n  "city": "Oslo"\n}'
    )
    assert tool_calls_text([ToolCall("c", "f", "{not json")]).endswith("{not json"), "shown as written"

    extras = AnswerExtras()
    qtbot.add_widget(extras.tool_calls)
    qtbot.add_widget(extras.reasoning)
    extras.tool_calls.show()  # shown by its parent in the panel; alone here
    extras.feed(StreamDelta("sim", "m", tool_calls=(ToolCallDelta(0, id="call_9", name="lookup", arguments='{"a"'),)))
    assert "lookup  · call_9" in extras.tool_calls.text() and '{"a"' in extras.tool_calls.text(), "live, partial"
    extras.feed(StreamDelta("sim", "m", reasoning="Thinking about it. "))
    assert extras.reasoning.text() == "Thinking about it. "
    extras.reset()
    assert extras.tool_calls.text() == "" and extras.reasoning.text() == ""
