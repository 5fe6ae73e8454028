"""The gateway as OpenAI's own Python SDK sees it, over a real engine on the simulator: answers, streams, routing
by virtual model, fallbacks, auth, budget refusals, model listing, bad bodies and client disconnects.

Also the base of every ``test_gateway_*.py``: the ``start`` fixture, the ``client`` (OpenAI's SDK) and ``http``
(raw httpx) helpers, and ``openapi_conformance``: both helpers record every response the gateway sends, and after
each test every JSON object in them (completions, each stream chunk, model lists, error bodies) is validated
against OpenAI's OpenAPI schemas (tests/data/openai_openapi_subset.json). Other gateway test modules take the
fixtures by assigning them (``start = test_gateway.start``).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from autodevai.compose import App
from autodevai.engine import errors as E
from autodevai.engine.types import ChatRequest, Preference
from autodevai.gateway import Gateway, serve
from autodevai.gateway.errors import from_engine_error
from autodevai.gateway.server import is_loopback
from autodevai.sim.server import SimServer

from .conftest import BIG, MINI, MakeEngine

TOKEN = "gw-test-token-" + "x" * 20
PROMPT = [{"role": "user", "content": "What is 12*12?"}]

Start = Callable[..., Awaitable[tuple[App, Gateway]]]


@pytest.fixture
async def start(make_engine: MakeEngine) -> AsyncIterator[Start]:
    """``await start(**settings)`` -> (app, running gateway on port 0); stopped after the test."""
    gateways: list[Gateway] = []

    async def run(**settings: Any) -> tuple[App, Gateway]:
        settings.setdefault("resilience", {"retries_per_model": 0})
        app = await make_engine(**settings)
        gateway = Gateway(app.engine, token=TOKEN)
        await gateway.start()
        gateways.append(gateway)
        return app, gateway

    yield run
    for gateway in gateways:
        await gateway.stop()


def client(gateway: Gateway, token: str = TOKEN) -> openai.AsyncOpenAI:
    # max_retries=0: every request the test makes reaches the gateway exactly once.
    recorded = openai.DefaultAsyncHttpxClient(transport=recording_transport(openai.DefaultAsyncHttpxClient))
    return openai.AsyncOpenAI(base_url=gateway.base_url, api_key=token, max_retries=0, timeout=20, http_client=recorded)


def http(gateway: Gateway, token: str | None = TOKEN) -> httpx.AsyncClient:
    """A raw client for bodies the SDK would not send; its responses are recorded and checked like the SDK's."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=gateway.base_url,
        headers=headers,
        transport=recording_transport(httpx.AsyncClient),
        trust_env=False,
        timeout=20,
    )


# ---- every response checked against OpenAI's OpenAPI schemas -------------------------------------------------

SPEC_SUBSET = Path(__file__).resolve().parents[1] / "data" / "openai_openapi_subset.json"


