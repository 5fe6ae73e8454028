"""Settings: one pydantic model, read from and written to TOML, updated by validated partial patches.

Keys never live here: a provider names the env var or keyring entry that holds its key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autodevai.engine import constants as C
from autodevai.engine.errors import ConfigError
from autodevai.engine.types import Preference

__all__ = [
    "AlertSettings",
    "BreakerSettings",
    "BudgetSettings",
    "ContextSettings",
    "ConversationSettings",
    "GatewaySettings",
    "HealthSettings",
    "Money",
    "NonNeg",
    "ProviderSettings",
    "ResilienceSettings",
    "RoutingSettings",
    "Settings",
    "Weights",
    "apply_patch",
    "load_settings",
    "parse_settings",
    "path_patch",
    "set_path",
    "settings_to_toml",
]

_Strict = ConfigDict(extra="forbid", validate_assignment=True)
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# USD: finite, not negative, at most C.MAX_USD (what the budget ledger can count exactly).
Money = Annotated[float, Field(ge=0, le=C.MAX_USD, allow_inf_nan=False)]


class ProviderSettings(BaseModel):
    model_config = _Strict

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    kind: Literal["openrouter", "openai"] = "openai"
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    api_key_env: str | None = None  # env var holding the key when the keyring has none
    enabled: bool = True
    models: list[str] = Field(default_factory=list)  # restrict to these ids (empty = all the server lists)
    rpm: Annotated[int, Field(ge=1)] | None = None  # requests per minute for this provider
    tpm: Annotated[int, Field(ge=1)] | None = None  # tokens per minute
    attribution: bool = True  # OpenRouter HTTP-Referer / X-Title headers
    # USD per million tokens for every model of this provider, over what its server lists (e.g. 0 for your own
    # vLLM or llama.cpp server, or a contract price). None: the listed price (Ollama and LM Studio models are $0).
    price_in_per_m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    price_out_per_m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")


class Weights(BaseModel):
    model_config = _Strict

    price: NonNeg = 0.35
    quality: NonNeg = 0.35
    latency: NonNeg = 0.2
    success: NonNeg = 0.1

    @model_validator(mode="after")
    def _not_all_zero(self) -> Weights:
        if self.price + self.quality + self.latency + self.success <= 0:
            raise ValueError("at least one routing weight must be positive")
        return self


class RoutingSettings(BaseModel):
    model_config = _Strict

    default_preference: Preference = Preference.BALANCED
    weights: Weights = Field(default_factory=Weights)
    min_quality: Annotated[float, Field(ge=0, le=1)] = 0.0
    fallbacks: Annotated[int, Field(ge=0, le=10)] = C.ROUTE_FALLBACKS
    # ":free" models: 20 requests/min on OpenRouter and their providers may log prompts, so routing only picks
    # them when asked (an explicit model id always works).
    allow_free: bool = False
    # explicit fallback chains: model id -> models to try after it, in order
    chains: dict[str, list[str]] = Field(default_factory=dict)
    # Models whose server lists no usable price are routed to only when this is on (a budget cannot reserve for
    # them; their cost shows as unknown). An explicit model id is not affected by it.
    allow_unknown_price: bool = False
    # Model ids routing never picks, as shell-style patterns ("*:free", "openai/o1*", "local:*" for a provider).
    exclude: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class BudgetSettings(BaseModel):
    model_config = _Strict

    daily_usd: Money | None = None
    monthly_usd: Money | None = None
    total_usd: Money | None = None
    per_request_usd: Money | None = None
    # A call whose cost cannot be known (no usage.cost, no cost header, no price): "refuse" it while a cap is set,
    # or "allow" it and count it as $0 (it shows as unknown everywhere).
    unknown_cost: Literal["refuse", "allow"] = "refuse"

    @property
    def capped(self) -> bool:
        """True when any cap is set."""
        return any(v is not None for v in (self.daily_usd, self.monthly_usd, self.total_usd, self.per_request_usd))


class BreakerSettings(BaseModel):
    model_config = _Strict

    window: Annotated[int, Field(ge=1, le=1000)] = C.BREAKER_WINDOW
    min_calls: Annotated[int, Field(ge=1)] = C.BREAKER_MIN_CALLS
    failure_rate: Annotated[float, Field(gt=0, le=1)] = C.BREAKER_FAILURE_RATE
    slow_call_s: Annotated[float, Field(gt=0)] = C.BREAKER_SLOW_CALL_S
    slow_rate: Annotated[float, Field(gt=0, le=1)] = C.BREAKER_SLOW_RATE
    open_s: Annotated[float, Field(gt=0)] = C.BREAKER_OPEN_S
    open_jitter: Annotated[float, Field(ge=0, le=1)] = C.BREAKER_OPEN_JITTER
    half_open_probes: Annotated[int, Field(ge=1)] = C.BREAKER_HALF_OPEN_PROBES


class ResilienceSettings(BaseModel):
    model_config = _Strict

    deadline_s: Annotated[float, Field(gt=0, le=3600)] = C.DEFAULT_DEADLINE_S
    connect_timeout_s: Annotated[float, Field(gt=0)] = C.DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: Annotated[float, Field(gt=0)] = C.DEFAULT_READ_TIMEOUT_S
    max_attempts: Annotated[int, Field(ge=1, le=20)] = C.DEFAULT_MAX_ATTEMPTS
    retries_per_model: Annotated[int, Field(ge=0, le=10)] = 1
    backoff_base_s: Annotated[float, Field(ge=0)] = C.DEFAULT_BACKOFF_BASE_S
    backoff_max_s: Annotated[float, Field(ge=0)] = C.DEFAULT_BACKOFF_MAX_S
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    # Hedged requests (a request's ``hedge`` field overrides this): when a model's first token is later than its
    # observed p95 time to first token, start the next candidate too; the first to answer wins.
    hedge: bool = False


class HealthSettings(BaseModel):
    """Self-healing: probing providers whose breakers are open, and keeping the catalog fresh."""

    model_config = _Strict

    # How a provider with an open breaker is probed once the breaker may half-open: "models" (GET /models, free),
    # "chat" (a one-token request to the model, may cost a fraction of a cent) or "off".
    probe: Literal["models", "chat", "off"] = "models"
    # The catalog refreshes itself in the background when it is older than this.
    catalog_max_age_h: Annotated[float, Field(gt=0, le=8760, allow_inf_nan=False)] = 24.0


class ContextSettings(BaseModel):
    """What happens when a request does not fit a model's context window."""

    model_config = _Strict

    # "auto" (minify -> dedupe -> query-aware extractive -> truncate), one named strategy, or "off" (refuse).
    strategy: Literal["auto", "extractive", "middle-out", "truncate", "dedupe", "minify", "off"] = "auto"
    # "larger-model": route to a model whose window fits when there is one, compress only when none does;
    # "compress": keep the model routing prefers and compress the prompt into its window.
    overflow: Literal["larger-model", "compress"] = "larger-model"


