"""Self-healing: probing providers whose breakers are open, and keeping the catalog fresh, in the background.

A breaker that opened stays open until its open time is up; then it lets a few probe calls through (half-open).
Without traffic nobody would make those calls, so a model that recovered would look broken until a user tried it.
``Maintenance.tick`` makes them: for each breaker that may half-open now, one probe (``health.probe``: "models",
a free ``GET /models`` of its provider; "chat", a one-token request to the model itself; "off"), taken through the
breaker's own probe slots (``Breaker.allow``), so never more often than the breaker allows; a success counts as a
probe success (enough of them close it), a failure re-opens it. Each probe's time and result is kept in the
provider's health (``ProviderHealth.last_probe_*``: the Status panel shows them). The same tick refreshes the
catalog when it is older than ``health.catalog_max_age_h`` (retrying a failed refresh at most every 10 minutes).

``tick`` decides everything on the engine clock, so tests drive it with a manual clock. The background loop
(``start``) wakes on the event loop's own timer every ``MAINTENANCE_WAKE_S`` seconds: a manual clock's ``sleep``
moves time forward, so a loop sleeping on it would run a test's clock away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from autodevai.engine.breaker import BreakerState
from autodevai.engine.constants import MAINTENANCE_WAKE_S
from autodevai.engine.errors import EngineError, ProviderError, error_class
from autodevai.engine.outcome import short
from autodevai.engine.runtime import Components
from autodevai.engine.types import ChatMessage, ModelRef, ProviderCall

__all__ = ["PROBE_TIMEOUT_S", "REFRESH_RETRY_S", "Maintenance"]

PROBE_TIMEOUT_S = 10.0
REFRESH_RETRY_S = 600.0  # a catalog refresh that failed is tried again after this long, not on every tick

log = logging.getLogger("autodevai.engine")


class Maintenance:
    """Probes half-open breakers and refreshes a stale catalog (``tick``), by hand or in a background task."""

    def __init__(self, parts: Components, refresh_catalog: Callable[[], Awaitable[list[str]]]) -> None:
        self._parts = parts
        self._refresh = refresh_catalog
        self._task: asyncio.Task[None] | None = None
        self._refresh_tried: float | None = None  # engine clock of the last refresh this loop started

    # ---- one pass ------------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Probe every breaker that may half-open now (one probe each), then refresh the catalog if stale."""
        await self.probe_due()
        await self.refresh_if_stale()

    async def probe_due(self) -> list[ModelRef]:
        """Probe the breakers whose open time is up; return the (provider, model) pairs probed."""
        p = self._parts
        mode = p.settings.health.probe
        if mode == "off":
            return []
        now = p.clock.now()
        due = [
            ModelRef(prov, model)
            for (prov, model), snap in sorted(p.breakers.snapshot(now).items())
            if snap.state is BreakerState.HALF_OPEN and prov in p.providers
        ]
        listed: dict[str, tuple[bool, str]] = {}  # one GET /models per provider per tick
        for ref in due:
            breaker = p.breakers.get(ref.provider, ref.model)
            if not breaker.allow(p.clock.now()):  # its probe slots are taken (real calls probing it)
                continue
            t0 = p.clock.now()
            if mode == "models" and ref.provider in listed:
                ok, detail = listed[ref.provider]
            else:
                ok, detail = await self._probe(ref, mode)
                if mode == "models":
                    listed[ref.provider] = (ok, detail)
            now = p.clock.now()
            if ok:
                breaker.on_success(now, now - t0)
            else:
                breaker.on_failure(now, now - t0)
            health = p.health_of(ref.provider)
            health.probed(p.clock.wall(), ok, detail)
        return due

    async def _probe(self, ref: ModelRef, mode: str) -> tuple[bool, str]:
        p = self._parts
        provider = p.providers[ref.provider]
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                if mode == "chat":
                    ping = ChatMessage(role="user", content="ping")
                    await provider.chat(
                        ProviderCall(model=ref.model, messages=(ping,), max_tokens=1), timeout_s=PROBE_TIMEOUT_S
                    )
                    what = f"1-token request to {ref.model}"
                else:
                    models = await provider.list_models()
                    what = f"GET /models: {len(models)} models"
        except (ProviderError, TimeoutError) as exc:
            return False, f"{error_class(exc)}: {short(str(exc), 160)}"
        return True, f"{what} in {(time.perf_counter() - t0) * 1000:.0f} ms"

    async def refresh_if_stale(self) -> bool:
        """Refresh the catalog when it is older than ``health.catalog_max_age_h`` (or its age is unknown and it
        is empty); True when a refresh ran."""
        p = self._parts
        if not p.providers:
            return False
        now = p.clock.now()
        if self._refresh_tried is not None and now - self._refresh_tried < REFRESH_RETRY_S:
            return False
        fetched = p.catalog_fetched_wall
        max_age_s = p.settings.health.catalog_max_age_h * 3600.0
        stale = (len(p.catalog) == 0) if fetched is None else (p.clock.wall() - fetched >= max_age_s)
        if not stale:
            return False
        self._refresh_tried = now
        try:
            for warning in await self._refresh():
                log.warning("catalog refresh: %s", warning)
        except EngineError as exc:
            log.warning("catalog refresh failed: %s", exc)
        return True

    # ---- the background loop -------------------------------------------------------------------------------

    def start(self) -> None:
        """Run ``tick`` in a background task every ``MAINTENANCE_WAKE_S`` seconds (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="engine-maintenance")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_WAKE_S)  # the event loop's timer, see the module docstring
            try:
                await self.tick()
            except Exception:  # a bug here must not end self-healing for the rest of the session
                log.exception("engine maintenance failed")

    async def stop(self) -> None:
        """Stop the background task (waits for it to end)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
