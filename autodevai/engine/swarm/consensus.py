"""Consensus over agents' answers: normalization, majority, plurality, Byzantine quorum, and leader rounds.

These are voting protocols over model outputs, not a replicated database. Answers are compared by their
``normalize``d form (the last number in the text, else the words without punctuation and articles), so
"17 × 23 = 391." and "The answer is 391" agree. Failed agents cast no vote; every rule says in ``detail``
how many agreed out of how many votes and what it needed.

- ``majority``: more than half of the votes cast.
- ``plurality``: the most common answer; a tie for first place is no consensus.
- ``quorum``: tolerates ``f`` faulty (even lying) agents out of ``n >= 3f + 1``; reached when one answer has at
  least ``2f + 1`` votes (PBFT's quorum, Castro & Liskov 1999) and no other answer has as many. The rule itself
  (``quorum_size``, ``check_quorum``, ``quorum_problem``) is stated once, here, for every place that checks a team.
- ``leader_rounds``: the first healthy agent leads and proposes; followers accept when their own answer agrees,
  or adopt the proposal after seeing it; a leader that fails or times out is replaced by the next agent (a
  "leader" message on the bus), and a proposal a majority rejects passes the lead on in the next round.
"""

from __future__ import annotations

import asyncio
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from autodevai.engine.swarm.agents import Agent, AgentReply, Ask, call_agent
from autodevai.engine.swarm.bus import MessageBus

__all__ = [
    "Consensus",
    "QuorumSize",
    "Vote",
    "check_quorum",
    "leader_rounds",
    "majority",
    "normalize",
    "plurality",
    "quorum",
    "quorum_problem",
    "quorum_size",
    "votes_of",
]

# A number not glued to a word or another number's dot: "17 × 23 = 391." -> 17, 23, 391; "x-3" -> 3.
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})+(?:\.\d+)?(?![\d,]*\d)|(?<![\w.,])-?\d+(?:\.\d+)?")
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCT = str.maketrans({c: " " for c in string.punctuation + "×÷“”‘’«»…–—"})


