"""The engine facade: the eleven commands as one async API, shared by the CLI, the GUI and the gateway.

``Engine`` only sequences and awaits; the decisions live in routing, breaker, retry, budget and advisor, the
request path in ``execution``. Build one with ``autodevai.compose.open_engine``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autodevai.engine.adaptive import Adaptive
from autodevai.engine.advisor import Recommendation, recommend
from autodevai.engine.alerts import AlertEvent, AlertSink
from autodevai.engine.catalog_sync import CatalogSync
from autodevai.engine.chat import Conversations
from autodevai.engine.errors import ConfigError, EngineError, InvalidRequest, StorageError
from autodevai.engine.execution import Executor, StreamItem
from autodevai.engine.fitting import count_tokens, fit_messages
from autodevai.engine.health import Maintenance
from autodevai.engine.history import warm_from_store
from autodevai.engine.metrics import MetricsSink, MetricsSummary, Stats
from autodevai.engine.ports import Clock, RequestRecord, SecretStore, Store, SystemClock, TokenCounter
from autodevai.engine.reconfigure import SettingsSaver, reconfigure
from autodevai.engine.reports import Capabilities, InitReport, SelfTestReport, SystemStatus, TokenCount
from autodevai.engine.runtime import Components, ProviderFactory
from autodevai.engine.selftest import self_test
from autodevai.engine.settings import Settings
from autodevai.engine.status import capabilities, system_status
from autodevai.engine.swarm import MessageBus, SwarmResult, SwarmSpec
from autodevai.engine.swarm.agents import ToolRunner
from autodevai.engine.types import ChatMessage, ChatRequest, EngineResponse, ModelInfo, Preference, RouteDecision
from autodevai.engine.workflows import WorkflowResult, WorkflowSpec, plan_for_task, run_workflow

if TYPE_CHECKING:
    from autodevai.engine.compression import CompressionReport

__all__ = ["Engine", "SettingsSaver"]

log = logging.getLogger("autodevai.engine")


class Engine:
    """One installation's engine. All methods are coroutines safe to call concurrently on one event loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        provider_factory: ProviderFactory,
        store: Store,
        secrets: SecretStore | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        save_settings: SettingsSaver | None = None,
        spent: tuple[float, float, float] = (0.0, 0.0, 0.0),
        counter: TokenCounter | None = None,
    ) -> None:
        clock = clock or SystemClock()
        rng = rng or random.Random()
        self._factory = provider_factory
        self._secrets = secrets
        self._save = save_settings
        self._refresh_task: asyncio.Task[list[str]] | None = None
        self._parts = Components.assemble(settings, store=store, clock=clock, rng=rng, counter=counter, spent=spent)
        self._parts.install_providers(provider_factory, settings)
        self._catalog = CatalogSync(self._parts)
        self._executor = Executor(self._parts)
        self._maintenance = Maintenance(self._parts, self.refresh_catalog)
        self.adaptive = Adaptive(store, rng)
        ex = self._executor
        # Conversations: threads with history, branches, compare; every turn goes through the request path.
        self.conversations = Conversations(
            self._parts, stream=ex.stream, execute=ex.execute, route=ex.route, record_outcome=self.adaptive.record
        )

    # ---- 1. initialize_enhanced_orchestration ---------------------------------------------------------------

    async def initialize_enhanced_orchestration(self, *, refresh: str = "background") -> InitReport:
        """Load the cached catalog, warm metrics from the store, and refresh the catalog from the providers.

        ``refresh``: "background" (start offline from cache, refresh in a task; wait only when there is no
        cache), "wait" (always wait for the providers), "never".
        """
        p = self._parts
        warnings: list[str] = []
        source = "none"
        cached = await self._catalog.load_cache()
        if cached:
            source = "cache"
            fetched = await p.store.catalog_fetched_at()
            if fetched is not None:  # how old the cache is decides when the background refreshes it
                p.catalog_fetched_wall = min(fetched, p.clock.wall())
        await warm_from_store(p)
        p.counter.load_calibration(await p.store.load_calibration())
        await self.adaptive.load()
        if refresh == "wait" or (refresh == "background" and not cached):
            warnings.extend(await self.refresh_catalog())
            source = "cache+network" if cached else "network"
        elif refresh == "background":
            self._refresh_task = asyncio.create_task(self.refresh_catalog(), name="catalog-refresh")
        count = await p.store.count_requests()
        self._maintenance.start()
        return InitReport(
            providers=tuple(p.providers),
            models=len(p.catalog),
            catalog_source=source if len(p.catalog) else "none",
            store_path=str(p.store.path),
            requests_in_store=count,
            warnings=tuple(warnings),
        )

    async def refresh_catalog(self) -> list[str]:
        """Ask every provider for its models; keep what answered; return a warning per provider that failed."""
        return await self._catalog.refresh()

    # ---- 2/3. execute ---------------------------------------------------------------------------------------

    async def execute_enhanced_ai_request(self, request: ChatRequest) -> EngineResponse:
        """Context fit -> route -> budget reserve -> call with retries/breakers/fallbacks -> settle -> record."""
        return await self._executor.execute(request)

    async def execute_with_smart_routing(self, request: ChatRequest, preference: Preference) -> EngineResponse:
        """As ``execute_enhanced_ai_request`` with an explicit preference; the response's ``route`` explains."""
        return await self._executor.execute(request, preference)

    def stream_enhanced_ai_request(
        self, request: ChatRequest, preference: Preference | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        """Text deltas (``str``) and ``StreamDelta`` pieces (a marker naming the answering model before its first
        output, then reasoning, refusal and tool-call pieces) as they arrive, then the final ``EngineResponse``;
        ``aclose()`` cancels the request."""
        return self._executor.stream(request, preference)

    def explain_route(
        self, request: ChatRequest, preference: Preference | None = None, prompt_tokens: int | None = None
    ) -> RouteDecision:
        """The routing decision for ``request`` without sending it (pass ``prompt_tokens`` if already counted)."""
        return self._executor.route(request, preference, prompt_tokens)

    # ---- 4. get_openrouter_models ---------------------------------------------------------------------------

    async def get_openrouter_models(self, **query: Any) -> list[ModelInfo]:
        """The catalog, filtered and sorted (see ``Catalog.query`` for the keywords)."""
        try:
            return self._parts.catalog.query(**query)
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(str(exc)) from None

    # ---- 5. get_enhanced_system_status ----------------------------------------------------------------------

    async def get_enhanced_system_status(self) -> SystemStatus:
        """Providers' health and key sources, breaker states, rate-limiter headroom, budget left, queue depth."""
        return system_status(self._parts, self._key_source)

    def _key_source(self, provider: str, env_var: str | None) -> str:
        return "none" if self._secrets is None else self._secrets.source(provider, env_var)

    async def run_maintenance(self) -> None:
        """Probe now the providers whose breakers may half-open and refresh the catalog if it is stale (the engine
        does this in the background every few seconds; see ``engine/health.py``)."""
        await self._maintenance.tick()

    # ---- 6. configure_enhanced_orchestration ----------------------------------------------------------------

    async def configure_enhanced_orchestration(self, patch: Mapping[str, Any]) -> Settings:
        """Validate and apply a partial settings update; persist it; nothing changes if it is invalid (a value
        the budget cannot count, a config file that cannot be written: ``ConfigError``, nothing applied)."""
        return await reconfigure(self._parts, self._catalog, self._factory, self._save, patch, self.refresh_catalog)

    # ---- 7. get_performance_metrics -------------------------------------------------------------------------

    async def get_performance_metrics(self, window: str = "15m") -> MetricsSummary:
        try:
            return self._parts.metrics.summary(window, self._parts.clock.now())
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None

    # ---- 8. get_optimization_recommendations ----------------------------------------------------------------

    async def get_optimization_recommendations(self) -> list[Recommendation]:
        p = self._parts
        now = p.clock.now()
        return recommend(
            p.metrics.summary("24h", now),
            p.catalog,
            p.budget.snapshot(p.clock.wall()),
            p.breakers.snapshot(now),
            allow_free=p.settings.routing.allow_free,
        )

    # ---- 9. execute_adaptive_workflow -----------------------------------------------------------------------

    async def execute_adaptive_workflow(
        self,
        workflow: WorkflowSpec | str,
        progress: Callable[[str, str, Any], None] | None = None,
    ) -> WorkflowResult:
        """Run a workflow (a spec, or a bare task that gets the default plan); each step is routed."""
        spec = plan_for_task(workflow) if isinstance(workflow, str) else workflow
        p = self._parts
        execute = self._executor.execute
        result = await run_workflow(
            spec,
            execute,
            progress,
            bandit=self.adaptive.bandit,
            candidates=self.adaptive.candidates(p.catalog, p.settings.routing.allow_free),
            costs=self.adaptive.costs(p.catalog),
            on_outcome=self.adaptive.store.record_outcome,
            run_swarm_step=self.adaptive.step_runner(execute),
        )
        await self._parts.store.append_audit(
            "workflow.finished", {"name": spec.name, "steps": len(spec.steps), "ok": result.ok}
        )
        return result

    async def execute_swarm(
        self, spec: SwarmSpec, bus: MessageBus | None = None, run_tool: ToolRunner | None = None
    ) -> SwarmResult:
        """Run a swarm of agents on ``spec.task``: every agent call goes through routing, budgets, breakers,
        metrics and the store; ``bus`` (optional) receives every message live (the GUI draws it). Agents with
        tools route to tool-capable models; ``run_tool(name, arguments_json)`` runs their calls."""
        result = await self.adaptive.run_swarm(spec, self._executor.execute, bus, run_tool)
        await self._parts.store.append_audit(
            "swarm.finished", {"topology": result.topology, "agents": len(result.replies), "ok": result.ok}
        )
        return result

    # ---- 10. get_enhanced_capabilities ----------------------------------------------------------------------

    async def get_enhanced_capabilities(self) -> Capabilities:
        """What this installation can do: providers reachable, models, topologies, strategies, limits."""
        return capabilities(self._parts, self.secrets_backend())

    # ---- 11. test_enhanced_orchestration --------------------------------------------------------------------

    async def test_enhanced_orchestration(self) -> SelfTestReport:
        """Self-test: store writable, keys present, each provider reachable and one round trip per provider."""
        return await self_test(self._parts, self._key_source)

    # ---- context: counting and fitting (issue 4) -----------------------------------------------------------

    async def count_tokens(self, messages: Sequence[ChatMessage], model: str | None = None) -> TokenCount:
        """Tokens per message and in all for ``model`` (its window share when the catalog knows it).
        Long inputs are counted in a worker thread."""
        return await count_tokens(self._parts.counter, self._parts.catalog, messages, model)

    async def fit_context(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        budget: int | None = None,
        strategy: str = "auto",
        query: str | None = None,
        reserve_output: int = 512,
    ) -> tuple[tuple[ChatMessage, ...], CompressionReport]:
        """Compress ``messages`` to ``budget`` tokens (default: ``model``'s window less ``reserve_output``).
        Raises ``InvalidRequest`` for an unknown model or strategy, ``ContextTooLong`` when it cannot fit."""
        p = self._parts
        return await fit_messages(
            p.counter,
            p.catalog,
            messages,
            model=model,
            budget=budget,
            strategy=strategy,
            query=query,
            reserve_output=reserve_output,
        )

    # ---- keys (through the SecretStore port: the OS keyring, env vars as fallback) ---------------------------

    def key_source(self, provider: str) -> str:
        """Where ``provider``'s key comes from ("keyring", "env VAR", "none", ...); never the key itself."""
        ps = self._parts.settings.provider(provider)
        return self._key_source(provider, ps.api_key_env if ps else None)

    def secrets_backend(self) -> str:
        """Which backend holds keys, e.g. "keyring: SecretService" or "no OS keyring available: ..."."""
        return self._secrets.describe() if self._secrets else "none"

    async def set_api_key(self, provider: str, key: str) -> None:
        """Store ``provider``'s key in the OS keyring (``ConfigError`` when there is none); audited, not logged."""
        if self._secrets is None:
            raise ConfigError("this engine has no secret store")
        self._secrets.set(provider, key)
        await self._parts.store.append_audit("key.set", {"provider": provider})

    async def delete_api_key(self, provider: str) -> None:
        if self._secrets is None:
            raise ConfigError("this engine has no secret store")
        self._secrets.delete(provider)
        await self._parts.store.append_audit("key.deleted", {"provider": provider})

    # ---- for the faces: history, live metrics ---------------------------------------------------------------

    async def get_request_history(self, limit: int = 100, query: str | None = None) -> list[RequestRecord]:
        """Past requests from the store, newest first; ``query`` matches prompt, answer or model."""
        return await self._parts.store.recent_requests(limit, query or None)

    # ---- what faces read (the facade is the only door: no face reaches the engine's parts) -------------------

    def find_model(self, model_id: str, provider: str | None = None) -> ModelInfo | None:
        """The catalog's ``model_id`` (of ``provider``, else of the first provider that serves it), or None."""
        return self._parts.catalog.find(model_id, provider)

    def suggest_models(self, model_id: str, n: int = 3) -> list[str]:
        """Up to ``n`` catalog ids close to ``model_id``, best first ("did you mean")."""
        return self._parts.catalog.suggest(model_id, n)

    def models(self) -> list[ModelInfo]:
        """Every model of the catalog as it is now (a new list), without asking the providers."""
        return self._parts.catalog.all()

    @property
    def catalog_version(self) -> int:
        """Changes whenever the catalog does (a refresh, new settings): cache keys for views of it."""
        return self._parts.catalog.version

    def provider_names(self) -> list[str]:
        """The providers in use, in configuration order."""
        return list(self._parts.providers)

    async def get_learned_outcomes(self) -> list[tuple[str, str, float, float, float, int]]:
        """What adaptive routing learned, as stored: ``(task_class, model, successes, failures, cost_usd, pulls)``."""
        return await self._parts.store.load_outcomes()

    def now(self) -> float:
        """The engine clock's monotonic seconds (deadlines, breaker open-until times are on it)."""
        return self._parts.clock.now()

    def add_alert_sink(self, sink: AlertSink) -> Callable[[], None]:
        """Deliver every future alert (a breaker opened, a budget cap 80 %/100 % spent, a latency or error-rate
        trend) to ``sink``; returns the function that stops it. Sinks run on the engine's loop and must not block."""
        return self._parts.alerts.add_sink(sink)

    def recent_alerts(self) -> list[AlertEvent]:
        """The last alerts raised (at most 50), oldest first."""
        return self._parts.alerts.recent()

    def add_metrics_sink(self, sink: MetricsSink) -> None:
        """``sink.record(event)`` is called after every request (success or failure), on the event loop."""
        self._parts.metrics.add_sink(sink)

    def metrics_series(self, window: str = "15m", points: int = 60) -> list[tuple[float, Stats]]:
        """Time-bucketed stats for charts, oldest first, as (seconds before now, stats) pairs."""
        now = self._parts.clock.now()
        return [(t - now, stats) for t, stats in self._parts.metrics.series(window, now, points)]

    # ---- lifecycle ------------------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._parts.settings

    async def aclose(self) -> None:
        """Stop background work, close providers and the store (pending writes are committed)."""
        await self._maintenance.stop()
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            try:
                await self._refresh_task
            except (asyncio.CancelledError, EngineError):
                pass
            except Exception:
                log.exception("catalog refresh failed")
        await self._parts.close_providers()
        for model, factor in self._parts.counter.calibration().items():
            try:
                await self._parts.store.save_calibration(model, factor)
            except StorageError as exc:
                log.warning("could not save the token calibration of %s: %s", model, exc)
        await self._parts.store.close()
