"""Running a workflow: every step of a ``WorkflowSpec`` as soon as the steps it needs finished ok, concurrently.

``run_workflow`` starts every step as soon as all its dependencies finished ok, so independent steps run
concurrently (at most ``max_parallel`` at once); a step whose dependency failed or was skipped is skipped;
cancelling the run cancels every running step. A step with a ``check`` (a regex) fails unless its output matches.

Each step is planned when it runs (``workflow_plan.analyse_step``: tier, swarm topology). With a ``ThompsonRouter``
and candidate models, a step without an explicit model gets the bandit's choice for its task class (default
``"<workflow name>:<step id>"``), and its outcome (ok, and matching ``check``) is recorded in the bandit and sent to
``on_outcome`` (the store). Swarm outcomes are recorded the same way under the model name ``"swarm:<topology>"``.

The spec and its validation are in ``workflow_spec.py``, planning in ``workflow_plan.py``, ``complexity`` in
``complexity.py``; their public names are re-exported here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.complexity import complexity, tier_for
from autodevai.engine.errors import BudgetExceeded, Cancelled, EngineError, InvalidRequest
from autodevai.engine.swarm.spec import ConsensusRule, Topology
from autodevai.engine.types import ChatRequest, EngineResponse, Preference
from autodevai.engine.workflow_plan import (
    SWARM_PREFIX,
    StepPlan,
    analyse_step,
    plan_for_task,
    step_task_class,
    swarm_history,
    topology_for,
)
from autodevai.engine.workflow_spec import SwarmConfig, WorkflowSpec, WorkflowStep

__all__ = [
    "SWARM_PREFIX",
    "Candidates",
    "ConsensusRule",
    "Costs",
    "Execute",
    "OnOutcome",
    "Progress",
    "RunSwarmStep",
    "StepPlan",
    "StepResult",
    "SwarmConfig",
    "Topology",
    "WorkflowResult",
    "WorkflowSpec",
    "WorkflowStep",
    "analyse_step",
    "complexity",
    "plan_for_task",
    "run_workflow",
    "step_task_class",
    "swarm_history",
    "tier_for",
    "topology_for",
]

# Failures that say nothing about how good a model (or topology) is: they are not learned from.
_NOT_THE_MODELS_FAULT = (BudgetExceeded, Cancelled, InvalidRequest)


@dataclass(frozen=True, slots=True)
class StepResult:
    id: str
    status: str  # ok / error / skipped
    output: str
    model: str
    cost_usd: float
    latency_ms: float
    error: str | None = None
    task_class: str = ""
    reason: str = ""  # how the step was planned: tier, topology, the bandit's model choice
    started_ms: float = 0.0  # since the workflow started
    finished_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    name: str
    complexity: float
    steps: tuple[StepResult, ...]
    output: str
    cost_usd: float
    latency_ms: float  # the steps' latencies added up (model time); see wall_ms for the elapsed time
    wall_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.steps)

    __json_properties__ = ("ok",)


_PLACEHOLDER = re.compile(r"\{(?:task|steps\.([A-Za-z0-9_\-]+))\}")


def _render(template: str, task: str, outputs: dict[str, str]) -> str:
    # Only {task} and {steps.<id>} are placeholders; any other braces are literal text. One pass, so text that
    # was substituted in (a step's output with `${task}` in its code, a task quoting "{steps.x}") stays as it is.
    return _PLACEHOLDER.sub(lambda m: task if m.group(1) is None else outputs.get(m.group(1), ""), template)


Execute = Callable[[ChatRequest, Preference], Awaitable[EngineResponse]]
Progress = Callable[[str, str, StepResult | None], None]  # (step id, "start"|"done", result)
RunSwarmStep = Callable[[WorkflowStep, str], Awaitable[StepResult]]  # (step with its planned topology, prompt)
OnOutcome = Callable[[str, str, bool, float], Awaitable[None]]  # (task class, model, success, cost_usd)
Candidates = Callable[[str], Sequence[str]]
Costs = Callable[[Sequence[str]], Mapping[str, float]]


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _failed(step_id: str, model: str, error: str, reason: str = "") -> StepResult:
    return StepResult(step_id, "error", "", model, 0.0, 0.0, error, reason=reason)


@dataclass(slots=True)
class _Run:
    """The state of one ``run_workflow`` call: results so far and what each step waits for."""

    spec: WorkflowSpec
    execute: Execute
    progress: Progress | None
    bandit: ThompsonRouter | None
    candidates: Candidates | None
    costs: Costs | None
    on_outcome: OnOutcome | None
    run_swarm_step: RunSwarmStep | None
    t0: float
    slots: asyncio.Semaphore
    finished: dict[str, asyncio.Event]
    results: dict[str, StepResult] = dataclasses.field(default_factory=dict)
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)

    def elapsed_ms(self) -> float:
        return (asyncio.get_running_loop().time() - self.t0) * 1000.0

    async def step(self, step: WorkflowStep) -> None:
        needs = step.needs()
        for dep in needs:
            await self.finished[dep].wait()
        task_class = step_task_class(self.spec, step)
        bad = [d for d in needs if self.results[d].status != "ok"]
        if bad:
            now = self.elapsed_ms()
            error = f"needs failed step(s) {bad}"
            res = StepResult(step.id, "skipped", "", "", 0.0, 0.0, error, task_class, "", now, now)
        else:
            async with self.slots:
                started = self.elapsed_ms()
                if self.progress:
                    self.progress(step.id, "start", None)
                res = await self._run(step, task_class)
                res = dataclasses.replace(
                    res, id=step.id, task_class=task_class, started_ms=started, finished_ms=self.elapsed_ms()
                )
        self.results[step.id] = res
        if res.status == "ok":
            self.outputs[step.id] = res.output
        if self.progress:
            self.progress(step.id, "done", res)
        self.finished[step.id].set()

    async def _run(self, step: WorkflowStep, task_class: str) -> StepResult:
        prompt = _render(step.prompt, self.spec.task, self.outputs)
        plan = analyse_step(step, prompt, swarm_history(self.bandit, task_class) if step.swarm else None)
        if step.swarm is not None:
            res, learn_as = await self._swarm(step, prompt, plan)
        else:
            res, learn_as = await self._single(step, prompt, plan, task_class)
        if res.status == "ok" and step.check is not None and not re.search(step.check, res.output):
            res = dataclasses.replace(res, status="error", error=f"the output does not match the check {step.check!r}")
        if learn_as is not None:
            note = await self._learn(task_class, learn_as, res.status == "ok", res.cost_usd)
            res = dataclasses.replace(res, reason=_join(res.reason, note))
        return res

    async def _single(
        self, step: WorkflowStep, prompt: str, plan: StepPlan, task_class: str
    ) -> tuple[StepResult, str | None]:
        """Run a plain step; return its result and the model to learn the outcome under: the bandit's pick, unless
        the failure was not the model's doing (budget, cancelled, unusable request)."""
        model, reason, chosen = step.model, plan.reason, False
        if model is None and self.bandit is not None and self.candidates is not None:
            cands = list(self.candidates(task_class))
            if cands:
                model, why = self.bandit.choose(task_class, cands, self.costs(cands) if self.costs else {})
                reason, chosen = _join(reason, why), True
        messages = [{"role": "system", "content": step.system}] if step.system else []
        messages.append({"role": "user", "content": prompt})
        learn_as = model if chosen else None
        try:
            request = ChatRequest.model_validate(
                {
                    "messages": messages,
                    "model": model,
                    "max_tokens": step.max_tokens,
                    "task_class": step.task_class or self.spec.name,
                }
            )
            response = await self.execute(request, plan.preference)
        except EngineError as exc:
            blameless = isinstance(exc, _NOT_THE_MODELS_FAULT)
            return _failed(step.id, model or "", str(exc), reason), None if blameless else learn_as
        except ValidationError as exc:  # the rendered prompt is not a valid request (e.g. empty): this step fails
            error = str(InvalidRequest(f"step {step.id!r} has no valid prompt: {exc.errors()[0]['msg']}"))
            return _failed(step.id, model or "", error, reason), None
        out = response.content
        return StepResult(
            step.id, "ok", out, response.model, response.cost_usd, response.latency_ms, None, "", reason
        ), learn_as

    async def _swarm(self, step: WorkflowStep, prompt: str, plan: StepPlan) -> tuple[StepResult, str | None]:
        """Run a swarm step through the injected runner; return its result and "swarm:<topology>" to learn under."""
        assert step.swarm is not None
        if self.run_swarm_step is None:
            error = (
                f"step {step.id!r} asks for a {plan.topology} swarm, but this run has no swarm runner: "
                "run the workflow through the engine, or remove the step's swarm settings"
            )
            return _failed(step.id, "", error, plan.reason), None
        planned = step.model_copy(
            update={"preference": plan.preference, "swarm": step.swarm.model_copy(update={"topology": plan.topology})}
        )
        learn_as = f"{SWARM_PREFIX}{plan.topology}"
        try:
            res = await self.run_swarm_step(planned, prompt)
        except EngineError as exc:
            blameless = isinstance(exc, _NOT_THE_MODELS_FAULT)
            return _failed(step.id, "", str(exc), plan.reason), None if blameless else learn_as
        return dataclasses.replace(res, reason=_join(plan.reason, res.reason)), learn_as

    async def _learn(self, task_class: str, model: str, success: bool, cost_usd: float) -> str:
        """Record one outcome in the bandit and the store; return a note when the store refused it."""
        if self.bandit is not None:
            self.bandit.record(task_class, model, success, cost_usd)
        if self.on_outcome is not None:
            try:
                await self.on_outcome(task_class, model, success, cost_usd)
            except EngineError as exc:
                return f"the outcome was not saved: {exc}"
        return ""


