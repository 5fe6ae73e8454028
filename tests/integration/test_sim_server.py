"""The simulator's routes over real HTTP: chat, models, key, generation, auth, credits, :free limit, stats."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from autodevai.sim import SimConfig, SimServer, model_profile

MakeSim = Callable[..., Awaitable[SimServer]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    servers: list[SimServer] = []

    async def make(clock: Callable[[], float] | None = None, **config: Any) -> SimServer:
        config.setdefault("latency_scale", 0.0)
        server = SimServer(SimConfig(**config), clock=clock) if clock else SimServer(SimConfig(**config))
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


def client(sim: SimServer, key: str | None = "test-key") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(base_url=sim.base_url, headers=headers, timeout=10)


def chat_body(prompt: str, model: str = "openai/gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


async def test_chat_answers_arithmetic_in_openrouter_shape(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        r = await c.post("/chat/completions", json=chat_body("What is 17*23?", "openai/gpt-4o", max_tokens=50))
    assert r.status_code == 200
    data = r.json()
    assert data["id"].startswith("gen-") and r.headers["x-generation-id"] == data["id"]
    assert data["object"] == "chat.completion" and data["model"] == "openai/gpt-4o"
    assert data["provider"] == "OpenAI" and isinstance(data["created"], int)
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    assert "17 × 23 =" in choice["message"]["content"]
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # gpt-4o: $2.50 / $10 per million tokens
    expected = usage["prompt_tokens"] * 2.5e-6 + usage["completion_tokens"] * 10e-6
    assert usage["cost"] == pytest.approx(expected)


async def test_both_url_prefixes_serve_the_same_routes(make_sim: MakeSim) -> None:
    sim = await make_sim()
    root = sim.base_url.removesuffix("/api/v1")
    async with httpx.AsyncClient(headers={"Authorization": "Bearer k"}) as c:
        a = await c.post(f"{root}/v1/chat/completions", json=chat_body("What is 2+2?"))
        b = await c.post(f"{root}/api/v1/chat/completions", json=chat_body("What is 2+2?"))
        models = await c.get(f"{root}/v1/models")
        missing = await c.get(f"{root}/api/v1/nothing-here")
        wrong_method = await c.get(f"{root}/api/v1/chat/completions")
    assert a.json()["choices"] == b.json()["choices"]
    assert len(models.json()["data"]) >= 300
    assert missing.status_code == 404 and "error" in missing.json()
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"


async def test_models_route_has_openrouter_shape_and_real_prices(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim, key=None) as c:  # the catalog needs no key, like OpenRouter's
        data = (await c.get("/models")).json()["data"]
    assert len(data) >= 300 and len({m["id"] for m in data}) == len(data)
    by_id = {m["id"]: m for m in data}
    gpt4o = by_id["openai/gpt-4o"]
    assert gpt4o["pricing"]["prompt"] == "0.0000025" and gpt4o["pricing"]["completion"] == "0.00001"
    assert gpt4o["context_length"] == 128000 and gpt4o["top_provider"]["max_completion_tokens"] == 16384
    assert by_id["anthropic/claude-3.5-sonnet"]["pricing"]["completion"] == "0.000015"
    assert by_id["google/gemini-2.0-flash-001"]["context_length"] == 1048576
    assert by_id["meta-llama/llama-3.3-70b-instruct:free"]["pricing"]["prompt"] == "0"
    for m in data:
        assert set(m["pricing"]) >= {"prompt", "completion", "request", "image"}
        assert all(isinstance(v, str) and float(v) >= 0 for v in m["pricing"].values())
        assert "text" in m["architecture"]["output_modalities"] and m["architecture"]["tokenizer"]
        assert m["top_provider"]["context_length"] == m["context_length"] > 0
        assert isinstance(m["supported_parameters"], list) and m["name"] and m["created"] > 0
    assert sum("(simulated)" in m["description"] for m in data) >= 100


async def test_models_cap_limits_catalog_and_chat(make_sim: MakeSim) -> None:
    sim = await make_sim(models=["openai/*", "anthropic/claude-3.5-haiku"])
    async with client(sim) as c:
        ids = {m["id"] for m in (await c.get("/models")).json()["data"]}
        r = await c.post("/chat/completions", json=chat_body("hi", "mistralai/mistral-nemo"))
    assert "anthropic/claude-3.5-haiku" in ids and all(i.startswith("openai/") or "haiku" in i for i in ids)
    assert r.status_code == 400


async def test_unknown_model_is_400_in_openrouter_error_shape(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        r = await c.post("/chat/completions", json=chat_body("hi", "nobody/no-such-model"))
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "message": "nobody/no-such-model is not a valid model ID"}}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "Invalid JSON"),
        (json.dumps({"model": "openai/gpt-4o"}).encode(), "messages"),
        (json.dumps(chat_body("hi", max_tokens=0)).encode(), "max_tokens"),
        (json.dumps(chat_body("x" * 600_000, "openai/gpt-4")).encode(), "maximum context length is 8191"),
    ],
)
async def test_bad_requests_are_400_with_a_reason(make_sim: MakeSim, body: bytes, needle: str) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        r = await c.post("/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and needle in r.json()["error"]["message"]


async def test_models_fallback_list_answers_with_first_valid(make_sim: MakeSim) -> None:
    sim = await make_sim()
    body = chat_body("What is 3*3?", "nobody/unknown", models=["nobody/unknown", "openai/gpt-4.1-mini"])
    async with client(sim) as c:
        r = await c.post("/chat/completions", json=body)
    assert r.status_code == 200 and r.json()["model"] == "openai/gpt-4.1-mini"


async def test_fallback_past_a_5xx_faulted_model(make_sim: MakeSim) -> None:
    sim = await make_sim()
    sim.add_fault({"kind": "http_error", "status": 502, "model": "openai/gpt-4o"})
    body = chat_body("What is 6*7?", "openai/gpt-4o", models=["anthropic/claude-3.5-sonnet"])
    async with client(sim) as c:
        fell_back = await c.post("/chat/completions", json=body)
        alone = await c.post("/chat/completions", json=chat_body("What is 6*7?", "openai/gpt-4o"))
    assert fell_back.status_code == 200 and fell_back.json()["model"] == "anthropic/claude-3.5-sonnet"
    assert alone.status_code == 502 and alone.json()["error"]["code"] == 502
    assert sim.stats.fallbacks == 1 and sim.stats.by_model["openai/gpt-4o"] == 2


async def test_max_tokens_bounds_the_reply(make_sim: MakeSim) -> None:
    sim = await make_sim()
    prompt = "Explain how circuit breakers protect distributed systems"
    async with client(sim) as c:
        short = (await c.post("/chat/completions", json=chat_body(prompt, max_tokens=5))).json()
        default = (await c.post("/chat/completions", json=chat_body(prompt))).json()
    assert short["usage"]["completion_tokens"] <= 5 and short["choices"][0]["finish_reason"] == "length"
    assert 5 < default["usage"]["completion_tokens"] <= 60
    assert default["choices"][0]["message"]["content"].startswith(short["choices"][0]["message"]["content"])


async def test_same_seed_same_answer_and_seed_changes_answers(make_sim: MakeSim) -> None:
    a, b, other = await make_sim(seed=7), await make_sim(seed=7), await make_sim(seed=8)
    prompts = [f"What is {i}*{i + 13}?" for i in range(40)] + ["Tell me about caching strategies"]
    answers: dict[int, list[str]] = {}
    for sim in (a, b, other):
        async with client(sim) as c:
            model = "meta-llama/llama-3.1-8b-instruct"
            replies = [await c.post("/chat/completions", json=chat_body(p, model)) for p in prompts]
        answers[id(sim)] = [r.json()["choices"][0]["message"]["content"] for r in replies]
    assert answers[id(a)] == answers[id(b)]
    assert answers[id(a)] != answers[id(other)]


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "meta-llama/llama-3.2-1b-instruct"])
async def test_arithmetic_accuracy_matches_the_model_profile(make_sim: MakeSim, model: str) -> None:
    sim = await make_sim(seed=3)
    n, right = 300, 0
    async with client(sim) as c:
        for i in range(n):
            x, y = 11 + i, 7 + (i * 37) % 91
            r = await c.post("/chat/completions", json=chat_body(f"What is {x}*{y}?", model))
            right += f"= {x * y}." in r.json()["choices"][0]["message"]["content"]
    assert right / n == pytest.approx(model_profile(model).accuracy, abs=0.08)


async def test_capital_lookup(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        r = await c.post("/chat/completions", json=chat_body("What is the capital of Japan?", "openai/o3"))
    text = r.json()["choices"][0]["message"]["content"]
    assert text.startswith("The capital of Japan is ")


async def test_auth_missing_empty_and_unknown_keys_are_401(make_sim: MakeSim) -> None:
    open_sim = await make_sim()
    locked = await make_sim(keys={"good-key"})
    async with client(open_sim, key=None) as c:
        none = await c.post("/chat/completions", json=chat_body("hi"))
        empty = await c.post("/chat/completions", json=chat_body("hi"), headers={"Authorization": "Bearer"})
    async with client(locked, key="bad-key") as c:
        bad = await c.post("/chat/completions", json=chat_body("hi"))
        bad_key_route = await c.get("/key")
    async with client(locked, key="good-key") as c:
        good = await c.post("/chat/completions", json=chat_body("hi"))
    assert [none.status_code, empty.status_code, bad.status_code, bad_key_route.status_code] == [401] * 4
    assert none.json()["error"]["code"] == 401 and good.status_code == 200
    assert open_sim.stats.by_outcome["unauthorized"] == 2


async def test_credit_limit_gives_402_with_limit_source_and_key_shows_usage(make_sim: MakeSim) -> None:
    sim = await make_sim(credit_limit=0.0001)
    async with client(sim) as c:
        first = await c.post("/chat/completions", json=chat_body("Tell me a story", "openai/gpt-4o"))
        second = await c.post("/chat/completions", json=chat_body("Tell me a story", "openai/gpt-4o"))
        free = await c.post("/chat/completions", json=chat_body("hi", "meta-llama/llama-3.1-8b-instruct:free"))
        key = (await c.get("/key")).json()["data"]
    assert first.status_code == 200 and first.json()["usage"]["cost"] > 0.0001
    assert second.status_code == 402 and second.json()["error"]["metadata"]["limit_source"]
    assert free.status_code == 200  # free models cost nothing, so they still answer
    assert key["limit"] == 0.0001 and key["limit_remaining"] == 0
    assert key["usage"] == pytest.approx(first.json()["usage"]["cost"]) == key["usage_monthly"]
    assert key["is_free_tier"] is False


async def test_free_models_allow_20_requests_per_minute_per_key(make_sim: MakeSim) -> None:
    now = [1000.0]
    sim = await make_sim(clock=lambda: now[0])
    body = chat_body("hi", "qwen/qwq-32b:free")
    async with client(sim) as c:
        codes = [(await c.post("/chat/completions", json=body)).status_code for _ in range(20)]
        limited = await c.post("/chat/completions", json=body)
        other_key = await c.post("/chat/completions", json=body, headers={"Authorization": "Bearer k2"})
        paid = await c.post("/chat/completions", json=chat_body("hi", "qwen/qwq-32b"))
        now[0] += 61
        later = await c.post("/chat/completions", json=body)
    assert codes == [200] * 20
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-ratelimit-limit"] == "20" and limited.headers["x-ratelimit-remaining"] == "0"
    assert other_key.status_code == 200 and paid.status_code == 200 and later.status_code == 200


async def test_generation_route_reports_cost_of_a_past_call(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        r = await c.post("/chat/completions", json=chat_body("What is 8*8?", "anthropic/claude-3.5-haiku"))
        gen = (await c.get("/generation", params={"id": r.headers["x-generation-id"]})).json()["data"]
        missing = await c.get("/generation", params={"id": "gen-unknown"})
    usage = r.json()["usage"]
    assert gen["total_cost"] == pytest.approx(usage["cost"]) and gen["model"] == "anthropic/claude-3.5-haiku"
    assert gen["tokens_prompt"] == usage["prompt_tokens"] and gen["tokens_completion"] == usage["completion_tokens"]
    assert gen["streamed"] is False and gen["finish_reason"] == "stop"
    assert missing.status_code == 404


async def test_stats_count_per_model_and_outcome(make_sim: MakeSim) -> None:
    sim = await make_sim()
    async with client(sim) as c:
        await c.post("/chat/completions", json=chat_body("hi", "openai/gpt-4o"))
        await c.post("/chat/completions", json=chat_body("hi", "openai/gpt-4o"))
        await c.post("/chat/completions", json=chat_body("hi", "bad/model"))
        await c.post("/chat/completions", json=chat_body("hi", "openai/o3-mini"), headers={"X-Sim-Fault": "http_error"})
        served = (await c.get("/_sim/stats", headers={"X-Sim-Admin-Token": sim.admin_token})).json()
    stats = sim.stats
    assert stats.total == 4 == served["total"]
    assert stats.by_model == {"openai/gpt-4o": 2, "openai/o3-mini": 1} == served["by_model"]
    assert stats.by_outcome == {"ok": 2, "bad_request": 1, "http_error": 1}
    assert stats.by_route["/chat/completions"] == 4
