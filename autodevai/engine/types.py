"""Typed values that cross the engine's boundary: requests, responses, model info, route decisions.

User input (``ChatRequest``) is a pydantic model validated at the boundary. Values the engine produces on the hot path
(``Completion``, ``StreamEvent``, ``RouteDecision``) are frozen slotted dataclasses: cheap to build, never re-validated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autodevai.engine.constants import MAX_PROMPT_CHARS
from autodevai.engine.errors import Attempt

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "Completion",
    "EngineResponse",
    "LiveStats",
    "ModelInfo",
    "ModelRef",
    "Preference",
    "ProviderCall",
    "RouteDecision",
    "StreamEvent",
    "Usage",
]


class Preference(enum.StrEnum):
    """What routing optimizes for."""

    COST = "cost"
    QUALITY = "quality"
    SPEED = "speed"
    BALANCED = "balanced"


Role = Literal["system", "user", "assistant", "tool"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str
    name: str | None = None


class ChatRequest(BaseModel):
    """One request as a caller (CLI, GUI, gateway) states it. Validated once, here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    model: str | None = None  # explicit model id (skips ranking; fallbacks still apply)
    provider: str | None = None  # restrict to one configured provider
    preference: Preference = Preference.BALANCED
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] = 512
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    fallbacks: list[str] | None = None  # explicit fallback model ids, tried in order after the first choice
    deadline_s: Annotated[float, Field(gt=0, le=3600)] | None = None
    task_class: str | None = None  # free label used by metrics and (later) adaptive routing
    extra_headers: dict[str, str] = Field(default_factory=dict)  # passed to the provider as-is (e.g. sim faults)

    @field_validator("messages")
    @classmethod
    def _prompt_not_empty_nor_huge(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        total = sum(len(m.content) for m in messages)
        if not any(m.content.strip() for m in messages if m.role == "user"):
            raise ValueError("the prompt is empty: give at least one non-empty user message")
        if total > MAX_PROMPT_CHARS:
            raise ValueError(f"the prompt is {total:,} characters; the limit is {MAX_PROMPT_CHARS:,}")
        return messages

    @model_validator(mode="after")
    def _model_id_shape(self) -> ChatRequest:
        if self.model is not None and not self.model.strip():
            raise ValueError("model id is empty")
        return self

    @classmethod
    def from_prompt(cls, prompt: str, **kw: object) -> ChatRequest:
        """A one-turn request; raises pydantic ``ValidationError`` on bad input."""
        return cls.model_validate({"messages": [{"role": "user", "content": prompt}], **kw})


class ModelInfo(BaseModel):
    """One model of the catalog. Prices are USD per token, as OpenRouter states them."""

    model_config = ConfigDict(frozen=True)

    id: str
    provider: str  # the configured provider that serves it ("openrouter", "sim", "local", ...)
    name: str = ""
    vendor: str = ""  # the part of the id before "/"
    description: str = ""
    context_length: int = Field(default=4096, ge=1)
    max_output: int | None = None
    price_in: float = Field(default=0.0, ge=0)
    price_out: float = Field(default=0.0, ge=0)
    price_request: float = Field(default=0.0, ge=0)
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    supported_parameters: tuple[str, ...] = ()
    quality: float = Field(default=0.5, ge=0, le=1)  # prior from public benchmarks, user-overridable
    moderated: bool = False
    created: int | None = None

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.provider, self.id)

    def worst_case_cost(self, prompt_tokens: int, max_tokens: int) -> float:
        """USD if the call uses all of ``max_tokens`` (what the budget reserves before sending)."""
        out = min(max_tokens, self.max_output) if self.max_output else max_tokens
        return prompt_tokens * self.price_in + out * self.price_out + self.price_request


@dataclass(frozen=True, slots=True, order=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None  # USD as reported by the provider (OpenRouter); None when it does not say


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """What the engine asks one provider to do: one model, already chosen. Providers add their own fields."""

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    openrouter_fallbacks: tuple[str, ...] = ()  # OpenRouter's `models` list; ignored by plain OpenAI servers


@dataclass(frozen=True, slots=True)
class Completion:
    """A provider's finished answer."""

    provider: str
    model: str  # the model that actually answered (OpenRouter's response `model`)
    content: str
    finish_reason: str | None
    usage: Usage
    generation_id: str | None = None
    ttft_s: float | None = None  # for streams: seconds to the first content delta


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One piece of a stream: a text ``delta``, or the final ``completion`` (exactly one, last)."""

    delta: str = ""
    completion: Completion | None = None


@dataclass(frozen=True, slots=True)
class LiveStats:
    """What routing learns from measured history for one model (over the metrics' 15-minute window)."""

    calls: int = 0
    p50_latency_s: float | None = None
    success_rate: float | None = None  # share of calls that ended "ok"


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Which models to try, in order, and why. ``reasons`` are sentences a user can read."""

    preference: Preference
    candidates: tuple[ModelRef, ...]  # first is the choice, the rest are fallbacks in order
    reasons: tuple[str, ...]
    scores: tuple[tuple[str, float], ...] = ()  # top candidates with their score (higher is better)
    considered: int = 0
    excluded: tuple[tuple[str, int], ...] = ()  # (reason, how many models it excluded)

    @property
    def chosen(self) -> ModelRef:
        return self.candidates[0]


@dataclass(frozen=True, slots=True)
class EngineResponse:
    """What ``execute_*`` returns: the answer plus everything a user may want to know about how it was made."""

    request_id: str
    content: str
    provider: str
    model: str
    usage: Usage
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    finish_reason: str | None
    route: RouteDecision
    attempts: tuple[Attempt, ...] = field(default=())
    prompt_tokens_estimated: int = 0
    compression: Any = None  # a compression.CompressionReport when the prompt was fitted into the window

    @property
    def fell_back(self) -> bool:
        return len(self.attempts) > 1
