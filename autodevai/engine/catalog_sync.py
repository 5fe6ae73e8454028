"""Where the catalog comes from: the disk cache at start (so the app starts offline), then the providers.

``CatalogSync`` keeps the models as providers listed them (before quality priors and overrides): that list is
what the disk cache holds, so removing an override later restores the prior instead of a stale value, and a
provider that fails a refresh keeps its cached models, so one outage does not empty the catalog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from autodevai.engine.catalog import Catalog
from autodevai.engine.errors import EngineError, StorageError
from autodevai.engine.pricing import apply_provider_prices
from autodevai.engine.runtime import Components
from autodevai.engine.types import ModelInfo

__all__ = ["CatalogSync"]


class CatalogSync:
    """Loads, refreshes and rebuilds the catalog of ``parts`` (whose ``catalog`` it replaces in place)."""

    def __init__(self, parts: Components) -> None:
        self._parts = parts
        self.raw: list[ModelInfo] = []  # the models as providers listed them

    async def load_cache(self) -> bool:
        """Fill the catalog from the disk cache (models of configured providers only); True when it had any."""
        p = self._parts
        cached = await p.store.load_catalog()
        usable = [m for m in Catalog.from_dicts(cached or []) if m.provider in p.providers]
        if usable:
            self.raw = usable
            p.catalog.replace(usable)
        return bool(usable)

    async def refresh(self) -> list[str]:
        """Ask every provider for its models; keep what answered; return a warning per provider that failed."""
        p = self._parts
        names = list(p.providers)
        results = await asyncio.gather(*(p.providers[n].list_models() for n in names), return_exceptions=True)
        models: list[ModelInfo] = []
        warnings: list[str] = []
        failed: set[str] = set()
        for name, result in zip(names, results, strict=True):
            health = p.health_of(name)
            if isinstance(result, BaseException):
                if not isinstance(result, EngineError):
                    raise result
                failed.add(name)
                health.failed(p.clock.wall(), type(result).__name__)
                warnings.append(f"{name}: could not list models: {result}")
                continue
            ps = p.settings.provider(name)
            allowed = set(ps.models) if ps else set()
            listed = apply_provider_prices([m for m in result if not allowed or m.id in allowed], ps)
            health.models_listed = len(listed)
            models.extend(listed)
        # Keep cached models of providers that failed, so one outage does not empty the catalog.
        models.extend(m for m in self.raw if m.provider in failed)
        if models:
            self.raw = models
            p.catalog.replace(models)
            p.catalog_fetched_wall = p.clock.wall()
            try:
                await p.store.save_catalog(Catalog.to_dicts(models))
            except StorageError as exc:
                warnings.append(f"could not cache the catalog: {exc}")
        return warnings

    def rebuild(self, quality_overrides: Mapping[str, float]) -> Catalog:
        """A new catalog of the listed models with ``quality_overrides`` applied (new settings)."""
        return Catalog(self.raw, quality_overrides)
