"""The engine's live parts in one mutable bundle, and per-provider health.

``Components`` is what the executor and the facade share; ``assemble`` builds them for new settings, and the
facade's ``configure`` swaps parts in place so that a running request keeps the objects it started with while new
requests see the new ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from autodevai.engine.alerts import AlertMonitor
from autodevai.engine.breaker import BreakerBoard
from autodevai.engine.budget import BudgetLedger
from autodevai.engine.catalog import Catalog
from autodevai.engine.context import EstimateCounter
from autodevai.engine.metrics import Metrics
from autodevai.engine.ports import Clock, Provider, Store, TokenCounter
from autodevai.engine.ratelimit import RateLimiter
from autodevai.engine.routing import Router
from autodevai.engine.settings import ProviderSettings, Settings

__all__ = ["Components", "ProviderFactory", "ProviderHealth"]

ProviderFactory = Callable[[ProviderSettings], Provider]


@dataclass(slots=True)
class ProviderHealth:
    """What the engine has seen of one provider (for status, capabilities and the advisor)."""

    name: str
    calls: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_ok_wall: float | None = None
    last_error: str | None = None
    last_error_wall: float | None = None
    models_listed: int | None = None  # how many models /models returned last time, None = not yet asked
    # The last background probe of this provider (engine/health.py): when (epoch s), whether it answered, and what
    # it did or what went wrong ("GET /models: 312 models in 12 ms"); None before any probe.
    last_probe_wall: float | None = None
    last_probe_ok: bool | None = None
    last_probe_detail: str | None = None
    probes: int = 0

    def probed(self, wall: float, ok: bool, detail: str) -> None:
        """Record a background probe's result (it counts as a call, too)."""
        self.probes += 1
        self.last_probe_wall, self.last_probe_ok, self.last_probe_detail = wall, ok, detail
        if ok:
            self.ok(wall)
        else:
            self.failed(wall, detail.split(":", 1)[0])

    def ok(self, wall: float) -> None:
        self.calls += 1
        self.consecutive_failures = 0
        self.last_ok_wall = wall

    def failed(self, wall: float, error: str) -> None:
        self.calls += 1
        self.failures += 1
        self.consecutive_failures += 1
        self.last_error = error
        self.last_error_wall = wall

    @property
    def state(self) -> str:
        """ "up", "degraded" (some recent failures) or "down" (3+ failures in a row), "unknown" before any call."""
        if self.calls == 0 and self.models_listed is None:
            return "unknown"
        if self.consecutive_failures >= 3:
            return "down"
        if self.consecutive_failures > 0:
            return "degraded"
        return "up"


@dataclass(slots=True)
class Components:
    settings: Settings
    providers: dict[str, Provider]
    catalog: Catalog
    router: Router
    breakers: BreakerBoard
    limiter: RateLimiter
    budget: BudgetLedger
    metrics: Metrics
    store: Store
    clock: Clock
    rng: random.Random
    counter: TokenCounter
    alerts: AlertMonitor
    health: dict[str, ProviderHealth] = field(default_factory=dict)
    in_flight: int = 0
    started_wall: float = 0.0
    catalog_fetched_wall: float | None = None

    def health_of(self, provider: str) -> ProviderHealth:
        h = self.health.get(provider)
        if h is None:
            h = self.health[provider] = ProviderHealth(provider)
        return h

    @classmethod
    def assemble(
        cls,
        settings: Settings,
        *,
        store: Store,
        clock: Clock,
        rng: random.Random,
        counter: TokenCounter | None,
        spent: tuple[float, float, float],
    ) -> Components:
        """The parts of a new engine: an empty catalog, fresh breakers, limits and metrics, a budget ledger that
        starts from what was ``spent`` (today, this month, in all), no providers yet (``install_providers``)."""
        catalog = Catalog((), settings.quality_overrides)
        day, month, total = spent
        budget = BudgetLedger(
            settings.budget, spent_today=day, spent_month=month, spent_total=total, now_wall=clock.wall()
        )
        metrics = Metrics()
        return cls(
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

    def install_providers(self, factory: ProviderFactory, settings: Settings) -> None:
        """One provider per enabled entry of ``settings`` (made by ``factory``), its rate limits configured."""
        providers: dict[str, Provider] = {}
        for ps in settings.providers:
            if not ps.enabled:
                continue
            providers[ps.name] = factory(ps)
            self.limiter.configure(ps.name, ps.rpm, ps.tpm)
        self.providers = providers

    async def close_providers(self) -> None:
        """Close every provider's connections."""
        for provider in self.providers.values():
            await provider.aclose()
