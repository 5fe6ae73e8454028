"""A workflow as a file states it: ``WorkflowSpec`` (a DAG of ``WorkflowStep``s), each step optionally run by a swarm
(``SwarmConfig``), validated with pydantic so TOML/JSON files get the same messages.

A step's prompt may use ``{task}`` and ``{steps.<id>}`` (that step's output). A step depends on the steps its prompt
names plus those in its ``depends_on``. Validation: step ids are unique, every dependency names a step ("did you
mean"), there is no cycle (the message shows it), each step is listed after the steps it depends on (so a file reads
top to bottom and running it in file order is always valid), and a quorum swarm can tolerate its ``faulty`` agents
(``swarm.consensus.check_quorum``). ``preference = "auto"`` sets ``auto_tier``: the tier comes from the prompt's
complexity when the step runs (``workflow_plan.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autodevai.engine.swarm.consensus import check_quorum
from autodevai.engine.swarm.spec import ConsensusRule, Topology
from autodevai.engine.types import Preference
from autodevai.text import did_you_mean, suggestion

__all__ = ["SwarmConfig", "WorkflowSpec", "WorkflowStep"]

_REF = re.compile(r"\{steps\.([A-Za-z0-9_\-]+)\}")


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
        if self.consensus == "quorum":
            check_quorum(self.n_agents, self.faulty, "n_agents")
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
    return suggestion(did_you_mean(name, known), f" (steps: {', '.join(known)})")


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
