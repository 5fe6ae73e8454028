"""Both real OpenRouter ``/models`` dumps (2025 and 2026, tests/data/openrouter/) served over loopback to a real
engine: every model parsed, no router, alias, ``:batch``, non-chat or per-output-billed model ever chosen for a text
request by any preference, tiered prices in the ranking, budgets that hold, pagination followed."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from autodevai.compose import App, open_engine
from autodevai.engine import errors as E
from autodevai.engine.pricing import is_free_tier
from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest, ModelInfo, Preference
from tests.fakes.scripted_server import Reply, ScriptedServer

DATA = Path(__file__).parent.parent / "data" / "openrouter"
DUMPS = ("or_models_2025-05.json", "or_models_2026-08-19.json")
TIERED = "bytedance-seed/seed-2.0-code"  # 2026: doubles above 128K prompt tokens

Open = Callable[..., Awaitable[App]]


@pytest.fixture
async def serve(
    memory_keyring: Any, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[tuple[App, ScriptedServer]]]]:
    apps: list[App] = []
    servers: list[ScriptedServer] = []

    async def start(listing: Any, pages: list[Any] | None = None, **settings: Any) -> tuple[App, ScriptedServer]:
        server = await ScriptedServer().__aenter__()
        servers.append(server)
        server.routes["/api/v1/models"] = Reply.json(listing)
        for i, page in enumerate(pages or (), start=2):
            server.routes[f"/api/v1/models?page={i}"] = Reply.json(page)
        memory_keyring.set_password("autodevai", "openrouter", "test-key")
        data = {
            "providers": [{"name": "openrouter", "kind": "openrouter", "base_url": server.url + "/api/v1"}],
            **settings,
        }
        app = await open_engine(
            tmp_path / f"config{len(apps)}.toml",
            settings=parse_settings(data),
            refresh="wait",
            rng=random.Random(3),
            db_path=tmp_path / f"engine{len(apps)}.db",
            trust_env=False,
        )
        apps.append(app)
        return app, server

    yield start
    for app in apps:
        await app.aclose()
    for server in servers:
        await server.__aexit__(None, None, None)


def dump(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def text_request(**kw: Any) -> ChatRequest:
    return ChatRequest.from_prompt("Explain connection pooling.", **kw)


def never_for_text(m: ModelInfo) -> bool:
    """What a text request must never be routed to, judged from the raw facts, not from our own flags."""
    return (
        m.id.startswith(("openrouter/", "~"))
        or m.id.endswith(":batch")
        or (any(o != "text" for o in m.output_modalities) and m.price_in == 0 and m.price_out == 0)
        or not m.price_known
    )


@pytest.mark.parametrize("name", DUMPS)
async def test_every_model_is_parsed_and_no_preference_picks_what_a_text_request_cannot_use(
    serve: Any, name: str
) -> None:
    raw = dump(name)
    app, _ = await serve(raw, routing={"allow_free": True, "fallbacks": 5})
    catalog = {m.id: m for m in await app.engine.get_openrouter_models()}
    assert len(catalog) == len(raw["data"])  # every entry, routers included
    assert all(catalog[r["id"]].route_exclusion for r in raw["data"] if r["pricing"].get("prompt") == "-1")
    for preference in Preference:
        for prompt_tokens in (50, 5_000, 150_000):
            decision = app.engine.explain_route(text_request(max_tokens=500), preference, prompt_tokens)
            chosen = [catalog[c.model] for c in decision.candidates]
            bad = [m.id for m in chosen if never_for_text(m) or m.route_exclusion]
            assert not bad, (preference, prompt_tokens, bad)


async def test_music_models_priced_zero_are_billed_per_clip_and_not_free(serve: Any) -> None:
    app, _ = await serve(dump("or_models_2026-08-19.json"), routing={"allow_free": True})
    lyria = (await app.engine.get_openrouter_models(text="lyria-3-clip"))[0]
    assert lyria.price_request == pytest.approx(0.04) and "per clip" in lyria.route_exclusion
    assert not is_free_tier(lyria) and lyria.price_request > 0
    before = app.engine.explain_route(text_request(), Preference.COST, 100)
    assert all(not c.model.startswith("google/lyria") for c in before.candidates)


async def test_a_pinned_per_clip_model_is_held_to_the_budget(serve: Any) -> None:
    app, server = await serve(dump("or_models_2026-08-19.json"), budget={"daily_usd": 0.01})
    with pytest.raises((E.BudgetExceeded, E.NoRouteAvailable)) as info:
        await app.engine.execute_enhanced_ai_request(text_request(model="google/lyria-3-clip-preview", fallbacks=[]))
    assert "0.04" in str(info.value) or "budget" in str(info.value)
    assert not [r for r in server.requests if r.path.endswith("/chat/completions")]  # nothing was sent


async def test_tiered_prices_rank_long_prompts(serve: Any) -> None:
    app, _ = await serve(dump("or_models_2026-08-19.json"), routing={"allow_free": False, "fallbacks": 9})
    models = [m for m in await app.engine.get_openrouter_models() if m.provider == "openrouter"]
    tiered = next(m for m in models if m.id == TIERED)
    assert tiered.price_tiers and tiered.price_tiers[0].min_prompt_tokens == 128_000
    short, long = tiered.worst_case_cost(1_000, 100), tiered.worst_case_cost(200_000, 100)
    assert short == pytest.approx(1_000 * 5e-7 + 100 * 3e-6)
    assert long == pytest.approx(200_000 * 1e-6 + 100 * 6e-6)  # the tier above 128K, not the base price
    # The cheapest 10 for a 200K prompt, by brute force over what routing may use, with tiers applied.
    prompt, out = 200_000, 100
    usable = [
        m
        for m in models
        if not m.route_exclusion and m.price_known and not is_free_tier(m) and "text" in m.output_modalities
        and (not m.context_known or prompt + min(out, m.max_output or out) <= m.context_length)
    ]  # fmt: skip
    expected = [m.id for m in sorted(usable, key=lambda m: (m.cost(prompt, out), -m.quality, m.id))[:10]]
    decision = app.engine.explain_route(text_request(max_tokens=out), Preference.COST, prompt)
    assert [c.model for c in decision.candidates] == expected


async def test_pagination_is_followed(serve: Any) -> None:
    raw = dump("or_models_2026-08-19.json")
    first = {"data": raw["data"][:150], "total_count": 414, "links": {"next": "/api/v1/models?page=2"}}
    second = {"data": raw["data"][150:300], "links": {"next": "/api/v1/models?page=3"}}
    third = {"data": raw["data"][300:], "links": {"next": None}}
    app, server = await serve(first, pages=[second, third])
    assert len(await app.engine.get_openrouter_models()) == 414
    assert [r.path for r in server.requests if "models" in r.path][-2:] == [
        "/api/v1/models?page=2",
        "/api/v1/models?page=3",
    ]
