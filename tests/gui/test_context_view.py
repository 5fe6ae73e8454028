"""The Execute panel's context view: live token counts and window usage, and what compression removed."""

from __future__ import annotations

import tiktoken

from autodevai.gui.panels.execute import ExecutePanel
from tests.integration.test_engine_context import SMALL, long_prompt

from .conftest import Harness


def _panel(harness: Harness, ctx: object) -> ExecutePanel:
    panel = ExecutePanel(ctx)  # type: ignore[arg-type]
    harness.widgets.append(panel)
    panel.setMinimumSize(900, 600)
    panel.resize(1100, 760)
    panel.show()
    panel.on_shown()
    return panel


def test_counts_and_window_usage_follow_the_prompt(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = _panel(harness, ctx)
        view = panel.context_view
        text = "Summarize the quarterly report for the board in three bullet points."
        panel.model_edit.setText("openai/gpt-4o")
        panel.prompt_edit.setPlainText(text)
        expected = len(tiktoken.get_encoding("o200k_base").encode_ordinary(text))
        await harness.wait_until(lambda: view.per_message == (expected,), what="the exact count")
        assert "o200k_base, exact" in view.counts_label.text()
        assert "of 128K" in view.window_bar.format()

        panel.model_edit.setText(SMALL)  # an 8K window: a long prompt goes over it
        panel.prompt_edit.setPlainText(long_prompt())
        await harness.wait_until(lambda: (view.total or 0) > 9_000, what="the long prompt counted")
        assert "over the window" in view.window_label.text()

    harness.run(body())


def test_compression_shows_what_was_removed(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(context={"overflow": "compress"})
        panel = _panel(harness, ctx)
        panel.model_edit.setText(SMALL)
        panel.max_tokens_spin.setValue(256)
        panel.prompt_edit.setPlainText(long_prompt())
        async with harness.wait_signal(panel.finished, limit_s=20, what="the answer"):
            assert panel.send()
        view = panel.context_view
        assert view.fit_label.isVisible() and "Compressed" in view.fit_label.text()
        view.removed_toggle.click()
        assert view.removed_view.isVisible() and "Minutes were circulated" in view.removed_view.toPlainText()

    harness.run(body())
