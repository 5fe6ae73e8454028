"""What a swarm run is asked and what it answers: ``SwarmSpec`` (task, topology, team, consensus rule), ``SwarmResult``,
the default team per topology, and the adaptive choice of a topology from the task and measured history.

How each topology runs is in ``topologies.py``; the voting rules are in ``consensus.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from autodevai.engine.complexity import complexity
from autodevai.engine.swarm.agents import Agent, AgentReply
from autodevai.engine.swarm.bus import BusMessage
from autodevai.engine.swarm.consensus import Consensus

__all__ = [
    "CONSENSUS_RULES",
    "HIGH_COMPLEXITY",
    "HISTORY_MARGIN",
    "MEDIUM_COMPLEXITY",
    "TOPOLOGIES",
    "UNKNOWN_RATE",
    "VOTING_TOPOLOGIES",
    "ConsensusRule",
    "SwarmResult",
    "SwarmSpec",
    "Topology",
    "choose_topology",
    "default_team",
    "swarm_task_class",
]

Topology = Literal["hierarchical", "mesh", "ring", "star", "adaptive"]
ConsensusRule = Literal["majority", "plurality", "quorum", "leader", "none"]
TOPOLOGIES: tuple[str, ...] = get_args(Topology)
CONSENSUS_RULES: tuple[str, ...] = get_args(ConsensusRule)
VOTING_TOPOLOGIES = ("mesh", "star")  # the topologies the consensus rule applies to

MEDIUM_COMPLEXITY = 0.2  # complexity() at or above this: a mesh debate
HIGH_COMPLEXITY = 0.5  # at or above this: a hierarchical split
HISTORY_MARGIN = 0.1  # a topology must beat the complexity choice's success rate by this much to replace it
UNKNOWN_RATE = 0.5  # the success rate assumed for a topology history says nothing about
_REFINE_RE = re.compile(r"\b(refine|improve|polish|rewrite|proofread|edit)\b", re.IGNORECASE)
_ROLES = (
    "a careful solver who checks every step",
    "a skeptical reviewer who looks for mistakes",
    "a concise expert who states the answer plainly",
    "a methodical engineer who works from first principles",
    "a pragmatic generalist who double-checks the result",
)


@dataclass(frozen=True, slots=True)
class SwarmSpec:
    """What to run. ``n_agents`` sizes the default team: workers, peers, ring stages or spokes (a hierarchical
    coordinator and a star hub come on top). With explicit ``agents``, the first one is the coordinator/hub."""

    task: str
    topology: Topology = "adaptive"
    agents: tuple[Agent, ...] = ()  # empty = default team for the topology (n_agents)
    n_agents: int = 3
    rounds: int = 2  # mesh debate rounds (after the first drafts)
    consensus: ConsensusRule = "majority"
    faulty: int = 0  # f for quorum
    agent_timeout_s: float = 60.0
    tools: tuple[Mapping[str, Any], ...] = ()  # OpenAI function tools for the default team's agents

    def __post_init__(self) -> None:
        if not self.task.strip():
            raise ValueError("the swarm's task is empty")
        if self.topology not in TOPOLOGIES:
            raise ValueError(f"unknown topology {self.topology!r}; choose one of {', '.join(TOPOLOGIES)}")
        if self.consensus not in CONSENSUS_RULES:
            raise ValueError(f"unknown consensus rule {self.consensus!r}; choose one of {', '.join(CONSENSUS_RULES)}")
        if not 1 <= self.n_agents <= 64:
            raise ValueError(f"n_agents must be between 1 and 64, not {self.n_agents}")
        if self.rounds < 0 or self.faulty < 0:
            raise ValueError("rounds and faulty must not be negative")
        if self.agent_timeout_s <= 0:
            raise ValueError("agent_timeout_s must be positive")
        names = [a.name for a in self.agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agent names must be unique in a swarm: {names}")


@dataclass(frozen=True, slots=True)
class SwarmResult:
    topology: str  # the one actually run (adaptive says which it chose and why in ``reason``)
    reason: str
    answer: str  # final answer (consensus answer, or the merge / last refinement)
    consensus: Consensus | None
    replies: tuple[AgentReply, ...]
    messages: tuple[BusMessage, ...]
    cost_usd: float
    latency_ms: float

    @property
    def ok(self) -> bool:
        """An answer exists and, where a consensus rule was applied, it was reached."""
        return bool(self.answer.strip()) and (self.consensus is None or self.consensus.reached)

    __json_properties__ = ("ok",)


def swarm_task_class(task: str) -> str:
    """The task class under which topology outcomes are looked up: "swarm:simple|medium|complex"."""
    c = complexity(task)
    return "swarm:" + ("complex" if c >= HIGH_COMPLEXITY else "medium" if c >= MEDIUM_COMPLEXITY else "simple")


def choose_topology(task: str, history: Mapping[str, float] | None) -> tuple[str, str]:
    """(topology, reason): from the task's complexity, overridden by history when another topology's measured
    success rate beats the choice's by ``HISTORY_MARGIN`` (a topology without history counts as 50 %)."""
    c = complexity(task)
    if _REFINE_RE.search(task):
        choice, why = "ring", f"the task asks for refinement (complexity {c:.2f}): each agent improves the last draft"
    elif c >= HIGH_COMPLEXITY:
        choice, why = "hierarchical", f"complex task (complexity {c:.2f} >= {HIGH_COMPLEXITY}): split, solve, merge"
    elif c >= MEDIUM_COMPLEXITY:
        choice, why = "mesh", f"medium task (complexity {c:.2f} >= {MEDIUM_COMPLEXITY}): peers debate their drafts"
    else:
        choice, why = "star", f"simple task (complexity {c:.2f} < {MEDIUM_COMPLEXITY}): fan out and vote"
    rates = {t: float(r) for t, r in (history or {}).items() if t in TOPOLOGIES and t != "adaptive"}
    if not rates:
        return choice, why + "; no history for this kind of task yet"
    best = max(rates, key=lambda t: (rates[t], t == choice))
    base = rates.get(choice, UNKNOWN_RATE)
    if best != choice and rates[best] >= base + HISTORY_MARGIN:
        return best, (
            f"history: {best} succeeded {rates[best]:.0%} of the time on this kind of task, "
            f"{choice} {base:.0%}; without history: {why}"
        )
    return choice, f"{why}; history agrees ({choice} {base:.0%}, best other {best} {rates[best]:.0%})"


def default_team(topology: str, n: int, tools: tuple[Mapping[str, Any], ...] = ()) -> tuple[Agent, ...]:
    """The team a spec without agents gets: ``n`` workers/peers/stages/spokes (with ``tools``), plus a
    coordinator or hub (who writes, and calls no tools)."""

    def member(prefix: str, i: int) -> Agent:
        return Agent(f"{prefix}-{i + 1}", _ROLES[i % len(_ROLES)], tools=tools)

    if topology == "hierarchical":
        head = Agent("coordinator", "the coordinator who splits the task and merges the results")
        return (head, *(member("worker", i) for i in range(n)))
    if topology == "star":
        head = Agent("hub", "the hub who writes the final answer from the team's answers")
        return (head, *(member("spoke", i) for i in range(n)))
    prefix = "peer" if topology == "mesh" else "stage"
    return tuple(member(prefix, i) for i in range(n))
