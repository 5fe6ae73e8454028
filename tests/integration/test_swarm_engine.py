"""Swarms and adaptive workflows through the engine facade and the CLI: outcomes are learned and persisted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from autodevai.engine.swarm import MessageBus, SwarmSpec
from autodevai.engine.workflows import WorkflowSpec
from autodevai.sim.server import SimServer

from .conftest import MakeEngine


async def test_execute_swarm_streams_messages_and_learns(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    bus = MessageBus()
    seen: list[str] = []
    bus.subscribe(lambda m: seen.append(m.kind))
    spec = SwarmSpec(task="What is 12*12?", topology="star", n_agents=5, consensus="quorum", faulty=1)
    result = await app.engine.execute_swarm(spec, bus)
    assert result.ok and "144" in result.answer
    assert {"task", "answer", "vote"} <= set(seen)
    outcomes = await app.engine.get_learned_outcomes()
    assert any(model == "swarm:star" and successes >= 1 for _, model, successes, *_ in outcomes)
    rows = await app.engine.get_request_history(20)
    assert len(rows) >= 6 and all(r.task_class == "swarm" for r in rows[:6])


async def test_adaptive_workflow_runs_a_dag_with_a_swarm_step(sim: SimServer, make_engine: MakeEngine) -> None:
    app = await make_engine()
    spec = WorkflowSpec.model_validate(
        {
            "name": "arith",
            "task": "What is 21*2?",
            "steps": [
                {"id": "a", "prompt": "What is 20+22?", "check": "42"},
                {"id": "b", "prompt": "What is 50-8?"},
                {"id": "vote", "prompt": "{task}", "depends_on": ["a", "b"], "swarm": {"topology": "star"}},
            ],
        }
    )
    result = await app.engine.execute_adaptive_workflow(spec)
    by_id = {s.id: s for s in result.steps}
    assert by_id["vote"].model == "swarm:star" and "42" in by_id["vote"].output
    assert by_id["a"].started_ms < by_id["b"].finished_ms and by_id["b"].started_ms < by_id["a"].finished_ms
    classes = {tc for tc, *_ in await app.engine.get_learned_outcomes()}
    assert "arith:a" in classes, "step outcomes are persisted for the bandit"


def test_cli_swarm_reports_the_consensus() -> None:
    env = {**os.environ, "AUTODEVAI_SIM_LATENCY_SCALE": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "autodevai", "swarm", "What is 12*12?", "-t", "star", "-n", "4", "-c", "quorum",
         "-f", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["consensus"]["reached"] and "144" in data["answer"]
    bad = subprocess.run(
        [sys.executable, "-m", "autodevai", "swarm", "What is 1+1?", "-t", "star", "-n", "3", "-c", "quorum",
         "-f", "1"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "3f+1" in bad.stderr