@dataclass
class Seen:
    """One response the gateway sent, as the client read it (a stream the client left holds what came)."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytearray = field(default_factory=bytearray)


SEEN: list[Seen] = []  # the running test's responses (openapi_conformance clears it)


@functools.cache
def _recording_transport_class(lib: ModuleType) -> type:
    """A transport of ``lib`` (httpx, or httpx2 under newer OpenAI SDKs) that copies every response body into
    ``SEEN`` as the client reads it."""

    class Tee(lib.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, sink: bytearray) -> None:
            self._inner = inner
            self._sink = sink

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for piece in self._inner:
                self._sink += piece
                yield piece

        async def aclose(self) -> None:
            await self._inner.aclose()

    class RecordingTransport(lib.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            self._inner = lib.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            response = await self._inner.handle_async_request(request)
            content_type = response.headers.get("content-type", "")
            seen = Seen(request.method, request.url.path, response.status_code, content_type)
            SEEN.append(seen)
            response.stream = Tee(response.stream, seen.body)
            return response

        async def aclose(self) -> None:
            await self._inner.aclose()

    return RecordingTransport


def recording_transport(client_class: type) -> Any:
    """A recording transport for ``client_class`` (an ``AsyncClient`` of httpx or of the library the SDK uses)."""
    base = next(c for c in client_class.__mro__ if c.__name__ == "AsyncClient")
    return _recording_transport_class(importlib.import_module(base.__module__.partition(".")[0]))()


@functools.cache
def spec_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one of the subset's schemas (``CreateChatCompletionResponse``, ``Model``, ...)."""
    subset = json.loads(SPEC_SUBSET.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", **subset})


def spec_problems(name: str, obj: Any) -> list[str]:
    return [f"{name} at {e.json_path}: {e.message}" for e in spec_validator(name).iter_errors(obj)]


def sse_objects(body: bytes) -> list[Any]:
    """The JSON objects of an SSE body's complete ``data:`` events (``[DONE]`` and a cut-off last event left out)."""
    events = body.replace(b"\r\n", b"\n").split(b"\n\n")[:-1]
    lines = [line for event in events for line in event.split(b"\n")]
    return [json.loads(line[5:]) for line in lines if line.startswith(b"data:") and line[5:].strip() != b"[DONE]"]


def chunk_problems(chunk: Any) -> list[str]:
    """A ``chat.completion.chunk`` against the spec. A mid-stream error chunk is OpenRouter's shape: its
    ``error`` must be OpenAI's ``Error`` object and its ``finish_reason`` "error" (outside OpenAI's enum, on
    purpose: see gateway/app.py); the rest of it must match the spec."""
    if isinstance(chunk, dict) and "error" in chunk:
        problems = spec_problems("ErrorResponse", {"error": chunk["error"]})
        choices = chunk.get("choices") or [{}]
        if choices[0].get("finish_reason") != "error":
            problems.append("a mid-stream error chunk must say finish_reason 'error'")
        chunk = {**chunk, "choices": [{**c, "finish_reason": None} for c in chunk.get("choices", [])]}
        return problems + spec_problems("CreateChatCompletionStreamResponse", chunk)
    return spec_problems("CreateChatCompletionStreamResponse", chunk)


def response_problems(seen: Seen) -> list[str]:
    """What in one recorded response breaks OpenAI's spec (empty when nothing does)."""
    path = seen.path.removeprefix("/v1")
    if seen.content_type.startswith("text/event-stream"):
        return [p for chunk in sse_objects(bytes(seen.body)) for p in chunk_problems(chunk)]
    if not seen.content_type.startswith("application/json"):
        return [f"{seen.method} {seen.path} answered {seen.content_type!r}, not JSON"]
    obj = json.loads(seen.body)
    if seen.status >= 400:
        name = "ErrorResponse"
    elif path == "/chat/completions":
        name = "CreateChatCompletionResponse"
    elif path == "/models":
        name = "ListModelsResponse"
    elif path.startswith("/models/"):
        name = "Model"
    else:
        return [f"{seen.method} {seen.path}: no schema for it"]
    return spec_problems(name, obj)


@pytest.fixture(autouse=True)
def openapi_conformance() -> Iterator[list[Seen]]:
    """After each test: every object the gateway sent to ``client``/``http`` matches OpenAI's OpenAPI schemas."""
    SEEN.clear()
    yield SEEN
    problems = [f"{s.method} {s.path} ({s.status}): {p}" for s in SEEN for p in response_problems(s)]
    SEEN.clear()
    assert not problems, "responses that break OpenAI's spec:\n" + "\n".join(problems[:20])


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_plain_call_answers_in_openai_shape(start: Start) -> None:
    app, gateway = await start()
    assert gateway.base_url == f"http://127.0.0.1:{gateway.port}/v1"
    async with client(gateway) as c:
        raw = await c.chat.completions.with_raw_response.create(model="auto", messages=PROMPT, max_tokens=64)
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    answer = completion.choices[0].message.content
    assert answer and "144" in answer
    assert completion.choices[0].finish_reason == "stop"
    assert app.engine.find_model(completion.model) is not None, "model names the model that answered"
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    request_id = raw.headers["x-autodevai-request-id"]
    assert raw.headers["x-autodevai-provider"] == "sim"
    assert float(raw.headers["x-autodevai-cost-usd"]) > 0
    history = await app.engine.get_request_history(5)
    assert history[0].id == request_id and history[0].answer == answer and history[0].status == "ok"


async def test_stream_deltas_join_to_the_answer_with_usage_last(start: Start) -> None:
    app, gateway = await start()
    async with client(gateway) as c:
        stream = await c.chat.completions.create(
            model=MINI,
            messages=[{"role": "user", "content": "Tell me about connection pools."}],
            max_tokens=120,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    deltas = [ch.choices[0].delta.content or "" for ch in chunks if ch.choices]
    assert sum(1 for d in deltas if d) > 3, "the answer arrived in pieces"
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None and last.usage.completion_tokens > 0
    assert last.model == MINI
    history = await app.engine.get_request_history(5)
    assert history[0].status == "ok" and history[0].answer == "".join(deltas)
    assert history[0].completion_tokens == last.usage.completion_tokens


async def test_stream_without_include_usage_sends_no_usage_chunk(start: Start) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=MINI, messages=PROMPT, max_tokens=32, stream=True)
        chunks = [chunk async for chunk in stream]
    assert all(ch.usage is None for ch in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_cheapest_routes_by_cost(start: Start) -> None:
    app, gateway = await start()
    async with client(gateway) as c:
        cheap = await c.chat.completions.create(model="autodevai/cheapest", messages=PROMPT, max_tokens=64)
        best = await c.chat.completions.create(model="autodevai/best", messages=PROMPT, max_tokens=64)
    engine = app.engine
    expected = engine.explain_route(ChatRequest.from_prompt("What is 12*12?", max_tokens=64), Preference.COST)
    assert cheap.model == expected.chosen.model
    cheap_info, best_info = engine.find_model(cheap.model), engine.find_model(best.model)
    assert cheap_info is not None and best_info is not None
    assert cheap_info.price_out < best_info.price_out
    assert best_info.quality > cheap_info.quality


async def test_pinned_model_falls_back_when_it_fails(sim: SimServer, start: Start) -> None:
    app, gateway = await start()
    sim.add_fault({"kind": "http_error", "status": 500, "model": MINI})
    async with client(gateway) as c:
        raw = await c.chat.completions.with_raw_response.create(model=MINI, messages=PROMPT, max_tokens=64)
    completion = raw.parse()
    assert completion.model != MINI, "the response names the fallback that answered"
    assert completion.choices[0].message.content
    assert sim.stats.by_model.get(MINI) == 1
    row = (await app.engine.get_request_history(1))[0]
    assert row.id == raw.headers["x-autodevai-request-id"]
    assert [a["outcome"] for a in row.attempts] == ["ProviderUnavailable", "ok"]
    assert row.attempts[0]["model"] == MINI and row.attempts[1]["model"] == completion.model


async def test_bad_or_missing_token_is_refused(start: Start) -> None:
    _, gateway = await start()
    wrong = "wrong-" + TOKEN
    async with client(gateway, token=wrong) as c:
        with pytest.raises(openai.AuthenticationError) as info:
            await c.chat.completions.create(model="auto", messages=PROMPT)
        with pytest.raises(openai.AuthenticationError):
            await c.models.list()
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    assert wrong not in str(info.value.body) and TOKEN not in str(info.value.body)
    async with http(gateway, token=None) as h:
        r = await h.post("/chat/completions", json={"model": "auto", "messages": PROMPT})
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["error"]["message"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_budget_refusal_is_an_openai_error_and_calls_nobody(sim: SimServer, start: Start, stream: bool) -> None:
    app, gateway = await start(budget={"daily_usd": 0.00001})
    before = sim.stats.total
    async with client(gateway) as c:
        with pytest.raises(openai.APIStatusError) as info:
            await c.chat.completions.create(model=BIG, messages=PROMPT, max_tokens=4000, stream=stream)
    err = info.value
    # OpenAI's status for an exhausted quota: 429 with type insufficient_quota, and no retry (it cannot help).
    assert isinstance(err, openai.RateLimitError) and err.status_code == 429
    assert err.type == "insufficient_quota" and err.code == "budget_exceeded"
    assert "budget" in err.message.lower()
    assert err.response.headers["x-should-retry"] == "false"
    assert sim.stats.total == before, "a refused request never reaches the upstream"
    assert (await app.engine.get_request_history(1))[0].status in ("BudgetExceeded", "NoRouteAvailable")


async def test_models_list_has_virtual_and_real_ids(start: Start) -> None:
    app, gateway = await start()
    async with client(gateway) as c:
        page = await c.models.list()
        ids = [m.id async for m in page]
        one = await c.models.retrieve(MINI)
        with pytest.raises(openai.NotFoundError):
            await c.models.retrieve("openai/gpt-4o-mini-typo")
    assert ids[:5] == ["auto", "autodevai/cheapest", "autodevai/best", "autodevai/fastest", "autodevai/balanced"]
    assert MINI in ids and BIG in ids
    assert len(ids) == len(set(ids)) == len({m.id for m in app.engine.models()}) + 5
    assert one.id == MINI and one.owned_by == "openai"


async def test_unknown_model_is_404_with_suggestion(start: Start) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        with pytest.raises(openai.NotFoundError) as info:
            await c.chat.completions.create(model="openai/gpt-4o-mnii", messages=PROMPT)
    assert info.value.code == "model_not_found" and MINI in info.value.message


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ("hello", "messages"),
        ([{"role": "robot", "content": "hi"}], "messages[0].role"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "messages[0].content[0].image_url.url",
        ),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        ([{"role": "tool", "content": "42"}], "messages[0]"),
        ([{"role": "user", "content": "   "}], "messages"),
    ],
    ids=[
        "not-a-list",
        "bad-role",
        "bad-image-url",
        "content-not-text-nor-parts",
        "tool-without-call-id",
        "empty-prompt",
    ],
)
async def test_malformed_body_is_400_naming_the_field(start: Start, messages: Any, param: str) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        with pytest.raises(openai.BadRequestError) as info:
            await c.chat.completions.create(model="auto", messages=messages)
    assert info.value.param == param
    assert param in info.value.message


async def test_invalid_json_and_unknown_fields(start: Start) -> None:
    _, gateway = await start()
    async with http(gateway) as h:
        bad = await h.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
        ok = await h.post(
            "/chat/completions",
            json={"model": "auto", "messages": PROMPT, "max_tokens": 16, "logit_bias": {}, "user": "me", "seed": 1},
        )
        missing = await h.get("/embeddings")
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_url"


async def test_error_after_stream_began_is_a_final_error_chunk(sim: SimServer, start: Start) -> None:
    app, gateway = await start()
    sim.add_fault({"kind": "stream_error", "after_chunks": 3, "model": MINI})
    deltas: list[str] = []
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=MINI, messages=PROMPT, max_tokens=200, stream=True)
        with pytest.raises(openai.APIError) as info:
            async for chunk in stream:
                deltas.append(chunk.choices[0].delta.content or "")
    assert "".join(deltas), "the deltas before the error reached the client"
    assert info.value.code == "stream_interrupted"
    row = (await app.engine.get_request_history(1))[0]
    assert row.status == "StreamInterrupted" and row.answer == "".join(deltas)


