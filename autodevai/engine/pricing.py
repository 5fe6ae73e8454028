"""What a model costs and whether routing may pick it, as the engine reads a provider's catalog entries.

Owns: applying a provider's configured prices (``price_in_per_m`` / ``price_out_per_m``, e.g. 0 for a local server
or a contract price; a server on this machine is not assumed free — a LiteLLM proxy there may front paid APIs);
the free-tier test (DESIGN.md: a free text model is one whose id ends in ``:free`` and that nothing else bills;
those are rate-limited and their hosts may log prompts, so routing takes them only with ``routing.allow_free``; a
model priced 0 for another reason, such as your own server, is simply cheap); the routing exclusions
(``route_exclusion`` set by the provider's parser, ``routing.exclude`` patterns, unknown prices) grouped into the
few kinds a routing decision names ("3 routers", "12 :batch variants").
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from autodevai.engine.settings import ProviderSettings
from autodevai.engine.types import ModelInfo

__all__ = ["apply_provider_prices", "exclusion_kind", "is_free_tier", "matches_any"]

_PER_MILLION = 1e-6


def apply_provider_prices(models: Iterable[ModelInfo], ps: ProviderSettings | None) -> list[ModelInfo]:
    """``models`` of one provider with its configured prices applied (a price set in the config is known)."""
    if ps is None or (ps.price_in_per_m is None and ps.price_out_per_m is None):
        return list(models)
    out: list[ModelInfo] = []
    for m in models:
        price_in = ps.price_in_per_m * _PER_MILLION if ps.price_in_per_m is not None else m.price_in
        price_out = ps.price_out_per_m * _PER_MILLION if ps.price_out_per_m is not None else m.price_out
        out.append(
            m.model_copy(update={"price_in": price_in, "price_out": price_out, "price_known": True, "price_tiers": ()})
        )
    return out


def is_free_tier(m: ModelInfo) -> bool:
    """A ``:free`` variant that nothing else bills (its price is a known 0 per token and per request)."""
    return (
        m.id.endswith(":free")
        and m.price_known
        and not m.route_exclusion
        and m.price_in == m.price_out == m.price_request == 0
    )


def matches_any(m: ModelInfo, patterns: Sequence[str]) -> bool:
    """``m``'s id (or ``provider:id``) matches one of the shell-style ``patterns``."""
    qualified = f"{m.provider}:{m.id}"
    return any(fnmatch.fnmatchcase(m.id, p) or fnmatch.fnmatchcase(qualified, p) for p in patterns)


def exclusion_kind(reason: str) -> str:
    """The group a ``route_exclusion`` falls in, as a routing decision names it."""
    if reason.startswith("a router"):
        return "routers (variable price)"
    if reason.startswith("an alias"):
        return "aliases of other models"
    if reason.startswith("a :batch"):
        return ":batch variants (not synchronous)"
    if reason.startswith("not a chat model"):
        return "not chat models"
    return "billed per song, clip, image or request"
