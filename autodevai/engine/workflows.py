"""Workflows: a validated DAG of steps, each a prompt template routed on its own or run by a swarm, run concurrently.

A step's prompt may use ``{task}`` and ``{steps.<id>}`` (that step's output). A step depends on the steps its prompt
names plus those in its ``depends_on``. Validation (pydantic, so TOML/JSON files get the same messages): step ids
are unique, every dependency names a step, there is no cycle (the message shows it), and each step is listed after
the steps it depends on, so a file reads top to bottom and running it in file order is always valid.

``run_workflow`` starts every step as soon as all its dependencies finished ok, so independent steps run
concurrently (at most ``max_parallel`` at once); a step whose dependency failed or was skipped is skipped;
cancelling the run cancels every running step. A step with a ``check`` (a regex) fails unless its output matches.

Adaptation: ``analyse_step`` rates the complexity of a step's rendered prompt and picks its routing tier (when the
step says ``preference = "auto"``) and, for a swarm step with ``topology = "adaptive"``, a topology (from the
complexity, the consensus rule, and what worked before for the step's task class). With a ``ThompsonRouter`` and
candidate models, a step without an explicit model gets the bandit's choice for its task class (default
``"<workflow name>:<step id>"``), and its outcome (ok, and matching ``check``) is recorded in the bandit and sent to
``on_outcome`` (the store). Swarm outcomes are recorded the same way under the model name ``"swarm:<topology>"``.
``plan_for_task`` makes the default plan for a bare task (one step, or analyse -> solve -> review).
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.errors import BudgetExceeded, Cancelled, EngineError, InvalidRequest
from autodevai.engine.types import ChatRequest, EngineResponse, Preference

__all__ = [
    "Execute",
    "OnOutcome",
    "Progress",
    "RunSwarmStep",
    "StepPlan",
    "StepResult",
    "SwarmConfig",
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

_REF = re.compile(r"\{steps\.([A-Za-z0-9_\-]+)\}")
SWARM_PREFIX = "swarm:"  # outcomes of swarm steps are recorded under "swarm:<topology>"
_MIN_HISTORY = 3  # outcomes a topology needs before its success rate steers the adaptive choice
_GOOD_RECORD = 0.8  # a known topology's success rate that beats a pick with no record
# Failures that say nothing about how good a model (or topology) is: they are not learned from.
_NOT_THE_MODELS_FAULT = (BudgetExceeded, Cancelled, InvalidRequest)

Topology = Literal["hierarchical", "mesh", "ring", "star", "adaptive"]
ConsensusRule = Literal["majority", "plurality", "quorum", "leader", "none"]


class SwarmConfig(BaseModel):
    """How a swarm step runs (see autodevai/engine/swarm): which topology, how many agents, how they agree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topology: Topology = "adaptive"
    n_agents: Annotated[int, Field(ge=2, le=16)] = 3
    consensus: ConsensusRule = "majority"
    faulty: Annotated[int, Field(ge=0, le=5)] = 0  # f, the faulty agents a quorum tolerates
    rounds: Annotated[int, Field(ge=1, le=5)] = 2  # mesh debate rounds

    @model_validator(mode="after")
    def _quorum_is_possible(self) -> SwarmConfig:
        if self.faulty and self.consensus != "quorum":
            raise ValueError(f"faulty = {self.faulty} needs consensus = 'quorum' (only a quorum tolerates faults)")
        if self.consensus == "quorum" and self.n_agents < 3 * self.faulty + 1:
            raise ValueError(
                f"a quorum tolerating {self.faulty} faulty agent(s) needs n_agents >= 3f+1 = {3 * self.faulty + 1}, "
                f"got {self.n_agents}"
            )
        return self


class WorkflowStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$", max_length=40)]
    prompt: Annotated[str, Field(min_length=1)]
    system: str | None = None
    preference: Preference = Preference.BALANCED
    auto_tier: bool = False  # set by preference = "auto": the tier comes from the prompt's complexity
    model: str | None = None
    max_tokens: Annotated[int, Field(ge=1, le=100_000)] = 512
    depends_on: list[str] = Field(default_factory=list)
    swarm: SwarmConfig | None = None
    task_class: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    check: str | None = None  # a regex the output must match (re.search) for the step to succeed

    @model_validator(mode="before")
    @classmethod
    def _auto_preference(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("preference") == "auto":
            data = {k: v for k, v in data.items() if k != "preference"} | {"auto_tier": True}
        return data

    @field_validator("check")
    @classmethod
    def _check_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"check {value!r} is not a valid regular expression: {exc}") from None
        return value

    def needs(self) -> tuple[str, ...]:
        """The ids this step depends on: ``depends_on`` then the ``{steps.<id>}`` its prompt uses, in order."""
        return tuple(dict.fromkeys([*self.depends_on, *_REF.findall(self.prompt)]))


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (steps: {', '.join(known)})"


