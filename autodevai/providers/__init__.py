"""Providers: the only package that imports httpx. Concrete ``Provider`` classes and the shared client.

``build_provider`` is what ``compose.py`` calls for each configured provider; ``make_client`` builds the one
``httpx.AsyncClient`` they all share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import httpx

from autodevai.engine.ports import Provider
from autodevai.providers.http import make_client
from autodevai.providers.openai_compat import OpenAICompatProvider
from autodevai.providers.openrouter import OpenRouterProvider

__all__ = ["OpenAICompatProvider", "OpenRouterProvider", "build_provider", "make_client"]


def build_provider(
    kind: Literal["openrouter", "openai"],
    name: str,
    base_url: str,
    api_key: str | None,
    client: httpx.AsyncClient,
    models: Sequence[str] = (),
    *,
    attribution: bool = True,
    provider_preferences: Mapping[str, Any] | None = None,
) -> Provider:
    """The provider for one configured upstream.

    ``kind="openrouter"`` adds OpenRouter's fields and headers; ``attribution`` and ``provider_preferences``
    only apply to it. Raises ``ValueError`` for an unknown kind or an invalid base URL.
    """
    if kind == "openrouter":
        return OpenRouterProvider(
            name,
            base_url,
            api_key,
            client,
            models=models,
            attribution=attribution,
            provider_preferences=provider_preferences,
        )
    if kind == "openai":
        return OpenAICompatProvider(name, base_url, api_key, client, models=models)
    raise ValueError(f"unknown provider kind {kind!r}; expected 'openrouter' or 'openai'")
