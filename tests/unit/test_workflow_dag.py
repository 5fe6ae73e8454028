"""DAG workflows: concurrency, dependency order, validation, skips, cancel, auto tiers, bandit choice, swarm steps."""

from __future__ import annotations

import asyncio
import random
import tomllib
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.errors import BudgetExceeded, ProviderUnavailable, StorageError
from autodevai.engine.types import ChatRequest, EngineResponse, ModelRef, Preference, RouteDecision, Usage
from autodevai.engine.workflows import (
    StepResult,
    SwarmConfig,
    WorkflowSpec,
    WorkflowStep,
    analyse_step,
    run_workflow,
    step_task_class,
    topology_for,
)

LONG_DESIGN = "Design a distributed cache and compare write-through with write-behind.\n" + "Detail. " * 40


def response(content: str, model: str, cost: float = 0.001) -> EngineResponse:
    route = RouteDecision(Preference.BALANCED, (ModelRef("sim", model),), ("test",))
    return EngineResponse("req", content, "sim", model, Usage(10, 5, 15), cost, 10.0, None, "stop", route)


@dataclass
class Call:
    prompt: str
    model: str | None
    preference: Preference
    start: float
    end: float = -1.0
    cancelled: bool = False


@dataclass
class FakeEngine:
    """Answers prompts that start with a ``delays`` marker after that many seconds; prompts that start with a
    ``fail`` marker raise; ``by_model`` gives a model's answer (default: the prompt wrapped in ``out<...>``)."""

    delays: dict[str, float] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    by_model: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def execute(self, request: ChatRequest, preference: Preference) -> EngineResponse:
        loop = asyncio.get_running_loop()
        prompt = request.messages[-1].content
        call = Call(prompt, request.model, preference, loop.time())
        self.calls.append(call)
        self.started.set()
        try:
            for marker, delay in self.delays.items():
                if prompt.startswith(marker):
                    await asyncio.sleep(delay)
            for marker, exc in self.fail.items():
                if prompt.startswith(marker):
                    raise exc
        except asyncio.CancelledError:
            call.cancelled = True
            raise
        finally:
            call.end = loop.time()
        model = request.model or "routed/model"
        return response(self.by_model.get(model, f"out<{prompt}>"), model, cost=0.01 if "strong" in model else 0.001)

    def call(self, marker: str) -> Call:
        return next(c for c in self.calls if marker in c.prompt)


def spec(*steps: dict[str, object], name: str = "t", task: str = "the task", **kw: object) -> WorkflowSpec:
    return WorkflowSpec.model_validate({"name": name, "task": task, "steps": list(steps), **kw})


# ---- concurrency and order ----


async def test_independent_steps_overlap_and_a_join_waits_for_both() -> None:
    engine = FakeEngine(delays={"LEFT": 0.2, "RIGHT": 0.2})
    s = spec(
        {"id": "left", "prompt": "LEFT {task}"},
        {"id": "right", "prompt": "RIGHT {task}"},
        {"id": "join", "prompt": "JOIN {steps.left} | {steps.right}"},
    )
    result = await run_workflow(s, engine.execute)
    left, right, join = engine.call("LEFT"), engine.call("RIGHT"), engine.call("JOIN")
    assert right.start < left.end and left.start < right.end  # the two ran at the same time
    assert join.start >= max(left.end, right.end)
    assert join.prompt == "JOIN out<LEFT the task> | out<RIGHT the task>"
    assert result.ok and result.output == "out<JOIN out<LEFT the task> | out<RIGHT the task>>"
    assert result.wall_ms < 380  # two 200 ms steps took about 200 ms, not 400
    by_id = {r.id: r for r in result.steps}
    assert by_id["join"].started_ms >= by_id["left"].finished_ms


async def test_max_parallel_one_runs_steps_one_at_a_time() -> None:
    engine = FakeEngine(delays={"A": 0.05, "B": 0.05})
    await run_workflow(spec({"id": "a", "prompt": "A"}, {"id": "b", "prompt": "B"}, max_parallel=1), engine.execute)
    assert engine.call("B").start >= engine.call("A").end


async def test_explicit_depends_on_orders_steps_without_a_reference() -> None:
    engine = FakeEngine(delays={"SLOW": 0.15})
    s = spec(
        {"id": "setup", "prompt": "SLOW setup"},
        {"id": "other", "prompt": "OTHER"},
        {"id": "after", "prompt": "AFTER (no reference)", "depends_on": ["setup"]},
    )
    result = await run_workflow(s, engine.execute)
    assert engine.call("AFTER").start >= engine.call("SLOW").end
    assert engine.call("OTHER").start < engine.call("SLOW").end  # not held back by the slow step
    assert result.ok
    assert s.dependencies() == {"setup": (), "other": (), "after": ("setup",)}


