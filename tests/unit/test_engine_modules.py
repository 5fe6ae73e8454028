"""Engine modules that were split keep every public name importable from where callers found it before."""

from __future__ import annotations

import importlib

import pytest

# old module -> the modules its names now live in (each old module re-exports them)
SPLITS = {
    "autodevai.engine.types": ["request", "model_info", "responses", "messages"],
    "autodevai.engine.workflows": ["workflow_spec", "workflow_plan", "complexity", "swarm.spec"],
    "autodevai.engine.swarm.topologies": ["swarm.spec"],
    "autodevai.engine.routing": ["route_rankings"],
}


@pytest.mark.parametrize("old", sorted(SPLITS))
def test_every_public_name_of_a_split_module_is_the_same_object_as_in_its_new_home(old: str) -> None:
    module = importlib.import_module(old)
    homes = [importlib.import_module(f"autodevai.engine.{m}") for m in SPLITS[old]]
    for name in module.__all__:
        value = getattr(module, name)
        moved = [home for home in homes if name in getattr(home, "__all__", ())]
        assert all(getattr(home, name) is value for home in moved), (old, name)


def test_names_callers_import_from_the_old_modules_still_import() -> None:
    from autodevai.engine.routing import LIVE_MIN_CALLS, QUALITY_SLACK, Router  # noqa: F401
    from autodevai.engine.swarm.topologies import (  # noqa: F401
        HIGH_COMPLEXITY,
        SwarmResult,
        SwarmSpec,
        choose_topology,
        default_team,
        run_swarm,
        swarm_task_class,
    )
    from autodevai.engine.types import _RESERVED, OPENROUTER_ONLY_FIELDS, ChatRequest, ModelInfo  # noqa: F401
    from autodevai.engine.workflows import (  # noqa: F401
        SWARM_PREFIX,
        StepResult,
        SwarmConfig,
        WorkflowSpec,
        complexity,
        plan_for_task,
        swarm_history,
    )
