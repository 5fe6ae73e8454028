"""How a workflow step, or a bare task, is planned: a step's routing tier and swarm topology from the complexity of
its rendered prompt and from what worked before for its task class, and the default plan for a bare task.

``analyse_step`` picks the tier (when the step says ``preference = "auto"``) and, for a swarm step with
``topology = "adaptive"``, a topology (from the complexity, the consensus rule, and the success rates of earlier
swarm steps of the same task class, recorded in the bandit under ``"swarm:<topology>"``). ``plan_for_task`` makes
one step for a short task, analyse -> solve -> review for a longer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.complexity import complexity, tier_for
from autodevai.engine.types import Preference
from autodevai.engine.workflow_spec import SwarmConfig, WorkflowSpec, WorkflowStep

__all__ = [
    "SWARM_PREFIX",
    "StepPlan",
    "analyse_step",
    "plan_for_task",
    "step_task_class",
    "swarm_history",
    "topology_for",
]

SWARM_PREFIX = "swarm:"  # outcomes of swarm steps are recorded under "swarm:<topology>"
_MIN_HISTORY = 3  # outcomes a topology needs before its success rate steers the adaptive choice
_GOOD_RECORD = 0.8  # a known topology's success rate that beats a pick with no record


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
