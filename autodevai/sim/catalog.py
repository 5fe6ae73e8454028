"""The simulator's model catalog: OpenRouter-shaped model objects plus each model's latency and accuracy
profile.

Owns: turning ``catalog_data`` rows into the JSON objects ``GET /models`` serves (prices as USD-per-token
strings, like OpenRouter), the ``:free`` variants, and a deterministic generated tail of plausible models
(each marked "(simulated)" in its description) so the catalog has 400 models from 60+ vendors. Everything is
built once, lazily, from a fixed seed: the same catalog on every run and every machine.

What a model accepts follows OpenRouter's catalog (``supported_parameters``, ``architecture``), from the row's
flags plus these rules (``derived_flags``, ``_parameters``), checked against the real listings in
``shared/data/openrouter/``:

- ``structured_outputs`` (json_schema): OpenAI's gpt-4o family and newer (gpt-4o*, chatgpt-4o-latest, gpt-4.1*,
  gpt-4.5), the o-series except o1-mini, every Gemini, Claude 3.5 and newer, generated tool models >= 70B;
- file input: those OpenAI models that read images, Claude 3.5 and newer, every Gemini; audio input: Gemini 2.x
  (not the image-output models);
- ``logprobs``/``top_logprobs``: OpenAI's non-reasoning models; ``top_k``, ``repetition_penalty``, ``min_p``:
  every vendor but OpenAI and Anthropic; OpenAI's o-series takes no sampling parameters;
- ``tools`` with ``tool_choice``; ``reasoning`` with ``include_reasoning``.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from autodevai.sim.catalog_data import (
    FREE_VARIANTS,
    GENERATED_FAMILIES,
    GENERATED_VENDORS,
    KNOWN,
    VENDOR_NAMES,
    Row,
)

__all__ = [
    "CATALOG_SIZE",
    "Profile",
    "SimModel",
    "all_models",
    "catalog_models",
    "model_profile",
    "select_models",
]

CATALOG_SIZE = 400
_GENERATOR_SEED = 20_240_501  # fixed: the generated tail must be identical everywhere
_SIZES = (1, 3, 7, 8, 9, 12, 14, 22, 24, 27, 32, 34, 49, 70, 72, 110, 123, 235, 405)
_KINDS = ("instruct", "instruct", "instruct", "chat", "coder", "vision", "thinking")
_HOSTS = ("Together", "DeepInfra", "Fireworks", "Novita", "Lambda", "Nebius", "Parasail", "Chutes", "Groq",
          "Hyperbolic", "Featherless", "Cerebras")  # fmt: skip
_BASE_PARAMS = ("max_tokens", "temperature", "top_p", "stop", "frequency_penalty", "presence_penalty", "seed",
                "response_format")  # fmt: skip
_IMAGE_TOKENS = 1445  # an image costs about this many prompt tokens (OpenAI's price for a 1024px tile)
_STRUCTURED_SIZE = 70  # generated tool models this big (B parameters) or bigger take json_schema output
_OPENAI_STRUCTURED = re.compile(r"openai/(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|o(?!1-mini)[1-9])")
_CLAUDE_35_UP = re.compile(r"anthropic/claude-(3\.[5-9]|(sonnet|opus|haiku)-[4-9])")
_GEMINI_AUDIO = re.compile(r"google/gemini-2\.")


@dataclass(frozen=True, slots=True)
class Profile:
    """How a model behaves in the simulator: time to first token, output speed, chance of a right answer."""

    ttft_s: float
    tokens_per_s: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class SimModel:
    """One catalog model: prices (USD per token, floats), limits, profile and OpenRouter JSON object."""

    id: str
    provider_name: str
    price_prompt: float
    price_completion: float
    price_request: float
    context_length: int
    max_output: int | None
    free: bool
    profile: Profile
    entry: dict[str, Any]
    params: frozenset[str]  # ``supported_parameters``
    inputs: frozenset[str]  # ``architecture.input_modalities``
    outputs: frozenset[str]  # ``architecture.output_modalities``

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for one call with these token counts."""
        return prompt_tokens * self.price_prompt + completion_tokens * self.price_completion + self.price_request


def _per_token(per_million: float) -> str:
    """USD per million tokens -> OpenRouter's USD-per-token string ("0.0000025"), exact in decimal."""
    if per_million == 0:
        return "0"
    return format((Decimal(repr(per_million)) / 1_000_000).normalize(), "f")


