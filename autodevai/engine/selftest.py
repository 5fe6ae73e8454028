"""The self-test (``test_enhanced_orchestration``): the store is writable and its audit chain intact, each
provider has a key, lists its models and answers one round trip. Each check is timed; a failed check is reported,
never raised."""

from __future__ import annotations

import time
from collections.abc import Awaitable

from autodevai.engine.errors import ConfigError, EngineError, InvalidRequest, ProviderError, StorageError
from autodevai.engine.ports import Provider
from autodevai.engine.reports import CheckResult, SelfTestReport
from autodevai.engine.runtime import Components
from autodevai.engine.status import KeySource
from autodevai.engine.types import ChatMessage, ProviderCall

__all__ = ["self_test"]


async def self_test(parts: Components, key_source: KeySource) -> SelfTestReport:
    """Run every check in order and return the report."""
    p = parts
    checks: list[CheckResult] = []

    async def timed(name: str, check: Awaitable[str]) -> None:
        t0 = time.perf_counter()
        try:
            detail = await check
            checks.append(CheckResult(name, True, str(detail), (time.perf_counter() - t0) * 1000))
        except (EngineError, OSError) as exc:
            checks.append(CheckResult(name, False, str(exc), (time.perf_counter() - t0) * 1000))

    await timed("store", _check_store(p))
    if not p.providers:
        checks.append(CheckResult("providers", False, "no provider is configured"))
    for name, provider in p.providers.items():
        ps = p.settings.provider(name)
        await timed(f"{name}: key", _check_key(key_source, name, ps.api_key_env if ps else None, ps.kind if ps else ""))
        await timed(f"{name}: models", _check_models(p, name, provider))
        await timed(f"{name}: round trip", _check_round_trip(p, name, provider))
    return SelfTestReport(tuple(checks))


async def _check_store(p: Components) -> str:
    result = await p.store.integrity_check()
    if result != "ok":
        raise StorageError(f"integrity_check: {result}", environment=True)
    await p.store.append_audit("selftest", {})
    n = await p.store.verify_audit()
    return f"integrity ok, signed audit chain of {n} entries verified"


async def _check_key(key_source: KeySource, name: str, env_var: str | None, kind: str) -> str:
    source = key_source(name, env_var)
    if source == "none" and kind == "openrouter":
        raise ConfigError(f"no API key for {name}", hint=f"run `autodevai config key {name}`")
    return f"key from {source}"


async def _check_models(p: Components, name: str, provider: Provider) -> str:
    models = await provider.list_models()
    p.health_of(name).models_listed = len(models)
    return f"{len(models)} models listed"


async def _check_round_trip(p: Components, name: str, provider: Provider) -> str:
    candidates = p.catalog.query(provider=name, sort="price_out")
    if not candidates:
        raise InvalidRequest(f"{name} lists no model to call")
    model = next((m for m in candidates if m.price_out > 0), candidates[0])
    ping = ChatMessage(role="user", content="Reply with the single word: pong")
    call = ProviderCall(model=model.id, messages=(ping,), max_tokens=8)
    t0 = p.clock.now()
    try:
        completion = await provider.chat(call, timeout_s=p.settings.resilience.read_timeout_s)
    except ProviderError:
        p.health_of(name).failed(p.clock.wall(), "selftest")
        raise
    p.health_of(name).ok(p.clock.wall())
    ms = (p.clock.now() - t0) * 1000
    return f"{completion.model} answered in {ms:.0f} ms ({completion.usage.total_tokens} tokens)"
