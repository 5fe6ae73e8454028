"""Swarm topologies: how each one wires a team of agents to solve one task (the spec, the result and the adaptive
choice are in ``spec.py``).

- hierarchical: a coordinator splits the task into numbered parts (one per worker), the workers solve their parts
  concurrently, the coordinator merges their results.
- mesh: every agent drafts; for ``rounds`` rounds each sees the others' latest drafts (from the bus) and revises;
  then the consensus rule runs over the final answers.
- ring: agent i refines agent i-1's output, in order; the last output is the answer (no vote).
- star: the hub fans the same task out to every spoke concurrently, the consensus rule aggregates the answers, and
  the hub writes the final answer from the winning group.
- adaptive: picks one of the above from the task's complexity and from measured success rates per topology
  (``spec.choose_topology``).

Everything an agent says goes on the ``MessageBus``. A failed or timed-out agent is data (an error reply, no vote),
never the end of the run. All agent calls of a step run in one ``asyncio.TaskGroup``, so cancelling ``run_swarm``
cancels every in-flight call and waits for them: nothing keeps running after it returns or raises.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from autodevai.engine.swarm.agents import Agent, AgentReply, Ask, call_agent
from autodevai.engine.swarm.bus import BusMessage, MessageBus
from autodevai.engine.swarm.consensus import (
    Consensus,
    check_quorum,
    leader_rounds,
    majority,
    normalize,
    plurality,
    quorum,
    votes_of,
)
from autodevai.engine.swarm.spec import (
    CONSENSUS_RULES,
    HIGH_COMPLEXITY,
    HISTORY_MARGIN,
    MEDIUM_COMPLEXITY,
    TOPOLOGIES,
    UNKNOWN_RATE,
    VOTING_TOPOLOGIES,
    ConsensusRule,
    SwarmResult,
    SwarmSpec,
    Topology,
    choose_topology,
    default_team,
    swarm_task_class,
)

__all__ = [
    "CONSENSUS_RULES",
    "HIGH_COMPLEXITY",
    "HISTORY_MARGIN",
    "LEADER_ROUNDS",
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
    "run_swarm",
    "swarm_task_class",
]

LEADER_ROUNDS = 3
_PART_RE = re.compile(r"^\s*(?:part\s*)?(\d{1,2})\s*[.):]\s+(\S.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class _Run:
    """One run's working state: the bus, the timeout, every reply so far, notes for ``reason``."""

    spec: SwarmSpec
    ask: Ask
    bus: MessageBus
    first: int = 0  # this run's messages start here on a shared bus
    replies: list[AgentReply] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def inbox(self, agent: str) -> list[BusMessage]:
        """This run's messages addressed to ``agent`` or broadcast."""
        return [m for m in self.bus.history[self.first :] if not m.recipients or agent in m.recipients]

    async def call(self, agent: Agent, prompt: str, round: int) -> AgentReply:
        reply = await call_agent(self.ask, agent, prompt, round, self.spec.agent_timeout_s)
        self.replies.append(reply)
        if reply.error is not None:
            self.bus.post("error", agent.name, reply.error, round=round)
        return reply

    async def fan_out(self, agents: Sequence[Agent], prompts: Sequence[str], round: int) -> list[AgentReply]:
        """Ask every agent concurrently; replies in ``agents`` order. Cancelling this cancels every call."""
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(self.call(a, p, round)) for a, p in zip(agents, prompts, strict=True)]
        return [t.result() for t in tasks]


def _decide(rule: str, replies: Sequence[AgentReply], f: int, n: int) -> Consensus:
    votes = votes_of(replies)
    if rule == "majority":
        return majority(votes)
    if rule == "plurality":
        return plurality(votes)
    return quorum(votes, f, n)


def _post_votes(run: _Run, replies: Sequence[AgentReply], round: int, to: tuple[str, ...] = ()) -> None:
    for vote in votes_of(replies):
        run.bus.post("vote", vote.agent, vote.normalized, round=round, recipients=to)


