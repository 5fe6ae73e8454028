"""The engine facade: the eleven commands as one async API, shared by the CLI, the GUI and the gateway.

``Engine`` only sequences and awaits; the decisions live in routing, breaker, retry, budget and advisor, the
request path in ``execution``. Build one with ``autodevai.compose.open_engine``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autodevai.engine import constants as C
from autodevai.engine.adaptive import Adaptive
from autodevai.engine.advisor import Recommendation, recommend
from autodevai.engine.alerts import AlertEvent, AlertMonitor, AlertSink
from autodevai.engine.breaker import BreakerBoard
from autodevai.engine.budget import BudgetLedger
from autodevai.engine.catalog import Catalog
from autodevai.engine.context import EstimateCounter
from autodevai.engine.errors import (
    ConfigError,
    EngineError,
    InvalidRequest,
    ProviderError,
    StorageError,
    redact,
)
from autodevai.engine.execution import Executor, StreamItem
from autodevai.engine.fitting import off_loop_if_long
from autodevai.engine.metrics import (
    NOT_A_CALL,
    Call,
    Metrics,
    MetricsSink,
    MetricsSummary,
    RequestEvent,
    Stats,
    failed_calls,
)
from autodevai.engine.ports import Clock, Provider, RequestRecord, SecretStore, Store, SystemClock, TokenCounter
from autodevai.engine.pricing import apply_provider_prices
from autodevai.engine.ratelimit import RateLimiter
from autodevai.engine.reports import (
    BreakerRow,
    Capabilities,
    CheckResult,
    InitReport,
    ProviderStatus,
    SelfTestReport,
    SystemStatus,
    TokenCount,
)
from autodevai.engine.routing import Router
from autodevai.engine.runtime import Components, ProviderFactory
from autodevai.engine.settings import Settings, apply_patch
from autodevai.engine.swarm import MessageBus, SwarmResult, SwarmSpec
from autodevai.engine.swarm.agents import ToolRunner
from autodevai.engine.types import (
    ChatMessage,
    ChatRequest,
    EngineResponse,
    ModelInfo,
    Preference,
    ProviderCall,
    RouteDecision,
)
from autodevai.engine.workflows import WorkflowResult, WorkflowSpec, plan_for_task, run_workflow

if TYPE_CHECKING:
    from autodevai.engine.compression import CompressionReport

__all__ = ["Engine"]

log = logging.getLogger("autodevai.engine")

SettingsSaver = Callable[[Settings], None]

# Stored attempt outcomes: which ones were calls that count against a breaker, and which were no call at all.
_BREAKER_FAILURES = frozenset({"ProviderUnavailable", "ProviderTimeout", "MalformedResponse", "StreamInterrupted"})


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
        catalog = Catalog((), settings.quality_overrides)
        day, month, total = spent
        self._factory = provider_factory
        self._secrets = secrets
        self._save = save_settings
        self._refresh_task: asyncio.Task[list[str]] | None = None
        # Models as providers listed them (before quality priors and overrides): what the disk cache keeps, so
        # removing an override later restores the prior instead of a stale value.
        self._raw_models: list[ModelInfo] = []
        budget = BudgetLedger(
            settings.budget, spent_today=day, spent_month=month, spent_total=total, now_wall=clock.wall()
        )
        metrics = Metrics()
        self._parts = Components(
            settings=settings,
            providers={},
            catalog=catalog,
            router=Router(catalog, settings.routing),
            breakers=BreakerBoard(settings.resilience.breaker, rng),
            limiter=RateLimiter(),
            budget=budget,
            metrics=metrics,
            alerts=AlertMonitor(metrics, budget),
            store=store,
            clock=clock,
            rng=rng,
            counter=counter or EstimateCounter(),
            started_wall=clock.wall(),
        )
        self._build_providers(settings)
        self._executor = Executor(self._parts)
        self.adaptive = Adaptive(store, rng)

    # ---- 1. initialize_enhanced_orchestration ---------------------------------------------------------------

    async def initialize_enhanced_orchestration(self, *, refresh: str = "background") -> InitReport:
        """Load the cached catalog, warm metrics from the store, and refresh the catalog from the providers.

        ``refresh``: "background" (start offline from cache, refresh in a task; wait only when there is no
        cache), "wait" (always wait for the providers), "never".
        """
        p = self._parts
        warnings: list[str] = []
        source = "none"
        cached = await p.store.load_catalog()
        usable = [m for m in Catalog.from_dicts(cached or []) if m.provider in p.providers]
        if usable:
            self._raw_models = usable
            p.catalog.replace(usable)
            source = "cache"
        await self._warm_metrics()
        p.counter.load_calibration(await p.store.load_calibration())
        await self.adaptive.load()
        if refresh == "wait" or (refresh == "background" and not usable):
            warnings.extend(await self.refresh_catalog())
            source = "cache+network" if usable else "network"
        elif refresh == "background":
            self._refresh_task = asyncio.create_task(self.refresh_catalog(), name="catalog-refresh")
        count = await p.store.count_requests()
        return InitReport(
            providers=tuple(p.providers),
            models=len(p.catalog),
            catalog_source=source if len(p.catalog) else "none",
            store_path=str(getattr(p.store, "path", "")),
            requests_in_store=count,
            warnings=tuple(warnings),
        )

    async def refresh_catalog(self) -> list[str]:
        """Ask every provider for its models; keep what answered; return a warning per provider that failed."""
        p = self._parts
        names = list(p.providers)
        results = await asyncio.gather(*(p.providers[n].list_models() for n in names), return_exceptions=True)
        models: list[ModelInfo] = []
        warnings: list[str] = []
        failed: set[str] = set()
        for name, result in zip(names, results, strict=True):
            health = p.health_of(name)
            if isinstance(result, BaseException):
                if not isinstance(result, EngineError):
                    raise result
                failed.add(name)
                health.failed(p.clock.wall(), type(result).__name__)
                warnings.append(f"{name}: could not list models: {result}")
                continue
            ps = p.settings.provider(name)
            allowed = set(ps.models) if ps else set()
            listed = apply_provider_prices([m for m in result if not allowed or m.id in allowed], ps)
            health.models_listed = len(listed)
            models.extend(listed)
        # Keep cached models of providers that failed, so one outage does not empty the catalog.
        models.extend(m for m in self._raw_models if m.provider in failed)
        if models:
            self._raw_models = models
            p.catalog.replace(models)
            p.catalog_fetched_wall = p.clock.wall()
            try:
                await p.store.save_catalog(Catalog.to_dicts(models))
            except StorageError as exc:
                warnings.append(f"could not cache the catalog: {exc}")
        return warnings

    async def _warm_metrics(self) -> None:
        p = self._parts
        now, wall = p.clock.now(), p.clock.wall()
        rows = await p.store.recent_events(wall - C.WINDOWS["24h"])
        self._replay_attempts(rows, now, wall)
        p.metrics.load_history(
            RequestEvent(
                now - (wall - r["ts"]),
                r["ts"],
                r["provider"],
                r["model"],
                r["status"],
                r["latency_ms"] / 1000.0,
                None if r["ttft_ms"] is None else r["ttft_ms"] / 1000.0,
                r["prompt_tokens"],
                r["completion_tokens"],
                r["cost_usd"],
                r.get("task_class"),
                _recovered(r),
            )
            for r in rows
        )

    def _replay_attempts(self, rows: list[dict[str, Any]], now: float, wall: float) -> None:
        """Rebuild breaker states and provider health from stored attempts, so that a new process (a CLI call,
        a restarted app) shows the breakers the last one left: a model that kept failing stays open."""
        p = self._parts
        for row in rows:
            at = now - (wall - row["ts"])
            for attempt in row.get("attempts") or ():
                provider, model, outcome = attempt.get("provider"), attempt.get("model"), attempt.get("outcome")
                if provider not in p.providers or not model or outcome in NOT_A_CALL:
                    continue
                duration = float(attempt.get("latency_ms") or 0.0) / 1000.0
                breaker = p.breakers.get(provider, model)
                health = p.health_of(provider)
                if outcome == "ok":
                    health.ok(row["ts"])
                    if breaker.allow(at):
                        breaker.on_success(at, duration)
                else:
                    health.failed(row["ts"], outcome)
                    if outcome in _BREAKER_FAILURES and breaker.allow(at):
                        breaker.on_failure(at, duration)

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
        p = self._parts
        now, wall = p.clock.now(), p.clock.wall()
        providers = []
        for ps in p.settings.providers:
            if not ps.enabled:
                continue
            h = p.health_of(ps.name)
            providers.append(
                ProviderStatus(
                    name=ps.name,
                    kind=ps.kind,
                    base_url=ps.base_url,
                    state=h.state,
                    calls=h.calls,
                    failures=h.failures,
                    last_error=h.last_error,
                    key_source=self._key_source(ps.name, ps.api_key_env),
                    rate=p.limiter.headroom(ps.name, now),
                )
            )
        breakers = tuple(
            BreakerRow(prov, model, snap) for (prov, model), snap in sorted(p.breakers.snapshot(now).items())
        )
        return SystemStatus(
            providers=tuple(providers),
            breakers=breakers,
            budget=p.budget.snapshot(wall),
            in_flight=p.in_flight,
            models=len(p.catalog),
            catalog_age_s=None if p.catalog_fetched_wall is None else wall - p.catalog_fetched_wall,
            uptime_s=wall - p.started_wall,
        )

    def _key_source(self, provider: str, env_var: str | None) -> str:
        return "none" if self._secrets is None else self._secrets.source(provider, env_var)

    # ---- 6. configure_enhanced_orchestration ----------------------------------------------------------------

    async def configure_enhanced_orchestration(self, patch: Mapping[str, Any]) -> Settings:
        """Validate and apply a partial settings update; persist it; nothing changes if it is invalid."""
        p = self._parts
        new = apply_patch(p.settings, patch)  # raises ConfigError, leaving everything as it was
        if self._save is not None:
            self._save(new)
        old = p.settings
        p.settings = new
        p.router.reconfigure(new.routing)
        p.breakers.reconfigure(new.resilience.breaker)
        p.budget.reconfigure(new.budget)
        if new.quality_overrides != old.quality_overrides:
            p.catalog = Catalog(self._raw_models, new.quality_overrides)
            p.router = Router(p.catalog, new.routing)
        if new.providers != old.providers:
            await self._close_providers()
            self._build_providers(new)
            await self.refresh_catalog()
        await p.store.append_audit("settings.changed", {"patch": _redacted_patch(patch)})
        return new

    def _build_providers(self, settings: Settings) -> None:
        p = self._parts
        providers: dict[str, Provider] = {}
        for ps in settings.providers:
            if not ps.enabled:
                continue
            providers[ps.name] = self._factory(ps)
            p.limiter.configure(ps.name, ps.rpm, ps.tpm)
        p.providers = providers

    async def _close_providers(self) -> None:
        for provider in self._parts.providers.values():
            await provider.aclose()

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
        p = self._parts
        models = p.catalog.all()
        return Capabilities(
            providers=tuple(p.providers),
            reachable=tuple(n for n in p.providers if p.health_of(n).state in ("up", "degraded")),
            models=len(models),
            vendors=len(p.catalog.vendors()),
            strategies=tuple(x.value for x in Preference),
            workflow_modes=(
                "auto-plan",
                "DAG steps (independent steps run concurrently)",
                "swarm steps: hierarchical, mesh, ring, star, adaptive",
                "consensus: majority, plurality, quorum (n >= 3f+1), leader",
                "adaptive model choice per task class (Thompson sampling)",
            ),
            max_context_tokens=max((m.context_length for m in models), default=0),
            max_prompt_chars=C.MAX_PROMPT_CHARS,
            features=(
                "streaming",
                "cancellation",
                "fallback chains",
                "circuit breakers",
                "retries with full jitter and Retry-After",
                "rate limits",
                "budget caps",
                "metrics p50/p95/p99",
                "recommendations",
                "hash-chained audit log",
            ),
            secrets_backend=self._secrets.describe() if self._secrets else "none",
        )

    # ---- 11. test_enhanced_orchestration --------------------------------------------------------------------

    async def test_enhanced_orchestration(self) -> SelfTestReport:
        """Self-test: store writable, keys present, each provider reachable and one round trip per provider."""
        p = self._parts
        checks: list[CheckResult] = []

        async def timed(name: str, coro: Any) -> None:
            t0 = time.perf_counter()
            try:
                detail = await coro
                checks.append(CheckResult(name, True, str(detail), (time.perf_counter() - t0) * 1000))
            except (EngineError, OSError) as exc:
                checks.append(CheckResult(name, False, str(exc), (time.perf_counter() - t0) * 1000))

        async def store_ok() -> str:
            result = await p.store.integrity_check()
            if result != "ok":
                raise StorageError(f"integrity_check: {result}", environment=True)
            await p.store.append_audit("selftest", {})
            n = await p.store.verify_audit()
            return f"integrity ok, audit chain of {n} entries verified"

        await timed("store", store_ok())
        if not p.providers:
            checks.append(CheckResult("providers", False, "no provider is configured"))
        for name, provider in p.providers.items():
            ps = p.settings.provider(name)
            await timed(f"{name}: key", self._check_key(name, ps.api_key_env if ps else None, ps.kind if ps else ""))
            await timed(f"{name}: models", self._check_models(name, provider))
            await timed(f"{name}: round trip", self._check_round_trip(name, provider))
        return SelfTestReport(tuple(checks))

    async def _check_key(self, name: str, env_var: str | None, kind: str) -> str:
        source = self._key_source(name, env_var)
        if source == "none" and kind == "openrouter":
            raise ConfigError(f"no API key for {name}", hint=f"run `autodevai config key {name}`")
        return f"key from {source}"

    async def _check_models(self, name: str, provider: Provider) -> str:
        models = await provider.list_models()
        self._parts.health_of(name).models_listed = len(models)
        return f"{len(models)} models listed"

    async def _check_round_trip(self, name: str, provider: Provider) -> str:
        p = self._parts
        candidates = p.catalog.query(provider=name, sort="price_out")
        if not candidates:
            raise InvalidRequest(f"{name} lists no model to call")
        model = next((m for m in candidates if m.price_out > 0), candidates[0])
        call = ProviderCall(model=model.id, messages=(_ping(),), max_tokens=8)
        t0 = p.clock.now()
        try:
            completion = await provider.chat(call, timeout_s=p.settings.resilience.read_timeout_s)
        except ProviderError:
            p.health_of(name).failed(p.clock.wall(), "selftest")
            raise
        p.health_of(name).ok(p.clock.wall())
        ms = (p.clock.now() - t0) * 1000
        return f"{completion.model} answered in {ms:.0f} ms ({completion.usage.total_tokens} tokens)"

    # ---- context: counting and fitting (issue 4) -----------------------------------------------------------

    async def count_tokens(self, messages: Sequence[ChatMessage], model: str | None = None) -> TokenCount:
        """Tokens per message and in all for ``model`` (its window share when the catalog knows it).
        Long inputs are counted in a worker thread."""
        counter = self._parts.counter
        msgs = list(messages)

        def run() -> tuple[list[int], int]:
            return counter.count_many([m.counted_text() for m in msgs], model), counter.count_messages(msgs, model)

        per, total = await off_loop_if_long(msgs, run)
        info = self._parts.catalog.find(model) if model else None
        exact = getattr(counter, "is_exact", None)
        return TokenCount(
            model=model,
            encoding=counter.encoding_name(model),
            exact=bool(exact(model)) if callable(exact) and model else False,
            per_message=tuple(per),
            total=total,
            context_length=info.context_length if info else None,
            window_share=total / info.context_length if info else None,
        )

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
        if budget is None:
            info = self._parts.catalog.find(model) if model else None
            if info is None:
                known = f"unknown model {model!r}" if model else "no model given"
                raise InvalidRequest(f"{known}: give a budget in tokens (--fit N) or a model from the catalog")
            budget = info.context_length - min(reserve_output, info.max_output or reserve_output)
        from autodevai.engine.compression import STRATEGIES, compress  # loaded when first used

        if strategy not in STRATEGIES:
            raise InvalidRequest(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
        counter = self._parts.counter
        msgs = list(messages)

        def run() -> tuple[tuple[ChatMessage, ...], CompressionReport]:
            return compress(msgs, budget, counter=counter, model=model, strategy=strategy, query=query)  # type: ignore[arg-type]

        return await off_loop_if_long(msgs, run)

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
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            try:
                await self._refresh_task
            except (asyncio.CancelledError, EngineError):
                pass
            except Exception:
                log.exception("catalog refresh failed")
        await self._close_providers()
        for model, factor in self._parts.counter.calibration().items():
            try:
                await self._parts.store.save_calibration(model, factor)
            except StorageError as exc:
                log.warning("could not save the token calibration of %s: %s", model, exc)
        await self._parts.store.close()


def _recovered(row: Mapping[str, Any]) -> tuple[Call, ...]:
    """The failed calls a stored request made before the attempt that ended it (its own outcome)."""
    calls = [
        (a["provider"], a["model"], a.get("outcome", ""), float(a.get("latency_ms") or 0.0) / 1000.0)
        for a in row.get("attempts") or ()
        if isinstance(a, Mapping) and a.get("provider") and a.get("model")
    ]
    return failed_calls(calls if row["status"] == "ok" else calls[:-1])


def _ping() -> ChatMessage:
    return ChatMessage(role="user", content="Reply with the single word: pong")


def _redacted_patch(patch: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (_redacted_patch(v) if isinstance(v, Mapping) else redact(str(v))) for k, v in patch.items()}
