"""Typed values that cross the engine's boundary: requests, responses, model info, route decisions.

One import for callers; each value lives in the module that owns its concept:

- ``request.py``: user input, a pydantic ``ChatRequest`` validated at the boundary (with the message and tool
  shapes of ``messages.py``), its ``Preference``, and ``ProviderCall`` (one model, already chosen);
- ``model_info.py``: ``ModelInfo`` (a catalog entry), ``PriceTier``, ``ModelRef`` and ``LiveStats``;
- ``responses.py``: what the engine produces on the hot path (``Completion``, ``StreamEvent``, ``StreamDelta``,
  ``RouteDecision``, ``EngineResponse``, ``Usage``, tool calls), frozen slotted dataclasses: cheap to build,
  never re-validated.
"""

from __future__ import annotations

from autodevai.engine.messages import ChatMessage
from autodevai.engine.model_info import LiveStats, ModelInfo, ModelRef, PriceTier
from autodevai.engine.request import _RESERVED as _RESERVED  # the gateway's contract test reads it here
from autodevai.engine.request import OPENROUTER_ONLY_FIELDS, ChatRequest, Preference, ProviderCall
from autodevai.engine.responses import (
    Completion,
    EngineResponse,
    RouteDecision,
    StreamDelta,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
    Usage,
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
