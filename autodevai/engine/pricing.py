"""What a model costs and whether routing may pick it, as the engine reads a provider's catalog entries.

Owns: applying a provider's configured prices (``price_in_per_m`` / ``price_out_per_m``, e.g. 0 for a local server
or a contract price) and pricing models of loopback servers that list no price at $0 (the machine's own compute);
the free-model test (a known price of 0 for everything and nothing else billing it); the routing exclusions
(``route_exclusion`` set by the provider's parser, ``routing.exclude`` patterns, unknown prices) grouped into the
few kinds a routing decision names ("3 routers", "12 :batch variants").
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from autodevai.engine.settings import ProviderSettings
from autodevai.engine.types import ModelInfo

__all__ = ["apply_provider_prices", "exclusion_kind", "is_free", "is_loopback", "matches_any"]

_PER_MILLION = 1e-6


def is_loopback(base_url: str) -> bool:
    """True for a server on this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def apply_provider_prices(models: Iterable[ModelInfo], ps: ProviderSettings | None) -> list[ModelInfo]:
    """``models`` of one provider with its configured prices applied; unknown prices of a loopback server are $0."""
    out: list[ModelInfo] = []
    local = ps is not None and is_loopback(ps.base_url)
    for m in models:
        if ps is not None and (ps.price_in_per_m is not None or ps.price_out_per_m is not None):
            price_in = ps.price_in_per_m * _PER_MILLION if ps.price_in_per_m is not None else m.price_in
            price_out = ps.price_out_per_m * _PER_MILLION if ps.price_out_per_m is not None else m.price_out
            m = m.model_copy(update={"price_in": price_in, "price_out": price_out, "price_known": True,
                                     "price_tiers": ()})  # fmt: skip
        elif local and not m.price_known:
            m = m.model_copy(update={"price_in": 0.0, "price_out": 0.0, "price_known": True})
        out.append(m)
    return out


def is_free(m: ModelInfo) -> bool:
    """A known price of 0 per token and per request, and routable: ``:free`` variants, local servers."""
    return m.price_known and not m.route_exclusion and m.price_in == 0 and m.price_out == 0 and m.price_request == 0


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