async def run_workflow(
    spec: WorkflowSpec,
    execute: Execute,
    progress: Progress | None = None,
    *,
    bandit: ThompsonRouter | None = None,
    candidates: Candidates | None = None,
    costs: Costs | None = None,
    on_outcome: OnOutcome | None = None,
    run_swarm_step: RunSwarmStep | None = None,
) -> WorkflowResult:
    """Run ``spec``'s steps as their dependencies allow (see the module docstring); results are in file order.

    Step failures (``EngineError``) become results, never exceptions. Cancelling cancels every running step and
    raises ``CancelledError``; any other exception (a bug in a callback) cancels the rest and propagates.
    """
    loop = asyncio.get_running_loop()
    run = _Run(
        spec,
        execute,
        progress,
        bandit,
        candidates,
        costs,
        on_outcome,
        run_swarm_step,
        loop.time(),
        asyncio.Semaphore(spec.max_parallel),
        {s.id: asyncio.Event() for s in spec.steps},
    )
    tasks = [asyncio.create_task(run.step(s), name=f"workflow step {s.id}") for s in spec.steps]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    results = tuple(run.results[s.id] for s in spec.steps)
    last_ok = next((r.output for r in reversed(results) if r.status == "ok"), "")
    return WorkflowResult(
        spec.name,
        complexity(spec.task),
        results,
        last_ok,
        sum(r.cost_usd for r in results),
        sum(r.latency_ms for r in results),
        run.elapsed_ms(),
    )
