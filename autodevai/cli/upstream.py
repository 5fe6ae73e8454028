"""One-off providers: ``--base-url URL`` (with ``--kind`` and ``--api-key-env``) for a single CLI call.

The provider is named after the server's host and port (``http://127.0.0.1:11434/v1`` is ``127-0-0-1-11434``,
``https://llm.example.com/v1`` is ``llm-example-com``), so an error or a footer says which server it was. The name
fits ``ProviderSettings``' pattern (``^[a-z0-9][a-z0-9_-]*$``, at most 40 characters); when a provider of the
config file already has it, ``-cli`` is appended. Such a provider is ephemeral: never saved to the config file.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from pydantic import ValidationError

from autodevai.engine.errors import ConfigError
from autodevai.engine.settings import ProviderSettings

__all__ = ["FALLBACK_NAME", "MAX_NAME", "one_off_provider", "provider_name"]

FALLBACK_NAME = "cli"  # when the URL has no usable host
MAX_NAME = 40  # ProviderSettings.name's max_length
_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def _clean(text: str) -> str:
    return _NOT_NAME.sub("-", text.lower()).strip("-_")


def provider_name(base_url: str, taken: Collection[str] = ()) -> str:
    """A provider name for ``base_url``: its host and port in name characters, unique among ``taken``."""
    try:
        parts = urlsplit(base_url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a malformed port or IPv6 literal: the URL check reports it
        host, port = "", None
    host = _clean(host)
    suffix = f"-{port}" if port is not None and host else ""
    name = (host[: MAX_NAME - len(suffix)].rstrip("-_") + suffix) if host else FALLBACK_NAME
    if name in taken:
        name = name[: MAX_NAME - 4].rstrip("-_") + "-cli"
    return name


def one_off_provider(args: argparse.Namespace, taken: Collection[str] = ()) -> ProviderSettings | None:
    """The provider ``--base-url`` describes, or None without it. Raises ``ConfigError`` for a bad URL, or for
    ``--api-key-env`` without ``--base-url``."""
    base = getattr(args, "base_url", None)
    if not base:
        if getattr(args, "api_key_env", None):
            raise ConfigError("--api-key-env needs --base-url")
        return None
    try:
        return ProviderSettings(
            name=provider_name(base, taken), kind=args.kind, base_url=base, api_key_env=args.api_key_env
        )
    except ValidationError as exc:
        raise ConfigError(f"--base-url {base!r}: {exc.errors()[0]['msg']}") from None
