"""Workflows: spec validation, complexity tiers, default plans, and running steps through a fake executor."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autodevai.engine.errors import ProviderUnavailable
from autodevai.engine.types import ChatRequest, EngineResponse, ModelRef, Preference, RouteDecision, Usage
from autodevai.engine.workflows import (
    StepResult,
    WorkflowSpec,
    complexity,
    plan_for_task,
    run_workflow,
)

LONG_TASK = (
    "Design a caching layer for our API gateway and compare two strategies "
    "(write-through and write-behind) with their trade-offs.\n"
    "Cover invalidation, consistency and failure modes.\n"
    "Give a recommendation."
)


def response(content: str, model: str = "acme/m", cost: float = 0.001, latency_ms: float = 10.0) -> EngineResponse:
    route = RouteDecision(Preference.BALANCED, (ModelRef("sim", model),), ("test",))
    return EngineResponse("req", content, "sim", model, Usage(10, 5, 15), cost, latency_ms, None, "stop", route)


class FakeEngine:
    """Records what each step sent; answers from a script keyed by a marker in the prompt."""

    def __init__(self, answers: dict[str, str | Exception]) -> None:
        self.answers = answers
        self.calls: list[tuple[ChatRequest, Preference]] = []

    async def execute(self, request: ChatRequest, preference: Preference) -> EngineResponse:
        self.calls.append((request, preference))
        prompt = request.messages[-1].content
        for marker, answer in self.answers.items():
            if marker in prompt:
                if isinstance(answer, Exception):
                    raise answer
                return response(answer)
        return response(f"echo: {prompt}")


def spec(*steps: dict[str, object], task: str = "the task") -> WorkflowSpec:
    return WorkflowSpec.model_validate({"name": "t", "task": task, "steps": list(steps)})


# ---- validation ----


def test_duplicate_step_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="'a' is used twice"):
        spec({"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"})


def test_forward_reference_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"step 'a' uses \{steps.b\} before that step runs"):
        spec({"id": "a", "prompt": "use {steps.b}"}, {"id": "b", "prompt": "x"})


def test_reference_to_missing_step_is_refused() -> None:
    with pytest.raises(ValidationError, match="nope"):
        spec({"id": "a", "prompt": "use {steps.nope}"})


def test_empty_steps_are_refused() -> None:
    with pytest.raises(ValidationError, match="steps"):
        spec()


@pytest.mark.parametrize("bad", [{"id": "has space", "prompt": "x"}, {"id": "a", "prompt": ""}])
def test_bad_step_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        spec(bad)


def test_backward_references_are_accepted() -> None:
    s = spec({"id": "a", "prompt": "x"}, {"id": "b", "prompt": "{steps.a} and {task}"})
    assert [step.id for step in s.steps] == ["a", "b"]


# ---- complexity and default plans ----


def test_complexity_orders_short_below_long_and_reasoning_tasks() -> None:
    short = complexity("What is 2 + 2?")
    design = complexity("Design a schema, weighing the trade-offs.")
    long = complexity(LONG_TASK)
    assert 0.0 <= short < 0.2 <= design < long <= 1.0
    assert complexity("word " * 1000) <= 1.0
    assert complexity("") == 0.0
    assert complexity(LONG_TASK) == complexity(LONG_TASK)  # deterministic


def test_short_task_gets_one_step() -> None:
    plan = plan_for_task("What is the capital of France?")
    assert [s.id for s in plan.steps] == ["answer"]
    assert plan.steps[0].prompt == "{task}"
    assert plan.task == "What is the capital of France?"


def test_complex_task_gets_analyse_solve_review() -> None:
    plan = plan_for_task(LONG_TASK)
    assert complexity(LONG_TASK) >= 0.5
    assert [s.id for s in plan.steps] == ["analyse", "solve", "review"]
    prefs = {s.id: s.preference for s in plan.steps}
    assert prefs == {"analyse": Preference.COST, "solve": Preference.QUALITY, "review": Preference.BALANCED}
    assert "{steps.analyse}" in plan.steps[1].prompt
    assert "{steps.solve}" in plan.steps[2].prompt


def test_middling_task_solves_with_balanced_preference() -> None:
    task = "Refactor this function to be clearer."
    assert 0.2 <= complexity(task) < 0.5
    plan = plan_for_task(task)
    assert [s.preference for s in plan.steps] == [Preference.COST, Preference.BALANCED, Preference.BALANCED]


# ---- running ----


async def test_outputs_flow_into_later_prompts() -> None:
    engine = FakeEngine({"STEP-A": "alpha-out", "STEP-B": "beta-out"})
    s = spec(
        {"id": "a", "prompt": "STEP-A {task}", "preference": "cost", "system": "be terse"},
        {"id": "b", "prompt": "STEP-B got {steps.a}", "max_tokens": 77, "model": "acme/x"},
        {"id": "c", "prompt": "final: {steps.a} + {steps.b} for {task}"},
        task="build a cache",
    )
    result = await run_workflow(s, engine.execute)
    sent = [(req.messages[-1].content, pref) for req, pref in engine.calls]
    assert sent == [
        ("STEP-A build a cache", Preference.COST),
        ("STEP-B got alpha-out", Preference.BALANCED),
        ("final: alpha-out + beta-out for build a cache", Preference.BALANCED),
    ]
    first, second, _ = (req for req, _ in engine.calls)
    assert [m.role for m in first.messages] == ["system", "user"]
    assert first.messages[0].content == "be terse"
    assert second.max_tokens == 77 and second.model == "acme/x"
    assert first.task_class == "t"
    assert result.ok
    assert [r.status for r in result.steps] == ["ok", "ok", "ok"]
    assert result.output == "echo: final: alpha-out + beta-out for build a cache"
    assert result.cost_usd == pytest.approx(0.003)
    assert result.latency_ms == pytest.approx(30.0)


async def test_literal_braces_stay_literal() -> None:
    engine = FakeEngine({})
    s = spec({"id": "a", "prompt": 'Return JSON like {"k": 1} and a set {1, 2}; {unknown} {steps} for {task}'})
    await run_workflow(s, engine.execute)
    assert (
        engine.calls[0][0].messages[-1].content
        == 'Return JSON like {"k": 1} and a set {1, 2}; {unknown} {steps} for the task'
    )


async def test_substituted_text_is_not_substituted_again() -> None:
    # A step's answer is code with a JS template literal; the next prompt must carry it verbatim.
    code = "const msg = `Task: ${task}`; // see {steps.a}"
    engine = FakeEngine({"WRITE": code})
    s = spec(
        {"id": "a", "prompt": "WRITE code"},
        {"id": "b", "prompt": "Review:\n{steps.a}\nfor {task}"},
        task="say {steps.a} literally",
    )
    await run_workflow(s, engine.execute)
    assert engine.calls[1][0].messages[-1].content == f"Review:\n{code}\nfor say {{steps.a}} literally"


async def test_failing_step_skips_dependents_and_result_is_not_ok() -> None:
    engine = FakeEngine({"BREAK": ProviderUnavailable("503 upstream failed", provider="sim")})
    s = spec(
        {"id": "a", "prompt": "fine"},
        {"id": "b", "prompt": "BREAK {steps.a}"},
        {"id": "c", "prompt": "needs {steps.b}"},
        {"id": "d", "prompt": "needs {steps.c} transitively"},
        {"id": "e", "prompt": "independent of b: {steps.a}"},
    )
    result = await run_workflow(s, engine.execute)
    status = {r.id: r.status for r in result.steps}
    assert status == {"a": "ok", "b": "error", "c": "skipped", "d": "skipped", "e": "ok"}
    assert not result.ok
    errors = {r.id: r.error for r in result.steps}
    assert errors["b"] is not None and "503 upstream failed" in errors["b"]
    assert errors["c"] is not None and "'b'" in errors["c"]
    assert len(engine.calls) == 3  # skipped steps are never sent
    assert result.output == "echo: independent of b: echo: fine"


async def test_progress_reports_start_and_done_in_order() -> None:
    engine = FakeEngine({"BREAK": ProviderUnavailable("down", provider="sim")})
    s = spec({"id": "a", "prompt": "x"}, {"id": "b", "prompt": "BREAK"}, {"id": "c", "prompt": "{steps.b}"})
    events: list[tuple[str, str, str | None]] = []

    def progress(step: str, phase: str, res: StepResult | None) -> None:
        events.append((step, phase, res.status if res else None))

    await run_workflow(s, engine.execute, progress)
    assert events == [
        ("a", "start", None),
        ("a", "done", "ok"),
        ("b", "start", None),
        ("b", "done", "error"),
        ("c", "done", "skipped"),
    ]


async def test_default_plan_runs_end_to_end() -> None:
    engine = FakeEngine({})
    result = await run_workflow(plan_for_task(LONG_TASK), engine.execute)
    assert result.ok
    assert [r.id for r in result.steps] == ["analyse", "solve", "review"]
    assert result.complexity == complexity(LONG_TASK)
    assert [pref for _, pref in engine.calls] == [Preference.COST, Preference.QUALITY, Preference.BALANCED]
    review_prompt = engine.calls[2][0].messages[-1].content
    assert LONG_TASK in review_prompt and "echo: Task:" in review_prompt
