"""KeyringSecrets: keyring first, env var second, no keyring means env only and never a key file."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import chainer, fail

from autodevai.adapters.keyring_secrets import SERVICE, KeyringSecrets
from autodevai.engine.errors import ConfigError, redact
from tests.conftest import MemoryKeyring


def fake_key() -> str:
    return "sk-or-v1-" + secrets.token_hex(32)


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that fails the way a locked D-Bus keyring does, echoing the secret in its error."""

    priority = -1  # below zero: keyring itself never picks or chains it

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked(f"locked while reading {service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"could not store {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_set_then_get_uses_the_keyring_under_service_autodevai(memory_keyring: MemoryKeyring) -> None:
    store = KeyringSecrets()
    key = fake_key()
    store.set("openrouter", key + "\n")  # a pasted key with a newline is stored without it
    assert memory_keyring.store == {(SERVICE, "openrouter"): key}
    assert store.get("openrouter") == key
    assert store.available() is True
    assert store.describe().startswith("keyring: ")
    store.delete("openrouter")
    store.delete("openrouter")  # deleting twice is fine
    assert store.get("openrouter") is None


def test_keyring_wins_over_env_and_env_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyringSecrets()
    env_key, ring_key = fake_key(), fake_key()
    monkeypatch.setenv("OPENROUTER_API_KEY", env_key)
    assert store.get("openrouter") == env_key
    store.set("openrouter", ring_key)
    assert store.get("openrouter") == ring_key
    monkeypatch.setenv("OPENAI_API_KEY", "  " + env_key + "  ")
    assert store.get("openai") == env_key
    monkeypatch.setenv("MY_LOCAL_KEY", "local-token-1234")
    assert store.get("local") is None  # no default variable for an unknown provider
    assert store.get("local", env_var="MY_LOCAL_KEY") == "local-token-1234"


def test_every_returned_key_is_redacted_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = "tok" + secrets.token_hex(12)  # not key-shaped: only registration can redact it
    monkeypatch.setenv("WEIRD_KEY", odd)
    assert KeyringSecrets().get("weird", env_var="WEIRD_KEY") == odd
    assert odd not in redact(f"request failed with key {odd}")


def test_without_a_keyring_keys_come_from_env_and_set_refuses(
    no_keyring: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyringSecrets()
    key = fake_key()
    assert store.available() is False
    assert store.describe() == "no OS keyring available: keys come from environment variables"
    assert store.get("openrouter") is None
    monkeypatch.setenv("OPENROUTER_API_KEY", key)
    assert store.get("openrouter") == key

    other = fake_key()
    with pytest.raises(ConfigError) as info:
        store.set("openrouter", other)
    text = str(info.value)
    assert "no OS keyring" in text and "OPENROUTER_API_KEY" in text
    assert other not in text
    store.delete("openrouter")  # nothing stored, nothing to do
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(other not in p.read_text(errors="replace") for p in written)


def test_a_chainer_with_nothing_to_chain_counts_as_no_keyring() -> None:
    class EmptyChainer(chainer.ChainerBackend):
        """What keyring builds on a headless Linux box: a chainer over zero backends."""

        priority = -1
        backends: list[keyring.backend.KeyringBackend] = []  # noqa: RUF012  # read-only stand-in

    previous = keyring.get_keyring()
    keyring.set_keyring(EmptyChainer())
    try:
        store = KeyringSecrets()
        assert store.available() is False
        assert "environment variables" in store.describe()
        with pytest.raises(ConfigError, match="no OS keyring"):
            store.set("openrouter", fake_key())
    finally:
        keyring.set_keyring(previous)


def test_a_failing_backend_never_leaks_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        store = KeyringSecrets()
        env_key, new_key = fake_key(), fake_key()
        monkeypatch.setenv("OPENAI_API_KEY", env_key)
        with caplog.at_level(logging.WARNING):
            assert store.get("openai") == env_key  # a locked keyring falls back to the env var
        assert "could not be read" in caplog.text
        with pytest.raises(ConfigError) as info:
            store.set("openai", new_key)
        assert new_key not in str(info.value) and "OPENAI_API_KEY" in str(info.value)
        with pytest.raises(ConfigError, match="refused to delete"):
            store.delete("openai")
        assert new_key not in caplog.text and env_key not in caplog.text
    finally:
        keyring.set_keyring(previous)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        KeyringSecrets().set("openrouter", "   ")


def test_the_memory_backend_is_never_auto_detected() -> None:
    """Importing the adapter must not make keyring pick the in-memory backend on a machine with no OS keyring
    (a key stored there would be lost at exit while the CLI said it was saved)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    code = (
        "import keyring, autodevai.adapters.keyring_secrets as k;"
        "print(type(keyring.get_keyring()).__name__, k.KeyringSecrets().describe())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert "MemoryKeyring" not in out
