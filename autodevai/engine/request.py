"""The request model: ``ChatRequest`` as a caller states it (validated once, at the boundary), the routing
``Preference`` it names, and ``ProviderCall``, what the engine asks one provider to do once a model is chosen.

The message and tool shapes a request carries are in ``messages.py``; which body fields go to which upstream
(``OPENROUTER_ONLY_FIELDS``, the engine's reserved names) is decided here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autodevai.engine.constants import MAX_PROMPT_CHARS
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
    "ChatRequest",
    "Penalty",
    "Preference",
    "ProviderCall",
    "Unit",
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
    # Hedging: start the next candidate too when the model's first token is later than its p95 (None: the
    # ``resilience.hedge`` setting decides).
    hedge: bool | None = None
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