async def test_progress_start_of_a_dependent_follows_done_of_its_dependency() -> None:
    engine = FakeEngine(delays={"A": 0.05, "B": 0.01})
    s = spec({"id": "a", "prompt": "A"}, {"id": "b", "prompt": "B"}, {"id": "c", "prompt": "{steps.a}{steps.b}"})
    events: list[tuple[str, str]] = []
    await run_workflow(s, engine.execute, lambda sid, phase, _res: events.append((sid, phase)))
    assert events[:2] == [("a", "start"), ("b", "start")]
    assert events.index(("c", "start")) > max(events.index(("a", "done")), events.index(("b", "done")))
    assert events[-1] == ("c", "done")


# ---- validation ----


def test_a_cycle_is_refused_and_shown() -> None:
    with pytest.raises(ValidationError, match=r"cycle: a -> b -> a"):
        spec({"id": "a", "prompt": "x", "depends_on": ["b"]}, {"id": "b", "prompt": "uses {steps.a}"})
    with pytest.raises(ValidationError, match=r"cycle: a -> a"):
        spec({"id": "a", "prompt": "x", "depends_on": ["a"]})


def test_unknown_dependency_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ValidationError, match=r"step 'b' depends on 'anlyse', but no step has that id \(did you mean 'analyse'\?\)"
    ):
        spec({"id": "analyse", "prompt": "x"}, {"id": "b", "prompt": "y", "depends_on": ["anlyse"]})
    with pytest.raises(
        ValidationError, match=r"uses \{steps.nope\} before that step runs: no step has the id 'nope' \(steps: a, b\)"
    ):
        spec({"id": "a", "prompt": "x"}, {"id": "b", "prompt": "{steps.nope}"})


def test_a_dependency_listed_later_is_refused() -> None:
    with pytest.raises(ValidationError, match="step 'a' depends on 'b', which is listed after it: list 'b' first"):
        spec({"id": "a", "prompt": "x", "depends_on": ["b"]}, {"id": "b", "prompt": "y"})


@pytest.mark.parametrize(
    ("swarm", "message"),
    [
        ({"consensus": "quorum", "faulty": 1, "n_agents": 3}, r"needs n_agents >= 3f\+1 = 4, got 3"),
        ({"faulty": 1}, "needs consensus = 'quorum'"),
        ({"topology": "blob"}, "topology"),
        ({"n_agents": 1}, "n_agents"),
        ({"agents": 3}, "agents"),
    ],
)
def test_bad_swarm_settings_are_refused(swarm: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec({"id": "a", "prompt": "x", "swarm": swarm})


def test_bad_check_regex_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        spec({"id": "a", "prompt": "x", "check": "([unclosed"})


def test_a_toml_dag_file_validates() -> None:
    text = """
name = "review"
task = "add caching"
max_parallel = 4

[[steps]]
id = "plan"
prompt = "Plan {task}"
preference = "auto"

[[steps]]
id = "code"
prompt = "Code per {steps.plan}"
model = "acme/coder"
check = "def \\\\w+"

[[steps]]
id = "vote"
prompt = "Which plan is safest? {steps.plan}"
depends_on = ["plan"]
task_class = "safety-vote"
swarm = { topology = "star", n_agents = 4, consensus = "quorum", faulty = 1 }

[[steps]]
id = "merge"
prompt = "{steps.code} {steps.vote}"
"""
    s = WorkflowSpec.model_validate(tomllib.loads(text))
    plan, code, vote, merge = s.steps
    assert plan.auto_tier and code.check == r"def \w+"
    assert vote.swarm == SwarmConfig(topology="star", n_agents=4, consensus="quorum", faulty=1)
    assert s.dependencies()["merge"] == ("code", "vote")
    assert step_task_class(s, vote) == "safety-vote" and step_task_class(s, merge) == "review:merge"


# ---- failures and cancel ----


async def test_a_failed_branch_skips_its_dependents_while_the_other_branch_finishes() -> None:
    engine = FakeEngine(delays={"GOOD": 0.05}, fail={"BAD": ProviderUnavailable("503 upstream", provider="sim")})
    s = spec(
        {"id": "bad", "prompt": "BAD"},
        {"id": "good", "prompt": "GOOD"},
        {"id": "after_bad", "prompt": "x", "depends_on": ["bad"]},
        {"id": "deeper", "prompt": "{steps.after_bad}"},
        {"id": "after_good", "prompt": "AG {steps.good}"},
    )
    result = await run_workflow(s, engine.execute)
    status = {r.id: r.status for r in result.steps}
    assert status == {"bad": "error", "good": "ok", "after_bad": "skipped", "deeper": "skipped", "after_good": "ok"}
    errors = {r.id: r.error or "" for r in result.steps}
    assert "503 upstream" in errors["bad"] and "'bad'" in errors["after_bad"] and "'after_bad'" in errors["deeper"]
    assert len(engine.calls) == 3 and not result.ok
    assert result.output == "out<AG out<GOOD>>"


async def test_a_failed_check_fails_the_step_and_skips_dependents() -> None:
    engine = FakeEngine()
    s = spec({"id": "a", "prompt": "say hi", "check": r"^\d+$"}, {"id": "b", "prompt": "{steps.a}"})
    result = await run_workflow(s, engine.execute)
    a, b = result.steps
    assert a.status == "error" and "does not match the check" in (a.error or "") and a.output == "out<say hi>"
    assert b.status == "skipped"


async def test_cancel_cancels_every_running_step() -> None:
    engine = FakeEngine(delays={"LONG": 30.0})
    s = spec(
        {"id": "a", "prompt": "LONG a"},
        {"id": "b", "prompt": "LONG b"},
        {"id": "c", "prompt": "after {steps.a}"},
    )
    run = asyncio.create_task(run_workflow(s, engine.execute))
    while len(engine.calls) < 2:
        engine.started.clear()
        await engine.started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert [c.cancelled for c in engine.calls] == [True, True]
    assert all(c.end >= 0 for c in engine.calls)  # both calls ended, nothing left running
    assert not any("after" in c.prompt for c in engine.calls)
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("workflow step")] == []


