"""How hard a task reads, 0..1, and the routing tier that follows from it.

Crude, documented and deterministic, so the same task always plans the same way: workflows use it to pick a
step's tier and a swarm step's topology, swarms to pick a topology, the GUI to preview a plan.
"""

from __future__ import annotations

import re

from autodevai.engine.types import Preference

__all__ = ["complexity", "tier_for"]

_REASONING = re.compile(r"\b(design|prove|analy[sz]e|compare|refactor|architecture|trade-?offs?|plan)\b", re.I)


def complexity(task: str) -> float:
    """A 0..1 estimate from length, structure and reasoning words; crude, documented, deterministic."""
    words = len(task.split())
    score = min(words / 200.0, 0.5)
    score += 0.1 * min(task.count("\n"), 3)
    if _REASONING.search(task):
        score += 0.25
    return round(min(score, 1.0), 3)


def tier_for(c: float) -> Preference:
    """The routing tier for complexity ``c``: cost below 0.2, balanced below 0.5, quality above."""
    return Preference.COST if c < 0.2 else Preference.BALANCED if c < 0.5 else Preference.QUALITY
