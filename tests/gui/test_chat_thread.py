"""The conversation view over the real engine and the simulator: a thread keeps its history across turns, answers
render as Markdown with highlighted code blocks that copy exactly, every answer's details are one click away with a
"Simulated" mark, and Stop keeps the partial answer without freezing the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from autodevai.engine.chat import ChatTurn
from autodevai.engine.conversations import Preset
from autodevai.engine.errors import Cancelled
from autodevai.sim.config import SimConfig

from .chat_helpers import SMART, answered, chat_panel, click_link, exported, row_of, send
from .conftest import Harness

CODE = 'def fib(n: int) -> int:\n    """Fibonacci, slowly."""\n    return n if n < 2 else fib(n - 1) + fib(n - 2)'


def test_a_thread_keeps_its_history_across_turns(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = await chat_panel(harness, ctx)
        panel.preset_bar.model_edit.setText(SMART)  # pin a model that gets follow-ups right
        panel.preset_bar.model_edit.editingFinished.emit()
        first = await answered(harness, panel, "What is 12*12?")
        assert "144" in first.answer.text and first.answer.model == SMART
        second = await answered(harness, panel, "multiply that by 2")
        texts = panel.thread_view.texts()
        assert len(texts) == 4 and texts[0].startswith("You\nWhat is 12*12?")
        assert "288" in texts[3], "the follow-up saw the earlier answer"
        assert texts[3].startswith(SMART) and "SIMULATED" in texts[3], "who answered, and that it was simulated"
        assert second.answer.id == panel.thread_model.rows[-1].key
        conv = await ctx.engine.conversations.get(panel.session.cid or "")
        assert conv.preset.model == SMART, "the routing options are the conversation's preset"
        assert panel.conversation_label.text() == "What is 12*12?"
        assert panel.thread_list.titles()[0].startswith("What is 12*12? — 4 messages")

        click_link(qtbot, panel, 3, "toggle:details")  # the details, one click away
        details = panel.thread_view.row_text(3)
        for word in ("Provider", "Tokens", "Cost", "Latency", "Context", "Why this model", "Fallbacks"):
            assert word in details, word
        assert f"{second.answer.prompt_tokens} in" in details
        assert second.response.route.reasons[0].split(":")[0] in details
        click_link(qtbot, panel, 3, "copy")
        assert QGuiApplication.clipboard().text() == second.answer.text
        assert "Copied ✓" in panel.thread_view.row_text(3)

    harness.run(body())


def test_markdown_code_blocks_render_highlighted_and_copy_exactly(harness: Harness, qtbot: QtBot) -> None:
    markdown = f"Here it is:\n\n```python\n{CODE}\n```\n\n| n | fib |\n|---|---|\n| 10 | 55 |\n\nUse `fib(10)`."

    async def body() -> None:
        ctx = await harness.start()
        conv = await ctx.engine.conversations.import_json(
            exported("Fibonacci", [("user", "Write fib in Python"), ("assistant", markdown)])
        )
        panel = await chat_panel(harness, ctx)
        async with harness.wait_signal(panel.session.opened, what="the thread"):
            panel.open_conversation(conv.id)
        row = row_of(panel, "Here it is")
        shown = panel.thread_view.row_text(row)
        assert "python\nCopy\n" + CODE in shown, "a code block with its language and a Copy link"
        assert "**" not in shown and "```" not in shown and "|---|" not in shown, "Markdown is rendered, not shown"
        doc = panel.thread_view.bubbles.document(panel.thread_model.bubble(panel.thread_model.rows[row]))
        assert "span.k" in doc.defaultStyleSheet()
        html = doc.toHtml()
        assert "def" in html and "font-weight:700" in html.replace(" ", ""), "keywords are highlighted"
        QGuiApplication.clipboard().clear()
        click_link(qtbot, panel, row, "copy-code:0")
        assert QGuiApplication.clipboard().text() == CODE, "exactly the code, no fence, no language"
        assert "Copied ✓" in panel.thread_view.row_text(row)

        ctx.theme.set_mode("dark")  # the code block follows the theme
        await harness.wait_until(lambda: panel.thread_view.bubbles.dark, what="the dark bubbles")
        dark = panel.thread_view.bubbles.document(panel.thread_model.bubble(panel.thread_model.rows[row]))
        assert "#0d1117" in dark.defaultStyleSheet()
        ctx.theme.set_mode("light")

    harness.run(body())


def test_stop_keeps_the_partial_answer_and_the_window_responsive(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=4.0, seed=5))
        panel = await chat_panel(harness, ctx)
        results: list[object] = []
        panel.finished.connect(results.append)
        panel.composer.prompt_edit.setPlainText("Explain circuit breakers in distributed systems")
        model = panel.thread_model
        assert panel.send()
        assert panel.is_running and panel.composer.stop_button.isEnabled()
        await harness.wait_until(lambda: model.live is not None and len(model.live.text) > 20, what="some text")
        partial = model.live.text if model.live else ""
        async with harness.wait_signal(panel.finished, what="the stop"):
            panel.composer.stop_button.click()
        assert isinstance(results[-1], Cancelled) and not panel.is_running
        texts = panel.thread_view.texts()
        assert texts[0].startswith("You\nExplain circuit breakers"), texts
        assert partial[:20] in texts[-1] and "stopped" in texts[-1], "the partial answer stays on screen"
        assert panel.composer.send_button.isEnabled() and "Stopped" in panel.composer.status_label.text()

        async def stored_as_cancelled() -> bool:
            return any(r.status == "Cancelled" for r in await ctx.engine.get_request_history(5))

        await harness.wait_until(stored_as_cancelled, what="the request recorded as Cancelled")

    harness.run(body())


def test_the_preset_and_a_one_message_model(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        conv = await ctx.engine.conversations.create(preset=Preset(model="openai/gpt-4o-mini", max_tokens=300))
        panel = await chat_panel(harness, ctx)
        async with harness.wait_signal(panel.session.opened):
            panel.open_conversation(conv.id)
        bar = panel.preset_bar
        assert bar.model_edit.text() == "openai/gpt-4o-mini" and bar.max_tokens_spin.value() == 300
        panel.composer.once_edit.setText("google/gemini-2.0-flash-001")
        result = await send(harness, panel, "What is the capital of France?")
        assert isinstance(result, ChatTurn) and result.answer.model == "google/gemini-2.0-flash-001"
        assert panel.composer.once_edit.text() == "", "the override was for one message"
        result = await send(harness, panel, "And of Japan?")
        assert isinstance(result, ChatTurn) and result.answer.model == "openai/gpt-4o-mini"
        panel.composer.prompt_edit.setPlainText("   ")
        assert not panel.send() and "empty" in panel.composer.invalid_label.text()

        qtbot.mouseClick(bar.system_toggle, Qt.MouseButton.LeftButton)
        assert bar.system_edit.isVisible()
        qtbot.keyClicks(bar.system_edit, "Answer in French.")

        async def saved() -> bool:
            return (await ctx.engine.conversations.get(conv.id)).preset.system == "Answer in French."

        await harness.wait_until(saved, what="the system prompt saved with the conversation")
        qtbot.mouseClick(bar.system_toggle, Qt.MouseButton.LeftButton)
        assert bar.system_toggle.text() == "System prompt (in use)"

    harness.run(body())


def test_another_conversation_can_be_read_while_an_answer_streams(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start(SimConfig(latency_scale=4.0, seed=5))
        other = await ctx.engine.conversations.import_json(
            exported("Other", [("user", "Old question"), ("assistant", "Old answer")])
        )
        panel = await chat_panel(harness, ctx)
        async with harness.wait_signal(panel.session.opened):
            panel.new_conversation()
        panel.composer.prompt_edit.setPlainText("Explain circuit breakers in distributed systems")
        assert panel.send()
        model = panel.thread_model
        await harness.wait_until(lambda: model.live is not None and len(model.live.text) > 10, what="some text")
        streaming = panel.session.cid or ""
        async with harness.wait_signal(panel.session.opened, what="the other conversation"):
            panel.open_conversation(other.id)
        assert panel.thread_view.texts()[0].startswith("You\nOld question") and panel.is_running
        async with harness.wait_signal(panel.session.opened, what="back to the streaming one"):
            panel.open_conversation(streaming)
        assert model.live is not None and model.live.text, "its answer is still coming in"
        async with harness.wait_signal(panel.finished, what="the answer") as done:
            pass
        turn = done.args[0]
        assert isinstance(turn, ChatTurn) and turn.user.conversation_id == streaming
        assert panel.thread_view.texts()[-1].startswith(turn.answer.model) and model.live is None

    harness.run(body())
