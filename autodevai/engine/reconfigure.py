"""Changing settings on a running engine (``configure_enhanced_orchestration``): validate the patch, make sure
every part can take the new values *before* anything is saved (a budget the ledger cannot count is refused, never
written to the config file), save, then swap the parts in place and audit the change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from autodevai.engine.budget import BudgetLedger
from autodevai.engine.catalog_sync import CatalogSync
from autodevai.engine.errors import ConfigError, redact
from autodevai.engine.routing import Router
from autodevai.engine.runtime import Components, ProviderFactory
from autodevai.engine.settings import Settings, apply_patch

__all__ = ["SettingsSaver", "reconfigure", "redacted_patch"]

SettingsSaver = Callable[[Settings], None]


def _check_parts_take(new: Settings, now_wall: float) -> None:
    """Build what is built from the settings, so a value only they would refuse is refused before saving."""
    try:
        BudgetLedger(new.budget, now_wall=now_wall)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"update: the budget cannot take these values: {exc}", field="budget") from None


async def reconfigure(
    parts: Components,
    catalog: CatalogSync,
    factory: ProviderFactory,
    save: SettingsSaver | None,
    patch: Mapping[str, Any],
    refresh: Callable[[], Any],
) -> Settings:
    """Apply ``patch``; nothing changes (nor is saved) if it is invalid. Raises ``ConfigError`` (a bad value, or a
    config file that cannot be written)."""
    p = parts
    new = apply_patch(p.settings, patch)  # raises ConfigError, leaving everything as it was
    _check_parts_take(new, p.clock.wall())
    if save is not None:
        save(new)
    old = p.settings
    p.settings = new
    p.router.reconfigure(new.routing)
    p.breakers.reconfigure(new.resilience.breaker)
    p.budget.reconfigure(new.budget)
    if new.quality_overrides != old.quality_overrides:
        p.catalog = catalog.rebuild(new.quality_overrides)
        p.router = Router(p.catalog, new.routing)
    if new.providers != old.providers:
        await p.close_providers()
        p.install_providers(factory, new)
        await refresh()
    await p.store.append_audit("settings.changed", {"patch": redacted_patch(patch)})
    return new


def redacted_patch(patch: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` with every value redacted (what the audit log keeps)."""
    return {k: (redacted_patch(v) if isinstance(v, Mapping) else redact(str(v))) for k, v in patch.items()}
