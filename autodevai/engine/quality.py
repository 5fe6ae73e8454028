"""Quality priors: how good a model is expected to be before we have measured anything about it.

``QUALITY_PRIOR`` is a shipped table of coarse priors in 0..1 for well-known model ids. The values are
normalized from public leaderboard standings (chat-arena style Elo and broad benchmarks such as MMLU-Pro /
GPQA as published by the vendors and independent leaderboards, early 2025), rounded to two decimals: they
order models roughly, they do not measure them. Users override any value with ``quality_overrides`` in the
settings; routing only ever reads the catalog's ``ModelInfo.quality``.

A catalog that publishes a benchmark wins over the table: OpenRouter's 2026 ``/models`` carries Artificial
Analysis' Intelligence Index per model, and ``quality_from_index`` maps it onto the same 0..1 scale (fitted to
the table's models that have an index, so old and new models compare: index 7 -> 0.77, 26 -> 0.94, 63 -> 0.99).
A table written in early 2025 cannot know a model released later; the catalog's own numbers can.

``quality_prior`` looks a model id up in the table (also with a ``:free`` / ``:nitro`` / ... variant suffix,
a date or version tag such as ``-2024-08-06``, or without the vendor prefix, as plain OpenAI servers name
models), and otherwise falls back to a heuristic from the model's output price tier (see ``_PRICE_TIERS``).
"""

from __future__ import annotations

import math
import re

__all__ = ["QUALITY_PRIOR", "quality_from_index", "quality_prior"]

QUALITY_PRIOR: dict[str, float] = {
    # OpenAI
    "openai/o3": 0.95,
    "openai/o1": 0.92,
    "openai/o4-mini": 0.91,
    "openai/gpt-4.1": 0.89,
    "openai/o3-mini": 0.88,
    "openai/gpt-4o": 0.86,
    "openai/gpt-4.1-mini": 0.82,
    "openai/o1-mini": 0.82,
    "openai/gpt-4-turbo": 0.81,
    "openai/gpt-4o-mini": 0.74,
    "openai/gpt-4.1-nano": 0.68,
    "openai/gpt-3.5-turbo": 0.55,
    # Anthropic
    "anthropic/claude-opus-4": 0.95,
    "anthropic/claude-sonnet-4": 0.93,
    "anthropic/claude-3.7-sonnet": 0.91,
    "anthropic/claude-3.5-sonnet": 0.88,
    "anthropic/claude-3-opus": 0.84,
    "anthropic/claude-3.5-haiku": 0.74,
    "anthropic/claude-3-haiku": 0.62,
    # Google
    "google/gemini-2.5-pro": 0.96,
    "google/gemini-2.5-flash": 0.89,
    "google/gemini-1.5-pro": 0.84,
    "google/gemini-2.0-flash-001": 0.83,
    "google/gemini-2.0-flash-lite-001": 0.76,
    "google/gemini-1.5-flash": 0.72,
    "google/gemma-3-27b-it": 0.72,
    "google/gemma-2-9b-it": 0.55,
    # Meta
    "meta-llama/llama-3.1-405b-instruct": 0.80,
    "meta-llama/llama-4-maverick": 0.80,
    "meta-llama/llama-3.3-70b-instruct": 0.76,
    "meta-llama/llama-3.1-70b-instruct": 0.72,
    "meta-llama/llama-4-scout": 0.72,
    "meta-llama/llama-3.1-8b-instruct": 0.52,
    "meta-llama/llama-3.2-3b-instruct": 0.40,
    "meta-llama/llama-3.2-1b-instruct": 0.28,
    # Mistral
    "mistralai/mistral-large": 0.78,
    "mistralai/codestral-2501": 0.70,
    "mistralai/mistral-small-3.1-24b-instruct": 0.70,
    "mistralai/mistral-small": 0.64,
    "mistralai/mistral-nemo": 0.55,
    "mistralai/mixtral-8x7b-instruct": 0.52,
    "mistralai/mistral-7b-instruct": 0.40,
    # DeepSeek
    "deepseek/deepseek-r1": 0.91,
    "deepseek/deepseek-chat": 0.87,
    "deepseek/deepseek-r1-distill-llama-70b": 0.78,
    # Qwen
    "qwen/qwq-32b": 0.82,
    "qwen/qwen-2.5-72b-instruct": 0.80,
    "qwen/qwen-2.5-coder-32b-instruct": 0.74,
    "qwen/qwen-2.5-7b-instruct": 0.55,
    # Others
    "x-ai/grok-3": 0.90,
    "x-ai/grok-2-1212": 0.80,
    "amazon/nova-pro-v1": 0.74,
    "amazon/nova-lite-v1": 0.65,
    "amazon/nova-micro-v1": 0.55,
    "cohere/command-r-plus": 0.68,
    "cohere/command-r": 0.58,
    "microsoft/phi-4": 0.66,
}

# Without the vendor prefix ("gpt-4o" as api.openai.com names it); first entry wins on a clash.
_BY_BARE_NAME: dict[str, float] = {}
for _id, _q in QUALITY_PRIOR.items():
    _BY_BARE_NAME.setdefault(_id.rsplit("/", 1)[-1], _q)

# A trailing date or version tag: -2024-08-06, -2411, -20241022, -latest, -preview.
_VERSION_TAG = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest|preview)$")

# Heuristic when the table does not know a model: (minimum USD per million output tokens, prior).
# Price roughly tracks model size and standing; free/local models (price 0) get a modest, not a bad, prior.
_PRICE_TIERS: tuple[tuple[float, float], ...] = (
    (30.0, 0.82),
    (10.0, 0.78),
    (2.0, 0.70),
    (0.5, 0.62),
    (0.0000001, 0.52),
    (0.0, 0.45),
)
_SMALL_CONTEXT = 8192  # windows below this are mostly small or old models
_SMALL_CONTEXT_PENALTY = 0.05


def _lookup(model_id: str) -> float | None:
    base = model_id.split(":", 1)[0] if "/" in model_id else model_id  # "x/y:free" -> "x/y"; keep "llama3:8b"
    for candidate in (base, _VERSION_TAG.sub("", base)):
        if candidate in QUALITY_PRIOR:
            return QUALITY_PRIOR[candidate]
        bare = candidate.rsplit("/", 1)[-1]
        if "/" not in candidate and bare in _BY_BARE_NAME:
            return _BY_BARE_NAME[bare]
    return None


def quality_prior(model_id: str, price_out: float, context_length: int) -> float:
    """The prior quality (0..1) of ``model_id``: the table value if known, else a price-tier heuristic.

    ``price_out`` is USD per output token (as in ``ModelInfo``). Heuristic: the tier of ``_PRICE_TIERS`` that
    the price per million output tokens reaches, minus 0.05 for a context window under 8,192 tokens.
    """
    known = _lookup(model_id)
    if known is not None:
        return known
    per_million = price_out * 1_000_000.0
    prior = _PRICE_TIERS[-1][1]
    for floor, value in _PRICE_TIERS:
        if per_million >= floor:
            prior = value
            break
    if context_length < _SMALL_CONTEXT:
        prior -= _SMALL_CONTEXT_PENALTY
    return round(max(0.0, min(1.0, prior)), 2)


def quality_from_index(index: float) -> float:
    """Quality (0..1) from an Artificial Analysis Intelligence Index (about 0..70): ``0.99 - 0.4 e^(-index/12)``,
    a saturating curve through the table's values for the models that have both."""
    return round(max(0.0, min(1.0, 0.99 - 0.4 * math.exp(-max(0.0, index) / 12.0))), 3)
