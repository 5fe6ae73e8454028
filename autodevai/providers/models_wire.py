"""The model lists of OpenAI-compatible servers: ``GET /models`` as OpenAI (``{id, owned_by}``), OpenRouter (prices,
context, modalities, supported parameters), LiteLLM (``max_input_tokens``, ``max_output_tokens``,
``input_cost_per_token``) and vLLM (``max_model_len``) shape it. Pure functions over ``json`` values, no I/O.

What a real catalog means (DESIGN.md "What real catalogs and servers hold"; the 2025 and 2026 OpenRouter dumps in
tests/data/openrouter/), and what each entry becomes:
- a price that is missing, not a number, negative or not finite is *unknown* (``price_known=False``), never free;
  OpenRouter's ``"-1"`` marks a router with a variable price;
- routers (``openrouter/*``, price -1) and aliases (``alias_target``, ids starting with "~") stay listed but
  routing never picks them by itself; nor ``:batch`` variants (half price, may not answer synchronously), nor
  ``context_length: 0`` (not a chat model);
- a model priced ``"0"`` per token that ``pricing.request``/``pricing.image`` or its description bills per song,
  clip, image, video or request is not free: the stated price becomes its per-request price and routing leaves it
  to those who name it;
- ``pricing.overrides`` are prices from a prompt size on (``PriceTier``);
- no window stated means an unknown window (``context_known=False``), not 4,096 tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from autodevai.engine.quality import quality_from_index
from autodevai.engine.types import ModelInfo, PriceTier
from autodevai.providers.wire import WireError

__all__ = ["DEFAULT_CONTEXT_LENGTH", "next_page", "parse_model", "parse_models"]

DEFAULT_CONTEXT_LENGTH = 4096  # the placeholder of an unknown window (context_known=False says it is unknown)
_EMPTY: Mapping[str, Any] = {}
_ROUTER_VENDOR = "openrouter"
# "$0.04 per clip", "priced at $0.08 per song", "$0.002 / image" — a per-unit price stated in words.
_BILLED = re.compile(
    r"\$\s?(\d+(?:\.\d+)?)\s*(?:per|/)\s*(song|clip|image|video|second|minute|request|generation|call|track)s?\b",
    re.IGNORECASE,
)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return None


def _price(value: Any) -> float | None:
    """USD per token from OpenRouter's string ("0.000003") or a number; None when missing or unusable (negative,
    "-1", "inf", "nan", not a number)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return price if math.isfinite(price) and price >= 0 else None


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _tiers(raw: Any) -> tuple[PriceTier, ...]:
    """``pricing.overrides``: ``[{"min_prompt_tokens": N, "prompt": "...", "completion": "..."}]``, ascending."""
    if not isinstance(raw, list):
        return ()
    tiers = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        start = _positive_int(item.get("min_prompt_tokens"))
        price_in, price_out = _price(item.get("prompt")), _price(item.get("completion"))
        if start is not None and price_in is not None and price_out is not None:
            tiers.append(PriceTier(min_prompt_tokens=start, price_in=price_in, price_out=price_out))
    return tuple(sorted(tiers, key=lambda t: t.min_prompt_tokens))


def _window(item: Mapping[str, Any], top: Mapping[str, Any]) -> tuple[int | None, bool]:
    """(the window, whether the server said it is 0 = not a chat model)."""
    raw = item.get("context_length")
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw == 0:
        return None, True
    window = (
        _positive_int(raw)
        or _positive_int(top.get("context_length"))
        or _positive_int(item.get("max_input_tokens"))  # LiteLLM
        or _positive_int(item.get("max_model_len"))  # vLLM
        or _positive_int(item.get("max_context_length"))  # LM Studio
    )
    return window, False


def _exclusion(model_id: str, item: Mapping[str, Any], routed_price: bool, not_chat: bool) -> str:
    """Why routing should not pick this model by itself ("" when it may)."""
    if model_id.split("/", 1)[0] == _ROUTER_VENDOR or not routed_price:
        return "a router: it picks a model for you at a variable price"
    target = item.get("alias_target")
    if isinstance(target, dict) and isinstance(target.get("slug"), str):
        return f"an alias of {target['slug']}"
    if model_id.startswith("~") or isinstance(target, str):
        return f"an alias of {target}" if isinstance(target, str) else "an alias of another model"
    if model_id.endswith(":batch"):
        return "a :batch variant: half price, may not answer a synchronous request"
    if not_chat:
        return "not a chat model (context_length 0)"
    return ""