class GatewaySettings(BaseModel):
    """The local OpenAI-compatible endpoint (`autodevai serve`, or started by the desktop app when enabled)."""

    model_config = _Strict

    enabled: bool = False  # the desktop app starts it with the window
    host: str = "127.0.0.1"  # loopback by default; anything else exposes it to the network
    port: Annotated[int, Field(ge=0, le=65535)] = 8765


class ConversationSettings(BaseModel):
    """How long conversations fit into a model's window."""

    model_config = _Strict

    # When older turns must go: compress them by the new message (False), or summarise them once with a cheap
    # model and keep the summary (True; costs one small request, reused by later turns).
    summarize: bool = False


class AlertSettings(BaseModel):
    """Where alerts (a breaker opened, a budget cap 80 %/100 % spent, latency or error-rate trends) go."""

    model_config = _Strict

    desktop_notifications: bool = True  # the desktop app shows them as system notifications


class Settings(BaseModel):
    model_config = _Strict

    providers: list[ProviderSettings] = Field(default_factory=list)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    conversations: ConversationSettings = Field(default_factory=ConversationSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    quality_overrides: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_provider_names(self) -> Settings:
        names = [p.name for p in self.providers]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"provider names must be unique; repeated: {', '.join(sorted(dupes))}")
        return self

    def provider(self, name: str) -> ProviderSettings | None:
        return next((p for p in self.providers if p.name == name), None)


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    """Turn pydantic's errors into one readable ConfigError naming the first bad field."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    lines = [f"{source}: invalid settings"]
    problems: dict[str, str] = {}
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        problems.setdefault(where, str(err["msg"]).removeprefix("Value error, "))
        if len(lines) <= 5:
            lines.append(f"  {where}: {err['msg']}")
    valid: list[str] = []
    if first["type"] == "extra_forbidden":
        valid = _valid_keys(first["loc"][:-1])
    return ConfigError("\n".join(lines), field=loc, valid=valid, problems=problems)


def _valid_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def parse_settings(data: Mapping[str, Any], source: str = "settings") -> Settings:
    """Validate a mapping into ``Settings``; raise ``ConfigError`` with a readable message."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, source) from None


def load_settings(path: Path, patch: Mapping[str, Any] | None = None) -> Settings:
    """Read TOML settings from ``path``; a missing file gives the defaults. With ``patch``, it is merged into what
    the file holds *before* validating, so a patch can repair a file holding a value this version refuses (what
    ``config set`` needs to fix it). Raises ``ConfigError``."""
    if not path.exists():
        return Settings() if patch is None else apply_patch(Settings(), patch)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if patch is not None:
            data = _merge(data, patch)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables are nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    return parse_settings(data, str(path))


def settings_to_toml(settings: Settings) -> str:
    """The TOML text of ``settings`` (None values are left out: TOML has no null)."""
    import tomli_w

    return tomli_w.dumps(settings.model_dump(mode="json", exclude_none=True))


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``patch`` into ``base``. A None value removes the key: a setting goes back to its default
    (budgets default to "no cap"), and an entry of a table such as ``routing.chains`` is deleted."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_patch(settings: Settings, patch: Mapping[str, Any]) -> Settings:
    """A new ``Settings`` with ``patch`` deep-merged in; the old one is untouched if validation fails."""
    try:
        merged = _merge(settings.model_dump(mode="python"), patch)
    except RecursionError:
        raise ConfigError("update: invalid settings: the value is nested too deeply") from None
    return parse_settings(merged, "update")


def set_path(settings: Settings, dotted: str, value: Any) -> Settings:
    """``apply_patch`` for one dotted key such as ``budget.daily_usd``; unknown keys say "did you mean"."""
    return apply_patch(settings, path_patch(dotted, value))


def path_patch(dotted: str, value: Any) -> dict[str, Any]:
    """The nested patch for one dotted key (``budget.daily_usd`` -> ``{"budget": {"daily_usd": value}}``)."""
    parts = dotted.split(".")
    # Below a dict-valued field (quality_overrides, routing.chains) the rest is one key: model ids have dots.
    model: Any = Settings
    for i, part in enumerate(parts[:-1]):
        field = model.model_fields.get(part)
        if field is None:
            break
        if get_origin(field.annotation) is dict:
            parts = [*parts[: i + 1], ".".join(parts[i + 1 :])]
            break
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            break
    patch: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        patch = {part: patch}
    return patch
