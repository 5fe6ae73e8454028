"""Providers over real HTTP on loopback (scripted server): parsing, errors, streams, secrets, models."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import secrets
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from autodevai.engine.errors import (
    AuthRejected,
    BadRequest,
    ContentFiltered,
    MalformedResponse,
    PaymentRequired,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from autodevai.engine.ports import Provider
from autodevai.engine.types import ChatMessage, ChatRequest, Completion, ProviderCall, StreamEvent
from autodevai.providers import OpenAICompatProvider, OpenRouterProvider, build_provider, make_client
from autodevai.providers.error_map import parse_retry_after
from tests.fakes.scripted_server import Reply, ScriptedServer

OPENROUTER_ONLY = {"models", "provider", "transforms", "plugins", "usage"}


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as s:
        yield s


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    c = make_client(connect_timeout_s=1.0, read_timeout_s=3.0, trust_env=False)
    yield c
    await c.aclose()


def canary_key() -> str:
    """A fake key made at runtime; not key-shaped, so only register_secret can hide it."""
    return "canary-" + secrets.token_hex(16)


def call(model: str = "vendor/asked", **kw: Any) -> ProviderCall:
    return ProviderCall(model=model, messages=(ChatMessage(role="user", content="What is 2+2?"),), max_tokens=32, **kw)


def answer(content: str = "4", model: str = "vendor/answered", **extra: Any) -> dict[str, Any]:
    return {
        "id": "gen-123",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12, "cost": 0.000042},
        **extra,
    }


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {
        "id": "gen-s1",
        "model": "vendor/answered",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def error_body(status: int, message: str, **metadata: Any) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "metadata": metadata}}


def openrouter(server: ScriptedServer, client: httpx.AsyncClient, key: str | None = None, **kw: Any) -> Any:
    return OpenRouterProvider("openrouter", server.url + "/api/v1", key or canary_key(), client, **kw)


def plain(server: ScriptedServer, client: httpx.AsyncClient, key: str | None = None, **kw: Any) -> Any:
    return OpenAICompatProvider("local", server.url + "/v1", key, client, **kw)


async def collect(stream: AsyncIterator[StreamEvent]) -> tuple[list[str], Completion]:
    deltas: list[str] = []
    final: list[Completion] = []
    async for event in stream:
        assert not final, "nothing may follow the completion event"
        if event.completion is not None:
            final.append(event.completion)
        else:
            deltas.append(event.delta)
    assert len(final) == 1
    return deltas, final[0]


# ---- success ----------------------------------------------------------------------------------------------


async def test_chat_reports_the_model_that_answered_usage_and_cost(server: ScriptedServer, client: Any) -> None:
    key = canary_key()
    provider = openrouter(server, client, key)
    server.queue(Reply.json(answer()))
    done = await provider.chat(call(), timeout_s=5)
    assert (done.content, done.model, done.provider, done.finish_reason) == (
        "4",
        "vendor/answered",
        "openrouter",
        "stop",
    )
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.total_tokens) == (11, 1, 12)
    assert done.usage.cost == pytest.approx(0.000042)
    assert done.generation_id == "gen-123"
    req = server.requests[0]
    assert (req.method, req.path) == ("POST", "/api/v1/chat/completions")
    assert req.headers["authorization"] == f"Bearer {key}"
    assert req.json["messages"] == [{"role": "user", "content": "What is 2+2?"}]
    assert req.json["model"] == "vendor/asked" and req.json["max_tokens"] == 32


async def test_plain_server_without_key_id_or_cost(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client)
    body = answer(model="llama3")
    del body["id"]
    body["usage"] = {"prompt_tokens": 5, "completion_tokens": 2}
    server.queue(Reply.json(body, headers=[("X-Generation-Id", "hdr-9")]))
    done = await provider.chat(call("llama3", temperature=0.3), timeout_s=5)
    assert done.generation_id == "hdr-9"
    assert done.usage.total_tokens == 7 and done.usage.cost is None
    req = server.requests[0]
    assert "authorization" not in req.headers
    assert req.json["temperature"] == 0.3


async def test_connections_are_reused_and_extra_headers_sent(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client, "k-local-1234")
    server.queue(Reply.json(answer()), Reply.json(answer()))
    await provider.chat(call(extra_headers=(("X-Sim-Fault", "none"), ("Authorization", "Bearer other"))), timeout_s=5)
    await provider.chat(call(), timeout_s=5)
    assert server.connections == 1  # keep-alive: the second call did not pay a new handshake
    assert server.requests[0].headers["x-sim-fault"] == "none"
    assert server.requests[0].headers["authorization"] == "Bearer k-local-1234"  # a caller cannot replace the key


# ---- what is sent -----------------------------------------------------------------------------------------


async def test_plain_server_never_gets_openrouter_fields(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client)
    server.queue(Reply.json(answer()), Reply.sse([chunk("x", "stop")]))
    the_call = call(openrouter_fallbacks=("vendor/b", "vendor/c"))
    await provider.chat(the_call, timeout_s=5)
    await collect(provider.stream(the_call, timeout_s=5))
    for req in server.requests:
        assert not OPENROUTER_ONLY & set(req.json), req.json
        assert "http-referer" not in req.headers and "x-title" not in req.headers
    assert set(server.requests[0].json) == {"model", "messages", "max_tokens", "stream"}
    assert server.requests[1].json["stream"] is True
    assert server.requests[1].json["stream_options"] == {"include_usage": True}


async def test_openrouter_sends_fallbacks_preferences_and_attribution(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client, provider_preferences={"sort": "price"}, transforms=["middle-out"])
    server.queue(Reply.json(answer()), Reply.json(answer()))
    await provider.chat(call(openrouter_fallbacks=("vendor/b", "vendor/c")), timeout_s=5)
    await provider.chat(call(), timeout_s=5)
    first, second = (r.json for r in server.requests)
    assert first["models"] == ["vendor/asked", "vendor/b", "vendor/c"]
    assert first["provider"] == {"sort": "price"} and first["transforms"] == ["middle-out"]
    assert "models" not in second  # no fallbacks asked, none sent
    headers = server.requests[0].headers
    assert headers["x-title"] == "AutoDevAI" and headers["http-referer"].startswith("https://")


async def test_attribution_can_be_switched_off(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client, attribution=False)
    server.queue(Reply.json(answer()))
    await provider.chat(call(), timeout_s=5)
    assert "x-title" not in server.requests[0].headers
    assert "http-referer" not in server.requests[0].headers


# ---- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequest, False),
        (401, AuthRejected, False),
        (402, PaymentRequired, False),
        (403, ContentFiltered, False),
        (404, BadRequest, False),
        (408, ProviderTimeout, True),
        (409, BadRequest, False),
        (429, RateLimited, True),
        (500, ProviderUnavailable, True),
        (502, ProviderUnavailable, True),
        (503, ProviderUnavailable, True),
    ],
)
async def test_status_maps_to_error_class(
    server: ScriptedServer, client: Any, status: int, cls: type[ProviderError], retryable: bool
) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.json(error_body(status, f"upstream says {status}"), status=status))
    with pytest.raises(cls) as info:
        await provider.chat(call(), timeout_s=5)
    err = info.value
    assert type(err) is cls
    assert err.retryable is retryable and err.status == status
    assert err.provider == "openrouter" and err.model == "vendor/asked"
    assert f"upstream says {status}" in str(err) and str(status) in str(err)


async def test_moderation_reasons_and_non_json_errors_are_readable(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(
        Reply.json(error_body(403, "flagged", reasons=["violence"]), status=403),
        Reply.raw(b"<html><body>Bad   Gateway</body></html>", status=502),
    )
    with pytest.raises(ContentFiltered, match="violence"):
        await provider.chat(call(), timeout_s=5)
    with pytest.raises(ProviderUnavailable, match="Bad Gateway"):
        await provider.chat(call(), timeout_s=5)


async def test_retry_after_seconds_and_http_date(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    reset_ms = str(int((time.time() + 30) * 1000))
    server.queue(
        Reply.json(error_body(429, "slow down"), status=429, headers=[("Retry-After", "7")]),
        Reply.json(error_body(429, "slow down"), status=429, headers=[("Retry-After", when)]),
        Reply.json(error_body(429, "slow down"), status=429, headers=[("X-RateLimit-Reset", reset_ms)]),
        Reply.json(error_body(429, "slow down"), status=429),
    )
    waits = []
    for _ in range(4):
        with pytest.raises(RateLimited) as info:
            await provider.chat(call(), timeout_s=5)
        waits.append(info.value.retry_after)
    assert waits[0] == 7.0
    assert waits[1] is not None and 115 <= waits[1] <= 121
    assert waits[2] is not None and 25 <= waits[2] <= 31
    assert waits[3] is None


def test_retry_after_parsing_is_exact_with_a_fixed_clock() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), now) == pytest.approx(42)
    assert parse_retry_after(httpx.Headers({"Retry-After": "1.5"}), now) == 1.5
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"}), now) is None
    assert parse_retry_after(httpx.Headers({"X-RateLimit-Reset": str(int((now + 9) * 1000))}), now) == 9
    past = email.utils.formatdate(now - 60, usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": past}), now) == 0.0


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply.raw(b"{not json", headers=[("content-type", "application/json")]), "malformed"),
        (Reply.json({"id": "x", "model": "m"}), "choices"),
        (Reply.json({"choices": [{"message": {"content": 42}}]}), "content"),
        (
            Reply.json({"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "many"}}),
            "usage",
        ),
    ],
)
async def test_malformed_bodies(server: ScriptedServer, client: Any, reply: Reply, fragment: str) -> None:
    provider = plain(server, client)
    server.queue(reply)
    with pytest.raises(MalformedResponse, match=fragment) as info:
        await provider.chat(call(), timeout_s=5)
    assert info.value.retryable


async def test_error_inside_a_200_body(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.json(error_body(502, "model crashed")), Reply.json({"error": {"message": "odd"}}))
    with pytest.raises(ProviderUnavailable, match="model crashed"):
        await provider.chat(call(), timeout_s=5)
    with pytest.raises(ProviderUnavailable, match="odd"):
        await provider.chat(call(), timeout_s=5)


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_connection_dropped_is_unavailable(server: ScriptedServer, client: Any, action: str) -> None:
    provider = plain(server, client)
    server.queue(Reply.misbehave(action))  # type: ignore[arg-type]
    with pytest.raises(ProviderUnavailable) as info:
        await provider.chat(call(), timeout_s=5)
    assert info.value.retryable
    assert isinstance(info.value.__cause__, httpx.HTTPError)


async def test_nothing_listening_is_unavailable(client: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = OpenAICompatProvider("gone", f"http://127.0.0.1:{port}/v1", None, client)
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        await provider.chat(call(), timeout_s=5)


async def test_overall_budget_times_out(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client)
    server.queue(Reply.misbehave("hang"))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout, match=r"0\.2 s") as info:
        await provider.chat(call(), timeout_s=0.2)
    assert time.monotonic() - started < 1.5
    assert info.value.retryable
    await server.wait_disconnect()  # the abandoned request's connection was closed


async def test_client_read_timeout_is_a_timeout(server: ScriptedServer) -> None:
    async with make_client(1.0, 0.2, trust_env=False) as fast:
        provider = plain(server, fast)
        server.queue(Reply.misbehave("hang"))
        with pytest.raises(ProviderTimeout):
            await provider.chat(call(), timeout_s=10)


async def test_api_key_never_appears_in_errors(server: ScriptedServer, client: Any) -> None:
    key = canary_key()
    provider = openrouter(server, client, key)
    leak = f"Incorrect API key provided: {key}. Header was Authorization: Bearer {key}"
    server.queue(
        Reply.json(error_body(401, leak), status=401),
        Reply.raw(leak.encode(), status=500),
        Reply.sse([chunk("a"), {"error": {"code": 500, "message": leak}}]),
        Reply.misbehave("reset"),
    )
    seen: list[BaseException] = []
    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            await provider.chat(call(), timeout_s=5)
        seen.append(info.value)
    with pytest.raises(StreamInterrupted) as stream_info:
        await collect(provider.stream(call(), timeout_s=5))
    seen.append(stream_info.value)
    with pytest.raises(ProviderUnavailable) as reset_info:
        await provider.chat(call(), timeout_s=5)
    seen.append(reset_info.value)
    for err in seen:
        text = f"{err} {err!r} {err.args} {err.__cause__!r}"
        assert key not in text
    assert "[REDACTED]" in str(seen[0])


# ---- streaming --------------------------------------------------------------------------------------------


async def test_stream_with_keepalive_comments(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    usage = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12, "cost": 0.00002}
    server.queue(
        Reply.sse(
            [
                ": OPENROUTER PROCESSING",
                ": OPENROUTER PROCESSING",
                chunk("Hel"),
                ": OPENROUTER PROCESSING",
                chunk("lo"),
                b'data: {"id":"gen-s1","model":"vendor/answered",'
                b'"choices":[{"delta":{"content":" you"}}]}\r\n\r\n',  # CRLF line ends are legal SSE
                chunk(None, "stop"),
                {"id": "gen-s1", "model": "vendor/answered", "choices": [], "usage": usage},
            ],
            chunk_delay_s=0.01,
        )
    )
    deltas, done = await collect(provider.stream(call(), timeout_s=5))
    assert deltas == ["Hel", "lo", " you"]
    assert done.content == "Hello you" and done.model == "vendor/answered" and done.finish_reason == "stop"
    assert done.usage.total_tokens == 12 and done.usage.cost == pytest.approx(0.00002)
    assert done.generation_id == "gen-s1"
    assert done.ttft_s is not None and 0 < done.ttft_s < 5


async def test_finished_streams_leave_the_connection_warm(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.sse([chunk("a", "stop")]), Reply.sse([chunk("b", "stop")]), Reply.json(answer()))
    assert (await collect(provider.stream(call(), timeout_s=5)))[1].content == "a"
    assert (await collect(provider.stream(call(), timeout_s=5)))[1].content == "b"
    await provider.chat(call(), timeout_s=5)
    assert server.connections == 1  # no new handshake per stream


async def test_stream_events_split_across_tcp_chunks(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client)
    whole = b'data: {"model":"m","choices":[{"delta":{"content":"abc"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    server.queue(Reply(headers=[("content-type", "text/event-stream")], chunks=[whole[:17], whole[17:40], whole[40:]]))
    deltas, done = await collect(provider.stream(call(), timeout_s=5))
    assert deltas == ["abc"] and done.content == "abc"


async def test_mid_stream_error_chunk_keeps_partial(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    error_chunk = chunk("", "error", error={"code": 502, "message": "provider died"})
    server.queue(Reply.sse([chunk("The answer"), chunk(" is"), error_chunk]))
    got: list[str] = []
    with pytest.raises(StreamInterrupted, match="provider died") as info:
        async for event in provider.stream(call(), timeout_s=5):
            got.append(event.delta)
    assert info.value.partial == "The answer is" == "".join(got)
    assert info.value.retryable


async def test_cut_stream_is_interrupted_with_partial(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(
        Reply.sse([chunk("one"), chunk(" two"), chunk(" three", "stop")], cut_after=2),
        Reply.sse([chunk("one"), chunk(" two")], done=False),  # closed cleanly but no final chunk nor [DONE]
    )
    with pytest.raises(StreamInterrupted) as info:
        await collect(provider.stream(call(), timeout_s=5))
    assert info.value.partial == "one two"
    with pytest.raises(StreamInterrupted, match="before its final chunk") as info2:
        await collect(provider.stream(call(), timeout_s=5))
    assert info2.value.partial == "one two"


async def test_stream_errors_before_the_first_byte(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(
        Reply.json(error_body(429, "busy"), status=429, headers=[("Retry-After", "3")]),
        Reply.sse([chunk("late", "stop")], delay_s=1.0),
    )
    with pytest.raises(RateLimited) as info:
        await collect(provider.stream(call(), timeout_s=5))
    assert info.value.retry_after == 3.0
    with pytest.raises(ProviderTimeout):
        await collect(provider.stream(call(), timeout_s=0.2))


async def test_stream_overall_budget_covers_a_trickling_stream(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.sse([": OPENROUTER PROCESSING"] * 50, chunk_delay_s=0.05))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await collect(provider.stream(call(), timeout_s=0.3))
    assert time.monotonic() - started < 1.5


async def test_server_ignoring_stream_flag_still_streams(server: ScriptedServer, client: Any) -> None:
    provider = plain(server, client)
    server.queue(Reply.json(answer("whole answer")))
    deltas, done = await collect(provider.stream(call(), timeout_s=5))
    assert deltas == ["whole answer"] and done.content == "whole answer" and done.usage.total_tokens == 12


async def test_closing_the_stream_drops_the_connection(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.sse([chunk("first")], done=False, hold_open=True))
    stream = provider.stream(call(), timeout_s=10)
    async with contextlib.aclosing(stream):
        event = await anext(stream)
        assert event.delta == "first"
    await server.wait_disconnect(1.0)  # the server stopped generating: nobody pays for unread tokens


async def test_cancelling_the_consumer_drops_the_connection(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.sse([chunk("first")], done=False, hold_open=True))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(call(), timeout_s=10):
            first.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(2):
        await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await server.wait_disconnect(1.0)


# ---- catalogs and keys ------------------------------------------------------------------------------------


OPENROUTER_MODELS = {
    "data": [
        {
            "id": "anthropic/claude-sonnet",
            "name": "Anthropic: Claude Sonnet",
            "created": 1718841600,
            "description": "Fast and smart.",
            "context_length": 200000,
            "architecture": {
                "modality": "text+image->text",
                "input_modalities": ["text", "image"],
                "output_modalities": ["text"],
                "tokenizer": "Claude",
            },
            "pricing": {"prompt": "0.000003", "completion": "0.000015", "request": "0", "image": "0.0048"},
            "top_provider": {"context_length": 200000, "max_completion_tokens": 8192, "is_moderated": True},
            "supported_parameters": ["max_tokens", "temperature", "tools"],
            "some_future_field": {"ignored": True},
        },
        {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}},  # variable price: skipped
        {
            "id": "meta-llama/llama-3-8b:free",
            "pricing": {"prompt": "0", "completion": "0"},
            "context_length": None,
        },
        {"no_id": True},
    ]
}


async def test_list_models_openrouter_shape(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.json(OPENROUTER_MODELS))
    models = {m.id: m for m in await provider.list_models()}
    assert server.requests[0].method == "GET" and server.requests[0].path == "/api/v1/models"
    assert set(models) == {"anthropic/claude-sonnet", "meta-llama/llama-3-8b:free", "openrouter/auto"}
    assert models["openrouter/auto"].route_exclusion.startswith("a router")  # listed, never routed to
    assert not models["openrouter/auto"].price_known
    sonnet = models["anthropic/claude-sonnet"]
    assert (sonnet.price_in, sonnet.price_out) == (0.000003, 0.000015)
    assert (sonnet.context_length, sonnet.max_output) == (200000, 8192)
    assert sonnet.input_modalities == ("text", "image") and sonnet.output_modalities == ("text",)
    assert sonnet.supported_parameters == ("max_tokens", "temperature", "tools")
    assert sonnet.vendor == "anthropic" and sonnet.provider == "openrouter"
    assert sonnet.description == "Fast and smart." and sonnet.created == 1718841600 and sonnet.moderated
    free = models["meta-llama/llama-3-8b:free"]
    assert free.price_in == 0 and free.price_known and free.name == free.id
    assert not free.context_known  # no window listed: unknown, not 4,096 tokens


async def test_list_models_openai_shape_and_configured_subset(server: ScriptedServer, client: Any) -> None:
    listing = {
        "object": "list",
        "data": [
            {"id": "llama3:latest", "object": "model", "created": 1715000000, "owned_by": "library"},
            {"id": "qwen2:7b", "object": "model", "owned_by": "library"},
        ],
    }
    for probe in ("/v1/model/info", "/api/v0/models", "/api/version"):  # a server with none of them
        server.routes[probe] = Reply.json(error_body(404, "no such route"), status=404)
    server.queue(Reply.json(listing), Reply.json(listing), Reply.json(error_body(404, "no such route"), status=404))
    every = await plain(server, client).list_models()
    assert [m.id for m in every] == ["llama3:latest", "qwen2:7b"]
    llama = every[0]
    assert not llama.context_known and not llama.price_known  # the list says neither
    assert llama.vendor == "library" and llama.provider == "local"
    chosen = plain(server, client, models=["qwen2:7b", "mistral:custom"])
    assert [m.id for m in await chosen.list_models()] == ["qwen2:7b", "mistral:custom"]
    assert [m.id for m in await chosen.list_models()] == [
        "qwen2:7b",
        "mistral:custom",
    ]  # server has no /models


async def test_list_models_errors(server: ScriptedServer, client: Any) -> None:
    provider = openrouter(server, client)
    server.queue(Reply.json(error_body(401, "bad key"), status=401), Reply.json({"models": []}))
    with pytest.raises(AuthRejected):
        await provider.list_models()
    with pytest.raises(MalformedResponse, match="data"):
        await provider.list_models()


async def test_key_info(server: ScriptedServer, client: Any) -> None:
    key = canary_key()
    provider = openrouter(server, client, key)
    data = {"label": "x", "limit": 10.0, "limit_remaining": 7.5, "usage": 2.5, "is_free_tier": False}
    server.queue(Reply.json({"data": data}), Reply.json({"oops": 1}))
    assert await provider.key_info() == data
    assert server.requests[0].path == "/api/v1/key"
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    with pytest.raises(MalformedResponse):
        await provider.key_info()
    assert await plain(server, client).key_info() is None
    assert len(server.requests) == 2  # the plain server was not asked


async def test_build_provider_and_close(server: ScriptedServer, client: Any) -> None:
    router = build_provider("openrouter", "or", server.url, "k-1234567", client, attribution=False)
    local = build_provider("openai", "local", server.url + "/", None, client, models=["a"])
    assert isinstance(router, OpenRouterProvider) and isinstance(router, Provider)
    assert type(local) is OpenAICompatProvider and isinstance(local, Provider)
    with pytest.raises(ValueError, match="unknown provider kind"):
        build_provider("anthropic", "x", server.url, None, client)  # type: ignore[arg-type]
    await local.aclose()
    with pytest.raises(ProviderUnavailable, match="closed"):
        await local.chat(call(), timeout_s=1)
    server.queue(Reply.json(answer()))
    assert (await router.chat(call(), timeout_s=5)).content == "4"  # the shared client is still open


# ---- the whole chat API on the wire ----------------------------------------------------------------------


FULL = {
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "what is here?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
    ],
    "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object", "properties": {}}}}],
    "tool_choice": "auto", "parallel_tool_calls": False, "seed": 3, "stop": ["END"], "top_p": 0.5, "top_k": 40,
    "frequency_penalty": 0.1, "presence_penalty": 0.2, "repetition_penalty": 1.1, "min_p": 0.05,
    "logit_bias": {"50256": -100}, "logprobs": True, "top_logprobs": 2, "user": "u1",
    "response_format": {"type": "json_object"}, "reasoning": {"effort": "low"},
    "openrouter": {"provider": {"sort": "price"}, "transforms": ["middle-out"], "plugins": [{"id": "x"}]},
    "extra_body": {"verbosity": "low", "metadata": {"k": "v"}},
}  # fmt: skip


def full_call(model: str = "vendor/asked") -> ProviderCall:
    r = ChatRequest.model_validate(FULL)
    return ProviderCall(
        model=model, messages=tuple(r.messages), max_tokens=64, params=r.api_fields(), openrouter=r.openrouter,
        extra_body=r.extra_body,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["openai", "openrouter"])
async def test_the_upstream_receives_every_field_as_sent(
    server: ScriptedServer, client: httpx.AsyncClient, kind: str
) -> None:
    provider = build_provider(kind, "p", server.url + "/v1", "k", client)
    server.queue(Reply.json(answer()))
    await provider.chat(full_call(), timeout_s=5)
    body = server.requests[0].json
    assert body["messages"] == FULL["messages"]
    for name in ("tools", "tool_choice", "parallel_tool_calls", "seed", "stop", "top_p", "top_k", "frequency_penalty",
                 "presence_penalty", "repetition_penalty", "min_p", "logit_bias", "logprobs", "top_logprobs", "user",
                 "response_format"):  # fmt: skip
        assert body[name] == FULL[name], name
    if kind == "openrouter":
        assert body["reasoning"] == FULL["reasoning"]
    else:  # OpenAI's chat API takes the effort as reasoning_effort and refuses a reasoning object
        assert body["reasoning_effort"] == "low" and "reasoning" not in body
    assert body["verbosity"] == "low" and body["metadata"] == {"k": "v"}  # unknown fields, verbatim
    if kind == "openrouter":
        assert body["provider"] == {"sort": "price"} and body["transforms"] == ["middle-out"]
        assert body["plugins"] == [{"id": "x"}]
    else:
        assert OPENROUTER_ONLY.isdisjoint(body)


async def test_tool_calls_and_reasoning_come_back_from_a_stream(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    provider = OpenRouterProvider("or", server.url + "/v1", "k", client)

    def piece(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": "g", "model": "vendor/answered", "choices": [{"index": 0, "delta": delta, **extra}]}

    start = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "look", "arguments": ""}}
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "completion_tokens_details": {"reasoning_tokens": 3}}
    server.queue(
        Reply.sse(
            [
                piece({"reasoning": "hmm"}),
                piece({"tool_calls": [start]}),
                piece({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
                piece({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
                {**piece({}, finish_reason="tool_calls"), "usage": usage},
            ]
        )
    )
    events = [e async for e in provider.stream(call(), timeout_s=5)]
    assert events[0].reasoning == "hmm" and events[0].model == "vendor/answered"
    assert "".join(p.arguments for e in events for p in e.tool_calls) == '{"a":1}'
    final = events[-1].completion
    assert final is not None and final.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.parsed_arguments()) for c in final.tool_calls] == [("call_1", "look", {"a": 1})]
    assert final.reasoning == "hmm" and final.usage.reasoning_tokens == 3


async def test_a_body_with_megabytes_of_image_arrives_whole(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    # Past 1 MB of media the body is encoded in a worker thread; the bytes on the wire must be the same.
    image = "data:image/png;base64," + "A" * (3 << 20)
    r = ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}}]}]}
    )
    provider = OpenAICompatProvider("p", server.url + "/v1", "k", client)
    server.queue(Reply.json(answer()), Reply.sse([chunk("ok", "stop")]))
    call = ProviderCall(model="m", messages=tuple(r.messages), max_tokens=8)
    await provider.chat(call, timeout_s=10)
    deltas = [e.delta async for e in provider.stream(call, timeout_s=10)]
    assert deltas[0] == "ok" and len(server.requests) == 2
    for received in server.requests:
        assert received.json["messages"][0]["content"][0]["image_url"]["url"] == image


@pytest.mark.parametrize("name", ["01_liquid_free_real.sse", "02_glm45_reasoning.sse", "05_claude_cost_crlf.sse"])
async def test_real_transcripts_replayed_byte_by_byte(
    server: ScriptedServer, client: httpx.AsyncClient, name: str
) -> None:
    from pathlib import Path

    raw = (Path(__file__).parent.parent / "data" / "openrouter" / "sse" / name).read_bytes()
    provider = OpenRouterProvider("or", server.url + "/v1", "k", client)
    server.queue(Reply.sse([raw], done=False), Reply.sse([raw[i : i + 1] for i in range(len(raw))], done=False))
    whole = [e async for e in provider.stream(call(), timeout_s=10)]
    trickled = [e async for e in provider.stream(call(), timeout_s=10)]
    assert whole[-1].completion is not None and whole[-1].completion.content
    text = "".join(e.delta for e in trickled if e.completion is None)
    final = trickled[-1].completion
    assert final is not None and text == final.content == whole[-1].completion.content
    assert (final.usage, final.reasoning) == (whole[-1].completion.usage, whole[-1].completion.reasoning)
