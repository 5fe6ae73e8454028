"""KeyringSecrets: API keys in the OS keyring (service ``autodevai``, username = provider), env vars second.

``get`` asks the keyring first, then the environment variable. Every key it returns is registered with
``errors.register_secret`` so that ``redact`` removes it from any later log line or error message, whatever
its shape. Without a usable keyring (keyring's ``fail`` or ``null`` backend, a chainer with nothing to chain,
or a backend that raises) keys come from environment variables only, and ``set`` refuses with a
``ConfigError``: a key is never written to a plain file. Backend errors are wrapped and redacted; a key never
appears in a message.
"""

from __future__ import annotations

import logging
import os

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null

from autodevai.engine.errors import ConfigError, redact, register_secret

__all__ = ["DEFAULT_ENV_VARS", "SERVICE", "KeyringSecrets"]

log = logging.getLogger(__name__)

SERVICE = "autodevai"
DEFAULT_ENV_VARS: dict[str, str] = {
    "openrouter": "OPENROUTER_API_KEY",
    "openai": "OPENAI_API_KEY",
}


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    if isinstance(backend, chainer.ChainerBackend):
        return "chainer of " + ", ".join(str(b.name) for b in backend.backends)
    return str(backend.name)


class KeyringSecrets:
    """The ``SecretStore`` port. ``env_vars`` maps provider names to their env var (``DEFAULT_ENV_VARS``)."""

    def __init__(self, env_vars: dict[str, str] | None = None) -> None:
        self._env_vars = dict(DEFAULT_ENV_VARS if env_vars is None else env_vars)

    @staticmethod
    def _backend() -> keyring.backend.KeyringBackend:
        # Looked up on every call: keyring.set_keyring (tests, the user's keyringrc) takes effect at once.
        return keyring.get_keyring()

    def available(self) -> bool:
        """True when an OS keyring can store keys."""
        return _usable(self._backend())

    def env_var(self, provider: str) -> str | None:
        """The environment variable that holds ``provider``'s key by default, if there is one."""
        return self._env_vars.get(provider)

    def source(self, provider: str, env_var: str | None = None) -> str:
        """Where ``provider``'s key would come from: "keyring", "env VAR" or "none" (never the key itself)."""
        secret = self.get(provider, env_var)
        if secret is None:
            return "none"
        var = env_var or self._env_vars.get(provider)
        if var and os.environ.get(var, "").strip() == secret:
            return f"env {var}"
        return "keyring"

    def get(self, provider: str, env_var: str | None = None) -> str | None:
        """``provider``'s key from the keyring, else from ``env_var`` (default: the provider's usual
        variable). None when neither has one; a broken keyring is logged and skipped, never raised."""
        backend = self._backend()
        secret: str | None = None
        if _usable(backend):
            try:
                secret = backend.get_password(SERVICE, provider)
            except Exception as exc:  # backends raise their own types (D-Bus, Security framework): all mean "no key"
                log.warning(
                    "the keyring could not be read (%s); using the environment variable for %s",
                    redact(f"{type(exc).__name__}: {exc}"),
                    provider,
                )
        if not secret:
            var = env_var or self._env_vars.get(provider)
            secret = os.environ.get(var, "").strip() if var else None
        if not secret:
            return None
        register_secret(secret)
        return secret

    def set(self, provider: str, secret: str) -> None:
        """Store ``provider``'s key in the OS keyring. Raises ``ConfigError`` when the key is empty or there
        is no usable keyring (the message names the environment variable to use instead)."""
        secret = secret.strip()
        if not secret:
            raise ConfigError(f"the key for {provider} is empty", hint="paste the whole key")
        register_secret(secret)
        backend = self._backend()
        if not _usable(backend):
            raise self._no_keyring(provider)
        try:
            backend.set_password(SERVICE, provider, secret)
        except Exception as exc:
            raise self._no_keyring(provider, exc) from None

    def delete(self, provider: str) -> None:
        """Remove ``provider``'s key from the keyring (nothing happens if it holds none or there is no
        keyring). Raises ``ConfigError`` when the keyring refuses."""
        backend = self._backend()
        if not _usable(backend):
            return
        try:
            backend.delete_password(SERVICE, provider)
        except keyring.errors.PasswordDeleteError:
            return  # there was no key: deleting is idempotent
        except Exception as exc:
            raise ConfigError(
                f"the OS keyring refused to delete the key for {provider}: " + redact(f"{type(exc).__name__}: {exc}"),
                hint="unlock the keyring and try again",
            ) from None

    def describe(self) -> str:
        """Which backend holds keys: "keyring: <name>", or that keys come from environment variables."""
        backend = self._backend()
        if not _usable(backend):
            return "no OS keyring available: keys come from environment variables"
        return f"keyring: {_backend_name(backend)}"

    def _no_keyring(self, provider: str, exc: BaseException | None = None) -> ConfigError:
        var = self._env_vars.get(provider)
        instead = (
            f"set the environment variable {var} instead"
            if var
            else f"set `providers.{provider}.api_key_env` in the config and put the key in that variable"
        )
        reason = (
            "there is no OS keyring on this system"
            if exc is None
            else "the OS keyring refused to store it (" + redact(f"{type(exc).__name__}: {exc}") + ")"
        )
        return ConfigError(
            f"cannot save the key for {provider}: {reason}",
            hint=f"{instead}; AutoDevAI never writes keys to a file",
        )


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend that lives in memory: for tests and the screenshot script, never the user's keyring."""

    # Below the "fail" (0) and "null" (-1) backends: keyring auto-detects every imported backend class, and
    # this one must never be chosen on its own — a key "stored" here would vanish at exit. Tests and the
    # screenshot script select it explicitly with keyring.set_keyring().
    priority = -2

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base __init__ is untyped
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)
