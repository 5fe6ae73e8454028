"""Adaptive execution: the pieces that connect swarms, the DAG workflow runner and the Thompson bandit to the
engine's request path and store. The facade (``orchestrator.Engine``) owns one ``Adaptive`` instance.

- Model candidates per task class are price tiers from the catalog (cheapest model at quality >= 0.6, 0.7, 0.8,
  plus the best model), so the bandit can learn where a cheap model is enough.
- Every swarm run and every workflow step outcome is learned (bandit) and persisted (store ``outcomes``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence

from autodevai.engine.bandit import ThompsonRouter
from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import StorageError
from autodevai.engine.ports import Store
from autodevai.engine.swarm import MessageBus, SwarmResult, SwarmSpec, engine_ask, run_swarm
from autodevai.engine.swarm.agents import ToolRunner
from autodevai.engine.swarm.topologies import swarm_task_class
from autodevai.engine.types import ChatRequest, EngineResponse, Preference
from autodevai.engine.workflows import StepResult, WorkflowStep, swarm_history

__all__ = [
    "QUALITY_TIERS",
    "Adaptive",
    "Execute",
    "tier_candidates",
    "typical_costs",
]

log = logging.getLogger("autodevai.engine")

QUALITY_TIERS = (0.6, 0.7, 0.8)
TYPICAL_PROMPT, TYPICAL_OUTPUT = 500, 300  # tokens of "a typical call" for comparing prices

Execute = Callable[[ChatRequest, Preference], Awaitable[EngineResponse]]


def tier_candidates(catalog: Catalog, allow_free: bool) -> list[str]:
    """Model ids across price tiers: the cheapest at each quality tier, then the best model."""
    models = [
        m
        for m in catalog.all()
        if "text" in m.output_modalities and (allow_free or not m.id.endswith(":free")) and m.price_out > 0
    ]
    if not models:
        return []
    by_cost = sorted(models, key=lambda m: (m.price_in * TYPICAL_PROMPT + m.price_out * TYPICAL_OUTPUT, -m.quality))
    out: list[str] = []
    for floor in QUALITY_TIERS:
        pick = next((m for m in by_cost if m.quality >= floor), None)
        if pick is not None and pick.id not in out:
            out.append(pick.id)
    best = max(models, key=lambda m: (m.quality, -m.price_out))
    if best.id not in out:
        out.append(best.id)
    return out


def typical_costs(catalog: Catalog, ids: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for model_id in ids:
        info = catalog.find(model_id)
        if info is not None:
            out[model_id] = info.price_in * TYPICAL_PROMPT + info.price_out * TYPICAL_OUTPUT + info.price_request
    return out


class Adaptive:
    """The bandit (learned outcomes) plus runners for swarms and swarm steps."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.bandit = ThompsonRouter(rng)

    async def load(self) -> None:
        self.bandit.load(await self.store.load_outcomes())

    async def record(self, task_class: str, model: str, success: bool, cost_usd: float) -> None:
        """Learn and persist one outcome; a storage failure is not the caller's failure."""
        self.bandit.record(task_class, model, success, cost_usd)
        try:
            await self.store.record_outcome(task_class, model, success, cost_usd)
        except StorageError as exc:  # learned in memory; losing the persisted copy is worth a log line only
            log.warning("could not store the outcome for %s: %s", task_class, exc)

    async def run_swarm(
        self, spec: SwarmSpec, execute: Execute, bus: MessageBus | None = None, run_tool: ToolRunner | None = None
    ) -> SwarmResult:
        """Run a swarm through ``execute`` (routing, budgets, breakers, metrics, store for every agent call);
        the adaptive topology consults what worked before for this kind of task, and the outcome is learned.
        ``run_tool`` runs the tool calls of agents that have tools."""
        ask = engine_ask(execute, timeout_s=spec.agent_timeout_s, run_tool=run_tool)
        result = await run_swarm(spec, ask, bus=bus, history=lambda tc: swarm_history(self.bandit, tc))
        await self.record(swarm_task_class(spec.task), f"swarm:{result.topology}", result.ok, result.cost_usd)
        return result

    def step_runner(self, execute: Execute) -> Callable[[WorkflowStep, str], Awaitable[StepResult]]:
        """The hook the workflow runner calls for a step with a ``swarm`` section."""

        async def run_step(step: WorkflowStep, prompt: str) -> StepResult:
            cfg = step.swarm
            assert cfg is not None  # the runner only calls this for swarm steps
            spec = SwarmSpec(
                task=prompt,
                topology=cfg.topology,
                n_agents=cfg.n_agents,
                consensus=cfg.consensus,
                faulty=cfg.faulty,
                rounds=cfg.rounds,
            )
            ask = engine_ask(execute, timeout_s=spec.agent_timeout_s)
            result = await run_swarm(spec, ask)
            detail = result.consensus.detail if result.consensus else result.reason
            return StepResult(
                step.id,
                "ok" if result.ok else "error",
                result.answer,
                f"swarm:{result.topology}",
                result.cost_usd,
                result.latency_ms,
                None if result.ok else f"the {result.topology} swarm did not agree: {detail}",
                reason=result.reason,
            )

        return run_step

    def candidates(self, catalog: Catalog, allow_free: bool) -> Callable[[str], Sequence[str]]:
        tiers = tier_candidates(catalog, allow_free)
        return lambda _task_class: tiers

    @staticmethod
    def costs(catalog: Catalog) -> Callable[[Sequence[str]], Mapping[str, float]]:
        return lambda ids: typical_costs(catalog, ids)
