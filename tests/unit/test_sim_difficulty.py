"""Task difficulty in the simulator: easy sums are easy for cheap models, long multiplication chains are not,
and the best models stay good at both."""

from __future__ import annotations

import random

import pytest

from autodevai.sim.answers import answer, difficulty, p_correct

SEEDS = range(1500)


def right_rate(prompts: list[str], accuracy: float, model: str = "m") -> float:
    """The share of (seed, prompt) pairs a model of ``accuracy`` answers right."""
    results = [
        answer(seed, model, [{"role": "user", "content": prompt}], None, accuracy).correct
        for seed, prompt in zip(SEEDS, prompts, strict=False)
    ]
    assert all(r is not None for r in results), "every prompt is a checkable task"
    return sum(r is True for r in results) / len(results)


def d(prompt: str) -> float:
    value = difficulty(prompt)
    assert value is not None, f"{prompt!r} is a checkable task"
    return value


def easy_prompts() -> list[str]:
    rng = random.Random(1)
    return [f"What is {rng.randint(2, 99)}{rng.choice('+-*')}{rng.randint(2, 99)}?" for _ in SEEDS]


def hard_prompts() -> list[str]:
    rng = random.Random(2)
    return [f"What is {rng.randint(100, 999)}*{rng.randint(100, 999)}*{rng.randint(100, 999)}?" for _ in SEEDS]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What is 17*23?", 0.2),
        ("What is 5 - -3?", 0.2),
        ("What is 1234 + 5678?", 1.0),
        ("What is 123*45?", 1.4),
        ("What is 123*456*789?", 2.8),
        ("What is the capital of France?", 0.5),
    ],
)
def test_difficulty_of_checkable_tasks(prompt: str, expected: float) -> None:
    assert difficulty(prompt) == pytest.approx(expected)


def test_difficulty_grows_with_digits_and_operators_and_prose_has_none() -> None:
    by_digits = [d(p) for p in ("What is 12*34?", "What is 123*456?", "What is 1234*5678?")]
    by_ops = [d(p) for p in ("What is 12+34?", "What is 12+34+56?", "What is 12+34+56+78?")]
    assert by_digits == sorted(by_digits) and len(set(by_digits)) == 3
    assert by_ops == sorted(by_ops) and len(set(by_ops)) == 3
    assert d("What is 123+456?") < d("What is 123*456?"), "multiplying is harder than adding"
    assert difficulty("Explain vector databases") is None


def test_cheap_model_is_right_on_easy_tasks_at_least_90_percent() -> None:
    assert right_rate(easy_prompts(), 0.75) >= 0.90


def test_hard_tasks_are_clearly_harder_for_a_cheap_model() -> None:
    easy, hard = right_rate(easy_prompts(), 0.75), right_rate(hard_prompts(), 0.75)
    assert hard <= 0.45 and easy - hard >= 0.4


def test_the_best_models_stay_high_on_hard_and_easy_tasks() -> None:
    assert right_rate(hard_prompts(), 0.95) >= 0.80
    assert right_rate(easy_prompts(), 0.95) >= 0.97
    assert right_rate(hard_prompts(), 1.0) == 1.0


def test_capitals_halve_the_error_rate() -> None:
    prompts = ["What is the capital of France?"] * len(SEEDS)
    assert right_rate(prompts, 0.6) == pytest.approx(0.8, abs=0.04)


def test_a_model_without_skill_is_never_right_even_on_easy_tasks() -> None:
    assert right_rate(easy_prompts()[:300], 0.0) == 0.0


def test_probability_is_clamped_and_answers_stay_deterministic() -> None:
    assert p_correct(0.75, 0.2) == pytest.approx(0.95)
    assert p_correct(0.5, 3.0) == 0.0 and p_correct(0.99, 0.0) == 1.0
    messages = [{"role": "user", "content": "What is 123*456*789?"}]
    first = answer(9, "m", messages, None, 0.8)
    assert answer(9, "m", messages, None, 0.8) == first
    assert first.text.startswith("123 × 456 × 789 = ")
