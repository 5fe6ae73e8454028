"""The gateway token: the env var wins, else the keyring's (created once), else — without a keyring — a file in
the config dir that only its owner can read (0600 from its creation), and never in a message."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from autodevai.adapters.keyring_secrets import KeyringSecrets, MemoryKeyring
from autodevai.engine.errors import ConfigError, redact
from autodevai.gateway import token as token_module
from autodevai.gateway.token import ENV_VAR, get_or_create_token, token_file

SLOT = ("autodevai", "gateway-token")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(fail.Keyring())  # the autouse fixture restores the previous backend


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: a file created with open()'s default 0666 would be world-readable, so only an explicit mode passes."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
    assert not token_file().exists(), "with a keyring, no token file is written"
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and first.encode() in p.read_bytes()]


@posix_only
@pytest.mark.usefixtures("no_keyring", "open_umask")
def test_without_a_keyring_the_token_goes_to_a_private_file_and_is_reused() -> None:
    path = token_file()
    assert path.parent == Path(os.environ["AUTODEVAI_CONFIG_DIR"]) and not path.exists()
    first = get_or_create_token(KeyringSecrets())
    assert len(first) >= 40
    assert path.read_text().strip() == first
    assert _mode(path) == 0o600, oct(_mode(path))
    assert _mode(path.parent) & 0o077 == 0, "the config dir it creates is private too"
    assert get_or_create_token(KeyringSecrets()) == first, "the same token on the next start"
    assert redact(f"token {first}") == "token [REDACTED]"


@pytest.mark.usefixtures("no_keyring")
def test_env_var_wins_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = get_or_create_token(KeyringSecrets())
    monkeypatch.setenv(ENV_VAR, "token-from-the-environment")
    assert get_or_create_token(KeyringSecrets()) == "token-from-the-environment"
    assert token_file().read_text().strip() == from_file, "the file is left alone"


def test_the_keyring_wins_over_a_file(memory_keyring: MemoryKeyring) -> None:
    path = token_file()
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"token-from-an-old-file\n")
    os.close(fd)
    memory_keyring.store[SLOT] = "token-from-the-keyring"
    assert get_or_create_token(KeyringSecrets()) == "token-from-the-keyring"


@posix_only
@pytest.mark.usefixtures("no_keyring")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620], ids=lambda m: f"{m:04o}")
def test_a_file_others_may_read_or_change_is_refused(mode: int) -> None:
    path = token_file()
    path.parent.mkdir(parents=True)
    path.write_text("a-perfectly-long-token-value\n")
    path.chmod(mode)
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets())
    message = str(info.value)
    assert str(path) in message and f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert ENV_VAR in message
    assert "a-perfectly-long-token-value" not in message
    assert path.read_text() == "a-perfectly-long-token-value\n", "a refused file is never rewritten"
    path.chmod(0o600)
    assert get_or_create_token(KeyringSecrets()) == "a-perfectly-long-token-value", "fixed as the error says"


@pytest.mark.usefixtures("no_keyring")
def test_an_empty_file_is_refused_with_what_to_do() -> None:
    path = token_file()
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets())
    assert "empty" in str(info.value) and "delete it" in str(info.value)


@pytest.mark.usefixtures("no_keyring")
def test_a_file_created_by_another_process_first_is_never_overwritten() -> None:
    """Two starts at once: the second one's O_EXCL create fails, and it adopts the first one's token."""
    path = token_file()
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"the-first-process-token\n")
    os.close(fd)
    assert token_module._create_file(path, "the-second-process-token") == "the-first-process-token"
    assert path.read_text() == "the-first-process-token\n"


@pytest.mark.usefixtures("no_keyring")
def test_an_unwritable_config_dir_says_what_to_set(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config dir should be")
    with pytest.raises(ConfigError) as info:
        get_or_create_token(KeyringSecrets(), blocker / "gateway-token")
    assert "cannot be created" in str(info.value) and ENV_VAR in str(info.value)


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


def test_a_keyring_that_refuses_falls_back_to_the_file_without_leaking(caplog: pytest.LogCaptureFixture) -> None:
    backend = LeakyKeyring()
    keyring.set_keyring(backend)
    with caplog.at_level(logging.DEBUG):
        token = get_or_create_token(KeyringSecrets())
    assert backend.seen == [token], "the keyring was offered the token first"
    assert token_file().read_text().strip() == token
    assert all(token not in record.getMessage() for record in caplog.records)
