"""Consensus rules over agents' answers: normalization, majority, plurality, Byzantine quorum, leader rounds."""

from __future__ import annotations

import re

import pytest

from autodevai.engine.swarm import (
    Agent,
    AgentReply,
    MessageBus,
    QuorumSize,
    SwarmSpec,
    Vote,
    check_quorum,
    leader_rounds,
    majority,
    normalize,
    plurality,
    quorum,
    quorum_problem,
    quorum_size,
    run_swarm,
    votes_of,
)
from autodevai.engine.workflows import SwarmConfig


def votes(*answers: str) -> list[Vote]:
    return [Vote(f"a{i}", a, normalize(a)) for i, a in enumerate(answers)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17 × 23 = 391.", "391"),  # the simulator's arithmetic answer
        ("The answer is 391", "391"),
        ("391", "391"),
        ("10 - 12 = -2.5.", "-2.5"),
        ("x = 2.50", "2.5"),
        ("about 1,000.00 dollars", "1000"),
        ("1,234,567", "1234567"),
        ("391.0", "391"),
        ("12-3 = 9", "9"),
        ("The capital of France is Paris.", "capital of france is paris"),
        ("  An   APPLE, a day!  ", "apple day"),
        ("", ""),
    ],
)
def test_normalize_makes_equal_answers_compare_equal(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_differently_worded_answers_vote_together() -> None:
    assert normalize("17 × 23 = 391.") == normalize("I computed 391") == normalize("**391**")
    assert normalize("17 × 23 = 391.") != normalize("17 × 23 = 392.")


def test_majority_needs_more_than_half() -> None:
    c = majority(votes("17 × 23 = 391.", "391", "392"))
    assert c.reached and c.normalized == "391" and c.answer == "17 × 23 = 391."
    assert (c.support, c.total) == (2, 3)
    assert "2 of 3 agree" in c.detail
    # The most common answer is not enough: 2 of 4 is not more than half.
    assert not majority(votes("391", "391", "392", "393")).reached


def test_majority_of_exactly_half_is_no_consensus() -> None:
    c = majority(votes("391", "391", "392", "392"))
    assert not c.reached and c.answer is None
    assert "no consensus" in c.detail and "needs 3" in c.detail


def test_plurality_takes_the_most_common_and_refuses_ties() -> None:
    c = plurality(votes("391", "392", "391", "393", "394"))
    assert c.reached and c.normalized == "391" and (c.support, c.total) == (2, 5)
    tie = plurality(votes("391", "392", "391", "392", "393"))
    assert not tie.reached and tie.answer is None
    assert "tie" in tie.detail


def test_rules_without_votes_are_no_consensus() -> None:
    for c in (majority([]), plurality([]), quorum([], 1, 4)):
        assert not c.reached and c.total == 0 and "no consensus" in c.detail


def test_quorum_tolerates_f_liars() -> None:
    # n = 7, f = 2: five honest agents agree, two lie with different numbers.
    c = quorum(votes("391", "391", "391", "391", "391", "17", "999"), f=2, n=7)
    assert c.reached and c.normalized == "391" and c.support == 5
    assert c.detail == "5 of 7 agree (quorum 2f+1 = 5 with f = 2)"


def test_quorum_reports_no_consensus_instead_of_a_wrong_answer() -> None:
    # 3 liars agree on 392, 2 honest agents failed (no vote), 2 honest agents say 391.
    c = quorum(votes("392", "392", "392", "391", "391"), f=2, n=7)
    assert not c.reached and c.answer is None and c.normalized is None
    assert c.support == 3 and c.total == 5
    assert c.detail == "no consensus: best 3 of 7, quorum needs 5, 2 agent(s) failed"


@pytest.mark.parametrize(("f", "n"), [(1, 3), (2, 6), (3, 9), (-1, 4)])
def test_quorum_refuses_too_few_agents(f: int, n: int) -> None:
    with pytest.raises(ValueError, match="f"):
        quorum(votes("391"), f=f, n=n)


@pytest.mark.parametrize(("f", "agents", "agreeing"), [(0, 1, 1), (1, 4, 3), (2, 7, 5), (5, 16, 11)])
def test_quorum_size_is_3f_plus_1_agents_and_2f_plus_1_agreeing(f: int, agents: int, agreeing: int) -> None:
    assert quorum_size(f) == QuorumSize(f, agents, agreeing)
    assert check_quorum(agents, f) == quorum_size(f) and quorum_problem(agents, f) == ""
    with pytest.raises(ValueError, match=r"f >= 0"):
        quorum_size(-1)


def test_a_team_too_small_for_its_quorum_is_told_what_it_needs() -> None:
    text = quorum_problem(6, 2, "voting agents")
    assert text == "a quorum tolerating 2 faulty agent(s) needs voting agents >= 3f+1 = 7, got 6 (6 tolerate at most 1)"
    with pytest.raises(ValueError) as info:
        check_quorum(6, 2, "voting agents")
    assert str(info.value) == text


async def test_every_engine_check_of_a_quorum_says_the_same_sentence() -> None:
    # The rule is stated once (check_quorum); the consensus rule, a swarm run and a workflow file all use it.
    with pytest.raises(ValueError) as by_vote:
        quorum(votes("1"), f=2, n=6)
    assert str(by_vote.value) == quorum_problem(6, 2)

    async def never(agent: Agent, prompt: str, round_no: int) -> AgentReply:
        raise AssertionError("a refused swarm asks no agent")

    team = tuple(Agent(f"peer-{i}", "a peer") for i in range(6))
    with pytest.raises(ValueError) as by_swarm:
        await run_swarm(SwarmSpec("What is 1+1?", "mesh", team, consensus="quorum", faulty=2), never)
    assert str(by_swarm.value) == quorum_problem(6, 2, "voting agents")
    with pytest.raises(ValueError, match=re.escape(quorum_problem(6, 2, "n_agents"))):
        SwarmConfig(topology="mesh", n_agents=6, consensus="quorum", faulty=2)


def test_quorum_refuses_more_votes_than_agents() -> None:
    with pytest.raises(ValueError, match="votes"):
        quorum(votes("1", "1", "1", "1", "1"), f=1, n=4)


def test_quorum_with_two_full_quorums_is_ambiguous() -> None:
    # n = 10 > 3f+1 lets two disjoint groups of 2f+1 = 3 each reach the threshold: no winner.
    c = quorum(votes("1", "1", "1", "2", "2", "2"), f=1, n=10)
    assert not c.reached and "two answers" in c.detail


def test_votes_of_skips_failed_and_empty_replies() -> None:
    replies = [
        AgentReply("a", 1, "17 × 23 = 391.", "m", 0.0, 1.0),
        AgentReply("b", 1, "", "m", 0.0, 1.0, "timeout"),
        AgentReply("c", 1, "   ", "m", 0.0, 1.0),
    ]
    assert votes_of(replies) == [Vote("a", "17 × 23 = 391.", "391")]


class Scripted:
    """An Ask answering from a script per (agent, round); a script entry that is an Exception is raised."""

    def __init__(self, script: dict[tuple[str, int], str | Exception]) -> None:
        self.script = script
        self.prompts: list[tuple[str, int, str]] = []

    async def __call__(self, agent: Agent, prompt: str, round: int) -> AgentReply:
        self.prompts.append((agent.name, round, prompt))
        value = self.script.get((agent.name, round), self.script.get((agent.name, 0), "no idea"))
        if isinstance(value, Exception):
            raise value
        return AgentReply(agent.name, round, value, "scripted", 0.001, 1.0)


TEAM = tuple(Agent(f"a{i}", "solver") for i in range(5))


async def test_leader_rounds_reelects_when_the_leader_crashes() -> None:
    ask = Scripted({("a0", 1): RuntimeError("leader process died"), **{(f"a{i}", 0): "391" for i in range(1, 5)}})
    bus = MessageBus()
    c, replies = await leader_rounds(TEAM, ask, "What is 17*23?", bus=bus)
    assert c.reached and c.normalized == "391" and c.rule == "leader"
    assert (c.support, c.total) == (4, 4)
    assert "a1" in c.detail
    leader_msgs = [m.content for m in bus.history if m.kind == "leader"]
    assert leader_msgs[0].startswith("a0 cannot lead: RuntimeError: leader process died")
    assert leader_msgs[1] == "a1 leads (re-elected)"
    assert any(r.agent == "a0" and r.error for r in replies)


async def test_leader_rounds_followers_adopt_after_seeing_the_proposal() -> None:
    script: dict[tuple[str, int], str | Exception] = {("a0", 0): "391", ("a1", 0): "391"}
    script.update({("a2", 1): "17", ("a3", 1): "18", ("a4", 1): "19", ("a2", 2): "391", ("a3", 2): "20"})
    ask = Scripted(script)
    c, _ = await leader_rounds(TEAM, ask, "What is 17*23?", rounds=2)
    assert c.reached and c.normalized == "391" and c.support == 3 and "round 2" in c.detail
    shown = [p for name, rnd, p in ask.prompts if rnd == 2]
    assert shown and all("a0 proposes" in p and "391" in p for p in shown)


async def test_leader_rounds_without_majority_is_no_consensus() -> None:
    ask = Scripted({(f"a{i}", 0): str(i) for i in range(5)})
    c, _ = await leader_rounds(TEAM, ask, "What is 17*23?", rounds=2)
    assert not c.reached and c.answer is None and "no consensus" in c.detail


async def test_leader_rounds_when_everyone_fails() -> None:
    ask = Scripted({(f"a{i}", 0): RuntimeError("down") for i in range(5)})
    c, replies = await leader_rounds(TEAM, ask, "What is 17*23?")
    assert not c.reached and c.detail == "no consensus: every agent failed"
    assert len(replies) == 5 and all(r.error for r in replies)


async def test_leader_rounds_pass_the_lead_when_the_proposal_keeps_losing() -> None:
    # a0 leads with a wrong answer; the others keep 391 even after seeing it, so a1 takes over in round 3.
    ask = Scripted({("a0", 0): "392", **{(f"a{i}", 0): "391" for i in range(1, 5)}})
    bus = MessageBus()
    c, _ = await leader_rounds(TEAM, ask, "What is 17*23?", rounds=3, bus=bus)
    assert c.reached and c.normalized == "391" and "a1" in c.detail and "round 3" in c.detail
    assert [m.content for m in bus.history if m.kind == "leader"] == [
        "a0 leads",
        "a1 leads: a0's answer lacked a majority",
    ]