def _tokenizer(model_id: str) -> str:
    vendor, _, rest = model_id.partition("/")
    if vendor == "openai":
        return "GPT"
    if vendor == "anthropic":
        return "Claude"
    if vendor == "google":
        return "Gemini"
    if vendor == "meta-llama" or "llama" in rest:
        return "Llama4" if "llama-4" in rest else "Llama3"
    if vendor == "qwen" or "qwen" in rest:
        return "Qwen3" if "qwen3" in rest else "Qwen"
    return {
        "mistralai": "Mistral",
        "deepseek": "DeepSeek",
        "cohere": "Cohere",
        "x-ai": "Grok",
        "amazon": "Nova",
    }.get(vendor, "Other")


def derived_flags(model_id: str, flags: str) -> str:
    """``flags`` plus what the module docstring's rules give a well-known model: ``s``, ``f``, ``a``."""
    openai_structured = _OPENAI_STRUCTURED.match(model_id) is not None
    claude = _CLAUDE_35_UP.match(model_id) is not None
    gemini = model_id.startswith("google/gemini-") and "i" not in flags  # image-output models read images only
    extra = ""
    if openai_structured or claude or gemini:
        extra += "s"
    if claude or gemini or (openai_structured and "v" in flags):
        extra += "f"
    if gemini and _GEMINI_AUDIO.match(model_id):
        extra += "a"
    return flags + "".join(f for f in extra if f not in flags)


def _parameters(row: Row) -> list[str]:
    vendor = row.id.split("/")[0]
    openai_reasoning = row.id.startswith("openai/o")
    # OpenAI's reasoning models take no sampling parameters
    params = ["max_tokens", "seed", "response_format"] if openai_reasoning else list(_BASE_PARAMS)
    if "t" in row.flags:
        params += ["tools", "tool_choice"]
    if "r" in row.flags:
        params += ["reasoning", "include_reasoning"]
    if "s" in row.flags:
        params.append("structured_outputs")
    if vendor == "openai" and not openai_reasoning:
        params += ["logprobs", "top_logprobs"]
    if vendor not in ("openai", "anthropic"):
        params += ["top_k", "repetition_penalty", "min_p"]
    return params


def _modalities(row: Row) -> tuple[list[str], list[str]]:
    inputs = ["text"] + [name for flag, name in (("v", "image"), ("f", "file"), ("a", "audio")) if flag in row.flags]
    return inputs, (["image", "text"] if "i" in row.flags else ["text"])


def _entry(row: Row, description: str) -> dict[str, Any]:
    vision = "v" in row.flags
    inputs, outputs = _modalities(row)
    image = _per_token(row.price_in * _IMAGE_TOKENS) if vision else "0"
    return {
        "id": row.id,
        "canonical_slug": row.id.split(":")[0],
        "hugging_face_id": None,
        "name": row.name,
        "created": row.created,
        "description": description,
        "context_length": row.context,
        "architecture": {
            "modality": "+".join(inputs) + "->" + "+".join(sorted(outputs, reverse=True)),
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": _tokenizer(row.id),
            "instruct_type": None,
        },
        "pricing": {
            "prompt": _per_token(row.price_in),
            "completion": _per_token(row.price_out),
            "request": _per_token(row.request * 1_000_000),
            "image": image,
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": row.context,
            "max_completion_tokens": row.max_out,
            "is_moderated": row.id.split("/")[0] in ("openai", "anthropic"),
        },
        "per_request_limits": None,
        "supported_parameters": _parameters(row),
    }


def _model(row: Row, description: str, provider_name: str) -> SimModel:
    entry = _entry(row, description)
    arch = entry["architecture"]
    return SimModel(
        id=row.id,
        provider_name=provider_name,
        price_prompt=float(Decimal(repr(row.price_in)) / 1_000_000),
        price_completion=float(Decimal(repr(row.price_out)) / 1_000_000),
        price_request=row.request,
        context_length=row.context,
        max_output=row.max_out,
        free=row.id.endswith(":free"),
        profile=Profile(row.ttft, row.tps, row.acc),
        entry=entry,
        params=frozenset(entry["supported_parameters"]),
        inputs=frozenset(arch["input_modalities"]),
        outputs=frozenset(arch["output_modalities"]),
    )