async def _hierarchical(run: _Run, agents: Sequence[Agent]) -> tuple[str, Consensus | None]:
    task = run.spec.task
    coordinator, workers = agents[0], agents[1:]
    k = len(workers)
    split = await run.call(
        coordinator,
        f"{task}\n\nSplit this task into exactly {k} numbered parts, one per line (1. ..., 2. ...), "
        "one for each worker. Do not solve them.",
        0,
    )
    found = {int(num): text.strip() for num, text in _PART_RE.findall(split.content)} if split.error is None else {}
    parts = [found.get(i + 1, "") for i in range(k)]
    if split.error is None:
        run.bus.post("draft", coordinator.name, split.content, round=0)
    given = sum(1 for p in parts if p)
    if given < k:
        run.notes.append(f"the coordinator gave {given} of {k} parts; workers without a part solve the whole task")
    prompts = []
    for i, (worker, part) in enumerate(zip(workers, parts, strict=True)):
        body = f"Your part ({i + 1} of {k}): {part}" if part else "Solve the whole task."
        run.bus.post("task", coordinator.name, body, round=1, recipients=(worker.name,))
        prompts.append(f"{task}\n\n{body}\nGive the result of your part.")
    results = await run.fan_out(workers, prompts, 1)
    for r in results:
        if r.error is None:
            run.bus.post("answer", r.agent, r.content, round=1, recipients=(coordinator.name,))
    done = [r for r in results if r.error is None]
    if not done:
        run.notes.append("every worker failed")
        return "", None
    listing = "\n".join(
        f"Part {i + 1} ({r.agent}): " + (r.content if r.error is None else f"(failed: {r.error})")
        for i, r in enumerate(results)
    )
    merge = await run.call(
        coordinator, f"{task}\n\nYour workers' results:\n{listing}\n\nMerge them into one complete final answer.", 2
    )
    if merge.error is None:
        run.bus.post("answer", coordinator.name, merge.content, round=2)
        return merge.content, None
    # No merge: one shared answer stands for itself; different part results are shown together.
    if len({normalize(r.content) for r in done}) == 1:
        answer = done[0].content
    else:
        answer = "\n\n".join(f"Part {i + 1}: {r.content}" for i, r in enumerate(results) if r.error is None)
    run.notes.append("the coordinator could not merge; the workers' results are returned as they are")
    run.bus.post("answer", "swarm", answer, round=2)
    return answer, None


async def _ring(run: _Run, agents: Sequence[Agent]) -> tuple[str, Consensus | None]:
    task = run.spec.task
    last: AgentReply | None = None
    for i, agent in enumerate(agents):
        if last is None:
            prompt = task
        else:
            prompt = (
                f"{task}\n\nThe previous agent ({last.agent}) answered:\n{last.content}\n\n"
                "Refine it: fix any mistake and return the complete improved answer."
            )
        reply = await run.call(agent, prompt, i + 1)
        if reply.error is None:
            last = reply
            after = agents[i + 1 :]
            to = (after[0].name,) if after else ()
            run.bus.post("draft" if after else "answer", agent.name, reply.content, round=i + 1, recipients=to)
    if run.spec.consensus != "none":
        run.notes.append(f"a ring refines in order; the {run.spec.consensus} rule does not apply")
    return (last.content if last is not None else ""), None


