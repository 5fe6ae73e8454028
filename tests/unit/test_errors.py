"""The error hierarchy as a user meets it: redaction of keys, hints in str(), "did you mean", attempts listed."""

from __future__ import annotations

import secrets

import pytest

from autodevai.engine import errors as E
from autodevai.engine.errors import (
    Attempt,
    AuthRejected,
    ConfigError,
    EngineError,
    NoRouteAvailable,
    ProviderUnavailable,
    redact,
    register_secret,
)


def fake_key(prefix: str) -> str:
    """A clearly fake, key-shaped canary built at runtime (never a real key in the file)."""
    return prefix + secrets.token_hex(16)


def canary() -> str:
    """A registered secret with no key shape, unique per test so the module-global registry stays harmless."""
    value = "canary" + secrets.token_hex(8)
    register_secret(value)
    return value


@pytest.mark.parametrize("prefix", ["sk-or-v1-", "sk-proj-", "sk-"])
def test_redact_removes_key_shaped_strings(prefix: str) -> None:
    key = fake_key(prefix)
    text = f"upstream said: invalid key {key}, check it"
    out = redact(text)
    assert key not in out
    assert key[len(prefix) :] not in out
    assert out == "upstream said: invalid key [REDACTED], check it"


def test_redact_removes_bearer_tokens_of_any_shape() -> None:
    token = "tok" + secrets.token_hex(12)
    out = redact(f"Authorization: Bearer {token}")
    assert token not in out
    assert out == "Authorization: Bearer [REDACTED]"


def test_redact_removes_registered_secrets_whatever_their_shape() -> None:
    value = canary()
    assert redact(f"key={value};") == "key=[REDACTED];"


def test_redact_never_leaves_part_of_a_longer_secret() -> None:
    short = canary()
    longer = short + "tail" + secrets.token_hex(4)
    register_secret(longer)
    out = redact(f"got {longer}")
    assert out == "got [REDACTED]"


@pytest.mark.parametrize(
    "text",
    [
        "the model openai/gpt-4o answered in 1.2 s",
        "risk-assessment-model is not in the catalog",
        "disk-encryption-settings were skipped",
        "ask-the-expert-workflow finished",
        "sk-short",  # too short to be a key
        "",
    ],
)
def test_redact_leaves_normal_text_alone(text: str) -> None:
    assert redact(text) == text


def test_short_values_are_not_registered_as_secrets() -> None:
    register_secret("abc")  # would otherwise blank out every "abc" in every message
    assert redact("abc def") == "abc def"


def test_engine_error_str_carries_the_hint() -> None:
    exc = EngineError("it broke", hint="do this")
    assert str(exc) == "it broke — do this"
    assert exc.message == "it broke"


def test_class_hints_show_in_str() -> None:
    exc = AuthRejected("401 from openrouter", provider="openrouter", status=401)
    assert str(exc).startswith("401 from openrouter — ")
    assert "autodevai config key" in str(exc)
    assert exc.retryable is False and exc.status == 401 and exc.provider == "openrouter"
    assert ProviderUnavailable("down", provider="sim").retryable is True


def test_error_without_hint_is_just_the_message() -> None:
    assert str(EngineError("plain")) == "plain"


def test_engine_error_never_shows_a_secret_passed_in_its_message() -> None:
    key = fake_key("sk-or-v1-")
    value = canary()
    exc = ProviderUnavailable(f"failed with key {key} and {value}", provider="openrouter")
    for text in (str(exc), repr(exc), exc.message, str(exc.args)):
        assert key not in text
        assert value not in text
    assert "[REDACTED]" in str(exc)


def test_secret_registered_after_the_error_is_still_hidden_by_str() -> None:
    late = "late" + secrets.token_hex(8)
    exc = EngineError(f"saw {late}")
    register_secret(late)
    assert late not in str(exc)


def test_secret_in_a_hint_is_hidden() -> None:
    value = canary()
    exc = EngineError("bad key", hint=f"replace {value} in the keyring")
    assert value not in str(exc)
    assert str(exc) == "bad key — replace [REDACTED] in the keyring"


def test_config_error_suggests_the_closest_valid_key() -> None:
    exc = ConfigError("unknown key", field="budget.daly_usd", valid=["daily_usd", "monthly_usd", "total_usd"])
    assert "did you mean 'daily_usd'?" in str(exc)
    assert exc.field == "budget.daly_usd"
    assert "autodevai config set" in str(exc)  # the class hint says how to fix it


def test_config_error_without_close_match_makes_no_suggestion() -> None:
    exc = ConfigError("unknown key", field="zzzz", valid=["daily_usd", "monthly_usd"])
    assert "did you mean" not in str(exc)


def test_no_route_available_lists_every_attempt() -> None:
    attempts = [
        Attempt("openrouter", "acme/big", "ProviderUnavailable", "503 no provider"),
        Attempt("sim", "acme/small", "RateLimited"),
    ]
    exc = NoRouteAvailable("no model could answer", attempts=attempts)
    text = str(exc)
    assert text.splitlines()[0] == "no model could answer"
    lines = text.splitlines()
    assert lines[1] == "  openrouter/acme/big: ProviderUnavailable 503 no provider"
    assert lines[2].startswith("  sim/acme/small: RateLimited")
    assert exc.attempts == tuple(attempts)
    assert "autodevai status" in text


def test_storage_error_hint_depends_on_who_is_at_fault() -> None:
    assert "disk space" in str(E.StorageError("disk full", environment=True))
    assert "bug" in str(E.StorageError("constraint failed", environment=False))


def test_error_class_is_the_class_name() -> None:
    assert E.error_class(E.RateLimited("slow down", provider="x", retry_after=2.0)) == "RateLimited"
