"""ThompsonRouter: learns the cheap model on an easy class and the strong one on a hard class; target/cost trade-off;
rows survive a store round trip."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from autodevai.engine.bandit import Arm, ThompsonRouter

CHEAP, STRONG = "acme/cheap", "acme/strong"
COSTS = {CHEAP: 0.0001, STRONG: 0.01}


def train(
    router: ThompsonRouter, task_class: str, rate: dict[str, float], rounds: int, world: random.Random
) -> Counter[str]:
    """Run ``rounds`` choices against a world where each model succeeds with ``rate[model]``; count the last
    quarter's picks."""
    late: Counter[str] = Counter()
    for i in range(rounds):
        model, _ = router.choose(task_class, [CHEAP, STRONG], COSTS)
        ok = world.random() < rate[model]
        router.record(task_class, model, ok, COSTS[model])
        if i >= rounds * 3 // 4:
            late[model] += 1
    return late


def test_learns_cheap_model_for_easy_class_and_strong_model_for_hard_class() -> None:
    router = ThompsonRouter(random.Random(7))
    world = random.Random(11)
    easy = train(router, "easy", {CHEAP: 1.0, STRONG: 1.0}, 200, world)
    hard = train(router, "hard", {CHEAP: 0.3, STRONG: 1.0}, 200, world)
    assert easy[CHEAP] >= 40, easy  # of the last 50 picks
    assert hard[STRONG] >= 45, hard
    snap = router.snapshot()
    # The hard class paid for the strong model; the easy class spent far less.
    spent = {tc: sum(a.cost_usd for a in arms.values()) for tc, arms in snap.items()}
    assert spent["easy"] < spent["hard"] / 2


def test_reason_says_why_the_model_was_chosen() -> None:
    router = ThompsonRouter(random.Random(1))
    router.load([("easy", CHEAP, 200, 0, 0.02, 200), ("easy", STRONG, 200, 0, 2.0, 200)])
    model, reason = router.choose("easy", [CHEAP, STRONG], COSTS)
    assert model == CHEAP
    assert "cheapest" in reason and "target 0.95" in reason and "'easy'" in reason and "200 ok" in reason

    router.load([("hard", CHEAP, 0, 50, 0.0, 50), ("hard", STRONG, 5, 45, 0.0, 50)])
    model, reason = router.choose("hard", [CHEAP, STRONG], COSTS)
    assert model == STRONG  # neither reaches the target: the higher sample wins
    assert "no model's sampled success met the target" in reason


def test_target_trades_reliability_for_price() -> None:
    # The cheap model succeeds 85% of the time, the strong one always.
    rows = [("c", CHEAP, 850, 150, 0.1, 1000), ("c", STRONG, 1000, 0, 10.0, 1000)]
    strict = ThompsonRouter(random.Random(3), target=0.95)
    lenient = ThompsonRouter(random.Random(3), target=0.8)
    strict.load(rows)
    lenient.load(rows)
    strict_picks = Counter(strict.choose("c", [CHEAP, STRONG], COSTS)[0] for _ in range(100))
    lenient_picks = Counter(lenient.choose("c", [CHEAP, STRONG], COSTS)[0] for _ in range(100))
    assert strict_picks[STRONG] >= 95  # 85% is not good enough for a 95% target: pay for quality
    assert lenient_picks[CHEAP] >= 95  # 85% is fine for an 80% target: save money


def test_cost_weight_zero_ignores_price() -> None:
    rows = [("c", CHEAP, 990, 10, 0.1, 1000), ("c", STRONG, 1000, 0, 10.0, 1000)]
    priced = ThompsonRouter(random.Random(5), target=0.95)
    unpriced = ThompsonRouter(random.Random(5), target=0.95, cost_weight=0.0)
    priced.load(rows)
    unpriced.load(rows)
    assert Counter(priced.choose("c", [CHEAP, STRONG], COSTS)[0] for _ in range(50))[CHEAP] >= 45
    picks = Counter(unpriced.choose("c", [CHEAP, STRONG], COSTS)[0] for _ in range(50))
    assert picks[STRONG] >= 40  # the more reliable one, whatever it costs


def test_unknown_costs_fall_back_to_observed_mean_cost() -> None:
    router = ThompsonRouter(random.Random(9))
    router.load([("c", CHEAP, 500, 0, 0.5, 500), ("c", STRONG, 500, 0, 50.0, 500)])
    picks = Counter(router.choose("c", [STRONG, CHEAP], {})[0] for _ in range(50))
    assert picks[CHEAP] >= 45


def test_seeded_choices_are_reproducible() -> None:
    def run(seed: int) -> list[str]:
        router = ThompsonRouter(random.Random(seed))
        return [router.choose("x", ["a", "b", "c"], {})[0] for _ in range(30)]

    assert run(42) == run(42)
    assert len(set(run(42))) > 1  # untried models are explored


def test_load_snapshot_and_rows_round_trip() -> None:
    router = ThompsonRouter(random.Random(0))
    router.record("easy", CHEAP, True, 0.001)
    router.record("easy", CHEAP, False, 0.002)
    router.record("hard", STRONG, True, 0.01)
    rows = router.rows()
    assert rows == [("easy", CHEAP, 1.0, 1.0, pytest.approx(0.003), 2), ("hard", STRONG, 1.0, 0.0, 0.01, 1)]

    again = ThompsonRouter(random.Random(0))
    again.load(rows)
    assert again.snapshot() == router.snapshot()
    arm = again.snapshot()["easy"][CHEAP]
    assert (arm.successes, arm.failures, arm.pulls) == (1.0, 1.0, 2) and arm.cost_usd == pytest.approx(0.003)
    assert isinstance(arm, Arm) and arm.success_rate == 0.5 and arm.mean_cost == pytest.approx(0.0015)

    snap = again.snapshot()
    snap["easy"][CHEAP].successes = 99  # a copy: the router is unchanged
    assert again.snapshot()["easy"][CHEAP].successes == 1.0

    again.load([("easy", CHEAP, 10, 0, 0.0, 10)])  # a row replaces its arm, others stay
    assert again.snapshot()["easy"][CHEAP].pulls == 10
    assert again.snapshot()["hard"][STRONG].pulls == 1


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="target"):
        ThompsonRouter(random.Random(0), target=0.0)
    with pytest.raises(ValueError, match="cost_weight"):
        ThompsonRouter(random.Random(0), cost_weight=-1.0)
    with pytest.raises(ValueError, match="no candidate models"):
        ThompsonRouter(random.Random(0)).choose("x", [], {})