async def _mesh(run: _Run, agents: Sequence[Agent]) -> tuple[str, Consensus | None]:
    task, spec = run.spec.task, run.spec
    latest: dict[str, AgentReply] = {}
    active = list(agents)
    for r in range(spec.rounds + 1):
        if r == 0:
            prompts = [task] * len(active)
        else:
            prompts = []
            for a in active:
                peers = [
                    m
                    for m in run.inbox(a.name)
                    if m.kind == "draft" and m.round == r - 1 and m.sender != a.name and m.sender in latest
                ]
                seen = "\n".join(f"- {m.sender}: {m.content}" for m in peers) or "(no other agent answered)"
                prompts.append(
                    f"{task}\n\nYour previous answer:\n{latest[a.name].content}\n\nThe other agents answered:\n"
                    f"{seen}\n\nWeigh their reasoning, correct any mistake, and give your final answer."
                )
        replies = await run.fan_out(active, prompts, r)
        for reply in replies:
            if reply.error is None:
                latest[reply.agent] = reply
                run.bus.post("draft", reply.agent, reply.content, round=r)
        # An agent that failed is out of the debate; its last good draft (if any) still counts below.
        active = [a for a, reply in zip(active, replies, strict=True) if reply.error is None]
        if not active:
            break
    finals = [latest[a.name] for a in agents if a.name in latest]
    if spec.consensus == "none":
        return (finals[0].content if finals else ""), None
    last_round = spec.rounds + 1
    if spec.consensus == "leader":
        live = [a for a in agents if a.name in latest]
        drafts = "\n".join(f"- {r.agent}: {r.content}" for r in finals)
        prompt = f"{task}\n\nThe team's final drafts:\n{drafts}\n\nGive your final answer."
        result, more = await leader_rounds(
            live, run.ask, prompt, rounds=LEADER_ROUNDS, timeout_s=spec.agent_timeout_s, bus=run.bus
        )
        run.replies.extend(more)
        return (result.answer or ""), result
    _post_votes(run, finals, last_round)
    result = _decide(spec.consensus, finals, spec.faulty, len(agents))
    return (result.answer or ""), result


async def _star(run: _Run, agents: Sequence[Agent]) -> tuple[str, Consensus | None]:
    task, spec = run.spec.task, run.spec
    hub, spokes = agents[0], agents[1:]
    run.bus.post("task", hub.name, task, round=1, recipients=tuple(s.name for s in spokes))
    if spec.consensus == "leader":
        result, more = await leader_rounds(
            spokes, run.ask, task, rounds=LEADER_ROUNDS, timeout_s=spec.agent_timeout_s, bus=run.bus
        )
        run.replies.extend(more)
    else:
        answers = [r for r in await run.fan_out(spokes, [task] * len(spokes), 1) if r.error is None]
        for r in answers:
            run.bus.post("answer", r.agent, r.content, round=1, recipients=(hub.name,))
        if spec.consensus == "none":
            if not answers:
                return "", None
            listing = "\n".join(f"- {r.agent}: {r.content}" for r in answers)
            final = await run.call(hub, f"{task}\n\nYour team answered:\n{listing}\n\nWrite the final answer.", 2)
            if final.error is not None:
                run.notes.append("the hub failed; the first spoke's answer is returned")
                return answers[0].content, None
            run.bus.post("answer", hub.name, final.content, round=2)
            return final.content, None
        _post_votes(run, answers, 1, (hub.name,))
        result = _decide(spec.consensus, answers, spec.faulty, len(spokes))
        answers, result = await _recheck(run, hub, spokes, answers, result)
    if not result.reached or result.answer is None or result.normalized is None:
        return "", result
    final = await run.call(
        hub,
        f"{task}\n\n{result.support} of {result.total} agents agree on this answer:\n{result.answer}\n\n"
        "Write the final answer.",
        LEADER_ROUNDS + 1 if spec.consensus == "leader" else 2,
    )
    if final.error is None and normalize(final.content) == result.normalized:
        run.bus.post("answer", hub.name, final.content, round=final.round)
        return final.content, result
    why = "failed" if final.error is not None else "disagreed with the winning group"
    run.notes.append(f"the hub {why}; the winning group's answer is returned as it is")
    run.bus.post("answer", "swarm", result.answer, round=final.round)
    return result.answer, result


