"""``OpenRouterProvider``: OpenRouter's additions on top of the OpenAI-compatible provider.

What OpenRouter adds (its public API docs, summarized in DESIGN.md): attribution headers ``HTTP-Referer`` and
``X-Title``; the ``models`` fallback list; ``provider`` routing preferences (``order``, ``allow_fallbacks``,
``sort``, ``max_price``); ``transforms``; ``usage.cost`` in every response (parsed by ``wire.parse_usage``);
the rich ``GET /models`` catalog (parsed by ``models_wire.parse_model``); and ``GET /key``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from autodevai.engine.constants import APP_TITLE, APP_URL
from autodevai.engine.types import ModelInfo, ProviderCall
from autodevai.providers import wire
from autodevai.providers.openai_compat import LIST_TIMEOUT_S, OpenAICompatProvider

__all__ = ["OpenRouterProvider"]


class OpenRouterProvider(OpenAICompatProvider):
    """A ``Provider`` for OpenRouter (or the simulator, which speaks the same API).

    ``attribution`` sends ``HTTP-Referer: APP_URL`` and ``X-Title: APP_TITLE`` (OpenRouter's app attribution);
    ``provider_preferences`` is sent as the body's ``provider`` object (e.g. ``{"sort": "price"}``);
    ``transforms`` (e.g. ``("middle-out",)``) as ``transforms``. Both are sent only when non-empty.
    """

    kind: ClassVar[str] = "openrouter"

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient,
        *,
        models: Sequence[str] = (),
        attribution: bool = True,
        provider_preferences: Mapping[str, Any] | None = None,
        transforms: Sequence[str] = (),
    ) -> None:
        self.attribution = attribution
        self.provider_preferences: dict[str, Any] = dict(provider_preferences or {})
        self.transforms: tuple[str, ...] = tuple(transforms)
        super().__init__(name, base_url, api_key, client, models=models)

    def _default_headers(self) -> dict[str, str]:
        headers = super()._default_headers()
        if self.attribution:
            headers["http-referer"] = APP_URL
            headers["x-title"] = APP_TITLE
        return headers

    def _body(self, call: ProviderCall, *, stream: bool) -> dict[str, Any]:
        """OpenAI's body plus OpenRouter's fields: the request's own ``provider``/``transforms``/``models``/
        ``plugins`` (a request's ``provider`` object is merged over the configured preferences, key by key)."""
        body = wire.chat_body(call, stream=stream, openrouter=True)
        if call.openrouter_fallbacks and "models" not in body:
            # The `models` list is tried in order; it starts with the chosen model so both readings of
            # `model` + `models` (primary first, or models only) try the same sequence.
            body["models"] = [call.model, *(m for m in call.openrouter_fallbacks if m != call.model)]
        if self.provider_preferences:
            asked = body.get("provider")
            body["provider"] = (
                {**self.provider_preferences, **asked} if isinstance(asked, dict) else self.provider_preferences
            )
        if self.transforms and "transforms" not in body:
            body["transforms"] = list(self.transforms)
        return body

    async def _enrich(self, models: list[ModelInfo]) -> list[ModelInfo]:
        """OpenRouter's catalog says everything it knows; there is no LiteLLM/LM Studio/Ollama endpoint to ask."""
        return models

    async def key_info(self) -> Mapping[str, Any] | None:
        """The ``data`` of ``GET /key``: ``limit``, ``limit_remaining``, ``usage``, ``is_free_tier``, ...

        Raises ``AuthRejected`` for a bad key, ``MalformedResponse`` when there is no ``data`` object.
        """
        body = await self._get_json("/key", LIST_TIMEOUT_S)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise self._malformed(None, ValueError("GET /key has no 'data' object"))
        return data
