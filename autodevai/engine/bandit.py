"""Adaptive model choice per task class: a Thompson-sampling bandit over candidate models.

Each (task class, model) pair is an ``Arm`` with a Beta(successes + 1, failures + 1) posterior over its success
rate (a uniform prior). ``choose`` draws one sample per candidate and picks the cheapest model whose sample
reaches the ``target`` success rate; when none does, the model with the highest sample. So a cheap model that keeps
succeeding on an easy class wins it, while a hard class, where the cheap model's failures keep its samples below
the target, goes to the model that does succeed there. Sampling (rather than taking the mean) keeps exploring:
an untried model's samples are uniform, so it is tried now and then until the evidence settles.

``cost_weight`` says how much price counts among the models that reach the target: any positive value picks the
cheapest of them (ties go to the higher sample), 0 ignores price and picks the most reliable sample.

Pure: no I/O, no clock; randomness comes from the injected ``random.Random``. The store persists arms as rows
``(task_class, model, successes, failures, cost_usd, pulls)`` (``load`` / ``rows``).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from autodevai.text import fmt_usd

__all__ = ["Arm", "OutcomeRow", "ThompsonRouter"]

OutcomeRow = tuple[str, str, float, float, float, int]  # (task_class, model, successes, failures, cost_usd, pulls)


@dataclass(slots=True)
class Arm:
    """What is known of one model on one task class. ``cost_usd`` is the total spent over ``pulls`` calls."""

    successes: float = 0
    failures: float = 0
    cost_usd: float = 0
    pulls: int = 0

    @property
    def mean_cost(self) -> float | None:
        """USD per call so far, or None before the first call."""
        return self.cost_usd / self.pulls if self.pulls > 0 else None

    @property
    def success_rate(self) -> float | None:
        """The observed share of successes, or None without evidence."""
        n = self.successes + self.failures
        return self.successes / n if n > 0 else None


class ThompsonRouter:
    """Chooses a model per task class by Thompson sampling and learns from recorded outcomes."""

    def __init__(self, rng: random.Random, *, target: float = 0.95, cost_weight: float = 1.0) -> None:
        """``target``: the success rate a model must (by its sample) reach to compete on price, in (0, 1].
        ``cost_weight`` >= 0: how much price counts (see the module docstring). Raises ``ValueError``."""
        if not 0.0 < target <= 1.0:
            raise ValueError(f"target must be in (0, 1], got {target}")
        if not (cost_weight >= 0.0 and math.isfinite(cost_weight)):
            raise ValueError(f"cost_weight must be a finite number >= 0, got {cost_weight}")
        self.rng = rng
        self.target = target
        self.cost_weight = cost_weight
        self._arms: dict[str, dict[str, Arm]] = {}

    def _arm(self, task_class: str, model: str) -> Arm:
        return self._arms.get(task_class, {}).get(model) or Arm()

    def _cost(self, arm: Arm, model: str, costs: Mapping[str, float]) -> float | None:
        """The expected USD of one call: the caller's estimate, else what the model cost so far, else unknown."""
        given = costs.get(model)
        if given is not None and math.isfinite(given) and given >= 0:
            return float(given)
        return arm.mean_cost

    def choose(self, task_class: str, candidates: Sequence[str], costs: Mapping[str, float]) -> tuple[str, str]:
        """Pick one of ``candidates`` for ``task_class``; return ``(model, reason)``, the reason a sentence a
        user can read. ``costs`` maps models to the expected USD of a call (missing: the model's observed mean
        cost; a model with neither counts as the most expensive). Raises ``ValueError`` without candidates."""
        models = list(dict.fromkeys(candidates))
        if not models:
            raise ValueError(f"no candidate models to choose from for task class {task_class!r}")
        arms = {m: self._arm(task_class, m) for m in models}
        samples = {m: self.rng.betavariate(arms[m].successes + 1.0, arms[m].failures + 1.0) for m in models}
        cost = {m: self._cost(arms[m], m, costs) for m in models}
        qualified = [m for m in models if samples[m] >= self.target]

        def price(m: str) -> float:
            if self.cost_weight == 0.0:
                return 0.0
            c = cost[m]
            return math.inf if c is None else self.cost_weight * c

        if qualified:
            model = min(qualified, key=lambda m: (price(m), -samples[m]))
            why = (
                f"the most reliable of {len(qualified)} model(s)"
                if self.cost_weight == 0.0
                else f"the cheapest of {len(qualified)} model(s)"
            )
            reason = (
                f"{model}: {why} whose sampled success {samples[model]:.2f} meets the target "
                f"{self.target:.2f} for {task_class!r}"
            )
        else:
            model = max(models, key=lambda m: samples[m])
            reason = (
                f"{model}: no model's sampled success met the target {self.target:.2f} for {task_class!r}; "
                f"this one sampled highest ({samples[model]:.2f})"
            )
        arm = arms[model]
        evidence = (
            f"{arm.successes:g} ok, {arm.failures:g} failed so far"
            if arm.pulls or arm.successes or arm.failures
            else "untried"
        )
        price_note = "" if cost[model] is None else f", ~{fmt_usd(cost[model])} per call"
        return model, f"{reason} ({evidence}{price_note})"

    def record(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        """Learn one outcome: ``success`` of a call to ``model`` on ``task_class`` that cost ``cost_usd``
        (negative or non-finite costs count as 0)."""
        arm = self._arms.setdefault(task_class, {}).setdefault(model, Arm())
        if success:
            arm.successes += 1
        else:
            arm.failures += 1
        arm.cost_usd += float(cost_usd) if math.isfinite(cost_usd) and cost_usd > 0 else 0.0
        arm.pulls += 1

    def snapshot(self) -> dict[str, dict[str, Arm]]:
        """A copy of every arm: ``{task_class: {model: Arm}}``; changing it does not change the router."""
        return {tc: {m: dataclasses.replace(a) for m, a in arms.items()} for tc, arms in self._arms.items()}

    def rows(self) -> list[OutcomeRow]:
        """Every arm as a store row, sorted by task class and model (what ``load`` takes back)."""
        return sorted(
            (tc, m, float(a.successes), float(a.failures), float(a.cost_usd), int(a.pulls))
            for tc, arms in self._arms.items()
            for m, a in arms.items()
        )

    def load(self, rows: Iterable[tuple[str, str, float, float, float, int]]) -> None:
        """Set arms from store rows ``(task_class, model, successes, failures, cost_usd, pulls)``; each row
        replaces the arm it names, other arms stay."""
        for task_class, model, successes, failures, cost_usd, pulls in rows:
            self._arms.setdefault(str(task_class), {})[str(model)] = Arm(
                max(0.0, float(successes)), max(0.0, float(failures)), max(0.0, float(cost_usd)), max(0, int(pulls))
            )
