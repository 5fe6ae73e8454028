"""Swarms and adaptive routing measured on checkable tasks: accuracy and cost through the real engine.

The simulator runs in this process (``SimServer``, latency scale 0) and the engine is opened over it exactly as
the app does (settings, SQLite store, the shared HTTP client; the key comes from an environment variable).
Tasks are arithmetic with known answers, generated from seeds 7001 and up: "easy" ones are one operation on
2-digit numbers (simulator difficulty 0.2), "hard" ones are 3-digit multiplication chains (difficulty 2.8);
see ``autodevai/sim/answers.py`` for how difficulty changes a model's chance. An answer counts as right when
its ``normalize``d form (the last number) equals the known result; a swarm's answer counts only when the swarm
reached its consensus.

Measured, each through ``engine.execute_with_smart_routing`` (routing, budget, breakers, metrics, store):
- the single best model (the highest quality prior of a few well-known models) alone;
- star with majority vote (5 agents of a mid-price model with different roles);
- mesh with majority (3 agents, 2 debate rounds);
- quorum of n = 7 agents with f = 2 Byzantine agents (called and paid like the others, then all voting for the
  same wrong answer: the result + 1), against one honest agent of the same model alone. Two protocols:
  ``quorum_rounds`` here (every round ``quorum(votes, f=2, n=7)`` decides; without 2f+1 = 5 equal votes, the
  agents outside the leading group see the leading answer and answer again, up to 4 rounds), and
  ``run_swarm`` star with ``consensus="quorum"`` (one round: all 5 honest agents must agree). In the simulator
  a re-asked agent draws a fresh answer, so re-voting lets honest agents converge while liars stay at 2 votes;
- adaptive routing (``ThompsonRouter`` per task class over 4 models of different price tiers) over 500 tasks
  (70% easy, 30% hard) against always using the best model.

Prints a table, then as the very last line one JSON object.

usage: python bench/swarm.py [--tasks N] [--adaptive N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # never the user's keyring

from autodevai.compose import App, open_engine
from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.settings import parse_settings
from autodevai.engine.swarm.agents import Agent, AgentReply, Ask, engine_ask
from autodevai.engine.swarm.consensus import normalize
from autodevai.engine.swarm.topologies import SwarmResult, SwarmSpec, run_swarm
from autodevai.sim.answers import difficulty
from autodevai.sim.config import SimConfig
from autodevai.sim.server import SimServer

SEED0 = 7001  # task seeds 7001.. (the tests use other seeds)
KEY_ENV = "AUTODEVAI_BENCH_SIM_KEY"
BEST_CANDIDATES = ("openai/gpt-4o", "anthropic/claude-3.5-sonnet", "google/gemini-1.5-pro")
MID = "openai/gpt-4o-mini"  # the mid-price model of the swarms and of the honest single agent
TIERS = ("meta-llama/llama-3.1-8b-instruct", "google/gemini-1.5-flash", MID)  # + the best model
HARD_SHARE = 0.3
QUORUM_ROUNDS = 4
ROLES = (
    "a careful calculator",
    "a mathematician who checks each step",
    "an accountant who double-checks totals",
    "an engineer who estimates before computing",
    "a teacher who explains the method",
    "a skeptic who looks for mistakes",
    "a statistician",
)


@dataclass(frozen=True, slots=True)
class Task:
    text: str
    answer: str  # the known result, normalized
    hard: bool


def make_task(seed: int, hard: bool) -> Task:
    rng = random.Random(seed)
    if hard:
        a, b, c = (rng.randint(100, 999) for _ in range(3))
        return Task(f"What is {a}*{b}*{c}?", str(a * b * c), True)
    a, b, op = rng.randint(10, 99), rng.randint(10, 99), rng.choice("+-*")
    value = a + b if op == "+" else a - b if op == "-" else a * b
    return Task(f"What is {a}{op}{b}?", str(value), False)


def make_tasks(n: int, start: int, hard_share: float = HARD_SHARE) -> list[Task]:
    """``n`` tasks from seeds ``start..``; exactly round(n * hard_share) hard ones, spread evenly."""
    return [make_task(start + i, int((i + 1) * hard_share) > int(i * hard_share)) for i in range(n)]


_BIG_NUMBER = re.compile(r"\d{3,}")


def task_class(text: str) -> str:
    """What the router sees of a task: long arithmetic (a 3+ digit number) or short."""
    return "arith-long" if _BIG_NUMBER.search(text) else "arith-short"


def right(task: Task, content: str) -> bool:
    return bool(content) and normalize(content) == task.answer


@dataclass(slots=True)
class Score:
    name: str
    correct: int = 0
    n: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    failed_calls: int = 0
    reached: int = 0  # swarms: runs that reached their consensus
    wrong_decisions: int = 0  # swarms: consensus reached on a wrong answer
    voting: bool = False  # a swarm with a consensus rule (else a single agent)
    seconds: float = 0.0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: {"easy": [0, 0], "hard": [0, 0]})

    def add(self, task: Task, ok: bool, replies: Sequence[AgentReply], reached: bool = True) -> None:
        self.n += 1
        self.correct += ok
        self.reached += reached
        self.wrong_decisions += reached and self.voting and not ok
        self.calls += len(replies)
        self.failed_calls += sum(r.error is not None for r in replies)
        self.cost_usd += sum(r.cost_usd for r in replies)
        kind = self.by_kind["hard" if task.hard else "easy"]
        kind[0] += ok
        kind[1] += 1

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def kind_accuracy(self, kind: str) -> float:
        ok, n = self.by_kind[kind]
        return ok / n if n else 0.0


async def bounded(items: Sequence[Any], fn: Callable[[Any], Awaitable[None]], limit: int) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(item: Any) -> None:
        async with sem:
            await fn(item)

    async with asyncio.TaskGroup() as tg:
        for item in items:
            tg.create_task(one(item))


def team(model: str, n: int, *, hub: bool = False) -> tuple[Agent, ...]:
    """``n`` agents of ``model`` with different roles; with ``hub``, a hub first (star: it does not vote)."""
    head = (Agent("hub", "the hub who writes the final answer", model=model, max_tokens=64),) if hub else ()
    return head + tuple(Agent(f"agent-{i + 1}", ROLES[i % len(ROLES)], model=model, max_tokens=64) for i in range(n))


async def run_single(name: str, ask: Ask, model: str, tasks: Sequence[Task], limit: int) -> Score:
    score = Score(name)
    agent = Agent("solo", "a careful calculator", model=model, max_tokens=64)
    t0 = time.perf_counter()

    async def one(task: Task) -> None:
        reply = await ask(agent, task.text, 1)
        score.add(task, reply.error is None and right(task, reply.content), [reply])

    await bounded(tasks, one, limit)
    score.seconds = time.perf_counter() - t0
    return score


async def run_swarms(
    name: str, spec_of: Callable[[Task], SwarmSpec], ask_of: Callable[[Task], Ask], tasks: Sequence[Task], limit: int
) -> Score:
    score = Score(name, voting=True)
    t0 = time.perf_counter()

    async def one(task: Task) -> None:
        result: SwarmResult = await run_swarm(spec_of(task), ask_of(task))
        score.add(task, result.ok and right(task, result.answer), result.replies, result.ok)

    await bounded(tasks, one, limit)
    score.seconds = time.perf_counter() - t0
    return score


def byzantine(ask: Ask, liars: frozenset[str], task: Task) -> Ask:
    """``ask`` where the agents in ``liars`` are Byzantine: they are called (and paid for) like the others, then
    all vote for the same wrong answer (the worst case for a vote: colluding liars)."""
    lie = f"{task.text.removeprefix('What is ').rstrip('?')} = {int(task.answer) + 1}."

    async def lying(agent: Agent, prompt: str, round: int) -> AgentReply:
        reply = await ask(agent, prompt, round)
        if agent.name not in liars or reply.error is not None:
            return reply
        return AgentReply(reply.agent, reply.round, lie, reply.model, reply.cost_usd, reply.latency_ms, None)

    return lying


async def run_adaptive(
    ask: Ask, models: Sequence[str], est_cost: dict[str, float], tasks: Sequence[Task], batch: int, seed: int
) -> tuple[Score, dict[str, dict[str, int]]]:
    """Thompson routing per task class; ``batch`` tasks are chosen, then run concurrently, then learned from."""
    router = ThompsonRouter(random.Random(seed))
    score = Score("adaptive (Thompson)")
    picks: dict[str, dict[str, int]] = {}
    t0 = time.perf_counter()
    for i in range(0, len(tasks), batch):
        chunk = tasks[i : i + batch]
        chosen = [router.choose(task_class(t.text), models, est_cost)[0] for t in chunk]

        async def one(pair: tuple[Task, str]) -> None:
            task, model = pair
            agent = Agent("router", "a careful calculator", model=model, max_tokens=64)
            reply = await ask(agent, task.text, 1)
            ok = reply.error is None and right(task, reply.content)
            router.record(task_class(task.text), model, ok, reply.cost_usd)
            score.add(task, ok, [reply])
            counts = picks.setdefault(task_class(task.text), {})
            counts[model] = counts.get(model, 0) + 1

        await bounded(list(zip(chunk, chosen, strict=True)), one, batch)
    score.seconds = time.perf_counter() - t0
    return score, picks


async def open_bench_engine(sim: SimServer, tmp: Path) -> App:
    os.environ[KEY_ENV] = "bench-sim-key"
    provider = {"name": "sim", "kind": "openrouter", "base_url": sim.base_url, "attribution": False}
    settings = parse_settings({"providers": [{**provider, "api_key_env": KEY_ENV}]})
    return await open_engine(
        tmp / "config.toml", settings=settings, refresh="wait", db_path=tmp / "bench.db", trust_env=False
    )


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def table(scores: Sequence[Score]) -> str:
    w = max(len(s.name) for s in scores)
    cols = f"{'tasks':>5} {'accuracy':>8} {'easy':>7} {'hard':>7} {'consensus':>9} {'calls':>6} {'cost USD':>9}"
    cols += f" {'time':>6}"
    head = f"{'run':<{w}} {cols}"
    lines = [head, "-" * len(head)]
    for s in scores:
        reached = pct(s.reached / s.n) if s.voting and s.n else "-"
        lines.append(
            f"{s.name:<{w}} {s.n:>5} {pct(s.accuracy):>8} {pct(s.kind_accuracy('easy')):>7} "
            f"{pct(s.kind_accuracy('hard')):>7} {reached:>9} {s.calls:>6} {s.cost_usd:>9.5f} {s.seconds:>5.1f}s"
        )
    return "\n".join(lines)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=150, help="tasks per swarm run (30%% hard)")
    ap.add_argument("--adaptive", type=int, default=500, help="tasks of the adaptive-routing run")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()

    models = sorted({*BEST_CANDIDATES, *TIERS})
    tasks = make_tasks(args.tasks, SEED0)
    adaptive_tasks = make_tasks(args.adaptive, SEED0 + args.tasks)
    tmpdir = tempfile.TemporaryDirectory(prefix="autodevai-bench-swarm-")
    tmp = Path(tmpdir.name)
    os.environ["AUTODEVAI_DATA_DIR"] = str(tmp)
    os.environ["AUTODEVAI_CONFIG_DIR"] = str(tmp)
    started = time.perf_counter()
    sim = SimServer(SimConfig(latency_scale=0.0, seed=SEED0, models=models))
    await sim.start()
    try:
        app = await open_bench_engine(sim, tmp)
        try:
            engine = app.engine
            infos = {m: engine.find_model(m) for m in models}
            missing = [m for m, info in infos.items() if info is None]
            if missing:
                raise SystemExit(f"models missing from the catalog: {missing}")
            best = max(BEST_CANDIDATES, key=lambda m: infos[m].quality)  # type: ignore[union-attr]
            est_cost = {
                m: info.price_in * 60 + info.price_out * 15 + info.price_request  # a typical call here
                for m, info in infos.items()
                if info is not None
            }
            ask = engine_ask(engine.execute_with_smart_routing, timeout_s=30.0)
            limit = args.concurrency
            scores: list[Score] = []

            single_best = await run_single(f"single best ({best})", ask, best, tasks, limit)
            scores.append(single_best)
            star = await run_swarms(
                f"star, majority, hub + 5 x {MID}",
                lambda t: SwarmSpec(task=t.text, topology="star", agents=team(MID, 5, hub=True)),
                lambda t: ask,
                tasks,
                limit,
            )
            scores.append(star)
            mesh = await run_swarms(
                f"mesh, majority, 3 x {MID}, 2 rounds",
                lambda t: SwarmSpec(task=t.text, topology="mesh", agents=team(MID, 3), rounds=2),
                lambda t: ask,
                tasks,
                limit,
            )
            scores.append(mesh)
            honest = await run_single(f"single honest ({MID})", ask, MID, tasks, limit)
            scores.append(honest)
            voters = team(MID, 7)
            liars = frozenset(a.name for a in voters[-2:])
            quorum_run = await run_swarms(
                f"quorum n=7 f=2 byz., star, <={QUORUM_ROUNDS} re-votes",
                lambda t: SwarmSpec(
                    task=t.text,
                    topology="star",
                    agents=team(MID, 7, hub=True),
                    consensus="quorum",
                    faulty=2,
                    rounds=QUORUM_ROUNDS,
                ),
                lambda t: byzantine(ask, liars, t),
                tasks,
                limit,
            )
            scores.append(quorum_run)
            wrong_decisions = quorum_run.wrong_decisions
            star_quorum = await run_swarms(
                "quorum n=7 f=2 byz., star, no re-vote",
                lambda t: SwarmSpec(
                    task=t.text, topology="star", agents=team(MID, 7, hub=True), consensus="quorum", faulty=2, rounds=0
                ),
                lambda t: byzantine(ask, liars, t),
                tasks,
                limit,
            )
            scores.append(star_quorum)
            adaptive_models = (*TIERS, best)
            adaptive, picks = await run_adaptive(ask, adaptive_models, est_cost, adaptive_tasks, limit, SEED0)
            always = await run_single(f"always best ({best})", ask, best, adaptive_tasks, limit)
            scores += [adaptive, always]
        finally:
            await app.aclose()
    finally:
        await sim.stop()
        tmpdir.cleanup()

    print(
        f"tasks: {args.tasks} ({int(args.tasks * HARD_SHARE)} hard, difficulty "
        f"{difficulty(tasks[0].text)} easy / {difficulty(next(t.text for t in tasks if t.hard))} hard); "
        f"adaptive: {args.adaptive}; latency scale 0"
    )
    print(table(scores))
    print("adaptive picks per task class:")
    for cls, counts in sorted(picks.items()):
        print(f"  {cls:<12} " + ", ".join(f"{m} {n}" for m, n in sorted(counts.items(), key=lambda kv: -kv[1])))
    cost_ratio = adaptive.cost_usd / always.cost_usd if always.cost_usd else float("nan")
    acc_ratio = adaptive.accuracy / always.accuracy if always.accuracy else float("nan")
    result = {
        "best_model": best,
        "single_best_accuracy": round(single_best.accuracy, 4),
        "single_best_cost_usd": round(single_best.cost_usd, 6),
        "star_majority_accuracy": round(star.accuracy, 4),
        "star_majority_cost_usd": round(star.cost_usd, 6),
        "mesh_majority_accuracy": round(mesh.accuracy, 4),
        "mesh_majority_cost_usd": round(mesh.cost_usd, 6),
        "quorum_accuracy_f2": round(quorum_run.accuracy, 4),
        "quorum_cost_usd": round(quorum_run.cost_usd, 6),
        "quorum_wrong_decisions": wrong_decisions,
        "quorum_one_round_accuracy_f2": round(star_quorum.accuracy, 4),
        "single_honest_accuracy": round(honest.accuracy, 4),
        "adaptive_accuracy": round(adaptive.accuracy, 4),
        "always_best_accuracy": round(always.accuracy, 4),
        "adaptive_cost_ratio": round(cost_ratio, 4),
        "adaptive_accuracy_ratio": round(acc_ratio, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"quorum vs single honest: {pct(quorum_run.accuracy)} vs {pct(honest.accuracy)} (target >=); "
        f"{wrong_decisions} of {quorum_run.reached} quorum decisions were wrong; "
        f"one-round star quorum: {pct(star_quorum.accuracy)}"
    )
    print(f"adaptive cost ratio {cost_ratio:.3f} (target <= 0.6), accuracy ratio {acc_ratio:.3f} (target >= 0.95)")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
