"""Streaming from the simulator over real HTTP: SSE format, keep-alive comments, usage last, latency model."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from autodevai.sim import SimConfig, SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0))
    await server.start()
    yield server
    await server.stop()


def body(prompt: str, model: str = "openai/gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


async def read_events(c: httpx.AsyncClient, payload: dict[str, Any], **kw: Any) -> tuple[httpx.Response, list[str]]:
    """The raw SSE lines (without blank separators) of one streamed call."""
    async with c.stream("POST", "/chat/completions", json={**payload, "stream": True}, **kw) as r:
        lines = [line async for line in r.aiter_lines() if line]
    return r, lines


async def test_stream_format_keepalive_deltas_usage_and_done(sim: SimServer) -> None:
    prompt = "Explain the trade-offs of caching in web services"
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"Authorization": "Bearer k"}) as c:
        r, lines = await read_events(c, body(prompt))
        whole = (await c.post("/chat/completions", json=body(prompt))).json()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-generation-id"].startswith("gen-")
    assert lines[0] == ": OPENROUTER PROCESSING"
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[1:-1]]
    assert all(ch["object"] == "chat.completion.chunk" and ch["id"] == r.headers["x-generation-id"] for ch in chunks)
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
    assert text == whole["choices"][0]["message"]["content"]  # streaming does not change the answer
    assert len(chunks) > 5
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]
    assert last["usage"]["cost"] == pytest.approx(whole["usage"]["cost"])
    assert all("usage" not in ch for ch in chunks[:-1])


async def test_stream_honors_max_tokens_with_finish_reason_length(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"Authorization": "Bearer k"}) as c:
        _, lines = await read_events(c, body("Write about distributed consensus", max_tokens=8))
    last = json.loads(lines[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] == "length" and last["usage"]["completion_tokens"] <= 8


async def test_streams_reuse_one_keepalive_connection(sim: SimServer) -> None:
    async with httpx.AsyncClient(
        base_url=sim.base_url, headers={"Authorization": "Bearer k"}, limits=httpx.Limits(max_connections=1)
    ) as c:
        for i in range(5):
            _, lines = await read_events(c, body(f"What is {i}+1?"))
            assert lines[-1] == "data: [DONE]"
        r = await c.post("/chat/completions", json=body("What is 2+1?"))
    assert r.status_code == 200 and "2 + 1 = " in r.json()["choices"][0]["message"]["content"]


async def test_latency_model_sends_keepalives_while_waiting_for_first_token() -> None:
    # deepseek-r1: ttft 5 s; scaled by 0.06 -> 0.3 s of waiting, a keep-alive every 0.05 s.
    server = SimServer(SimConfig(latency_scale=0.06, keepalive_s=0.05))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as c:
            t0 = time.perf_counter()
            _, lines = await read_events(c, body("Tell me about sorting", "deepseek/deepseek-r1", max_tokens=20))
            elapsed = time.perf_counter() - t0
    finally:
        await server.stop()
    first_data = next(i for i, line in enumerate(lines) if line.startswith("data:"))
    assert first_data >= 4 and all(line == ": OPENROUTER PROCESSING" for line in lines[:first_data])
    assert 0.3 <= elapsed < 3.0


async def test_latency_scale_slows_whole_answers_and_zero_is_instant() -> None:
    # gpt-4o: ttft 0.45 s at 95 tok/s; at scale 0.5 a short answer takes about 0.25 s.
    slow, fast = SimServer(SimConfig(latency_scale=0.5)), SimServer(SimConfig(latency_scale=0))
    await slow.start()
    await fast.start()
    try:
        timings = []
        for server in (slow, fast):
            async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as c:
                t0 = time.perf_counter()
                r = await c.post("/chat/completions", json=body("What is 9*9?", "openai/gpt-4o"))
                timings.append(time.perf_counter() - t0)
                assert r.status_code == 200
    finally:
        await slow.stop()
        await fast.stop()
    assert timings[0] >= 0.22 and timings[1] < 0.2


async def test_client_leaving_mid_stream_does_not_hurt_the_server() -> None:
    server = SimServer(SimConfig(latency_scale=0.2))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as c:
            payload = {**body("Tell me a long story", "openai/gpt-4", max_tokens=200), "stream": True}
            async with c.stream("POST", "/chat/completions", json=payload) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        break  # leave after the first delta
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as c:
            ok = await c.post("/chat/completions", json=body("What is 1+1?"))
        assert ok.status_code == 200
        for _ in range(200):  # the server notices at its next write, a few chunks later
            if server.stats.by_outcome.get("client_gone"):
                break
            await asyncio.sleep(0.01)
    finally:
        await server.stop()
    assert server.stats.by_outcome.get("client_gone") == 1
