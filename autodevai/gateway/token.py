"""The gateway's bearer token: where it comes from, and how it is created the first time.

``AUTODEVAI_GATEWAY_TOKEN`` wins when set (CI, containers, several machines sharing one value). Otherwise the
token lives in the OS keyring (service ``autodevai``, username ``gateway-token``), created once with
``secrets.token_urlsafe(32)`` and reused. Without a keyring and without the variable there is no safe place to
keep it: ``ConfigError`` says to set the variable. The token is never written to a file and never appears in an
error message; every value returned is registered with ``errors.register_secret`` so logs redact it.
"""

from __future__ import annotations

import os
from secrets import token_urlsafe

from autodevai.engine.errors import ConfigError, register_secret
from autodevai.engine.ports import SecretStore

__all__ = ["ENV_VAR", "KEYRING_USERNAME", "MIN_LENGTH", "get_or_create_token"]

ENV_VAR = "AUTODEVAI_GATEWAY_TOKEN"
KEYRING_USERNAME = "gateway-token"  # under the keyring service "autodevai", beside the providers' keys
MIN_LENGTH = 8  # shorter tokens are guessable, and redaction ignores very short strings


def get_or_create_token(secrets: SecretStore) -> str:
    """The gateway token: ``AUTODEVAI_GATEWAY_TOKEN``, else the keyring's, else a new one stored in the keyring.

    ``secrets`` is the app's ``SecretStore`` (``KeyringSecrets``). Raises ``ConfigError`` when the variable holds
    a token that is too short, or when a token would have to be created and there is no keyring to keep it.
    """
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        if len(from_env) < MIN_LENGTH:
            raise ConfigError(
                f"{ENV_VAR} is too short ({len(from_env)} characters; at least {MIN_LENGTH} are needed)",
                hint=f"set {ENV_VAR} to a long random string, or unset it to use a generated token",
            )
        register_secret(from_env)
        return from_env
    # With no env var mapping for this name, the store reads the keyring only.
    stored = secrets.get(KEYRING_USERNAME)
    if stored:
        register_secret(stored)
        return stored
    token = token_urlsafe(32)
    register_secret(token)  # before the keyring sees it: whatever a backend error says, the token is redacted
    try:
        secrets.set(KEYRING_USERNAME, token)
    except ConfigError:
        raise ConfigError(
            "there is no OS keyring to keep the gateway token in",
            hint=(
                f"set the environment variable {ENV_VAR} to a long random string (for example the output of "
                '`python -c "import secrets; print(secrets.token_urlsafe(32))"`) and give the same value to '
                "your tools; AutoDevAI never writes the token to a file"
            ),
        ) from None
    return token
