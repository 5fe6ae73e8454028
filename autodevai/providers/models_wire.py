"""The model lists of OpenAI-compatible servers: ``GET /models`` as OpenAI (``{id, owned_by}``) and OpenRouter (prices,
context, modalities, supported parameters) shape it. Pure functions over ``json`` values, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from autodevai.engine.types import ModelInfo
from autodevai.providers.wire import WireError

__all__ = ["DEFAULT_CONTEXT_LENGTH", "parse_model", "parse_models"]

DEFAULT_CONTEXT_LENGTH = 4096  # when a server does not say (ModelInfo's default too)
_EMPTY: Mapping[str, Any] = {}


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return None


def _price(value: Any) -> float:
    """USD per token; OpenRouter sends strings ("0.000003"); missing means free. ValueError if unusable."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise ValueError("price is a boolean")
    price = float(value)
    if price < 0 or price != price:  # OpenRouter marks variable-price routers (openrouter/auto) with "-1"
        raise ValueError("no fixed price")
    return price


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_model(item: Any, provider: str) -> ModelInfo | None:
    """One entry of ``GET /models`` (OpenAI's ``{id, owned_by}`` or OpenRouter's richer shape), or None.

    Models without a fixed price (OpenRouter's ``-1``) are dropped: routing cannot budget a request to them.
    """
    if not isinstance(item, dict):
        return None
    model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    pricing = _dict(item.get("pricing"))
    top = _dict(item.get("top_provider"))
    arch = _dict(item.get("architecture"))
    try:
        price_in = _price(pricing.get("prompt"))
        price_out = _price(pricing.get("completion"))
        price_request = _price(pricing.get("request"))
    except (TypeError, ValueError):
        return None
    inputs = _strings(arch.get("input_modalities"))
    outputs = _strings(arch.get("output_modalities"))
    modality = arch.get("modality")
    if isinstance(modality, str) and "->" in modality:  # older shape: "text+image->text"
        left, _, right = modality.partition("->")
        inputs = inputs or tuple(left.split("+"))
        outputs = outputs or tuple(right.split("+"))
    if "/" in model_id:
        vendor = model_id.split("/", 1)[0]
    else:
        owner = item.get("owned_by")
        vendor = owner if isinstance(owner, str) else ""
    name = item.get("name")
    description = item.get("description")
    created = item.get("created")
    try:
        return ModelInfo(
            id=model_id,
            provider=provider,
            name=name if isinstance(name, str) and name else model_id,
            vendor=vendor,
            description=description if isinstance(description, str) else "",
            context_length=_positive_int(item.get("context_length"))
            or _positive_int(top.get("context_length"))
            or DEFAULT_CONTEXT_LENGTH,
            max_output=_positive_int(top.get("max_completion_tokens")),
            price_in=price_in,
            price_out=price_out,
            price_request=price_request,
            input_modalities=inputs or ("text",),
            output_modalities=outputs or ("text",),
            modalities_known=inputs is not None or outputs is not None,
            supported_parameters=_strings(item.get("supported_parameters")) or (),
            moderated=top.get("is_moderated") is True,
            created=int(created) if isinstance(created, int | float) and not isinstance(created, bool) else None,
        )
    except ValidationError:
        return None


def parse_models(data: Any, provider: str) -> list[ModelInfo]:
    """``GET /models``: ``{"data": [...]}`` (a bare list is accepted too). Unusable entries are skipped."""
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise WireError("the model list has no 'data' array")
    models = []
    for item in items:
        info = parse_model(item, provider)
        if info is not None:
            models.append(info)
    return models
