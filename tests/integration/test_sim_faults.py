"""Fault injection over real HTTP: every kind by rule and by header, counting, probability, model globs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from autodevai.sim import SimConfig, SimServer, parse_fault_spec


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0))
    await server.start()
    yield server
    await server.stop()


def body(prompt: str = "Tell me about retries", model: str = "openai/gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def api(server: SimServer, timeout: float = 5.0) -> httpx.AsyncClient:
    """A client with an API key and the admin token (the ``/_sim/*`` routes want it)."""
    headers = {"Authorization": "Bearer k", "X-Sim-Admin-Token": server.admin_token}
    return httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=timeout)


async def observe(c: httpx.AsyncClient, *, stream: bool, headers: dict[str, str] | None = None,
                  model: str = "openai/gpt-4o-mini") -> str:  # fmt: skip
    """What a client sees, as one word: ok, status N, timeout, closed, reset, cut, malformed, stream_error."""
    payload = {**body(model=model), "stream": stream}
    try:
        if not stream:
            r = await c.post("/chat/completions", json=payload, headers=headers)
            if r.status_code != 200:
                return f"status {r.status_code}"
            try:
                data = r.json()
            except json.JSONDecodeError:
                return "malformed"
            return "stream_error" if "error" in data else "ok"
        async with c.stream("POST", "/chat/completions", json=payload, headers=headers) as resp:
            if resp.status_code != 200:
                await resp.aread()
                return f"status {resp.status_code}"
            lines = [line async for line in resp.aiter_lines() if line.startswith("data: ")]
        try:
            chunks = [json.loads(line[6:]) for line in lines[:-1]]
        except json.JSONDecodeError:
            return "malformed"
        if any("error" in ch for ch in chunks):
            return "stream_error"
        return "ok" if lines[-1] == "data: [DONE]" and "usage" in chunks[-1] else "incomplete"
    except httpx.ReadTimeout:
        return "timeout"
    except httpx.RemoteProtocolError as exc:
        return "cut" if "complete message body" in str(exc) else "closed"
    except httpx.ReadError:
        return "reset"


CASES = [
    ("http_error;status=503;retry_after=1", "status 503", "status 503"),
    ("http_error;status=408", "status 408", "status 408"),
    ("rate_limit;retry_after=2", "status 429", "status 429"),
    ("timeout", "timeout", "timeout"),
    ("timeout;delay=0.05", "closed", "closed"),
    ("reset", "reset", "reset"),
    ("malformed", "malformed", "malformed"),
    ("cut_stream;after=2", "cut", "cut"),
    ("stream_error;after=1", "stream_error", "stream_error"),
    ("slow_first_byte;delay=0.05", "ok", "ok"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("spec", "whole", "streamed"), CASES, ids=[c[0].split(";")[0] for c in CASES])
async def test_each_fault_kind_by_header(sim: SimServer, spec: str, whole: str, streamed: str, stream: bool) -> None:
    async with api(sim, timeout=0.3) as c:
        seen = await observe(c, stream=stream, headers={"X-Sim-Fault": spec})
    async with api(sim) as c:
        after = await observe(c, stream=stream)
    assert seen == (streamed if stream else whole)
    assert after == "ok"  # a header fault applies to its own request only
    kind = spec.split(";")[0]
    assert sim.stats.by_outcome[kind] == 1


@pytest.mark.parametrize(("spec", "whole", "streamed"), CASES, ids=[c[0].split(";")[0] for c in CASES])
async def test_each_fault_kind_by_rule_posted_to_admin_route(
    sim: SimServer, spec: str, whole: str, streamed: str
) -> None:
    rule = {**parse_fault_spec(spec).model_dump(mode="json", exclude_none=True), "times": 2}
    async with api(sim) as c:
        posted = await c.post(sim.base_url.removesuffix("/api/v1") + "/_sim/faults", json={"rules": [rule]})
    assert posted.status_code == 200 and posted.json()["rules"][0]["times"] == 2
    async with api(sim, timeout=0.3) as c:
        first = await observe(c, stream=False)
    async with api(sim, timeout=0.3) as c:
        second = await observe(c, stream=True)
    async with api(sim) as c:
        third = await observe(c, stream=False)
    assert (first, second, third) == (whole, streamed, "ok")


async def test_error_statuses_use_openrouter_error_shape_and_retry_after(sim: SimServer) -> None:
    async with api(sim) as c:
        for status in (400, 401, 402, 403, 408, 500, 502, 503):
            spec = f"http_error;status={status};retry_after=3"
            r = await c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": spec})
            assert r.status_code == status
            assert r.json()["error"]["code"] == status and r.json()["error"]["message"]
            assert r.headers["retry-after"] == "3"
        r = await c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": "http_error;status=402"})
        assert r.json()["error"]["metadata"]["limit_source"]


async def test_rate_limit_fault_carries_retry_after_and_ratelimit_headers(sim: SimServer) -> None:
    async with api(sim) as c:
        r = await c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": "rate_limit;retry_after=7"})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.headers["x-ratelimit-remaining"] == "0" and int(r.headers["x-ratelimit-limit"]) > 0
    assert int(r.headers["x-ratelimit-reset"]) > time.time() * 1000


async def test_stream_error_sends_n_deltas_then_an_error_chunk_then_done(sim: SimServer) -> None:
    payload = {**body(), "stream": True}
    async with (
        api(sim) as c,
        c.stream(
            "POST",
            "/chat/completions",
            json=payload,
            headers={"X-Sim-Fault": "stream_error;after=3;status=502"},
        ) as r,
    ):
        lines = [line async for line in r.aiter_lines() if line.startswith("data: ")]
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert r.status_code == 200 and lines[-1] == "data: [DONE]"
    assert [bool(ch["choices"][0]["delta"].get("content")) for ch in chunks] == [True, True, True, False]
    assert chunks[-1]["error"]["code"] == 502 and chunks[-1]["choices"][0]["finish_reason"] == "error"


async def test_cut_stream_delivers_n_deltas_and_no_done(sim: SimServer) -> None:
    payload = {**body(), "stream": True}
    got: list[str] = []
    async with api(sim) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            headers = {"X-Sim-Fault": "cut_stream;after=4"}
            async with c.stream("POST", "/chat/completions", json=payload, headers=headers) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        got.append(line)
    assert len(got) == 4 and "data: [DONE]" not in got


async def test_slow_first_byte_delays_then_answers(sim: SimServer) -> None:
    async with api(sim) as c:
        t0 = time.perf_counter()
        r = await c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": "slow_first_byte;delay=0.25"})
    assert r.status_code == 200 and time.perf_counter() - t0 >= 0.25


async def test_rule_times_count_down_and_admin_routes_list_and_clear(sim: SimServer) -> None:
    admin = sim.base_url.removesuffix("/api/v1") + "/_sim/faults"
    sim.add_fault({"kind": "http_error", "status": 500, "times": 2})
    async with api(sim) as c:
        codes = [(await c.post("/chat/completions", json=body())).status_code for _ in range(3)]
        listed = (await c.get(admin)).json()["rules"]
        await c.post(admin, json={"rules": [{"kind": "http_error", "status": 503}]})
        forever = [(await c.post("/chat/completions", json=body())).status_code for _ in range(3)]
        cleared = (await c.delete(admin)).json()["rules"]
        healed = (await c.post("/chat/completions", json=body())).status_code
        bad = await c.post(admin, json={"rules": [{"kind": "no_such_kind"}]})
    assert codes == [500, 500, 200]
    assert listed == []  # the spent rule is gone
    assert forever == [503, 503, 503] and cleared == [] and healed == 200
    assert bad.status_code == 400


async def test_rule_model_glob_only_hits_matching_models(sim: SimServer) -> None:
    sim.add_fault({"kind": "http_error", "status": 502, "model": "anthropic/*"})
    async with api(sim) as c:
        claude = await c.post("/chat/completions", json=body(model="anthropic/claude-3.7-sonnet"))
        gpt = await c.post("/chat/completions", json=body(model="openai/gpt-4.1"))
    assert claude.status_code == 502 and gpt.status_code == 200


async def test_probability_is_seeded_and_roughly_honored() -> None:
    outcomes = []
    for _ in range(2):
        server = SimServer(SimConfig(latency_scale=0, seed=11))
        server.add_fault({"kind": "http_error", "status": 503, "probability": 0.3})
        await server.start()
        try:
            async with api(server) as c:
                outcomes.append([(await c.post("/chat/completions", json=body())).status_code for _ in range(200)])
        finally:
            await server.stop()
    assert outcomes[0] == outcomes[1]
    assert 40 <= outcomes[0].count(503) <= 80


async def test_config_faults_apply_from_start() -> None:
    config = SimConfig(latency_scale=0, faults=[parse_fault_spec("http_error;status=502;times=1")])
    server = SimServer(config)
    await server.start()
    try:
        async with api(server) as c:
            codes = [(await c.post("/chat/completions", json=body())).status_code for _ in range(2)]
    finally:
        await server.stop()
    assert codes == [502, 200]


async def test_bad_fault_header_is_a_400_that_names_the_kinds(sim: SimServer) -> None:
    async with api(sim) as c:
        r = await c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": "explode;status=500"})
    assert r.status_code == 400 and "http_error" in r.json()["error"]["message"]


async def test_stop_closes_a_connection_held_by_a_timeout_fault(sim: SimServer) -> None:
    async with api(sim, timeout=30) as c:
        task = asyncio.create_task(c.post("/chat/completions", json=body(), headers={"X-Sim-Fault": "timeout"}))
        for _ in range(100):
            if sim.stats.by_outcome.get("timeout"):
                break
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        await sim.stop()
        assert time.perf_counter() - t0 < 1.0
        with pytest.raises(httpx.RemoteProtocolError):
            await task
