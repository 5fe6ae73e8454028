"""Multi-step workflows: a validated plan of steps, each a prompt template routed on its own.

A step's prompt may use ``{task}`` and ``{steps.<id>}`` (an earlier step's output). Steps run in order here; the
DAG scheduler, swarms and learning from history build on this plan format later. ``plan_for_task`` makes the
default plan for a bare task from a simple complexity estimate: short tasks get one step, longer ones
analyse -> solve -> review, with the routing preference of each step chosen for its job.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from autodevai.engine.errors import EngineError, InvalidRequest
from autodevai.engine.types import ChatRequest, EngineResponse, Preference

__all__ = [
    "StepResult",
    "WorkflowResult",
    "WorkflowSpec",
    "WorkflowStep",
    "complexity",
    "plan_for_task",
    "run_workflow",
]

_REF = re.compile(r"\{steps\.([A-Za-z0-9_\-]+)\}")


class WorkflowStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$", max_length=40)]
    prompt: Annotated[str, Field(min_length=1)]
    system: str | None = None
    preference: Preference = Preference.BALANCED
    model: str | None = None
    max_tokens: Annotated[int, Field(ge=1, le=100_000)] = 512


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "workflow"
    task: str = ""
    steps: Annotated[list[WorkflowStep], Field(min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _references_point_backwards(self) -> WorkflowSpec:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            for ref in _REF.findall(step.prompt):
                if ref not in seen:
                    raise ValueError(f"step {step.id!r} uses {{steps.{ref}}} before that step runs")
            seen.add(step.id)
        return self


@dataclass(frozen=True, slots=True)
class StepResult:
    id: str
    status: str  # ok / error / skipped
    output: str
    model: str
    cost_usd: float
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    name: str
    complexity: float
    steps: tuple[StepResult, ...]
    output: str
    cost_usd: float
    latency_ms: float

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.steps)

    __json_properties__ = ("ok",)


def complexity(task: str) -> float:
    """A 0..1 estimate from length, structure and reasoning words; crude, documented, deterministic."""
    words = len(task.split())
    score = min(words / 200.0, 0.5)
    score += 0.1 * min(task.count("\n"), 3)
    if re.search(r"\b(design|prove|analy[sz]e|compare|refactor|architecture|trade-?offs?|plan)\b", task, re.I):
        score += 0.25
    return round(min(score, 1.0), 3)


def plan_for_task(task: str) -> WorkflowSpec:
    """The default plan for a bare task (see module docstring)."""
    c = complexity(task)
    if c < 0.2:
        steps = [WorkflowStep(id="answer", prompt="{task}", preference=Preference.BALANCED)]
    else:
        steps = [
            WorkflowStep(
                id="analyse",
                system="You are a careful analyst. List the sub-problems and what a good answer must cover.",
                prompt="Task:\n{task}\n\nBreak this task into the parts a complete answer must address.",
                preference=Preference.COST,
                max_tokens=400,
            ),
            WorkflowStep(
                id="solve",
                prompt="Task:\n{task}\n\nPlan:\n{steps.analyse}\n\nWrite the complete answer.",
                preference=Preference.QUALITY if c >= 0.5 else Preference.BALANCED,
                max_tokens=1024,
            ),
            WorkflowStep(
                id="review",
                system="You are a strict reviewer. Fix errors and omissions; return the corrected answer only.",
                prompt="Task:\n{task}\n\nDraft answer:\n{steps.solve}\n\nReturn the improved final answer.",
                preference=Preference.BALANCED,
                max_tokens=1024,
            ),
        ]
    return WorkflowSpec(name="auto", task=task, steps=steps)


_PLACEHOLDER = re.compile(r"\{(?:task|steps\.([A-Za-z0-9_\-]+))\}")


def _render(template: str, task: str, outputs: dict[str, str]) -> str:
    # Only {task} and {steps.<id>} are placeholders; any other braces are literal text. One pass, so text that
    # was substituted in (a step's output with `${task}` in its code, a task quoting "{steps.x}") stays as it is.
    return _PLACEHOLDER.sub(lambda m: task if m.group(1) is None else outputs.get(m.group(1), ""), template)


Execute = Callable[[ChatRequest, Preference], Awaitable[EngineResponse]]
Progress = Callable[[str, str, StepResult | None], None]  # (step id, "start"|"done", result)


async def run_workflow(spec: WorkflowSpec, execute: Execute, progress: Progress | None = None) -> WorkflowResult:
    """Run ``spec``'s steps in order through ``execute``; a failed step marks later dependent steps skipped."""
    outputs: dict[str, str] = {}
    failed: set[str] = set()
    results: list[StepResult] = []
    for step in spec.steps:
        needs = set(_REF.findall(step.prompt))
        if needs & failed:
            res = StepResult(step.id, "skipped", "", "", 0.0, 0.0, f"needs failed step(s) {sorted(needs & failed)}")
            failed.add(step.id)
            results.append(res)
            if progress:
                progress(step.id, "done", res)
            continue
        if progress:
            progress(step.id, "start", None)
        messages = []
        if step.system:
            messages.append({"role": "system", "content": step.system})
        messages.append({"role": "user", "content": _render(step.prompt, spec.task, outputs)})
        try:
            request = ChatRequest.model_validate(
                {"messages": messages, "model": step.model, "max_tokens": step.max_tokens, "task_class": spec.name}
            )
            response = await execute(request, step.preference)
        except EngineError as exc:
            res = StepResult(step.id, "error", "", step.model or "", 0.0, 0.0, str(exc))
            failed.add(step.id)
        except ValidationError as exc:  # the rendered prompt is not a valid request (e.g. empty): this step fails
            error = str(InvalidRequest(f"step {step.id!r} has no valid prompt: {exc.errors()[0]['msg']}"))
            res = StepResult(step.id, "error", "", step.model or "", 0.0, 0.0, error)
            failed.add(step.id)
        else:
            outputs[step.id] = response.content
            res = StepResult(step.id, "ok", response.content, response.model, response.cost_usd, response.latency_ms)
        results.append(res)
        if progress:
            progress(step.id, "done", res)
    last_ok = next((r.output for r in reversed(results) if r.status == "ok"), "")
    return WorkflowResult(
        spec.name,
        complexity(spec.task),
        tuple(results),
        last_ok,
        sum(r.cost_usd for r in results),
        sum(r.latency_ms for r in results),
    )