def normalize(answer: str) -> str:
    """The canonical form of ``answer`` for voting.

    The last number in the text as a plain decimal ("391", "-2.5", "1000" for "1,000.00"), else the lowercase
    words without punctuation and articles, whitespace-collapsed ("The capital is Paris." -> "capital is paris").
    """
    numbers = _NUMBER_RE.findall(answer)
    if numbers:
        try:
            value = Decimal(numbers[-1].replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex only matches valid decimals
            value = None
        if value is not None:
            if value == value.to_integral_value():
                return str(int(value))
            return format(value.normalize(), "f")
    words = answer.lower().translate(_PUNCT).split()
    return " ".join(w for w in words if w not in _ARTICLES)


@dataclass(frozen=True, slots=True)
class Vote:
    agent: str
    answer: str
    normalized: str


@dataclass(frozen=True, slots=True)
class Consensus:
    rule: str  # "majority" | "plurality" | "quorum" | "leader"
    reached: bool
    answer: str | None  # a representative original answer of the winning group
    normalized: str | None
    support: int  # votes for the winner (or for the best answer when not reached)
    total: int  # votes counted (failed agents excluded)
    detail: str  # a sentence a user can read


def votes_of(replies: Sequence[AgentReply]) -> list[Vote]:
    """One vote per successful reply (failed or empty replies cast none)."""
    return [Vote(r.agent, r.content, normalize(r.content)) for r in replies if r.error is None and r.content.strip()]


def _groups(votes: Sequence[Vote]) -> list[tuple[str, int, str]]:
    """(normalized, count, representative answer) per distinct answer, most votes first, first-seen on ties."""
    counts = Counter(v.normalized for v in votes)
    first: dict[str, str] = {}
    for v in votes:
        first.setdefault(v.normalized, v.answer)
    order = {key: i for i, key in enumerate(first)}
    return sorted(((k, n, first[k]) for k, n in counts.items()), key=lambda g: (-g[1], order[g[0]]))


def _no_votes(rule: str) -> Consensus:
    return Consensus(rule, False, None, None, 0, 0, "no consensus: no agent answered")


def majority(votes: Sequence[Vote]) -> Consensus:
    """Reached when one answer has more than half of the votes cast."""
    if not votes:
        return _no_votes("majority")
    key, n, rep = _groups(votes)[0]
    total = len(votes)
    need = total // 2 + 1
    if n >= need:
        return Consensus("majority", True, rep, key, n, total, f"{n} of {total} agree (majority needs {need})")
    return Consensus(
        "majority", False, None, None, n, total, f"no consensus: best {n} of {total}, majority needs {need}"
    )


def plurality(votes: Sequence[Vote]) -> Consensus:
    """Reached when one answer has strictly more votes than every other; a tie for first is no consensus."""
    if not votes:
        return _no_votes("plurality")
    groups = _groups(votes)
    key, n, rep = groups[0]
    total = len(votes)
    if len(groups) > 1 and groups[1][1] == n:
        tied = sum(1 for g in groups if g[1] == n)
        return Consensus(
            "plurality", False, None, None, n, total, f"no consensus: {tied} answers tie with {n} of {total} votes each"
        )
    others = f", next best {groups[1][1]}" if len(groups) > 1 else ""
    return Consensus("plurality", True, rep, key, n, total, f"{n} of {total} agree, the most common answer{others}")


@dataclass(frozen=True, slots=True)
class QuorumSize:
    """What a Byzantine quorum tolerating ``faulty`` agents needs (PBFT, Castro & Liskov 1999)."""

    faulty: int  # f
    agents: int  # 3f + 1: the fewest agents whose honest ones out-vote f liars
    agreeing: int  # 2f + 1: the votes one answer needs


def quorum_size(f: int) -> QuorumSize:
    """The agents (``3f + 1``) and agreeing votes (``2f + 1``) a quorum tolerating ``f`` faulty agents needs.

    Raises ``ValueError`` for a negative ``f``.
    """
    if f < 0:
        raise ValueError(f"quorum needs f >= 0 faulty agents, got f = {f}")
    return QuorumSize(f, 3 * f + 1, 2 * f + 1)


def quorum_problem(n: int, f: int, counted: str = "n") -> str:
    """Why ``n`` agents cannot hold a quorum tolerating ``f`` faulty ones, as one sentence ("" when they can).

    ``counted`` names what ``n`` counts, as the user knows it ("n_agents" in a workflow file, "voting agents").
    """
    try:
        need = quorum_size(f).agents
    except ValueError as exc:
        return str(exc)
    if n >= need:
        return ""
    return (
        f"a quorum tolerating {f} faulty agent(s) needs {counted} >= 3f+1 = {need}, got {n} "
        f"({n} tolerate at most {max((n - 1) // 3, 0)})"
    )


def check_quorum(n: int, f: int, counted: str = "n") -> QuorumSize:
    """``quorum_size(f)`` when ``n`` agents can hold that quorum; raises ``ValueError`` (``quorum_problem``'s
    sentence) when ``f`` is negative or ``n < 3f + 1``."""
    problem = quorum_problem(n, f, counted)
    if problem:
        raise ValueError(problem)
    return quorum_size(f)


def quorum(votes: Sequence[Vote], f: int, n: int) -> Consensus:
    """Byzantine quorum over ``n`` agents of which up to ``f`` may be faulty.

    Raises ``ValueError`` unless ``f >= 0`` and ``n >= 3f + 1`` (``check_quorum``: fewer agents cannot out-vote
    f liars), or when there are more votes than agents. Reached when one answer has ``>= 2f + 1`` votes and no
    other answer has as many (with n > 3f + 1 two disjoint quorums could otherwise both claim the answer).
    """
    need = check_quorum(n, f).agreeing
    if len(votes) > n:
        raise ValueError(f"{len(votes)} votes from only {n} agents")
    rule_text = f"quorum 2f+1 = {need} with f = {f}"
    if not votes:
        return Consensus("quorum", False, None, None, 0, 0, f"no consensus: no agent answered, {rule_text}")
    groups = _groups(votes)
    key, best, rep = groups[0]
    total = len(votes)
    if best >= need and (len(groups) == 1 or groups[1][1] < best):
        return Consensus("quorum", True, rep, key, best, total, f"{best} of {n} agree ({rule_text})")
    if best >= need:
        return Consensus(
            "quorum", False, None, None, best, total, f"no consensus: two answers each have {best} of {n} ({rule_text})"
        )
    failed = n - total
    gone = f", {failed} agent(s) failed" if failed else ""
    return Consensus(
        "quorum", False, None, None, best, total, f"no consensus: best {best} of {n}, quorum needs {need}{gone}"
    )


def _leader_prompt(prompt: str, leader: str, proposal: str) -> str:
    return (
        f"{prompt}\n\nThe team leader {leader} proposes this answer:\n{proposal}\n\n"
        "If you agree, repeat the answer; if not, give your own final answer."
    )


async def leader_rounds(
    agents: Sequence[Agent],
    ask: Ask,
    prompt: str,
    *,
    rounds: int = 3,
    timeout_s: float = 30.0,
    bus: MessageBus | None = None,
) -> tuple[Consensus, list[AgentReply]]:
    """Leader-based consensus over at most ``rounds`` rounds; returns the consensus and every reply.

    Round 1: every agent answers ``prompt`` concurrently. The first healthy agent in order leads; if its call
    failed or timed out it is replaced by the next one (each election is a "leader" bus message). The leader's
    answer is the proposal; followers whose answer normalizes equal accept. In each later round the followers
    that disagree see the proposal and answer again (accepting if they now agree); if that round still ends
    without a majority, the lead passes to the next live agent whose answer differs. Live agents are those whose
    last call succeeded. Consensus: more than half of the live agents accept.
    """
    if rounds < 1:
        raise ValueError("leader_rounds needs at least one round")
    bus = bus if bus is not None else MessageBus()
    replies: list[AgentReply] = []
    latest: dict[str, AgentReply] = {}

    async def run(batch: Sequence[Agent], text: str | dict[str, str], round_no: int) -> None:
        tasks: list[asyncio.Task[AgentReply]] = []
        async with asyncio.TaskGroup() as tg:
            for a in batch:
                p = text if isinstance(text, str) else text[a.name]
                tasks.append(tg.create_task(call_agent(ask, a, p, round_no, timeout_s)))
        for a, t in zip(batch, tasks, strict=True):
            reply = t.result()
            replies.append(reply)
            latest[a.name] = reply
            if reply.error is None:
                bus.post("answer", a.name, reply.content, round=round_no)
            else:
                bus.post("error", a.name, reply.error, round=round_no)

    def live() -> list[Agent]:
        return [a for a in agents if latest.get(a.name) is not None and latest[a.name].error is None]

    await run(agents, prompt, 1)
    leader: Agent | None = None
    tried: set[str] = set()
    best = Consensus("leader", False, None, None, 0, 0, "no consensus: no agent answered")
    for round_no in range(1, rounds + 1):
        alive = live()
        if leader is None:  # the election: the first agent in order whose call succeeded
            passed = [a for a in agents if a not in alive]
            leader = next((a for a in agents if a in alive), None)
            if leader is None:
                return Consensus("leader", False, None, None, 0, 0, "no consensus: every agent failed"), replies
            for a in agents[: list(agents).index(leader)]:
                if a in passed:  # a leader that died: say so, then elect the next one
                    bus.post("leader", "swarm", f"{a.name} cannot lead: {latest[a.name].error}", round=round_no)
                    tried.add(a.name)
            again = " (re-elected)" if tried else ""
            bus.post("leader", "swarm", f"{leader.name} leads{again}", round=round_no)
            tried.add(leader.name)
        proposal = latest[leader.name].content
        key = normalize(proposal)
        followers = [a for a in alive if a is not leader]
        bus.post("answer", leader.name, proposal, round=round_no, recipients=tuple(a.name for a in followers))
        if round_no > 1:
            dissent = [a for a in followers if normalize(latest[a.name].content) != key]
            if dissent:
                await run(dissent, _leader_prompt(prompt, leader.name, proposal), round_no)
            alive = live()
        accepts = [a.name for a in alive if normalize(latest[a.name].content) == key]
        for a in alive:
            agrees = a.name in accepts
            bus.post("vote", a.name, "accept" if agrees else "reject", round=round_no, recipients=(leader.name,))
        need = len(alive) // 2 + 1
        if len(accepts) >= need:
            detail = (
                f"{len(accepts)} of {len(alive)} live agents accept leader {leader.name}'s answer (round {round_no})"
            )
            return Consensus("leader", True, proposal, key, len(accepts), len(alive), detail), replies
        if len(accepts) > best.support or best.total == 0:
            best = Consensus(
                "leader",
                False,
                None,
                None,
                len(accepts),
                len(alive),
                f"no consensus: best {len(accepts)} of {len(alive)} live agents accepted a leader's answer, "
                f"a majority needs {need}",
            )
        # Round 1 only compared independent answers; from round 2 on the dissenters have seen the proposal, so a
        # proposal that still lacks a majority passes the lead to the next live agent with a different answer.
        if 1 < round_no < rounds:
            successor = next(
                (a for a in alive if a.name not in tried and normalize(latest[a.name].content) != key), None
            )
            if successor is None:
                break
            bus.post(
                "leader",
                "swarm",
                f"{successor.name} leads: {leader.name}'s answer lacked a majority",
                round=round_no + 1,
            )
            tried.add(successor.name)
            leader = successor
    return best, replies
