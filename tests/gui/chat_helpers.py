"""Helpers for the conversation view's tests: build the Execute panel over the harness' engine, send and wait,
find a bubble by its text and click a link inside it the way a user does."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from autodevai.engine.chat import ChatTurn
from autodevai.gui.panels.execute import ExecutePanel

from .conftest import Harness

SMART = "openai/gpt-4o"


async def chat_panel(harness: Harness, ctx: object) -> ExecutePanel:
    """The Execute panel as inside the main window, shown, with its conversation list loaded."""
    panel = ExecutePanel(ctx)  # type: ignore[arg-type]
    harness.widgets.append(panel)
    panel.setMinimumSize(1000, 700)  # the layout then never resizes the window
    panel.resize(1100, 760)
    async with harness.wait_signal(panel.session.opened, what="the latest conversation (or a new one)"):
        panel.show()
        panel.on_shown()
    return panel


async def send(harness: Harness, panel: ExecutePanel, text: str, limit_s: float = 15.0) -> Any:
    """Type ``text``, send it and wait for the turn (the thread is reloaded by then); returns the result."""
    panel.composer.prompt_edit.setPlainText(text)
    async with harness.wait_signal(panel.finished, limit_s=limit_s, what=f"the answer to {text!r}") as done:
        assert panel.send(), panel.composer.invalid_label.text()
    return done.args[0]


async def answered(harness: Harness, panel: ExecutePanel, text: str) -> ChatTurn:
    result = await send(harness, panel, text)
    assert isinstance(result, ChatTurn), result
    return result


def row_of(panel: ExecutePanel, needle: str, *, last: bool = True) -> int:
    """The index of the (last) row whose bubble shows ``needle``."""
    rows = [i for i, text in enumerate(panel.thread_view.texts()) if needle in text]
    assert rows, f"no bubble shows {needle!r}: {panel.thread_view.texts()}"
    return rows[-1] if last else rows[0]


def click_link(qtbot: QtBot, panel: ExecutePanel, row: int, href: str) -> None:
    """Click the link ``href`` in bubble ``row`` with the mouse."""
    view = panel.thread_view
    pos = view.anchor_point(row, href)
    assert pos is not None, f"no link {href!r} in {view.row_text(row)!r}"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def exported(title: str, messages: list[tuple[str, str]], model: str = SMART) -> str:
    """A conversation export (OpenAI's messages format), as ``import_json`` reads it."""
    items: list[dict[str, Any]] = []
    for role, content in messages:
        item: dict[str, Any] = {"role": role, "content": content}
        if role == "assistant":
            item["model"] = model
        items.append(item)
    return json.dumps({"title": title, "messages": items})
