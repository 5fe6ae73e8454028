"""Swarms over the real simulator through the engine's request path: every topology and consensus rule with agents
that fail, time out, lie, or lead and die; the bus shows what happened; cancelling a swarm cancels its calls."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Callable

import pytest

from autodevai.compose import App
from autodevai.engine.swarm import (
    Agent,
    AgentReply,
    Ask,
    MessageBus,
    SwarmResult,
    SwarmSpec,
    choose_topology,
    engine_ask,
    leader_rounds,
    normalize,
    run_swarm,
)
from autodevai.sim.server import SimServer

from .conftest import BIG, MakeEngine

TASK = "What is 17*23?"
RIGHT = "391"
FAIL = (("X-Sim-Fault", "http_error;status=500"),)
HANG = (("X-Sim-Fault", "timeout;delay=5"),)


async def engine_for_swarm(make_engine: MakeEngine) -> tuple[App, Ask]:
    app = await make_engine(resilience={"retries_per_model": 0})
    return app, engine_ask(app.engine.execute_with_smart_routing, timeout_s=10)


def team(
    n: int, *, head: str | None = None, broken: dict[int, tuple[tuple[str, str], ...]] | None = None
) -> tuple[Agent, ...]:
    """``n`` members on an explicit model (plus a head agent first when named); ``broken`` maps a member's index
    to the fault headers it sends."""
    broken = broken or {}
    members = [
        Agent(f"agent-{i + 1}", f"solver number {i + 1}", model=BIG, extra_headers=broken.get(i, ())) for i in range(n)
    ]
    return ((Agent(head, f"the {head}", model=BIG),) if head else ()) + tuple(members)


def lying(ask: Ask, liars: dict[str, str]) -> Ask:
    """A byzantine wrapper: the named agents replace the last number of their answer with a wrong one."""

    async def wrapped(agent: Agent, prompt: str, round: int) -> AgentReply:
        reply = await ask(agent, prompt, round)
        if agent.name in liars and reply.error is None:
            content = re.sub(r"-?\d+(?:\.\d+)?(?=\D*$)", liars[agent.name], reply.content)
            return dataclasses.replace(reply, content=content)
        return reply

    return wrapped


def recording(ask: Ask, log: list[tuple[str, int, str]]) -> Ask:
    async def wrapped(agent: Agent, prompt: str, round: int) -> AgentReply:
        log.append((agent.name, round, prompt))
        return await ask(agent, prompt, round)

    return wrapped


def kinds(result: SwarmResult, kind: str) -> list[tuple[str, tuple[str, ...], int, str]]:
    return [(m.sender, m.recipients, m.round, m.content) for m in result.messages if m.kind == kind]


# ---- failing and timing-out agents, for every topology and rule ----------------------------------------------------

CASES = [
    ("star", "majority"),
    ("star", "plurality"),
    ("star", "quorum"),
    ("star", "leader"),
    ("mesh", "majority"),
    ("mesh", "plurality"),
    ("mesh", "quorum"),
    ("mesh", "leader"),
    ("ring", "none"),
    ("hierarchical", "none"),
]


@pytest.mark.parametrize(("topology", "rule"), CASES, ids=[f"{t}-{r}" for t, r in CASES])
async def test_failing_and_timing_out_agents_do_not_stop_the_swarm(
    make_engine: MakeEngine, topology: str, rule: str
) -> None:
    _, ask = await engine_for_swarm(make_engine)
    head = {"star": "hub", "hierarchical": "coordinator"}.get(topology)
    # Five members: the 2nd answers HTTP 500, the 4th hangs; f = 1 needs 3 of 5 for quorum.
    agents = team(5, head=head, broken={1: FAIL, 3: HANG})
    spec = SwarmSpec(TASK, topology, agents, rounds=1, consensus=rule, faulty=1, agent_timeout_s=0.5)  # type: ignore[arg-type]
    t0 = time.monotonic()
    result = await run_swarm(spec, ask)
    elapsed = time.monotonic() - t0

    assert elapsed < 2.0, f"the swarm waited {elapsed:.2f} s for an agent that timed out after 0.5 s"
    by_agent = {r.agent: r for r in result.replies if r.agent in ("agent-2", "agent-4")}
    assert by_agent["agent-2"].error is not None and "ProviderUnavailable" in by_agent["agent-2"].error
    assert by_agent["agent-2"].content == ""
    assert by_agent["agent-4"].error == "timeout"
    assert {("agent-2"), ("agent-4")} <= {s for s, *_ in kinds(result, "error")}
    assert result.ok, result.reason
    assert normalize(result.answer) == RIGHT
    assert result.topology == topology
    if rule == "none":
        assert result.consensus is None
    else:
        assert result.consensus is not None and result.consensus.reached and result.consensus.rule == rule
        assert result.consensus.total == 3  # the two broken agents cast no vote
        assert kinds(result, "consensus")[-1][3] == result.consensus.detail
    assert result.cost_usd > 0


# ---- byzantine agents under quorum (n = 7, f = 2) ------------------------------------------------------------------


@pytest.mark.parametrize("topology", ["star", "mesh"])
async def test_quorum_outvotes_two_liars(make_engine: MakeEngine, topology: str) -> None:
    _, ask = await engine_for_swarm(make_engine)
    agents = team(7, head="hub" if topology == "star" else None)
    liars = lying(ask, {"agent-3": "17", "agent-6": "999"})
    spec = SwarmSpec(TASK, topology, agents, rounds=1, consensus="quorum", faulty=2)  # type: ignore[arg-type]
    result = await run_swarm(spec, liars)
    c = result.consensus
    assert c is not None and c.reached, c
    assert c.normalized == RIGHT and normalize(result.answer) == RIGHT
    assert c.support >= 5 and c.detail.endswith("(quorum 2f+1 = 5 with f = 2)")
    votes = {sender: content for sender, _, _, content in kinds(result, "vote")}
    assert votes["agent-3"] == "17" and votes["agent-6"] == "999"  # the lies were cast, and out-voted


@pytest.mark.parametrize("topology", ["star", "mesh"])
async def test_quorum_reports_no_consensus_rather_than_the_liars_answer(make_engine: MakeEngine, topology: str) -> None:
    _, ask = await engine_for_swarm(make_engine)
    agents = team(7, head="hub" if topology == "star" else None, broken={5: FAIL, 6: FAIL})
    liars = lying(ask, {"agent-1": "392", "agent-2": "392", "agent-3": "392"})
    spec = SwarmSpec(TASK, topology, agents, rounds=1, consensus="quorum", faulty=2)  # type: ignore[arg-type]
    result = await run_swarm(spec, liars)
    c = result.consensus
    assert c is not None and not c.reached
    assert c.answer is None and c.support == 3 and c.total == 5
    assert c.detail == "no consensus: best 3 of 7, quorum needs 5, 2 agent(s) failed"
    assert not result.ok and result.answer == ""
    assert "392" not in result.answer
    assert kinds(result, "consensus")[-1][3] == c.detail


async def test_quorum_with_too_few_agents_is_refused_before_any_call(make_engine: MakeEngine, sim: SimServer) -> None:
    _, ask = await engine_for_swarm(make_engine)
    before = sim.stats.total
    with pytest.raises(ValueError, match="3f"):
        await run_swarm(SwarmSpec(TASK, "mesh", team(6), consensus="quorum", faulty=2), ask)
    assert sim.stats.total == before


# ---- leaders that die ----------------------------------------------------------------------------------------------


def dying(ask: Ask, name: str, when: Callable[[str, int], bool]) -> Ask:
    async def wrapped(agent: Agent, prompt: str, round: int) -> AgentReply:
        if agent.name == name and when(prompt, round):
            raise ConnectionResetError("the leader's process died")
        return await ask(agent, prompt, round)

    return wrapped


@pytest.mark.parametrize("topology", ["star", "mesh"])
async def test_a_leader_that_dies_is_replaced_and_consensus_is_reached(make_engine: MakeEngine, topology: str) -> None:
    _, ask = await engine_for_swarm(make_engine)
    agents = team(5, head="hub" if topology == "star" else None)
    if topology == "star":
        crash = dying(ask, "agent-1", lambda prompt, rnd: rnd == 1)
    else:  # in a mesh the leader rounds follow the debate: die on the first leader-round call
        crash = dying(ask, "agent-1", lambda prompt, rnd: "final drafts" in prompt and rnd == 1)
    result = await run_swarm(SwarmSpec(TASK, topology, agents, rounds=1, consensus="leader"), crash)  # type: ignore[arg-type]
    c = result.consensus
    assert c is not None and c.reached and c.rule == "leader"
    assert normalize(result.answer) == RIGHT
    assert "agent-2" in c.detail and c.total == 4
    leader_msgs = [content for *_, content in kinds(result, "leader")]
    assert leader_msgs[0].startswith("agent-1 cannot lead: ConnectionResetError")
    assert leader_msgs[1] == "agent-2 leads (re-elected)"


async def test_a_leader_that_times_out_is_replaced(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    agents = team(4, broken={0: HANG})
    bus = MessageBus()
    t0 = time.monotonic()
    c, replies = await leader_rounds(agents, ask, TASK, timeout_s=0.5, bus=bus)
    assert time.monotonic() - t0 < 2.0
    assert c.reached and c.normalized == RIGHT and (c.support, c.total) == (3, 3)
    assert next(r for r in replies if r.agent == "agent-1").error == "timeout"
    assert [m.content for m in bus.history if m.kind == "leader"] == [
        "agent-1 cannot lead: timeout",
        "agent-2 leads (re-elected)",
    ]


# ---- what each topology does, as the bus shows it ------------------------------------------------------------------


async def test_ring_passes_each_output_to_the_next_agent_in_order(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    prompts: list[tuple[str, int, str]] = []
    agents = team(4, broken={2: FAIL})  # agent-3 fails: agent-4 refines agent-2's output
    result = await run_swarm(SwarmSpec(TASK, "ring", agents, consensus="none"), recording(ask, prompts))
    assert [name for name, *_ in prompts] == ["agent-1", "agent-2", "agent-3", "agent-4"]
    drafts = kinds(result, "draft")
    assert [(s, to) for s, to, *_ in drafts] == [("agent-1", ("agent-2",)), ("agent-2", ("agent-3",))]
    assert kinds(result, "answer")[-1][0] == "agent-4"
    outputs = {r.agent: r.content for r in result.replies if r.error is None}
    assert outputs["agent-1"] in prompts[1][2] and "(agent-1)" in prompts[1][2]
    assert outputs["agent-2"] in prompts[3][2] and "(agent-2)" in prompts[3][2]
    assert result.answer == outputs["agent-4"] and normalize(result.answer) == RIGHT
    assert result.consensus is None and result.ok


async def test_hierarchical_splits_into_parts_and_merges(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    prompts: list[tuple[str, int, str]] = []
    parts = "1. Multiply 17 by 20\n2. Multiply 17 by 3\n3. Add the two products"

    async def planner(agent: Agent, prompt: str, round: int) -> AgentReply:
        if agent.name == "coordinator" and round == 0:  # the simulator writes prose: script the split
            prompts.append((agent.name, round, prompt))
            return AgentReply(agent.name, round, parts, "scripted", 0.0, 1.0)
        return await recording(ask, prompts)(agent, prompt, round)

    result = await run_swarm(SwarmSpec(TASK, "hierarchical", team(3, head="coordinator")), planner)
    assigned = {to[0]: content for sender, to, rnd, content in kinds(result, "task") if sender == "coordinator"}
    assert assigned == {
        "agent-1": "Your part (1 of 3): Multiply 17 by 20",
        "agent-2": "Your part (2 of 3): Multiply 17 by 3",
        "agent-3": "Your part (3 of 3): Add the two products",
    }
    worker_prompts = {name: p for name, rnd, p in prompts if rnd == 1}
    assert "Multiply 17 by 3" in worker_prompts["agent-2"]
    answers = [(s, to) for s, to, rnd, _ in kinds(result, "answer") if rnd == 1]
    assert sorted(answers) == [(f"agent-{i}", ("coordinator",)) for i in (1, 2, 3)]
    merge_prompt = next(p for name, rnd, p in prompts if name == "coordinator" and rnd == 2)
    assert all(f"Part {i} (agent-{i})" in merge_prompt for i in (1, 2, 3))
    merged = next(r for r in result.replies if r.agent == "coordinator" and r.round == 2)
    assert result.answer == merged.content and normalize(result.answer) == RIGHT and result.ok


async def test_mesh_runs_its_rounds_with_drafts_visible_to_peers(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    prompts: list[tuple[str, int, str]] = []
    result = await run_swarm(SwarmSpec(TASK, "mesh", team(3), rounds=2), recording(ask, prompts))
    drafts = kinds(result, "draft")
    assert sorted((s, rnd) for s, _, rnd, _ in drafts) == [(f"agent-{i}", r) for i in (1, 2, 3) for r in (0, 1, 2)]
    round0 = {s: content for s, _, rnd, content in drafts if rnd == 0}
    for name, rnd, prompt in prompts:
        if rnd == 1:
            peers = [p for p in round0 if p != name]
            assert all(f"- {p}: {round0[p]}" in prompt for p in peers)
            assert f"- {name}:" not in prompt  # its own draft is "your previous answer", not a peer's
    assert len(result.replies) == 9
    assert result.consensus is not None and result.consensus.reached and normalize(result.answer) == RIGHT


async def test_star_fans_out_and_the_hub_writes_the_answer_of_the_winning_group(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    liars = lying(ask, {"agent-2": "400"})
    result = await run_swarm(SwarmSpec(TASK, "star", team(3, head="hub"), consensus="majority"), liars)
    (task,) = [m for m in kinds(result, "task") if m[0] == "hub"]
    assert task[1] == ("agent-1", "agent-2", "agent-3")
    votes = kinds(result, "vote")
    assert {(s, to, content) for s, to, _, content in votes} == {
        ("agent-1", ("hub",), RIGHT),
        ("agent-2", ("hub",), "400"),
        ("agent-3", ("hub",), RIGHT),
    }
    assert result.consensus is not None and (result.consensus.support, result.consensus.total) == (2, 3)
    hub = next(r for r in result.replies if r.agent == "hub")
    assert kinds(result, "answer")[-1][0] == "hub" and result.answer == hub.content
    assert normalize(result.answer) == RIGHT


# ---- adaptive ------------------------------------------------------------------------------------------------------


async def test_adaptive_says_which_topology_and_why(make_engine: MakeEngine) -> None:
    _, ask = await engine_for_swarm(make_engine)
    simple = await run_swarm(SwarmSpec(TASK, n_agents=3), ask)
    assert simple.topology == "star" and "simple task" in simple.reason and "no history" in simple.reason
    assert normalize(simple.answer) == RIGHT

    seen: list[str] = []

    def history(task_class: str) -> dict[str, float]:
        seen.append(task_class)
        return {"star": 0.4, "mesh": 0.9}

    learned = await run_swarm(SwarmSpec(TASK, n_agents=3), ask, history=history)
    assert seen == ["swarm:simple"]
    assert learned.topology == "mesh"
    assert learned.reason.startswith("history: mesh succeeded 90% of the time on this kind of task, star 40%")
    assert normalize(learned.answer) == RIGHT


def test_choose_topology_from_complexity_and_history() -> None:
    long_task = (
        "Design the architecture of a payment service and compare the trade-offs of two storage engines.\n"
        "Cover failure modes.\nCover consistency.\nGive a plan."
    )
    assert choose_topology(long_task, None)[0] == "hierarchical"
    assert choose_topology("Please refine this paragraph about caching.", None)[0] == "ring"
    # History that does not beat the complexity choice by the margin does not override it.
    topology, reason = choose_topology(TASK, {"star": 0.8, "mesh": 0.85})
    assert topology == "star" and "history agrees" in reason
    assert choose_topology(TASK, {"ring": 0.7})[0] == "ring"  # unknown star counts as 50 %


# ---- cancellation --------------------------------------------------------------------------------------------------


def _module_of(task: asyncio.Task[object]) -> str:
    frame = getattr(task.get_coro(), "cr_frame", None)
    return str(frame.f_globals.get("__name__", "")) if frame is not None else ""


async def test_cancelling_a_swarm_cancels_every_agent_call(make_engine: MakeEngine) -> None:
    app, ask = await engine_for_swarm(make_engine)
    slow = (("X-Sim-Fault", "timeout;delay=30"),)
    agents = tuple(Agent(f"agent-{i}", "solver", model=BIG, extra_headers=slow) for i in range(4))
    started: list[str] = []
    ended: list[str] = []
    expected = 0
    all_started = asyncio.Event()

    async def counting(agent: Agent, prompt: str, round: int) -> AgentReply:
        started.append(agent.name)
        if len(started) == expected:
            all_started.set()
        try:
            return await ask(agent, prompt, round)
        finally:
            ended.append(agent.name)

    for topology in ("star", "mesh"):
        started.clear()
        ended.clear()
        all_started.clear()
        expected = 3 if topology == "star" else 4
        task = asyncio.create_task(run_swarm(SwarmSpec(TASK, topology, agents, agent_timeout_s=60), counting))
        await asyncio.wait_for(all_started.wait(), 5)
        await asyncio.sleep(0.2)  # the calls are now waiting on the simulator
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 1.0
        assert sorted(ended) == sorted(started)  # every in-flight call ended with the swarm
        leftovers = [t for t in asyncio.all_tasks() if _module_of(t).startswith("autodevai.engine.swarm")]
        assert leftovers == []
    history = await app.engine.get_request_history(limit=20)
    cancelled = [r for r in history if r.status == "Cancelled" and r.task_class == "swarm"]
    assert len(cancelled) == 3 + 4  # the engine saw each agent's request cancelled
