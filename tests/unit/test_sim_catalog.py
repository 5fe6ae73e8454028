"""The simulator's catalog: size, OpenRouter shape, real prices for well-known models, profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autodevai.sim import catalog_models, model_profile
from autodevai.sim.catalog import all_models, select_models


def test_catalog_has_hundreds_of_models_from_sixty_vendors() -> None:
    models = catalog_models()
    assert len(models) >= 300
    assert len({m["id"] for m in models}) == len(models)
    assert len({m["id"].split("/")[0] for m in models}) >= 60


@pytest.mark.parametrize(
    ("model_id", "prompt", "completion", "context"),
    [
        ("openai/gpt-4o", "0.0000025", "0.00001", 128000),
        ("openai/gpt-4o-mini", "0.00000015", "0.0000006", 128000),
        ("openai/gpt-4.1", "0.000002", "0.000008", 1047576),
        ("openai/o3-mini", "0.0000011", "0.0000044", 200000),
        ("anthropic/claude-3.7-sonnet", "0.000003", "0.000015", 200000),
        ("anthropic/claude-3.5-haiku", "0.0000008", "0.000004", 200000),
        ("google/gemini-1.5-pro", "0.00000125", "0.000005", 2000000),
        ("deepseek/deepseek-r1", "0.00000055", "0.00000219", 163840),
        ("meta-llama/llama-3.1-8b-instruct:free", "0", "0", 131072),
    ],
)
def test_well_known_models_carry_public_prices_as_strings(
    model_id: str, prompt: str, completion: str, context: int
) -> None:
    entry = next(m for m in catalog_models() if m["id"] == model_id)
    assert entry["pricing"]["prompt"] == prompt and entry["pricing"]["completion"] == completion
    assert entry["context_length"] == context
    assert "(simulated)" not in entry["description"]


def test_prices_are_plain_decimal_strings_never_exponents() -> None:
    for m in catalog_models():
        for value in m["pricing"].values():
            assert "e" not in value.lower() and Decimal(value) >= 0


def test_generated_models_are_marked_and_deterministic() -> None:
    generated = [m for m in catalog_models() if "(simulated)" in m["description"]]
    assert len(generated) >= 100
    assert generated == [m for m in catalog_models() if "(simulated)" in m["description"]]


def test_catalog_models_returns_copies_the_caller_may_change() -> None:
    first = catalog_models()
    first[0]["pricing"]["prompt"] = "999"
    assert catalog_models()[0]["pricing"]["prompt"] != "999"


def test_profiles_rank_models_like_public_benchmarks() -> None:
    big, small = model_profile("openai/gpt-4o"), model_profile("meta-llama/llama-3.2-1b-instruct")
    assert big.accuracy > small.accuracy and small.tokens_per_s > big.tokens_per_s
    assert model_profile("deepseek/deepseek-r1").ttft_s > model_profile("openai/gpt-4o-mini").ttft_s
    free = model_profile("meta-llama/llama-3.3-70b-instruct:free")
    assert free.accuracy == model_profile("meta-llama/llama-3.3-70b-instruct").accuracy
    for m in all_models().values():
        assert 0 < m.profile.accuracy < 1 and m.profile.ttft_s > 0 and m.profile.tokens_per_s > 0
    with pytest.raises(KeyError):
        model_profile("nobody/nothing")


def test_select_models_by_count_and_glob() -> None:
    assert len(select_models(10)) == 10
    picked = select_models(["anthropic/*", "openai/gpt-4o"])
    assert "openai/gpt-4o" in picked and all(k.startswith("anthropic/") or k == "openai/gpt-4o" for k in picked)
    with pytest.raises(ValueError, match="no simulator model"):
        select_models(["nobody/*"])