async def _recheck(
    run: _Run, hub: Agent, spokes: Sequence[Agent], answers: list[AgentReply], result: Consensus
) -> tuple[list[AgentReply], Consensus]:
    """Up to ``spec.rounds`` re-vote rounds while no consensus: spokes that disagree with the leading answer
    see it and check their work again; the vote is taken anew. Honest agents converge on the right answer;
    faulty ones stay outliers, so a quorum can form that one round of independent answers would miss."""
    spec = run.spec
    by_agent = {r.agent: r for r in answers}
    for extra in range(spec.rounds):
        if result.reached or not by_agent:
            break
        counts = Counter(normalize(r.content) for r in by_agent.values())
        leading: str = result.normalized if result.normalized is not None else counts.most_common(1)[0][0]
        shown = next((r.content for r in by_agent.values() if normalize(r.content) == leading), "")
        dissenters = [s for s in spokes if s.name in by_agent and normalize(by_agent[s.name].content) != leading]
        if not dissenters or not shown:
            break
        round_no = 2 + extra
        prompt = (
            f"{spec.task}\n\nRe-vote round {round_no}: {counts[leading]} of {len(by_agent)} agents answered:\n"
            f"{shown}\n\nCheck your own work step by step and give your final answer."
        )
        for again in await run.fan_out(dissenters, [prompt] * len(dissenters), round_no):
            if again.error is None:
                by_agent[again.agent] = again
                run.bus.post("answer", again.agent, again.content, round=round_no, recipients=(hub.name,))
        answers = list(by_agent.values())
        _post_votes(run, answers, round_no, (hub.name,))
        result = _decide(spec.consensus, answers, spec.faulty, len(spokes))
    return answers, result


_RUNNERS = {"hierarchical": _hierarchical, "mesh": _mesh, "ring": _ring, "star": _star}
_MIN_AGENTS = {"hierarchical": 2, "star": 2, "mesh": 1, "ring": 1}


def _check(spec: SwarmSpec, topology: str, agents: Sequence[Agent]) -> None:
    """Raise ``ValueError`` before any agent is asked when the team cannot run this topology and rule."""
    if len(agents) < _MIN_AGENTS[topology]:
        raise ValueError(f"{topology} needs at least {_MIN_AGENTS[topology]} agents (a coordinator/hub and a worker)")
    if topology in VOTING_TOPOLOGIES and spec.consensus == "quorum":
        check_quorum(len(agents) - (1 if topology == "star" else 0), spec.faulty, "voting agents")


async def run_swarm(
    spec: SwarmSpec,
    ask: Ask,
    *,
    bus: MessageBus | None = None,
    history: Callable[[str], Mapping[str, float]] | None = None,
) -> SwarmResult:
    """Run ``spec`` with ``ask``; returns what happened (see ``SwarmResult``).

    Raises ``ValueError`` (before any call) for a team that cannot run the topology or rule (e.g. quorum with
    n < 3f+1 voters). ``history(task_class)`` gives measured success rates per topology for ``adaptive``.
    Cancelling it cancels every in-flight agent call.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    bus = bus if bus is not None else MessageBus()
    first = len(bus.history)
    topology: str = spec.topology
    if topology == "adaptive":
        topology, reason = choose_topology(spec.task, history(swarm_task_class(spec.task)) if history else None)
    else:
        reason = f"{topology} as requested"
    agents = spec.agents or default_team(topology, spec.n_agents, spec.tools)
    _check(spec, topology, agents)
    run = _Run(spec, ask, bus, first)
    bus.post("task", "swarm", spec.task, round=0)
    answer, result = await _RUNNERS[topology](run, agents)
    if result is not None:
        bus.post("consensus", "swarm", result.detail, round=max((r.round for r in run.replies), default=0))
    elif not answer:
        run.notes.append("no agent produced an answer")
    if run.notes:
        reason = f"{reason}; " + "; ".join(run.notes)
    return SwarmResult(
        topology=topology,
        reason=reason,
        answer=answer,
        consensus=result,
        replies=tuple(run.replies),
        messages=tuple(bus.history[first:]),
        cost_usd=sum(r.cost_usd for r in run.replies),
        latency_ms=(loop.time() - started) * 1000.0,
    )