# ---- adaptation ----


async def test_auto_tier_follows_the_prompts_complexity() -> None:
    engine = FakeEngine()
    s = spec(
        {"id": "short", "prompt": "What is 2+2?", "preference": "auto"},
        {"id": "long", "prompt": LONG_DESIGN, "preference": "auto"},
        {"id": "fixed", "prompt": LONG_DESIGN + " again", "preference": "speed"},
    )
    result = await run_workflow(s, engine.execute)
    assert [c.preference for c in engine.calls] == [Preference.COST, Preference.QUALITY, Preference.SPEED]
    assert "quality tier for complexity" in result.steps[1].reason


async def test_the_bandit_learns_which_model_passes_the_check() -> None:
    # The cheap model gets this class wrong (the check wants 391), the strong model gets it right.
    engine = FakeEngine(by_model={"acme/cheap": "the answer is 390", "acme/strong": "the answer is 391"})
    bandit = ThompsonRouter(random.Random(3))
    saved: list[tuple[str, str, bool, float]] = []

    async def on_outcome(task_class: str, model: str, success: bool, cost: float) -> None:
        saved.append((task_class, model, success, cost))

    s = spec(
        {"id": "mul", "prompt": "17 * 23 = ?", "check": r"\b391\b"},
        {"id": "pinned", "prompt": "free text", "model": "acme/pinned"},
        name="math",
    )
    results = [
        await run_workflow(
            s,
            engine.execute,
            bandit=bandit,
            candidates=lambda tc: ["acme/cheap", "acme/strong"],
            costs=lambda cands: {"acme/cheap": 0.0001, "acme/strong": 0.01},
            on_outcome=on_outcome,
        )
        for _ in range(30)
    ]
    mul_calls = [c for c in engine.calls if c.prompt == "17 * 23 = ?"]
    assert {c.model for c in mul_calls} == {"acme/cheap", "acme/strong"}  # both were tried
    assert [c.model for c in mul_calls[-10:]].count("acme/strong") >= 9  # then the right one
    assert {c.model for c in engine.calls if c.prompt == "free text"} == {"acme/pinned"}  # explicit model kept
    # Every bandit pick was recorded, with success = passed the check; pinned steps are not.
    assert len(saved) == 30 and {tc for tc, *_ in saved} == {"math:mul"}
    assert all(ok == (model == "acme/strong") for _, model, ok, _ in saved)
    arms = bandit.snapshot()["math:mul"]
    assert arms["acme/strong"].successes + arms["acme/cheap"].failures == 30
    last = results[-1].steps[0]
    assert last.status == "ok" and last.model == "acme/strong" and "acme/strong" in last.reason
    assert results[0].steps[0].task_class == "math:mul"


async def test_an_outcome_the_store_refuses_does_not_fail_the_step() -> None:
    async def refuse(*_args: object) -> None:
        raise StorageError("the disk is full", environment=True)

    result = await run_workflow(
        spec({"id": "a", "prompt": "x"}),
        FakeEngine().execute,
        bandit=ThompsonRouter(random.Random(0)),
        candidates=lambda tc: ["acme/m"],
        on_outcome=refuse,
    )
    assert result.ok and "the outcome was not saved" in result.steps[0].reason


async def test_a_budget_refusal_is_not_held_against_the_model() -> None:
    engine = FakeEngine(fail={"x": BudgetExceeded("daily cap reached", cap="daily", left=0.0, needed=0.1)})
    bandit = ThompsonRouter(random.Random(0))
    result = await run_workflow(
        spec({"id": "a", "prompt": "x"}), engine.execute, bandit=bandit, candidates=lambda tc: ["acme/m"]
    )
    assert not result.ok and bandit.snapshot() == {}


