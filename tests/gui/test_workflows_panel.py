"""Workflows panel: a task's plan is previewed, a run shows live step progress and the final output; a bad
workflow file is refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodevai.gui.panels.workflows import STATUS, WorkflowsPanel

from .conftest import Harness

# The offscreen platform warns on every top-level show(); harmless.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

COMPLEX_TASK = (
    "Design a rate limiter for a multi-tenant API and compare the trade-offs of a token bucket "
    "and a sliding window log."
)


def _column(panel: WorkflowsPanel, col: int) -> list[str]:
    table = panel.steps_table
    return [table.item(r, col).text() for r in range(table.rowCount())]  # type: ignore[union-attr]


def test_a_complex_task_runs_analyse_solve_review_live(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = WorkflowsPanel(ctx)
        harness.widgets.append(panel)
        panel.resize(1000, 700)
        panel.show()
        panel.on_shown()
        assert not panel.run_button.isEnabled(), "Run needs a task"

        panel.task_edit.setPlainText(COMPLEX_TASK)
        panel.preview()
        assert _column(panel, 0) == ["analyse", "solve", "review"]
        assert _column(panel, STATUS) == ["pending"] * 3
        assert "3 steps" in panel.plan_label.text()

        seen: list[tuple[str, str]] = []
        panel.step_changed.connect(lambda step, status: seen.append((step, status)))
        panel.run()
        assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
        await harness.wait_until(lambda: not panel.running, what="the workflow to finish")

        assert seen == [
            ("analyse", "running"),
            ("analyse", "ok"),
            ("solve", "running"),
            ("solve", "ok"),
            ("review", "running"),
            ("review", "ok"),
        ]
        assert all(s.endswith("ok") for s in _column(panel, STATUS))
        assert all(m.strip("–") for m in _column(panel, 3)), "every step names the model that answered"
        assert all(c.startswith("$") for c in _column(panel, 4))
        output = panel.output_view.toPlainText()
        assert output.strip(), "the final output is shown"
        assert "review" in panel.output_caption.text()
        assert "3 of 3 steps ok" in panel.summary_label.text()
        assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()

        panel.steps_table.selectRow(0)  # a step's own output
        assert "analyse" in panel.output_caption.text()
        assert panel.output_view.toPlainText().strip()
        panel.steps_table.clearSelection()  # back to the final output
        assert panel.output_view.toPlainText() == output

    harness.run(body())


def test_a_failing_step_shows_error_and_skips_what_needed_it(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience={"max_attempts": 1, "retries_per_model": 0})
        harness.sim.add_fault({"kind": "http_error", "status": 400, "probability": 1.0})  # type: ignore[union-attr]
        panel = WorkflowsPanel(ctx)
        harness.widgets.append(panel)
        panel.show()
        panel.task_edit.setPlainText(COMPLEX_TASK)
        panel.run()
        await harness.wait_until(lambda: not panel.running, what="the workflow to finish")
        statuses = _column(panel, STATUS)
        assert statuses[0].endswith("error") and statuses[1:] == ["– skipped", "– skipped"]
        assert panel.steps_table.item(0, 0).toolTip(), "hovering the failed step shows its error"  # type: ignore[union-attr]
        assert "no step succeeded" in panel.output_caption.text()

    harness.run(body())


def test_a_bad_workflow_file_is_refused_with_the_reason(harness: Harness, tmp_path: Path) -> None:
    async def body() -> None:
        ctx = await harness.start()
        panel = WorkflowsPanel(ctx)
        harness.widgets.append(panel)
        panel.show()

        bad = tmp_path / "bad.toml"
        bad.write_text('name = "x"\n[[steps]]\nid = "b"\nprompt = "use {steps.a}"\n', encoding="utf-8")
        assert not panel.load_file(bad)
        assert panel.error_label.isVisible()
        assert "bad.toml" in panel.error_label.text() and "steps.a" in panel.error_label.text()
        assert panel.steps_table.rowCount() == 0 and not panel.run_button.isEnabled()

        broken = tmp_path / "broken.json"
        broken.write_text("{not json", encoding="utf-8")
        assert not panel.load_file(broken)
        assert "not valid JSON" in panel.error_label.text()

        good = tmp_path / "good.toml"
        good.write_text(
            'name = "two"\ntask = "What is 2+2?"\n'
            '[[steps]]\nid = "draft"\nprompt = "{task}"\n'
            '[[steps]]\nid = "check"\nprompt = "Check: {steps.draft}"\n',
            encoding="utf-8",
        )
        assert panel.load_file(good)
        assert not panel.error_label.isVisible()
        assert _column(panel, 0) == ["draft", "check"]
        panel.run()
        await harness.wait_until(lambda: not panel.running, what="the file's workflow to finish")
        assert _column(panel, STATUS) == ["✓ ok", "✓ ok"]
        assert panel.output_view.toPlainText().strip()

    harness.run(body())


def test_cancel_stops_a_running_workflow(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        harness.sim.add_fault({"kind": "slow_first_byte", "delay_s": 5.0})  # type: ignore[union-attr]
        panel = WorkflowsPanel(ctx)
        harness.widgets.append(panel)
        panel.show()
        panel.task_edit.setPlainText(COMPLEX_TASK)
        panel.run()
        await harness.wait_until(lambda: "running" in _column(panel, STATUS)[0], what="the first step to start")
        panel.cancel_button.click()
        assert not panel.running
        assert _column(panel, STATUS) == ["cancelled", "not run", "not run"]
        assert "Cancelled" in panel.summary_label.text()
        assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()

    harness.run(body())
