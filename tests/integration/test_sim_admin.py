"""The simulator's ``/_sim/*`` admin routes change how it behaves, so a web page open in the developer's browser must
not reach them: they want the admin token and refuse anything carrying an ``Origin`` header. The Python API
(``SimServer.add_fault``, ``stats``) needs neither."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from autodevai.sim import SimConfig, SimServer

RULE = {"rules": [{"kind": "http_error", "status": 503}]}
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "What is 2+2?"}]}


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0, admin_token="admin-secret-123"))
    await server.start()
    yield server
    await server.stop()


def root(sim: SimServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sim.base_url.removesuffix("/api/v1"), trust_env=False, timeout=10)


async def chat_status(sim: SimServer) -> int:
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"Authorization": "Bearer k"}) as c:
        return (await c.post("/chat/completions", json=CHAT)).status_code


async def test_a_cross_origin_text_plain_post_changes_nothing(sim: SimServer) -> None:
    """What any web page can send without a preflight, even one that somehow knew the token."""
    async with root(sim) as c:
        for headers in ({}, {"X-Sim-Admin-Token": sim.admin_token}):
            r = await c.post(
                "/_sim/faults",
                content=b'{"rules": [{"kind": "http_error", "status": 503}]}',
                headers={"Origin": "http://evil.example", "Content-Type": "text/plain", **headers},
            )
            assert r.status_code == 403 and "web pages" in r.json()["error"]["message"]
    assert await chat_status(sim) == 200, "no fault was added"


@pytest.mark.parametrize("token", [None, "", "admin-secret-12", "admin-secret-1234", "k"])
async def test_admin_routes_without_the_token_are_401(sim: SimServer, token: str | None) -> None:
    headers = {} if token is None else {"X-Sim-Admin-Token": token}
    async with root(sim) as c:
        posted = await c.post("/_sim/faults", json=RULE, headers=headers)
        stats = await c.get("/api/v1/_sim/stats", headers=headers)
        cleared = await c.delete("/_sim/faults", headers=headers)
    assert posted.status_code == stats.status_code == cleared.status_code == 401
    assert "X-Sim-Admin-Token" in posted.json()["error"]["message"]
    assert await chat_status(sim) == 200


async def test_with_the_token_and_no_origin_the_admin_routes_work(sim: SimServer) -> None:
    async with root(sim) as c:
        posted = await c.post("/_sim/faults", json=RULE, headers={"X-Sim-Admin-Token": "admin-secret-123"})
        assert posted.status_code == 200 and posted.json()["rules"][0]["status"] == 503
        assert await chat_status(sim) == 503
        stats = await c.get("/_sim/stats", headers={"X-Sim-Admin-Token": sim.admin_token})
    assert stats.status_code == 200 and stats.json()["by_outcome"] == {"http_error": 1}


async def test_without_a_configured_token_each_server_makes_its_own() -> None:
    a, b = SimServer(SimConfig(latency_scale=0)), SimServer(SimConfig(latency_scale=0))
    assert len(a.admin_token) >= 16 and a.admin_token != b.admin_token
    await a.start()
    try:
        a.add_fault({"kind": "http_error", "status": 502})  # the Python API needs no token
        async with root(a) as c:
            guessed = await c.delete("/_sim/faults", headers={"X-Sim-Admin-Token": b.admin_token})
            listed = await c.get("/_sim/faults", headers={"X-Sim-Admin-Token": a.admin_token})
        assert guessed.status_code == 401
        assert [rule["status"] for rule in listed.json()["rules"]] == [502]
    finally:
        await a.stop()


def test_an_admin_token_shorter_than_8_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        SimConfig(admin_token="short")
