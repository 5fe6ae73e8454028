"""Settings: validation with readable errors, patches, TOML files, and compose's atomic save."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from autodevai.compose import save_settings_file
from autodevai.engine.errors import ConfigError
from autodevai.engine.settings import (
    ProviderSettings,
    Settings,
    apply_patch,
    load_settings,
    parse_settings,
    set_path,
    settings_to_toml,
)
from autodevai.engine.types import Preference


def provider(name: str, url: str = "http://127.0.0.1:9/v1", **kw: Any) -> dict[str, Any]:
    return {"name": name, "base_url": url, **kw}


def rich_settings() -> Settings:
    return parse_settings(
        {
            "providers": [
                provider("openrouter", "https://openrouter.ai/api/v1/", kind="openrouter", api_key_env="OR_KEY"),
                provider("local", "http://127.0.0.1:11434/v1", models=["llama3.1:8b"], rpm=60),
            ],
            "routing": {
                "default_preference": "quality",
                "weights": {"price": 0.5, "quality": 0.5, "latency": 0.0, "success": 0.0},
                "min_quality": 0.4,
                "allow_free": True,
                "chains": {"openai/gpt-4.1": ["anthropic/claude-3.5-sonnet", "openai/gpt-4o:free"]},
            },
            "budget": {"daily_usd": 5, "per_request_usd": 0.25},
            "resilience": {"deadline_s": 30, "breaker": {"min_calls": 3, "open_s": 12.5}},
            "quality_overrides": {"openai/gpt-4.1": 0.9, "local:llama3.1:8b": 0.6},
        }
    )


def config_error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_settings(data, "config.toml")
    return info.value


# ---- validation ----


def test_defaults_are_valid() -> None:
    s = Settings()
    assert parse_settings({}) == s
    assert s.providers == []
    assert s.routing.default_preference is Preference.BALANCED
    assert s.budget.daily_usd is None
    assert s.routing.allow_free is False


def test_unknown_top_level_key_is_named_with_a_suggestion() -> None:
    exc = config_error({"routng": {}})
    assert exc.field == "routng"
    assert "config.toml" in str(exc)
    assert "did you mean 'routing'?" in str(exc)


@pytest.mark.parametrize(
    ("data", "field", "suggestion"),
    [
        ({"budget": {"daly_usd": 1}}, "budget.daly_usd", "daily_usd"),
        ({"routing": {"weights": {"pricee": 1}}}, "routing.weights.pricee", "price"),
        ({"resilience": {"breaker": {"open_sec": 1}}}, "resilience.breaker.open_sec", "open_s"),
        ({"providers": [provider("a", nmae="x")]}, "providers.0.nmae", "name"),
    ],
)
def test_unknown_nested_key_is_named_with_a_suggestion(data: dict[str, Any], field: str, suggestion: str) -> None:
    exc = config_error(data)
    assert exc.field == field
    assert field in str(exc)
    assert f"did you mean {suggestion!r}?" in str(exc)


def test_negative_budget_is_refused() -> None:
    exc = config_error({"budget": {"daily_usd": -1}})
    assert exc.field == "budget.daily_usd"
    assert "greater than or equal to 0" in str(exc)


def test_duplicate_provider_names_are_refused() -> None:
    exc = config_error({"providers": [provider("sim"), provider("sim", "http://127.0.0.1:10/v1")]})
    assert "unique" in str(exc) and "sim" in str(exc)


@pytest.mark.parametrize("url", ["ftp://example.invalid", "127.0.0.1:8080/v1", "file:///etc/x"])
def test_base_url_must_be_http(url: str) -> None:
    exc = config_error({"providers": [provider("p", url)]})
    assert exc.field == "providers.0.base_url"


def test_base_url_trailing_slash_is_stripped() -> None:
    assert rich_settings().providers[0].base_url == "https://openrouter.ai/api/v1"


def test_all_zero_weights_are_refused() -> None:
    exc = config_error({"routing": {"weights": {"price": 0, "quality": 0, "latency": 0, "success": 0}}})
    assert "at least one routing weight must be positive" in str(exc)


# ---- patches ----


def test_apply_patch_deep_merges() -> None:
    before = rich_settings()
    after = apply_patch(before, {"routing": {"weights": {"latency": 0.3}}, "budget": {"monthly_usd": 50}})
    assert after.routing.weights.latency == 0.3
    assert after.routing.weights.price == 0.5  # siblings kept
    assert after.routing.min_quality == 0.4  # untouched sections kept
    assert after.budget.daily_usd == 5 and after.budget.monthly_usd == 50
    assert after.providers == before.providers
    assert before.routing.weights.latency == 0.0  # the original is a different, unchanged object


def test_apply_patch_error_leaves_the_original_untouched() -> None:
    before = rich_settings()
    snapshot = before.model_dump()
    with pytest.raises(ConfigError) as info:
        apply_patch(before, {"budget": {"daily_usd": 1}, "routing": {"fallbacks": 99}})
    assert info.value.field == "routing.fallbacks"
    assert before.model_dump() == snapshot


def test_set_path_sets_one_dotted_key() -> None:
    s = set_path(Settings(), "budget.daily_usd", 2.5)
    assert s.budget.daily_usd == 2.5
    s = set_path(s, "routing.default_preference", "cost")
    assert s.routing.default_preference is Preference.COST
    assert s.budget.daily_usd == 2.5


def test_set_path_unknown_key_says_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'daily_usd'"):
        set_path(Settings(), "budget.daly_usd", 1)


def test_set_path_takes_model_ids_with_dots_as_one_key() -> None:
    s = set_path(Settings(), "quality_overrides.openai/gpt-4.1", 0.9)
    assert s.quality_overrides == {"openai/gpt-4.1": 0.9}
    s = set_path(s, "routing.chains.meta-llama/llama-3.1-70b", ["openai/gpt-4.1-mini"])
    assert s.routing.chains == {"meta-llama/llama-3.1-70b": ["openai/gpt-4.1-mini"]}


# ---- files ----


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.toml") == Settings()


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[budget\ndaily_usd = ", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[budget]\ndaily_usd = 1 # caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert "UTF-8" in str(info.value)


def test_wrong_types_in_the_file_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[budget]\ndaily_usd = "five"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.field == "budget.daily_usd"
    assert str(path) in str(info.value)


def test_toml_round_trip_equals(tmp_path: Path) -> None:
    s = rich_settings()
    path = tmp_path / "config.toml"
    path.write_text(settings_to_toml(s), encoding="utf-8")
    assert load_settings(path) == s
    assert load_settings(path).quality_overrides["local:llama3.1:8b"] == 0.6


def test_defaults_round_trip() -> None:
    text = settings_to_toml(Settings())
    assert "daily_usd" not in text  # TOML has no null: None values are left out
    assert parse_settings(tomllib.loads(text)) == Settings()


# ---- compose.save_settings_file ----


def test_save_writes_a_file_load_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "config.toml"
    s = rich_settings()
    save_settings_file(path, s)
    assert load_settings(path) == s
    assert [p.name for p in tmp_path.glob("sub/dir/*")] == ["config.toml"]  # no temp file left behind


def test_save_leaves_out_ephemeral_providers(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    s = rich_settings()
    s = s.model_copy(update={"providers": [*s.providers, ProviderSettings(name="sim", base_url="http://127.0.0.1:1")]})
    save_settings_file(path, s, ephemeral={"sim"})
    loaded = load_settings(path)
    assert [p.name for p in loaded.providers] == ["openrouter", "local"]
    assert "sim" not in path.read_text(encoding="utf-8")
    assert [p.name for p in s.providers] == ["openrouter", "local", "sim"]  # the live settings keep it


def test_save_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_settings_file(path, rich_settings())
    save_settings_file(path, set_path(Settings(), "budget.daily_usd", 1.0))
    assert load_settings(path).budget.daily_usd == 1.0
    assert load_settings(path).providers == []


def test_failed_save_keeps_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()  # the rename onto a directory fails
    with pytest.raises(ConfigError, match="cannot write"):
        save_settings_file(path, rich_settings())
    assert path.is_dir()
    assert list(tmp_path.iterdir()) == [path]  # the temp file was removed