async def test_client_disconnect_mid_stream_cancels_the_request(sim: SimServer, start: Start) -> None:
    sim.config.latency_scale = 0.05  # slow enough that the client leaves mid-stream
    app, gateway = await start()
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=MINI, messages=PROMPT, max_tokens=400, stream=True)
        async for chunk in stream:  # the role chunk first (at the engine's marker), then the first text
            if chunk.choices[0].delta.content:
                break
        await stream.close()

    async def cancelled() -> bool:
        rows = await app.engine.get_request_history(1)
        return bool(rows) and rows[0].status == "Cancelled"

    assert await eventually(cancelled), "the engine recorded the request as cancelled"
    assert (await app.engine.get_enhanced_system_status()).in_flight == 0
    assert (await app.engine.get_enhanced_system_status()).budget.reserved == 0, "the reservation was released"


async def test_stop_closes_and_nothing_listens_after(start: Start) -> None:
    _, gateway = await start()
    await gateway.stop()
    async with client(gateway) as c:
        with pytest.raises(openai.APIConnectionError):
            await c.models.list()


async def test_client_timeout_while_waiting_cancels_the_request(sim: SimServer, start: Start) -> None:
    app, gateway = await start()
    sim.add_fault({"kind": "slow_first_byte", "delay_s": 10, "model": MINI})
    t0 = time.monotonic()
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key=TOKEN, max_retries=0, timeout=0.3) as c:
        with pytest.raises(openai.APITimeoutError):
            await c.chat.completions.create(model=MINI, messages=PROMPT, max_tokens=32)

    async def cancelled() -> bool:
        rows = await app.engine.get_request_history(1)
        return bool(rows) and rows[0].status == "Cancelled"

    assert await eventually(cancelled, within_s=3.0), "nothing was written, yet the disconnect was noticed"
    assert time.monotonic() - t0 < 5, "cancelled long before the upstream would have answered"
    assert (await app.engine.get_enhanced_system_status()).in_flight == 0