def _find_cycle(deps: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as a path ``[a, b, ..., a]`` (a needs b needs ... a), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in deps[node]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    return next((c for n in deps if n not in state and (c := visit(n))), None)


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "workflow"
    task: str = ""
    steps: Annotated[list[WorkflowStep], Field(min_length=1, max_length=50)]
    max_parallel: Annotated[int, Field(ge=1, le=50)] = 8  # steps running at once

    @model_validator(mode="after")
    def _steps_form_a_dag(self) -> WorkflowSpec:
        ids: list[str] = []
        for step in self.steps:
            if step.id in ids:
                raise ValueError(f"step id {step.id!r} is used twice")
            ids.append(step.id)
        for step in self.steps:
            for dep in step.depends_on:
                if dep not in ids:
                    raise ValueError(
                        f"step {step.id!r} depends on {dep!r}, but no step has that id{_did_you_mean(dep, ids)}"
                    )
            for ref in _REF.findall(step.prompt):
                if ref not in ids:
                    raise ValueError(
                        f"step {step.id!r} uses {{steps.{ref}}} before that step runs: no step has the id {ref!r}"
                        + _did_you_mean(ref, ids)
                    )
        cycle = _find_cycle(self.dependencies())
        if cycle:
            raise ValueError(f"steps depend on each other in a cycle: {' -> '.join(cycle)} (each needs the next)")
        position = {sid: i for i, sid in enumerate(ids)}
        for step in self.steps:
            for dep in step.depends_on:
                if position[dep] > position[step.id]:
                    raise ValueError(
                        f"step {step.id!r} depends on {dep!r}, which is listed after it: list {dep!r} first"
                    )
            for ref in _REF.findall(step.prompt):
                if position[ref] > position[step.id]:
                    raise ValueError(f"step {step.id!r} uses {{steps.{ref}}} before that step runs: list {ref!r} first")
        return self

    def dependencies(self) -> dict[str, tuple[str, ...]]:
        """Each step id -> the ids it needs (explicit and implied), in file order."""
        return {s.id: s.needs() for s in self.steps}


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


def complexity(task: str) -> float:
    """A 0..1 estimate from length, structure and reasoning words; crude, documented, deterministic."""
    words = len(task.split())
    score = min(words / 200.0, 0.5)
    score += 0.1 * min(task.count("\n"), 3)
    if re.search(r"\b(design|prove|analy[sz]e|compare|refactor|architecture|trade-?offs?|plan)\b", task, re.I):
        score += 0.25
    return round(min(score, 1.0), 3)


def tier_for(c: float) -> Preference:
    """The routing tier for complexity ``c``: cost below 0.2, balanced below 0.5, quality above."""
    return Preference.COST if c < 0.2 else Preference.BALANCED if c < 0.5 else Preference.QUALITY


def topology_for(c: float, swarm: SwarmConfig, history: Mapping[str, float] | None = None) -> tuple[str, str]:
    """``(topology, reason)`` for an adaptive swarm step of complexity ``c``. Voting rules (quorum, leader) need
    independent answers: star. Otherwise short tasks get star (answer apart, vote), middling ones mesh (debate) or,
    without consensus, ring (each refines the last), complex ones hierarchical (split, solve, merge). ``history``
    (topology -> success rate on this task class) overrides that when another usable topology did better, or did
    well (>= 80%) where the pick has no record."""
    allowed: tuple[str, ...] = ("star", "mesh", "ring", "hierarchical")
    if swarm.consensus in ("quorum", "leader"):
        allowed, pick, why = ("star", "mesh"), "star", f"{swarm.consensus} consensus counts independent answers"
    elif c < 0.2:
        pick, why = "star", "a short task: answer apart, then vote"
    elif c < 0.5 and swarm.consensus == "none":
        pick, why = "ring", "a middling task: each agent refines the last"
    elif c < 0.5:
        pick, why = "mesh", f"a middling task: {swarm.rounds} round(s) of debate"
    else:
        pick, why = "hierarchical", "a complex task: split it, solve the parts, merge"
    known = {t: r for t, r in (history or {}).items() if t in allowed}
    best = max(known, key=lambda t: known[t], default=pick)
    if best != pick and (known[best] > known[pick] if pick in known else known[best] >= _GOOD_RECORD):
        rate = f"{known[pick]:.0%}" if pick in known else "no record"
        return best, f"{best}: it succeeded {known[best]:.0%} on this task class before ({pick}: {rate})"
    return pick, f"{pick}: {why} (complexity {c:.2f})"


def swarm_history(bandit: ThompsonRouter | None, task_class: str) -> dict[str, float]:
    """Topology -> success rate of earlier swarm steps of ``task_class`` with enough outcomes to count."""
    if bandit is None:
        return {}
    arms = bandit.snapshot().get(task_class, {})
    return {
        m[len(SWARM_PREFIX) :]: a.successes / (a.successes + a.failures)
        for m, a in arms.items()
        if m.startswith(SWARM_PREFIX) and a.successes + a.failures >= _MIN_HISTORY
    }


@dataclass(frozen=True, slots=True)
class StepPlan:
    complexity: float  # of the rendered prompt
    preference: Preference
    topology: str | None  # the topology a swarm step runs with; None for a plain step
    reason: str


def analyse_step(step: WorkflowStep, prompt: str, history: Mapping[str, float] | None = None) -> StepPlan:
    """Plan ``step`` for its rendered ``prompt``: the tier (when ``auto_tier``) and a swarm step's topology."""
    c = complexity(prompt)
    reasons = []
    preference = step.preference
    if step.auto_tier:
        preference = tier_for(c)
        reasons.append(f"{preference.value} tier for complexity {c:.2f}")
    topology = None
    if step.swarm is not None:
        if step.swarm.topology == "adaptive":
            topology, why = topology_for(c, step.swarm, history)
            reasons.append(why)
        else:
            topology = step.swarm.topology
    return StepPlan(c, preference, topology, "; ".join(reasons))


def step_task_class(spec: WorkflowSpec, step: WorkflowStep) -> str:
    """The class a step's outcomes are learned under: its ``task_class``, else ``"<workflow name>:<step id>"``."""
    return step.task_class or f"{spec.name}:{step.id}"


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
