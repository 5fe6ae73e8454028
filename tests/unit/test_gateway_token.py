"""The gateway token: the env var wins, else the keyring's (created once), never a file, never in a message."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from autodevai.adapters.keyring_secrets import KeyringSecrets, MemoryKeyring
from autodevai.engine.errors import ConfigError, redact
from autodevai.gateway.token import ENV_VAR, get_or_create_token

SLOT = ("autodevai", "gateway-token")


def test_env_var_wins_over_the_keyring(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    memory_keyring.store[SLOT] = "token-from-the-keyring"
    monkeypatch.setenv(ENV_VAR, "  token-from-the-environment\n")
    assert get_or_create_token(KeyringSecrets()) == "token-from-the-environment"
    assert memory_keyring.store[SLOT] == "token-from-the-keyring", "the keyring entry is left alone"


def test_created_once_in_the_keyring_then_reused(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    first = get_or_create_token(KeyringSecrets())
    assert len(first) >= 40  # token_urlsafe(32): 256 random bits
    assert memory_keyring.store[SLOT] == first
    assert get_or_create_token(KeyringSecrets()) == first
    assert redact(f"Authorization: token {first}") == "Authorization: token [REDACTED]"
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and first.encode() in p.read_bytes()]


def test_no_keyring_and_no_env_var_says_what_to_set() -> None:
    keyring.set_keyring(fail.Keyring())  # the autouse fixture restores the previous backend
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets())
    assert ENV_VAR in str(info.value)
    assert "never writes" in str(info.value)


def test_too_short_env_var_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "abc12")
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets())
    assert "abc12" not in str(info.value) and ENV_VAR in str(info.value)


class LeakyKeyring(keyring.backend.KeyringBackend):
    """A backend that refuses to store and quotes the secret in its error (some real backends do)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.seen.append(password)
        raise keyring.errors.PasswordSetError(f"cannot store {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        return None


def test_token_never_appears_in_the_error() -> None:
    backend = LeakyKeyring()
    keyring.set_keyring(backend)
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets())
    assert backend.seen, "a token was generated and offered to the keyring"
    token = backend.seen[0]
    for text in (str(info.value), repr(info.value), info.value.message, str(info.value.__cause__)):
        assert token not in text
    assert ENV_VAR in str(info.value)
