"""The Workflows panel: run a multi-step workflow (a task with the default plan, or a TOML/JSON WorkflowSpec file)
and watch its steps live.

Before running, the plan of a typed task is previewed with the engine's pure ``plan_for_task``. The run goes
through ``engine.execute_adaptive_workflow``; its progress callback turns rows pending -> running -> ok / error /
skipped with the model, cost and latency of each step. Cancel stops the run. Selecting a row shows that step's
output; the final output is shown when the run ends. The table is ``workflow_steps``, file loading
``workflow_file``.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.workflows import StepResult, WorkflowResult, WorkflowSpec, complexity, plan_for_task
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.workflow_file import FILE_EXAMPLE, WorkflowFileError, load_workflow_file
from autodevai.gui.panels.workflow_steps import SPINNER, STATUS, StepsTable
from autodevai.gui.widgets import RunBox, muted
from autodevai.text import fmt_ms, fmt_usd

__all__ = ["STATUS", "WorkflowsPanel", "load_workflow_file"]

EXAMPLE = (
    "e.g. Design a rate limiter for a multi-tenant API and compare the trade-offs of token bucket and sliding window"
)


class WorkflowsPanel(Panel):
    title = "Workflows"
    subtitle = (
        "Multi-step workflows: each step is routed on its own and may use earlier steps' output. "
        "Longer tasks get analyse → solve → review."
    )
    step_changed = Signal(str, str)  # (step id, status) as the run progresses

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._spec: WorkflowSpec | None = None  # loaded from a file; None = use the task text
        self._rows: dict[str, int] = {}
        self._results: dict[str, StepResult] = {}
        self._result: WorkflowResult | None = None
        self._task: Any = None
        self._started = 0.0

        self.load_button = QPushButton("Load file…")
        self.load_button.setToolTip("Run a workflow file (TOML or JSON) with your own steps")
        self.load_button.clicked.connect(self._choose_file)
        top = RunBox(
            placeholder=f"Describe a task. {EXAMPLE}.",
            height=84,
            tip="A task in words; the plan below shows the steps it will get (Ctrl+Enter runs it)",
            run_tip="Run the workflow (Ctrl+Enter)",
            cancel_tip="Stop the running workflow (steps already done keep their cost)",
            extra=(self.load_button,),
        )
        self.task_edit, self.run_button, self.cancel_button = top.task_edit, top.run_button, top.cancel_button
        self.task_edit.textChanged.connect(self._preview_soon)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.body.addLayout(top)

        source = QHBoxLayout()
        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        self.clear_file_button = QPushButton("Use a task instead")
        self.clear_file_button.setToolTip("Forget the loaded file and plan from the task text")
        self.clear_file_button.clicked.connect(self.clear_file)
        self.clear_file_button.hide()
        source.addWidget(self.plan_label, 1)
        source.addWidget(self.clear_file_button)
        self.body.addLayout(source)
        self.error_label = QLabel()
        self.error_label.setProperty("role", "error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.body.addWidget(self.error_label)

        self.steps_table = StepsTable()
        self.steps_table.itemSelectionChanged.connect(self._show_selected)

        lower = QWidget()
        col = QVBoxLayout(lower)
        col.setContentsMargins(0, 4, 0, 0)
        caption = QHBoxLayout()
        self.output_caption = QLabel("<b>Output</b>")
        self.summary_label = muted("")
        self.summary_label.setWordWrap(False)
        caption.addWidget(self.output_caption)
        caption.addStretch(1)
        caption.addWidget(self.summary_label)
        col.addLayout(caption)
        self.output_view = QPlainTextEdit()
        self.output_view.setReadOnly(True)
        col.addWidget(self.output_view, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.steps_table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        self.body.addWidget(splitter, 1)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self.preview)
        self._tick = QTimer(self)
        self._tick.setInterval(100)
        self._tick.timeout.connect(self._animate)
        self._set_running(False)
        self.preview()

    # ---- plan preview ----------------------------------------------------------------------------------------

    def _preview_soon(self) -> None:
        if not self.running:
            self._preview_timer.start()

    def preview(self) -> None:
        """Show the steps the workflow will run (from the loaded file or the default plan of the task)."""
        if self.running:
            return
        self._result = None
        self.output_view.clear()
        self.summary_label.setText("")
        self.output_caption.setText("<b>Output</b>")
        task = self.task_edit.toPlainText().strip()
        self.output_view.setPlaceholderText(
            "The final answer appears here when the run ends; select a step for its own."
            if task or self._spec is not None
            else FILE_EXAMPLE
        )
        if self._spec is not None:
            spec = self._spec
            self.plan_label.setText(
                f"<b>Workflow file:</b> {html.escape(spec.name)}, {len(spec.steps)} step(s): "
                + " → ".join(html.escape(s.id) for s in spec.steps)
            )
        elif task:
            spec = plan_for_task(task)
            kind = "one step" if len(spec.steps) == 1 else f"{len(spec.steps)} steps"
            self.plan_label.setText(
                f"<b>Plan:</b> {kind} for a task of complexity {complexity(task):.2f} "
                f"(0–1, from length, structure and words such as “design” or “compare”): "
                + " → ".join(s.id for s in spec.steps)
            )
        else:
            self.plan_label.setText(
                "Type a task to see its plan (short tasks get one step; longer ones analyse → solve → review), "
                "or load a workflow file with your own steps."
            )
            self._fill_rows([])
            self._update_buttons()
            return
        self._fill_rows(
            [(s.id, s.model or s.preference.value) for s in spec.steps],
        )
        self._update_buttons()

    def _fill_rows(self, steps: list[tuple[str, str]]) -> None:
        self._rows = {}
        self._results = {}
        self.steps_table.setRowCount(0)
        for step_id, routing in steps:
            self._add_row(step_id, routing)

    def _add_row(self, step_id: str, routing: str) -> int:
        row = self._rows[step_id] = self.steps_table.add_row(step_id, routing)
        return row

    # ---- file ------------------------------------------------------------------------------------------------

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load a workflow", "", "Workflow files (*.toml *.json);;All files (*)"
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Load a workflow file; on a bad file show why (and keep what was there). Returns whether it loaded."""
        try:
            spec = load_workflow_file(path)
        except WorkflowFileError as exc:
            self._show_error(f"Not loaded: {exc}")
            return False
        self._show_error("")
        self._spec = spec
        self.task_edit.blockSignals(True)
        self.task_edit.setPlainText(spec.task)
        self.task_edit.blockSignals(False)
        self.task_edit.setReadOnly(True)
        self.clear_file_button.show()
        self.preview()
        return True

    def clear_file(self) -> None:
        self._spec = None
        self.task_edit.setReadOnly(False)
        self.clear_file_button.hide()
        self._show_error("")
        self.preview()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # ---- running ---------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        # Until _finished/_failed ran (the task's done callbacks come a loop turn after it completes).
        return self._task is not None and not self._task.cancelled()

    def run(self) -> None:
        """Start the workflow (the loaded file, else the task with its default plan)."""
        if self.running or not self.ctx.ready:
            return
        task = self.task_edit.toPlainText().strip()
        if self._spec is None and not task:
            self._show_error("Type a task first, or load a workflow file.")
            return
        self._show_error("")
        self._preview_timer.stop()
        self.preview()
        workflow: WorkflowSpec | str = self._spec if self._spec is not None else task
        self._started = time.monotonic()
        self._task = self.ctx.spawn(
            self.ctx.engine.execute_adaptive_workflow(workflow, self._progress),
            on_result=self._finished,
            on_error=self._failed,
            name="workflow",
        )
        self._set_running(True)

    def cancel(self) -> None:
        if not self.running:
            return
        self._task.cancel()
        self._task = None
        for step_id, row in self._rows.items():
            if step_id not in self._results:
                status = self.steps_table.status_text(row)
                self.steps_table.set_status(row, "cancelled" if status.startswith(tuple(SPINNER)) else "not run")
        self._set_running(False)
        self.summary_label.setText(f"Cancelled after {fmt_ms((time.monotonic() - self._started) * 1000)}")

    def _progress(self, step_id: str, phase: str, result: StepResult | None) -> None:
        if self._task is None:  # cancelled: late callbacks change nothing
            return
        row = self._rows.get(step_id)
        if row is None:  # the engine planned a step the preview did not show
            row = self._add_row(step_id, "")
        if phase == "start" or result is None:
            self.steps_table.set_status(row, "running")
            self.step_changed.emit(step_id, "running")
            return
        self._results[step_id] = result
        self.steps_table.show_result(row, result)
        self.step_changed.emit(step_id, result.status)
        self._update_summary()

    def _finished(self, result: WorkflowResult) -> None:
        self._task = None
        self._result = result
        self._set_running(False)
        self._update_summary()
        self.steps_table.clearSelection()
        self._show_final()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_running(False)
        for step_id, row in self._rows.items():
            if step_id not in self._results:
                self.steps_table.set_status(row, "not run")
        self._show_error(f"The workflow stopped: {exc}")

    def _set_running(self, running: bool) -> None:
        if running:
            self._tick.start()
        else:
            self._tick.stop()
        self.task_edit.setEnabled(not running)
        self.load_button.setEnabled(not running)
        self.clear_file_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_work = self._spec is not None or bool(self.task_edit.toPlainText().strip())
        self.run_button.setEnabled(not self.running and has_work and self.ctx.ready)

    # ---- display ---------------------------------------------------------------------------------------------

    def _animate(self) -> None:
        self.steps_table.spin()
        done = len(self._results)
        self.summary_label.setText(
            f"Running: {done} of {len(self._rows)} steps done · {fmt_ms((time.monotonic() - self._started) * 1000)}"
        )

    def _update_summary(self) -> None:
        results = list(self._results.values())
        ok = sum(r.status == "ok" for r in results)
        cost = sum(r.cost_usd for r in results)
        latency = sum(r.latency_ms for r in results)
        text = f"{ok} of {len(self._rows)} steps ok · {fmt_usd(cost)} · {fmt_ms(latency)}"
        if self._result is not None:
            text = (
                f"{ok} of {len(self._result.steps)} steps ok · total {fmt_usd(self._result.cost_usd)} · "
                f"{fmt_ms(self._result.latency_ms)}"
            )
        self.summary_label.setText(text)

    def _show_final(self) -> None:
        result = self._result
        if result is None:
            return
        last = next((s for s in reversed(result.steps) if s.status == "ok"), None)
        if last is None:
            self.output_caption.setText("<b>Output</b>: no step succeeded (hover a step for its error)")
            self.output_view.setPlainText("")
            return
        self.output_caption.setText(f"<b>Final output</b> (step {html.escape(last.id)}, {html.escape(last.model)})")
        self.output_view.setPlainText(result.output)

    def _show_selected(self) -> None:
        rows = {i.row() for i in self.steps_table.selectedIndexes()}
        step_id = next((s for s, r in self._rows.items() if r in rows), None)
        if step_id is None:
            self._show_final()
            return
        res = self._results.get(step_id)
        if res is None:
            self.output_caption.setText(f"<b>Step {html.escape(step_id)}</b>: not run yet")
            self.output_view.setPlainText("")
        elif res.status == "ok":
            self.output_caption.setText(f"<b>Step {html.escape(step_id)}</b> ({html.escape(res.model)})")
            self.output_view.setPlainText(res.output)
        else:
            self.output_caption.setText(f"<b>Step {html.escape(step_id)}</b>: {html.escape(res.status)}")
            self.output_view.setPlainText(res.error or "")

    def on_shown(self) -> None:
        if self.running:
            self._tick.start()
        self._update_buttons()

    def on_hidden(self) -> None:
        self._tick.stop()

    def on_engine_ready(self) -> None:
        self._update_buttons()
