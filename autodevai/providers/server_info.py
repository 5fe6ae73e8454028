"""What OpenAI-compatible servers know about their models but leave out of ``GET /v1/models``: windows, prices
and capabilities from their own endpoints (DESIGN.md "Windows and costs elsewhere"). Parsers are pure; the
provider asks the endpoints (``OpenAICompatProvider._enrich``) only for models whose window or price is unknown.

- LiteLLM's proxy: ``GET /model/info`` — ``data[].model_name`` with ``model_info.max_input_tokens``,
  ``max_output_tokens``, ``input_cost_per_token``, ``output_cost_per_token``, ``supports_vision``,
  ``supports_function_calling``.
- LM Studio: ``GET /api/v0/models`` — ``max_context_length`` (and ``loaded_context_length``, the window the loaded
  instance actually serves), ``type`` ("vlm" reads images), ``capabilities`` (["tool_use"]).
- Ollama: ``POST /api/show`` per model — ``model_info["<arch>.context_length"]``, ``capabilities`` ("tools",
  "vision", "thinking") and ``parameters`` ("num_ctx N"). Ollama serves a smaller window than the model's
  maximum unless ``num_ctx`` (or ``OLLAMA_CONTEXT_LENGTH``) raises it, and silently drops what does not fit, so
  the window used is ``num_ctx`` when set, else Ollama's default (``OLLAMA_DEFAULT_CTX``), never the maximum.
Models that Ollama or LM Studio describe run on the user's own machine: their price is a known $0 (Ollama's
``:cloud`` models excepted: their price stays unknown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from autodevai.engine.types import ModelInfo

__all__ = ["OLLAMA_DEFAULT_CTX", "apply", "litellm_updates", "lmstudio_updates", "ollama_update", "server_root"]

OLLAMA_DEFAULT_CTX = 4096  # Ollama's default num_ctx (0.6 and later) when nothing raises it
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)
_LOCAL_PRICE = {"price_in": 0.0, "price_out": 0.0, "price_known": True}  # runs on the user's machine

Updates = dict[str, dict[str, Any]]  # model id -> ModelInfo fields to set


def server_root(base_url: str) -> str:
    """The server's root for its native endpoints: ``http://host:1234/v1`` -> ``http://host:1234``."""
    return base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1 else None


def _price(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 and value != float("inf"):
        return float(value)
    return None


def _with(params: tuple[str, ...], *extra: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*params, *extra)))


def litellm_updates(data: Any, models: Mapping[str, ModelInfo]) -> Updates:
    """Fields from LiteLLM's ``/model/info`` for the models in ``models`` (by id)."""
    items = data.get("data") if isinstance(data, dict) else None
    out: Updates = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("model_name") not in models:
            continue
        info = item.get("model_info")
        if not isinstance(info, dict):
            continue
        model = models[item["model_name"]]
        fields: dict[str, Any] = {}
        window = _int(info.get("max_input_tokens")) or _int(info.get("max_tokens"))
        if window is not None:
            fields.update(context_length=window, context_known=True)
        if (max_out := _int(info.get("max_output_tokens"))) is not None:
            fields["max_output"] = max_out
        price_in, price_out = _price(info.get("input_cost_per_token")), _price(info.get("output_cost_per_token"))
        if price_in is not None and price_out is not None:
            fields.update(price_in=price_in, price_out=price_out, price_known=True)
        params: tuple[str, ...] = ()
        if info.get("supports_function_calling") is True:
            params = ("tools", "tool_choice")
        if info.get("supports_response_schema") is True:
            params += ("response_format", "structured_outputs")
        if info.get("supports_reasoning") is True:
            params += ("reasoning",)
        if params and model.supported_parameters:
            fields["supported_parameters"] = _with(model.supported_parameters, *params)
        if info.get("supports_vision") is True:
            fields.update(input_modalities=_with(model.input_modalities, "image"))
        if info.get("mode") not in (None, "chat", "completion", "responses"):
            fields["route_exclusion"] = f"not a chat model (LiteLLM mode {info.get('mode')!r})"
        out[item["model_name"]] = fields
    return out


def lmstudio_updates(data: Any, models: Mapping[str, ModelInfo]) -> Updates:
    """Fields from LM Studio's ``/api/v0/models`` for the models in ``models``."""
    items = data.get("data") if isinstance(data, dict) else None
    out: Updates = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("id") not in models:
            continue
        model = models[item["id"]]
        fields: dict[str, Any] = {}
        window = _int(item.get("loaded_context_length")) or _int(item.get("max_context_length"))
        if window is not None:
            fields.update(context_length=window, context_known=True)
        fields.update(_LOCAL_PRICE)
        if item.get("type") == "vlm":
            fields.update(input_modalities=_with(model.input_modalities, "image"), modalities_known=True)
        elif item.get("type") == "embeddings":
            fields["route_exclusion"] = "not a chat model (an embedding model)"
        capabilities = item.get("capabilities")
        if isinstance(capabilities, list) and "tool_use" in capabilities:
            fields["supported_parameters"] = _with(model.supported_parameters, "max_tokens", "tools", "tool_choice")
        out[item["id"]] = fields
    return out


def ollama_update(show: Any, model: ModelInfo) -> dict[str, Any]:
    """Fields from Ollama's ``/api/show`` answer for ``model``."""
    if not isinstance(show, dict):
        return {}
    fields: dict[str, Any] = {}
    info = show.get("model_info")
    maximum = None
    if isinstance(info, dict):
        maximum = next((_int(v) for k, v in info.items() if isinstance(k, str) and k.endswith(".context_length")), None)
    params = show.get("parameters")
    num_ctx = _NUM_CTX.search(params) if isinstance(params, str) else None
    served = int(num_ctx.group(1)) if num_ctx else OLLAMA_DEFAULT_CTX
    window = min(served, maximum) if maximum else served
    fields.update(context_length=window, context_known=True)
    if not model.id.endswith((":cloud", "-cloud")):
        fields.update(_LOCAL_PRICE)
    capabilities = show.get("capabilities")
    if isinstance(capabilities, list):
        if "embedding" in capabilities and "completion" not in capabilities:
            fields["route_exclusion"] = "not a chat model (an embedding model)"
        supported = ["max_tokens", "temperature", "top_p", "stop", "seed"]
        if "tools" in capabilities:
            supported += ["tools", "tool_choice"]
        if "thinking" in capabilities:
            supported += ["reasoning"]
        fields["supported_parameters"] = tuple(supported)
        fields["input_modalities"] = ("text", "image") if "vision" in capabilities else ("text",)
        fields["modalities_known"] = True
    return fields


def apply(models: list[ModelInfo], updates: Updates) -> list[ModelInfo]:
    """``models`` with ``updates`` applied (by id)."""
    return [m.model_copy(update=updates[m.id]) if updates.get(m.id) else m for m in models]