def _known() -> list[SimModel]:
    out = []
    rows = [r._replace(flags=derived_flags(r.id, r.flags)) for r in KNOWN]
    for row in rows:
        vendor = row.id.split("/")[0]
        host = VENDOR_NAMES.get(vendor, vendor.title())
        desc = f"{row.name}. Context window {row.context:,} tokens; public OpenRouter prices."
        out.append(_model(row, desc, host))
    by_id = {row.id: row for row in rows}
    for base in FREE_VARIANTS:
        row = by_id[base]
        free = row._replace(
            id=f"{row.id}:free", name=f"{row.name} (free)", price_in=0, price_out=0,
            ttft=round(row.ttft * 2, 3), tps=round(row.tps * 0.6, 1), request=0.0,
        )  # fmt: skip
        desc = f"{row.name}, free variant: 20 requests per minute, shared capacity."
        out.append(_model(free, desc, "Chutes"))
    return out


def _generated(count: int, taken: set[str]) -> list[SimModel]:
    rng = random.Random(_GENERATOR_SEED)
    out: list[SimModel] = []
    i = 0
    while len(out) < count:
        vendor = GENERATED_VENDORS[i % len(GENERATED_VENDORS)]
        i += 1
        family, size, kind = rng.choice(GENERATED_FAMILIES), rng.choice(_SIZES), rng.choice(_KINDS)
        version = rng.choice(("1", "1.5", "2", "2.5", "3", "3.1"))
        model_id = f"{vendor}/{family}-{version}-{size}b-{kind}"
        if model_id in taken:
            continue
        taken.add(model_id)
        thinking = kind == "thinking"
        price_in = round((0.01 + size * 0.0035) * rng.uniform(0.6, 1.8) * (1.5 if thinking else 1.0), 4)
        price_out = round(price_in * rng.uniform(1.2, 4.0), 4)
        acc = 0.35 + 0.55 * math.log(size) / math.log(500) + rng.uniform(-0.04, 0.04)
        acc += 0.05 if thinking else (-0.02 if kind == "coder" else 0.0)
        ttft = (0.15 + 0.004 * size**0.8) * rng.uniform(0.7, 1.4) * (4 if thinking else 1)
        tps = 320 / size**0.4 * rng.uniform(0.7, 1.3)
        context = rng.choice((8192, 16384, 32768, 32768, 65536, 131072, 131072, 262144))
        max_out = rng.choice((None, 4096, 8192, 16384))
        vendor_title = vendor.replace("-", " ").title()
        name = f"{vendor_title}: {family.title()} {version} {size}B {kind.title()}"
        flags = ("v" if kind == "vision" else "") + ("r" if thinking else "") + ("t" if size >= 24 else "")
        flags += "s" if size >= _STRUCTURED_SIZE and "t" in flags else ""
        row = Row(
            model_id, name, price_in, price_out, context, min(max_out, context) if max_out else None,
            rng.randint(1_690_000_000, 1_750_000_000), round(ttft, 3), round(tps, 1),
            round(min(0.97, max(0.2, acc)), 3), flags,
        )  # fmt: skip
        desc = f"A {size}B-parameter {kind} model from {vendor_title}, {family.title()} family. (simulated)"
        out.append(_model(row, desc, rng.choice(_HOSTS)))
    return out


@lru_cache(maxsize=1)
def all_models() -> dict[str, SimModel]:
    """Every catalog model by id, in catalog order (well-known first, then ``:free``, then generated)."""
    known = _known()
    taken = {m.id for m in known}
    return {m.id: m for m in known + _generated(CATALOG_SIZE - len(known), taken)}


def catalog_models() -> list[dict[str, Any]]:
    """The OpenRouter ``GET /models`` ``data`` list: fresh copies the caller may change."""
    return [copy.deepcopy(m.entry) for m in all_models().values()]


def model_profile(model_id: str) -> Profile:
    """The latency/accuracy profile of ``model_id``; raises ``KeyError`` for an id not in the catalog."""
    return all_models()[model_id].profile


def select_models(spec: int | list[str] | None) -> dict[str, SimModel]:
    """The models a server offers: all (None), the first ``spec`` (int), or the ids/globs listed.

    Raises ``ValueError`` when a listed id or glob matches no model.
    """
    models = all_models()
    if spec is None:
        return models
    if isinstance(spec, int):
        return dict(list(models.items())[: max(spec, 0)])
    chosen: dict[str, SimModel] = {}
    for pattern in spec:
        hits = [mid for mid in models if fnmatch.fnmatchcase(mid, pattern)]
        if not hits:
            raise ValueError(f"no simulator model matches {pattern!r}")
        for mid in hits:
            chosen[mid] = models[mid]
    return chosen
