"""The catalog: priors and overrides, lookups, filtered/sorted queries, "did you mean", the disk cache."""

from __future__ import annotations

import json

import pytest

from autodevai.engine.catalog import Catalog
from autodevai.engine.quality import QUALITY_PRIOR, quality_prior
from autodevai.engine.types import ModelInfo, ModelRef

M = 1e-6  # USD per token for $1 per million tokens


def _models() -> list[ModelInfo]:
    return [
        ModelInfo(
            id="openai/gpt-4o",
            provider="sim",
            name="GPT-4o",
            context_length=128_000,
            price_in=2.5 * M,
            price_out=10 * M,
            input_modalities=("text", "image"),
        ),
        ModelInfo(id="openai/gpt-4o-mini", provider="sim", name="GPT-4o mini", price_in=0.15 * M, price_out=0.6 * M),
        ModelInfo(
            id="anthropic/claude-3.5-sonnet",
            provider="sim",
            name="Claude 3.5 Sonnet",
            context_length=200_000,
            price_in=3 * M,
            price_out=15 * M,
            description="Anthropic's strong coding model",
        ),
        ModelInfo(id="meta-llama/llama-3.3-70b-instruct:free", provider="openrouter", context_length=65_536),
        ModelInfo(id="openai/gpt-4o", provider="openrouter", context_length=128_000, price_in=2.5 * M),
        ModelInfo(id="acme/unknown-model", provider="sim", context_length=4096, price_in=1 * M, price_out=3 * M),
    ]


def _find(cat: Catalog, model_id: str, provider: str | None = None) -> ModelInfo:
    found = cat.find(model_id, provider)
    assert found is not None, model_id
    return found


def test_priors_are_applied_from_the_table_and_overrides_win() -> None:
    cat = Catalog(_models(), quality_overrides={"openai/gpt-4o-mini": 0.99, "openrouter:openai/gpt-4o": 0.1})
    assert _find(cat, "openai/gpt-4o", "sim").quality == QUALITY_PRIOR["openai/gpt-4o"]
    assert _find(cat, "openai/gpt-4o-mini").quality == 0.99
    assert _find(cat, "openai/gpt-4o", "openrouter").quality == 0.1
    # ":free" suffix stripped for the table lookup
    free = cat.find("meta-llama/llama-3.3-70b-instruct:free")
    assert free is not None and free.quality == QUALITY_PRIOR["meta-llama/llama-3.3-70b-instruct"]
    # vendor derived from the id
    assert _find(cat, "anthropic/claude-3.5-sonnet").vendor == "anthropic"
    # an explicit, non-default quality from the caller is kept
    own = Catalog([ModelInfo(id="openai/gpt-4o", provider="x", quality=0.42)])
    assert own.all()[0].quality == 0.42


def test_quality_prior_heuristic_follows_price_tiers() -> None:
    assert quality_prior("openai/gpt-4o-2024-08-06", 0.0, 128_000) == QUALITY_PRIOR["openai/gpt-4o"]
    assert quality_prior("gpt-4o-mini", 0.0, 128_000) == QUALITY_PRIOR["openai/gpt-4o-mini"]  # no vendor prefix
    assert quality_prior("deepseek/deepseek-r1:nitro", 0.0, 64_000) == QUALITY_PRIOR["deepseek/deepseek-r1"]
    expensive = quality_prior("acme/big", 60 * M, 128_000)
    mid = quality_prior("acme/mid", 3 * M, 128_000)
    cheap = quality_prior("acme/small", 0.1 * M, 128_000)
    local = quality_prior("llama3:8b", 0.0, 8192)
    assert expensive > mid > cheap > local > 0
    assert quality_prior("acme/small", 0.1 * M, 2048) < cheap  # tiny window: lower prior
    assert len(QUALITY_PRIOR) >= 40 and all(0 < q <= 1 for q in QUALITY_PRIOR.values())


def test_lookups_by_ref_and_id_with_first_provider_winning() -> None:
    cat = Catalog(_models())
    assert len(cat) == 6
    assert _find(cat, "openai/gpt-4o").provider == "sim"
    assert cat.get(ModelRef("openrouter", "openai/gpt-4o")) is not None
    assert cat.get(ModelRef("nowhere", "openai/gpt-4o")) is None
    assert cat.find("nope/nothing") is None
    assert cat.vendors() == ["acme", "anthropic", "meta-llama", "openai"]


def test_replace_bumps_version_and_swaps_models() -> None:
    cat = Catalog(_models())
    v = cat.version
    cat.replace(_models()[:2])
    assert cat.version > v
    assert [m.id for m in cat.all()] == ["openai/gpt-4o", "openai/gpt-4o-mini"]


def test_query_filters() -> None:
    cat = Catalog(_models())
    assert {m.id for m in cat.query(vendor="OpenAI")} == {"openai/gpt-4o", "openai/gpt-4o-mini"}
    assert [m.provider for m in cat.query(provider="openrouter")] == ["openrouter", "openrouter"]
    assert [m.id for m in cat.query(text="coding")] == ["anthropic/claude-3.5-sonnet"]  # description
    assert [m.id for m in cat.query(text="sonnet")] == ["anthropic/claude-3.5-sonnet"]
    assert [m.id for m in cat.query(modality="image")] == ["openai/gpt-4o"]
    assert [m.id for m in cat.query(free_only=True)] == ["meta-llama/llama-3.3-70b-instruct:free"]
    cheap = cat.query(max_price_out=1 * M)
    assert all(m.price_out <= 1 * M for m in cheap) and "openai/gpt-4o-mini" in {m.id for m in cheap}
    assert {m.id for m in cat.query(min_context=150_000)} == {"anthropic/claude-3.5-sonnet"}
    assert {m.id for m in cat.query(max_price_in=0.2 * M, provider="sim")} == {"openai/gpt-4o-mini"}


def test_query_sorting_and_limit() -> None:
    cat = Catalog(_models())
    by_price = cat.query(sort="price_out", descending=True, limit=2)
    assert [m.id for m in by_price] == ["anthropic/claude-3.5-sonnet", "openai/gpt-4o"]
    by_context = [m.context_length for m in cat.query(sort="context")]
    assert by_context == sorted(by_context)
    by_quality = [m.quality for m in cat.query(sort="quality", descending=True)]
    assert by_quality == sorted(by_quality, reverse=True)
    assert [m.id for m in cat.query(sort="id")] == sorted(m.id for m in cat.all())


def test_unknown_sort_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="price_out") as err:
        Catalog(_models()).query(sort="cheapness")
    assert "cheapness" in str(err.value)


def test_suggest_finds_close_ids() -> None:
    cat = Catalog(_models())
    assert cat.suggest("openai/gpt-4o-mni")[0] == "openai/gpt-4o-mini"
    assert cat.suggest("gpt4o")[0].startswith("openai/gpt-4o")
    assert "anthropic/claude-3.5-sonnet" in cat.suggest("claude-3.5-sonet")
    assert cat.suggest("zzzzzzzz") == []
    assert len(cat.suggest("gpt", n=2)) <= 2


def test_disk_cache_round_trip() -> None:
    models = Catalog(_models()).all()
    rows = Catalog.to_dicts(models)
    text = json.dumps(rows)  # what the store writes
    back = Catalog.from_dicts(json.loads(text))
    assert back == models
    # a row from an older, incompatible format is skipped rather than failing the start
    assert Catalog.from_dicts([{"id": "x"}, rows[0]]) == models[:1]
    # loading the cache into a new catalog keeps the qualities it had
    assert [m.quality for m in Catalog(back).all()] == [m.quality for m in models]
