"""The engine's read-only pictures of itself: ``SystemStatus`` (providers' health, breakers, rate headroom, budget,
work in flight) and ``Capabilities`` (what this installation can do). Built from the live parts, no I/O."""

from __future__ import annotations

from collections.abc import Callable

from autodevai.engine import constants as C
from autodevai.engine.reports import BreakerRow, Capabilities, ProviderStatus, SystemStatus
from autodevai.engine.runtime import Components
from autodevai.engine.types import Preference

__all__ = ["KeySource", "capabilities", "system_status"]

KeySource = Callable[[str, str | None], str]  # (provider, env var) -> where its key comes from

_WORKFLOW_MODES = (
    "auto-plan",
    "DAG steps (independent steps run concurrently)",
    "swarm steps: hierarchical, mesh, ring, star, adaptive",
    "consensus: majority, plurality, quorum (n >= 3f+1), leader",
    "adaptive model choice per task class (Thompson sampling)",
)
_FEATURES = (
    "streaming",
    "cancellation",
    "fallback chains",
    "circuit breakers",
    "retries with full jitter and Retry-After",
    "rate limits",
    "budget caps",
    "metrics p50/p95/p99",
    "recommendations",
    "hedged requests",
    "background probes of failing providers",
    "budget caps shared by every process on the data dir",
    "signed (HMAC-SHA256) hash-chained audit log",
)


def system_status(parts: Components, key_source: KeySource) -> SystemStatus:
    """Health, key source and rate headroom of each enabled provider, every breaker, the budget, the queue."""
    p = parts
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
                key_source=key_source(ps.name, ps.api_key_env),
                rate=p.limiter.headroom(ps.name, now),
                last_probe_wall=h.last_probe_wall,
                last_probe_ok=h.last_probe_ok,
                last_probe_detail=h.last_probe_detail,
            )
        )
    breakers = tuple(BreakerRow(prov, model, snap) for (prov, model), snap in sorted(p.breakers.snapshot(now).items()))
    return SystemStatus(
        providers=tuple(providers),
        breakers=breakers,
        budget=p.budget.snapshot(wall),
        in_flight=p.in_flight,
        models=len(p.catalog),
        catalog_age_s=None if p.catalog_fetched_wall is None else wall - p.catalog_fetched_wall,
        uptime_s=wall - p.started_wall,
        catalog_max_age_s=p.settings.health.catalog_max_age_h * 3600.0,
    )


def capabilities(parts: Components, secrets_backend: str) -> Capabilities:
    """Providers (and which answer), models, vendors, strategies, workflow modes, limits and features."""
    p = parts
    models = p.catalog.all()
    return Capabilities(
        providers=tuple(p.providers),
        reachable=tuple(n for n in p.providers if p.health_of(n).state in ("up", "degraded")),
        models=len(models),
        vendors=len(p.catalog.vendors()),
        strategies=tuple(x.value for x in Preference),
        workflow_modes=_WORKFLOW_MODES,
        max_context_tokens=max((m.context_length for m in models), default=0),
        max_prompt_chars=C.MAX_PROMPT_CHARS,
        features=_FEATURES,
        secrets_backend=secrets_backend,
    )