# ---- swarm steps ----


async def test_a_swarm_step_runs_through_the_hook_with_its_planned_topology() -> None:
    engine = FakeEngine()
    seen: list[tuple[WorkflowStep, str]] = []

    async def run_swarm_step(step: WorkflowStep, prompt: str) -> StepResult:
        seen.append((step, prompt))
        return StepResult("whatever", "ok", "391", "swarm", 0.02, 50.0, reason="3 of 3 agree")

    saved: list[tuple[str, str, bool, float]] = []

    async def on_outcome(task_class: str, model: str, success: bool, cost: float) -> None:
        saved.append((task_class, model, success, cost))

    s = spec(
        {"id": "ask", "prompt": "QUESTION {task}"},
        {"id": "vote", "prompt": "Answer: {steps.ask}", "swarm": {"n_agents": 3}, "check": "391"},
        {"id": "report", "prompt": "REPORT {steps.vote}"},
        task="17 * 23",
    )
    result = await run_workflow(s, engine.execute, run_swarm_step=run_swarm_step, on_outcome=on_outcome)
    assert len(seen) == 1
    step, prompt = seen[0]
    assert prompt == "Answer: out<QUESTION 17 * 23>"
    assert step.swarm is not None and step.swarm.topology == "star"  # adaptive -> star for a short task
    vote = result.steps[1]
    assert (vote.id, vote.status, vote.output, vote.cost_usd) == ("vote", "ok", "391", 0.02)
    assert "star" in vote.reason and "3 of 3 agree" in vote.reason
    assert engine.call("REPORT").prompt == "REPORT 391"
    assert saved == [("t:vote", "swarm:star", True, 0.02)]
    assert [c.prompt for c in engine.calls] == ["QUESTION 17 * 23", "REPORT 391"]  # the swarm step sent nothing


async def test_a_swarm_step_without_a_runner_fails_clearly() -> None:
    s = spec({"id": "vote", "prompt": "x", "swarm": {"topology": "mesh"}}, {"id": "after", "prompt": "{steps.vote}"})
    result = await run_workflow(s, FakeEngine().execute)
    vote, after = result.steps
    assert vote.status == "error" and "asks for a mesh swarm, but this run has no swarm runner" in (vote.error or "")
    assert after.status == "skipped"


def test_topology_follows_complexity_consensus_and_history() -> None:
    cfg = SwarmConfig()
    assert topology_for(0.1, cfg)[0] == "star"
    assert topology_for(0.3, cfg)[0] == "mesh"
    assert topology_for(0.3, SwarmConfig(consensus="none"))[0] == "ring"
    assert topology_for(0.8, cfg)[0] == "hierarchical"
    assert topology_for(0.8, SwarmConfig(consensus="quorum", faulty=1, n_agents=4))[0] == "star"
    # History: mesh did better than star on this class before.
    topology, reason = topology_for(0.1, cfg, {"star": 0.4, "mesh": 0.9})
    assert topology == "mesh" and "90%" in reason and "star: 40%" in reason
    assert topology_for(0.1, cfg, {"mesh": 0.5})[0] == "star"  # a poor record does not beat no record
    # A quorum needs independent votes: a good ring record does not count.
    assert topology_for(0.8, SwarmConfig(consensus="quorum"), {"ring": 1.0})[0] == "star"


async def test_swarm_outcomes_steer_the_next_adaptive_choice() -> None:
    bandit = ThompsonRouter(random.Random(0))
    bandit.load([("t:vote", "swarm:star", 1, 9, 0.0, 10), ("t:vote", "swarm:mesh", 9, 1, 0.0, 10)])
    topologies: list[str | None] = []

    async def run_swarm_step(step: WorkflowStep, prompt: str) -> StepResult:
        topologies.append(step.swarm.topology if step.swarm else None)
        return StepResult(step.id, "ok", "done", "swarm", 0.0, 1.0)

    s = spec({"id": "vote", "prompt": "short question", "swarm": {}})
    await run_workflow(s, FakeEngine().execute, bandit=bandit, run_swarm_step=run_swarm_step)
    assert topologies == ["mesh"]
    assert bandit.snapshot()["t:vote"]["swarm:mesh"].successes == 10


def test_analyse_step_leaves_explicit_choices_alone() -> None:
    step = WorkflowStep(id="s", prompt="x", preference=Preference.SPEED, swarm=SwarmConfig(topology="ring"))
    plan = analyse_step(step, LONG_DESIGN)
    assert (plan.preference, plan.topology, plan.reason) == (Preference.SPEED, "ring", "")
    assert plan.complexity > 0.5