def parse_model(item: Any, provider: str) -> ModelInfo | None:
    """One entry of ``GET /models`` in any of the shapes above, or None when it has no id."""
    if not isinstance(item, dict):
        return None
    model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    pricing = _dict(item.get("pricing"))
    top = _dict(item.get("top_provider"))
    arch = _dict(item.get("architecture"))
    price_in = _price(pricing.get("prompt", item.get("input_cost_per_token")))
    price_out = _price(pricing.get("completion", item.get("output_cost_per_token")))
    price_request = _price(pricing.get("request")) or 0.0
    price_known = price_in is not None and price_out is not None
    router_price = pricing.get("prompt") in ("-1", -1) or pricing.get("completion") in ("-1", -1)
    inputs = _strings(arch.get("input_modalities"))
    outputs = _strings(arch.get("output_modalities"))
    modality = arch.get("modality")
    if isinstance(modality, str) and "->" in modality:  # older shape: "text+image->text"
        left, _, right = modality.partition("->")
        inputs = inputs or tuple(left.split("+"))
        outputs = outputs or tuple(right.split("+"))
    if "/" in model_id:
        vendor = model_id.split("/", 1)[0].lstrip("~")
    else:
        owner = item.get("owned_by")
        vendor = owner if isinstance(owner, str) else ""
    name = item.get("name")
    raw_description = item.get("description")
    description = raw_description if isinstance(raw_description, str) else ""
    window, not_chat = _window(item, top)
    exclusion = _exclusion(model_id, item, not router_price, not_chat)
    if price_known and not exclusion and price_in == 0 and price_out == 0:
        billed = _billed_elsewhere(pricing, description, outputs or ())
        if billed is not None:
            exclusion, per_request = billed
            price_request = max(price_request, per_request)
    created = item.get("created")
    try:
        return ModelInfo(
            id=model_id,
            provider=provider,
            name=name if isinstance(name, str) and name else model_id,
            vendor=vendor,
            description=description,
            context_length=window or DEFAULT_CONTEXT_LENGTH,
            context_known=window is not None,
            max_output=_positive_int(top.get("max_completion_tokens")) or _positive_int(item.get("max_output_tokens")),
            price_in=price_in or 0.0,
            price_out=price_out or 0.0,
            price_request=price_request,
            price_known=price_known,
            price_tiers=_tiers(pricing.get("overrides")) if price_known else (),
            route_exclusion=exclusion,
            input_modalities=inputs or ("text",),
            output_modalities=outputs or ("text",),
            modalities_known=inputs is not None or outputs is not None,
            supported_parameters=_strings(item.get("supported_parameters")) or (),
            **_benchmark_quality(item),
            moderated=top.get("is_moderated") is True,
            created=int(created) if isinstance(created, int | float) and not isinstance(created, bool) else None,
        )
    except ValidationError:
        return None


def _benchmark_quality(item: Mapping[str, Any]) -> dict[str, float]:
    """``{"quality": q}`` from the entry's Artificial Analysis Intelligence Index, when the catalog has one."""
    scores = _dict(_dict(item.get("benchmarks")).get("artificial_analysis"))
    index = scores.get("intelligence_index")
    if isinstance(index, int | float) and not isinstance(index, bool) and math.isfinite(index):
        return {"quality": quality_from_index(float(index))}
    return {}


def _billed_elsewhere(
    pricing: Mapping[str, Any], description: str, outputs: tuple[str, ...]
) -> tuple[str, float] | None:
    """For a model priced 0 per token: (why it is not free, its per-request price) when something else bills it."""
    request = _price(pricing.get("request")) or 0.0
    image = _price(pricing.get("image_output")) or _price(pricing.get("image")) or 0.0
    stated = _BILLED.search(description)
    if stated is not None:
        amount = float(stated.group(1))
        return f"billed ${amount:g} per {stated.group(2).lower()} (from its description), not per token", amount
    if request > 0:
        return f"billed ${request:g} per request, not per token", request
    if image > 0:
        return f"billed ${image:g} per image, not per token", image
    media = [m for m in outputs if m != "text"]
    if media:
        return f"generates {' and '.join(media)}; priced per output, not per token", 0.0
    return None


def next_page(data: Any) -> str | None:
    """The next page's URL of a paginated model list (OpenRouter's ``links.next``), or None."""
    links = data.get("links") if isinstance(data, dict) else None
    target = links.get("next") if isinstance(links, dict) else None
    return target if isinstance(target, str) and target else None


def parse_models(data: Any, provider: str) -> list[ModelInfo]:
    """``GET /models``: ``{"data": [...]}`` (a bare list is accepted too). Entries without an id are skipped."""
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise WireError("the model list has no 'data' array")
    models = []
    for item in items:
        info = parse_model(item, provider)
        if info is not None:
            models.append(info)
    return models
