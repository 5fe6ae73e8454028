"""Typed values that cross the engine's boundary: requests, responses, model info, route decisions.

User input (``ChatRequest``, with the message and tool shapes of ``messages.py``) is a pydantic model validated at
the boundary. Values the engine produces on the hot path (``Completion``, ``StreamEvent``, ``StreamDelta``,
``RouteDecision``) are frozen slotted dataclasses: cheap to build, never re-validated.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autodevai.engine.constants import MAX_PROMPT_CHARS
from autodevai.engine.errors import Attempt
from autodevai.engine.messages import (
    ChatMessage,
    NamedToolChoice,
    ReasoningConfig,
    ResponseFormat,
    Tool,
    ToolChoice,
)

__all__ = [
    "OPENROUTER_ONLY_FIELDS",
    "ChatMessage",
    "ChatRequest",
    "Completion",
    "EngineResponse",
    "LiveStats",
    "ModelInfo",
    "ModelRef",
    "Preference",
    "PriceTier",
    "ProviderCall",
    "RouteDecision",
    "StreamDelta",
    "StreamEvent",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


class Preference(enum.StrEnum):
    """What routing optimizes for."""

    COST = "cost"
    QUALITY = "quality"
    SPEED = "speed"
    BALANCED = "balanced"


# Fields only OpenRouter understands: sent to OpenRouter-kind providers, never to other OpenAI-compatible servers
# (api.openai.com answers unknown fields with 400).
OPENROUTER_ONLY_FIELDS = ("provider", "transforms", "models", "plugins", "route", "include_reasoning", "usage")

# ChatRequest fields sent upstream under the same name when set (the OpenAI body's sampling/output fields).
_SIMPLE_FIELDS = (
    "temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty", "repetition_penalty", "min_p",
    "seed", "stop", "logit_bias", "logprobs", "top_logprobs", "user", "parallel_tool_calls", "modalities",
)  # fmt: skip
_MODEL_FIELDS = ("tools", "tool_choice", "response_format", "reasoning")
# Names the upstream body uses for what the engine sets itself; extra_body may not override them.
_RESERVED = frozenset(
    {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n",
     *_SIMPLE_FIELDS, *_MODEL_FIELDS, *OPENROUTER_ONLY_FIELDS}
)  # fmt: skip

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Penalty = Annotated[float, Field(ge=-2.0, le=2.0)]


class ChatRequest(BaseModel):
    """One request as a caller (CLI, GUI, gateway, a swarm agent) states it. Validated once, here.

    Besides the routing fields (``model``, ``provider``, ``preference``, ``fallbacks``, ``deadline_s``) it carries
    the whole chat-completions API: sampling, ``stop``, ``seed``, ``logprobs``, tools, ``response_format``,
    ``reasoning`` and output ``modalities``. ``openrouter`` holds OpenRouter-only fields (``provider``
    preferences, ``transforms``, ``models``, ``plugins``, ...), sent only to OpenRouter-kind providers;
    ``extra_body`` holds fields the engine does not know, sent verbatim to whichever upstream answers.
    """

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
    # sampling
    top_p: Unit | None = None
    top_k: Annotated[int, Field(ge=0)] | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    repetition_penalty: Annotated[float, Field(gt=0.0, le=2.0)] | None = None
    min_p: Unit | None = None
    seed: int | None = None
    stop: str | list[Annotated[str, Field(min_length=1)]] | None = None
    logit_bias: dict[str, Annotated[int | float, Field(ge=-100, le=100)]] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    user: Annotated[str, Field(max_length=256)] | None = None
    # tools, output shape, reasoning
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: ReasoningConfig | None = None
    modalities: list[Literal["text", "image", "audio"]] | None = None
    # pass-through
    openrouter: dict[str, Any] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _prompt_not_empty_nor_huge(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        total = sum(len(m.text) for m in messages)
        if not any(m.text.strip() or m.has_media for m in messages if m.role == "user"):
            raise ValueError("the prompt is empty: give at least one non-empty user message")
        if total > MAX_PROMPT_CHARS:
            raise ValueError(f"the prompt is {total:,} characters; the limit is {MAX_PROMPT_CHARS:,}")
        return messages

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 16:
            raise ValueError("at most 16 stop sequences")
        if stop == "":
            raise ValueError("a stop sequence cannot be empty")
        return stop

    @field_validator("openrouter")
    @classmethod
    def _openrouter_fields(cls, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(fields) - set(OPENROUTER_ONLY_FIELDS))
        if unknown:
            raise ValueError(f"not OpenRouter-only fields: {', '.join(unknown)} (put them in extra_body)")
        return fields

    @field_validator("extra_body")
    @classmethod
    def _no_reserved(cls, fields: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(fields) & _RESERVED)
        if clash:
            raise ValueError(f"extra_body cannot set fields the engine sets itself: {', '.join(clash)}")
        return fields

    @model_validator(mode="after")
    def _consistent(self) -> ChatRequest:
        if self.model is not None and not self.model.strip():
            raise ValueError("model id is empty")
        if self.tool_choice is not None and self.tool_choice != "none" and not self.tools:
            raise ValueError("tool_choice needs tools: give 'tools' or drop 'tool_choice'")
        if isinstance(self.tool_choice, NamedToolChoice):
            names = {t.function.name for t in self.tools or () if t.function is not None}
            if self.tool_choice.function.name not in names:
                raise ValueError(f"tool_choice names {self.tool_choice.function.name!r}, which is not in tools")
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs needs logprobs: true")
        return self

    @classmethod
    def from_prompt(cls, prompt: str, **kw: object) -> ChatRequest:
        """A one-turn request; raises pydantic ``ValidationError`` on bad input."""
        return cls.model_validate({"messages": [{"role": "user", "content": prompt}], **kw})

    def api_fields(self) -> dict[str, Any]:
        """The OpenAI body fields this request sets beyond model, messages and max_tokens, JSON-ready."""
        out: dict[str, Any] = {}
        for name in _SIMPLE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in _MODEL_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, list):
                out[name] = [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in value]
            elif isinstance(value, BaseModel):
                out[name] = value.model_dump(mode="json", by_alias=True, exclude_none=True)
            else:
                out[name] = value
        return out

    @property
    def has_media(self) -> bool:
        return any(m.has_media for m in self.messages)


class PriceTier(BaseModel):
    """A price that applies from ``min_prompt_tokens`` prompt tokens on (OpenRouter's ``pricing.overrides``)."""

    model_config = ConfigDict(frozen=True)

    min_prompt_tokens: int = Field(ge=1)
    price_in: float = Field(ge=0, allow_inf_nan=False)
    price_out: float = Field(ge=0, allow_inf_nan=False)


class ModelInfo(BaseModel):
    """One model of the catalog. Prices are USD per token, as OpenRouter states them.

    What real catalogs hold beyond the numbers: ``context_known`` / ``price_known`` say whether the server stated a
    window and a price (unknown is not 4,096 tokens nor free); ``price_tiers`` are prices that apply above a prompt
    size; ``route_exclusion`` says why routing never picks this model on its own (a router priced -1, an alias, a
    ``:batch`` variant, not a chat model, billed per clip or image) — it stays listed and can be named explicitly.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    provider: str  # the configured provider that serves it ("openrouter", "sim", "local", ...)
    name: str = ""
    vendor: str = ""  # the part of the id before "/"
    description: str = ""
    context_length: int = Field(default=4096, ge=1)
    context_known: bool = True  # False: the server did not say; the prompt is sent as it is
    max_output: int | None = None
    price_in: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_out: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_request: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_known: bool = True  # False: no usable price was listed (never counted as free)
    price_tiers: tuple[PriceTier, ...] = ()  # ascending min_prompt_tokens
    route_exclusion: str = ""  # why routing does not pick it by itself ("" = it may)
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    supported_parameters: tuple[str, ...] = ()  # empty: the server did not say (every parameter may work)
    modalities_known: bool = True  # False when the server did not list modalities (any input may work)
    quality: float = Field(default=0.5, ge=0, le=1)  # prior from public benchmarks, user-overridable
    moderated: bool = False
    created: int | None = None

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.provider, self.id)

    def prices_for(self, prompt_tokens: int) -> tuple[float, float]:
        """USD per input and output token for a prompt of this size (the highest tier it reaches)."""
        price_in, price_out = self.price_in, self.price_out
        for tier in self.price_tiers:
            if prompt_tokens >= tier.min_prompt_tokens:
                price_in, price_out = tier.price_in, tier.price_out
        return price_in, price_out

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD of a call with these token counts, at the tier its prompt reaches."""
        price_in, price_out = self.prices_for(prompt_tokens)
        return prompt_tokens * price_in + completion_tokens * price_out + self.price_request

    def worst_case_cost(self, prompt_tokens: int, max_tokens: int) -> float:
        """USD if the call uses all of ``max_tokens`` (what the budget reserves before sending)."""
        out = min(max_tokens, self.max_output) if self.max_output else max_tokens
        return self.cost(prompt_tokens, out)


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
    cached_tokens: int = 0  # prompt tokens read from the provider's prompt cache
    reasoning_tokens: int = 0  # completion tokens spent on reasoning


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call a model made: ``arguments`` is the JSON text it wrote (not necessarily valid JSON)."""

    id: str
    name: str
    arguments: str
    type: str = "function"

    def as_json(self) -> dict[str, Any]:
        """OpenAI's ``tool_calls[]`` item."""
        return {"id": self.id, "type": self.type, "function": {"name": self.name, "arguments": self.arguments}}

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON; raises ``ValueError`` when the model wrote invalid JSON."""
        return json.loads(self.arguments or "{}")


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a streamed tool call. Pieces with the same ``index`` form one call: ``id``, ``type`` and
    ``name`` arrive once (usually first), ``arguments`` in fragments to concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    type: str | None = None

    def as_json(self) -> dict[str, Any]:
        """OpenAI's ``delta.tool_calls[]`` item (only the fields this piece carries)."""
        out: dict[str, Any] = {"index": self.index}
        if self.id is not None:
            out["id"] = self.id
        if self.type is not None:
            out["type"] = self.type
        function: dict[str, str] = {}
        if self.name is not None:
            function["name"] = self.name
        if self.arguments or self.name is not None:
            function["arguments"] = self.arguments
        if function:
            out["function"] = function
        return out


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """What the engine asks one provider to do: one model, already chosen.

    ``params`` are the request's OpenAI body fields (sampling, tools, response_format, reasoning, ...);
    ``openrouter`` the OpenRouter-only fields (sent only by OpenRouter-kind providers); ``extra_body`` fields the
    engine does not know, sent verbatim.
    """

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    temperature: float | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    openrouter_fallbacks: tuple[str, ...] = ()  # OpenRouter's `models` list; ignored by plain OpenAI servers
    params: Mapping[str, Any] = field(default_factory=dict)
    openrouter: Mapping[str, Any] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Completion:
    """A provider's finished answer: text, and whatever else the message carried (tool calls, a refusal, the
    reasoning, logprobs; ``message_extra`` keeps other message fields as sent, e.g. ``annotations``, ``images``)."""

    provider: str
    model: str  # the model that actually answered (OpenRouter's response `model`)
    content: str
    finish_reason: str | None
    usage: Usage
    generation_id: str | None = None
    ttft_s: float | None = None  # for streams: seconds to the first content delta
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_details: tuple[Mapping[str, Any], ...] = ()
    logprobs: Mapping[str, Any] | None = None
    message_extra: Mapping[str, Any] | None = None
    simulated: bool = False  # answered by AutoDevAI's simulator, not a real model


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One piece of a provider's stream: a text ``delta``; reasoning, refusal or tool-call pieces; or the final
    ``completion`` (exactly one, last). ``model`` names the model the upstream says is answering (first event)."""

    delta: str = ""
    completion: Completion | None = None
    reasoning: str = ""
    reasoning_details: tuple[Mapping[str, Any], ...] = ()
    tool_calls: tuple[ToolCallDelta, ...] = ()
    refusal: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class StreamDelta:
    """What an engine stream yields besides text deltas (plain ``str``) and the final ``EngineResponse``.

    One with no pieces is the marker "this model is answering": it comes once, right before the stream's first
    output (a fallback to another model can only happen before that), so a face can name the model before its
    first byte. Others carry reasoning text, ``reasoning_details``, a refusal or tool-call pieces (assemble by
    ``index``).
    """

    provider: str
    model: str
    reasoning: str = ""
    reasoning_details: tuple[Mapping[str, Any], ...] = ()
    tool_calls: tuple[ToolCallDelta, ...] = ()
    refusal: str = ""

    @property
    def is_marker(self) -> bool:
        return not (self.reasoning or self.reasoning_details or self.tool_calls or self.refusal)


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
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_details: tuple[Mapping[str, Any], ...] = ()
    logprobs: Mapping[str, Any] | None = None
    message_extra: Mapping[str, Any] | None = None
    simulated: bool = False  # answered by AutoDevAI's simulator: the text is generated, not a model's
    cost_source: str = "provider"  # "provider" (reported), "catalog" (tokens x catalog price) or "unknown"

    @property
    def fell_back(self) -> bool:
        return len(self.attempts) > 1
