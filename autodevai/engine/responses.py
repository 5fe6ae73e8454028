"""What the engine produces on the hot path: a provider's ``Completion`` and its ``StreamEvent`` pieces, the
engine's ``EngineResponse`` and ``StreamDelta``, the ``RouteDecision`` behind them, ``Usage`` and tool calls.

Frozen slotted dataclasses: cheap to build, never re-validated (the input side is ``request.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autodevai.engine.errors import Attempt
from autodevai.engine.model_info import ModelRef
from autodevai.engine.request import Preference

__all__ = [
    "Completion",
    "EngineResponse",
    "RouteDecision",
    "StreamDelta",
    "StreamEvent",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


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
        """The arguments decoded from JSON; raises ``ValueError`` when the model wrote invalid JSON (or JSON nested
        deeper than the parser recurses)."""
        try:
            return json.loads(self.arguments or "{}")
        except RecursionError:
            raise ValueError("the arguments are nested too deeply") from None


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
    # Hedging (engine/hedging.py): a second model was started beside the first because its first token was late;
    # ``hedge_cost_usd`` is what the losing call cost (part of ``cost_usd``; $0 when it was cancelled unbilled).
    hedged: bool = False
    hedge_cost_usd: float = 0.0

    @property
    def fell_back(self) -> bool:
        return len(self.attempts) > 1