@pytest.mark.parametrize(
    ("error", "status", "kind", "headers"),
    [
        (E.InvalidRequest("empty"), 400, "invalid_request_error", {}),
        (E.ContextTooLong("too long", tokens=9, limit=8), 400, "invalid_request_error", {}),
        (E.BadRequest("bad", provider="sim"), 400, "invalid_request_error", {}),
        (E.AuthRejected("401", provider="sim"), 502, "server_error", {}),
        (E.BudgetExceeded("over", cap="daily", left=0.0, needed=1.0), 429, "insufficient_quota", {}),
        (E.PaymentRequired("no credits", provider="sim"), 429, "insufficient_quota", {}),
        (E.CapabilityMissing("no tools", missing=["tools"], model="m"), 400, "invalid_request_error", {}),
        (E.RateLimited("slow", provider="sim", retry_after=2.5), 429, "rate_limit_error", {"retry-after": "3"}),
        (E.ProviderUnavailable("down", provider="sim"), 502, "server_error", {}),
        (E.CircuitOpen("open", provider="sim", model="m", until=110.2), 503, "server_error", {"retry-after": "11"}),
        (E.NoRouteAvailable("none", attempts=[E.Attempt("sim", "m", "ProviderUnavailable")]), 503, "server_error", {}),
        (E.ProviderTimeout("slow", provider="sim"), 504, "server_error", {}),
        (E.DeadlineExceeded("late"), 504, "server_error", {}),
        (E.StorageError("disk full", environment=True), 500, "server_error", {}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, E.EngineError) else None,
)
def test_engine_errors_map_to_openai_statuses(error: E.EngineError, status: int, kind: str, headers: dict) -> None:
    err = from_engine_error(error, now=100.0)
    body = json.loads(err.body())["error"]
    assert (err.status, body["type"]) == (status, kind)
    assert set(body) == {"message", "type", "param", "code"} and body["message"] and body["code"]
    sent = dict(err.all_headers())
    assert sent.items() >= headers.items()
    # Only a rate limit is worth the SDK's own retry; an exhausted quota is not.
    assert sent["x-should-retry"] == ("true" if kind == "rate_limit_error" else "false")
    if isinstance(error, E.AuthRejected):
        assert "gateway token was accepted" in body["message"] and "autodevai config key sim" in body["message"]


async def test_serve_uses_the_env_token_or_creates_one_in_the_keyring(
    make_engine: MakeEngine, memory_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_engine()
    created = await serve(app, port=0)
    try:
        stored = memory_keyring.get_password("autodevai", "gateway-token")
        assert stored and len(stored) >= 40
        async with client(created, token=stored) as c:
            assert (await c.models.list()).data
    finally:
        await created.stop()
    monkeypatch.setenv("AUTODEVAI_GATEWAY_TOKEN", TOKEN)
    from_env = await serve(app, port=0)
    try:
        async with client(from_env, token=TOKEN) as c:
            assert (await c.models.list()).data
        async with client(from_env, token=stored) as c:
            with pytest.raises(openai.AuthenticationError):
                await c.models.list()
    finally:
        await from_env.stop()


async def test_port_in_use_and_non_loopback_host_are_explained(start: Start, caplog: pytest.LogCaptureFixture) -> None:
    app, gateway = await start()
    with pytest.raises(E.ConfigError) as info:
        await Gateway(app.engine, token=TOKEN, port=gateway.port).start()
    assert str(gateway.port) in str(info.value) and "another port" in str(info.value)
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails after the warning, and nothing is sent.
    with pytest.raises(E.ConfigError):
        await Gateway(app.engine, token=TOKEN, host="192.0.2.1").start()
    assert "other machines can reach it" in caplog.text
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")
