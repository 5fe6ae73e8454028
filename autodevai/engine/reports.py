"""Values returned by the engine's read-only commands: status, capabilities, self-test, init."""

from __future__ import annotations

from dataclasses import dataclass, field

from autodevai.engine.breaker import BreakerSnapshot
from autodevai.engine.budget import BudgetSnapshot
from autodevai.engine.ratelimit import Headroom

__all__ = [
    "BreakerRow",
    "Capabilities",
    "CheckResult",
    "InitReport",
    "ProviderStatus",
    "SelfTestReport",
    "SystemStatus",
    "TokenCount",
]


@dataclass(frozen=True, slots=True)
class InitReport:
    providers: tuple[str, ...]
    models: int
    catalog_source: str  # "network", "cache", "cache+network", "none"
    store_path: str
    requests_in_store: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    name: str
    kind: str
    base_url: str
    state: str  # up / degraded / down / unknown
    calls: int
    failures: int
    last_error: str | None
    key_source: str  # "keyring", "env", "none", "not needed"
    rate: Headroom
    # The last background probe (engine/health.py) while a breaker of this provider was open: when (epoch
    # seconds), whether it answered, what it did or what failed; None before any probe.
    last_probe_wall: float | None = None
    last_probe_ok: bool | None = None
    last_probe_detail: str | None = None


@dataclass(frozen=True, slots=True)
class BreakerRow:
    provider: str
    model: str
    snapshot: BreakerSnapshot


@dataclass(frozen=True, slots=True)
class SystemStatus:
    providers: tuple[ProviderStatus, ...]
    breakers: tuple[BreakerRow, ...]
    budget: BudgetSnapshot
    in_flight: int
    models: int
    catalog_age_s: float | None
    uptime_s: float
    catalog_max_age_s: float | None = None  # the catalog refreshes itself once older than this


@dataclass(frozen=True, slots=True)
class Capabilities:
    providers: tuple[str, ...]
    reachable: tuple[str, ...]
    models: int
    vendors: int
    strategies: tuple[str, ...]
    workflow_modes: tuple[str, ...]
    max_context_tokens: int
    max_prompt_chars: int
    features: tuple[str, ...]
    secrets_backend: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    elapsed_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    checks: tuple[CheckResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    __json_properties__ = ("ok",)


@dataclass(frozen=True, slots=True)
class TokenCount:
    """Tokens of some messages for one model, and how much of its window they use."""

    model: str | None
    encoding: str
    exact: bool  # True when the model's own tokenizer is shipped; False = closest encoding x calibration
    per_message: tuple[int, ...]
    total: int  # prompt tokens including the chat format's overhead
    context_length: int | None
    window_share: float | None  # total / context_length
