"""Windows and costs behind servers other than OpenRouter, each imitated on loopback by a scripted server with the
real server's endpoint shapes: LiteLLM's proxy (``max_input_tokens`` in ``/v1/models``, ``/model/info`` prices,
the ``x-litellm-response-cost`` header), vLLM (``max_model_len``), Ollama (``/api/show``), LM Studio
(``/api/v0/models``), and a server that states no window at all (refuses a too-long prompt with a 400)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from autodevai.compose import App, open_engine
from autodevai.engine import errors as E
from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest
from tests.fakes.scripted_server import Reply, ScriptedServer

MODEL = "team-model"
PROMPT = " ".join(f"sentence {i} about queues, pools and backpressure in services." for i in range(600))  # ~6K tok
NOT_HERE = Reply.json({"error": {"message": "not found"}}, status=404)

Start = Callable[..., Awaitable[tuple[App, ScriptedServer]]]


def answer(**extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 6100, "completion_tokens": 2, "total_tokens": 6102},
        **extra,
    }


@pytest.fixture
async def start(memory_keyring: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    apps: list[App] = []
    servers: list[ScriptedServer] = []
    monkeypatch.setenv("TEAM_KEY", "team-key-123456")

    async def run(routes: dict[str, Reply], **settings: Any) -> tuple[App, ScriptedServer]:
        server = await ScriptedServer().__aenter__()
        servers.append(server)
        for path in ("/v1/model/info", "/api/v0/models", "/api/version", "/api/show"):
            server.routes[path] = NOT_HERE
        server.routes.update(routes)
        provider = {"name": "team", "base_url": server.url + "/v1", "api_key_env": "TEAM_KEY"}
        data = {"providers": [provider], **settings}
        app = await open_engine(
            tmp_path / f"c{len(apps)}.toml",
            settings=parse_settings(data),
            refresh="wait",
            rng=random.Random(5),
            db_path=tmp_path / f"e{len(apps)}.db",
            trust_env=False,
        )
        apps.append(app)
        return app, server

    yield run
    for app in apps:
        await app.aclose()
    for server in servers:
        await server.__aexit__(None, None, None)


def ask(**kw: Any) -> ChatRequest:
    return ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": PROMPT}], "model": MODEL, "max_tokens": 100, **kw}
    )


def chats(server: ScriptedServer) -> list[Any]:
    return [r.json for r in server.requests if r.path.endswith("/chat/completions")]


LITELLM_MODELS = {
    "object": "list",
    "data": [
        {"id": MODEL, "object": "model", "owned_by": "openai", "max_input_tokens": 128000, "max_output_tokens": 4096}
    ],
}
LITELLM_INFO = {
    "data": [
        {
            "model_name": MODEL,
            "litellm_params": {"model": "openai/gpt-4o"},
            "model_info": {"max_input_tokens": 128000, "max_output_tokens": 4096, "input_cost_per_token": 2.5e-06,
                           "output_cost_per_token": 1e-05, "mode": "chat", "supports_function_calling": True},
        }
    ]
}  # fmt: skip


async def test_litellm_window_is_read_and_a_6k_prompt_goes_uncompressed(start: Start) -> None:
    app, server = await start(
        {"/v1/models": Reply.json(LITELLM_MODELS), "/v1/model/info": Reply.json(LITELLM_INFO)},
        budget={"total_usd": 1.0},
    )
    info = (await app.engine.get_openrouter_models())[0]
    assert (info.context_length, info.context_known, info.max_output) == (128000, True, 4096)
    assert info.price_known and info.price_in == pytest.approx(2.5e-6)
    server.routes["/v1/chat/completions"] = Reply.json(answer(), headers=[("x-litellm-response-cost", "0.0123")])
    r = await app.engine.execute_enhanced_ai_request(ask())
    assert chats(server)[-1]["messages"][0]["content"] == PROMPT and r.compression is None
    assert (r.cost_usd, r.cost_source) == (0.0123, "provider")  # the header's cost, not tokens x price
    status = await app.engine.get_enhanced_system_status()
    assert status.budget.spent["total"] == pytest.approx(0.0123)


async def test_litellm_cost_header_without_prices_holds_the_budget_when_allowed(start: Start) -> None:
    models = {"object": "list", "data": [{"id": MODEL, "object": "model", "max_input_tokens": 32000}]}
    routes = {"/v1/models": Reply.json(models), "/v1/chat/completions": Reply.json(
        answer(), headers=[("x-litellm-response-cost", "0.4")])}  # fmt: skip
    app, server = await start(routes, budget={"total_usd": 0.5, "unknown_cost": "allow"})
    info = (await app.engine.get_openrouter_models())[0]
    assert not info.price_known and info.context_length == 32000  # no price listed: unknown, not free
    first = await app.engine.execute_enhanced_ai_request(ask())
    assert (first.cost_usd, first.cost_source) == (0.4, "provider")
    second = await app.engine.execute_enhanced_ai_request(ask())
    assert second.cost_usd == 0.4  # nothing could be reserved in advance; the reported cost is still counted
    status = await app.engine.get_enhanced_system_status()
    assert status.budget.spent["total"] == pytest.approx(0.8)
    with pytest.raises((E.BudgetExceeded, E.NoRouteAvailable)):
        await app.engine.execute_enhanced_ai_request(ask())  # the cap is spent: refused before sending
    assert len(chats(server)) == 2


async def test_vllm_max_model_len_is_the_window(start: Start) -> None:
    models = {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "vllm", "max_model_len": 32768}]}
    app, server = await start({"/v1/models": Reply.json(models), "/v1/chat/completions": Reply.json(answer())})
    info = (await app.engine.get_openrouter_models())[0]
    assert (info.context_length, info.context_known) == (32768, True)
    r = await app.engine.execute_enhanced_ai_request(ask())
    assert chats(server)[-1]["messages"][0]["content"] == PROMPT and r.compression is None
    assert r.cost_source == "unknown"  # no price, no usage.cost, no header: never a silent $0


async def test_unknown_window_sends_the_prompt_then_compresses_once_after_a_context_error(start: Start) -> None:
    models = {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "someone"}]}
    app, server = await start({"/v1/models": Reply.json(models)})
    info = (await app.engine.get_openrouter_models())[0]
    assert not info.context_known
    refusal = {
        "error": {
            "message": "This model's maximum context length is 4096 tokens. However, you requested 6200 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    server.queue(Reply.json(refusal, status=400), Reply.json(answer()))  # fmt: skip
    r = await app.engine.execute_enhanced_ai_request(ask())
    sent = chats(server)
    assert len(sent) == 2 and sent[0]["messages"][0]["content"] == PROMPT  # first as it was
    assert len(sent[1]["messages"][0]["content"]) < len(PROMPT) * 0.75  # then compressed to fit 4096
    assert r.compression is not None and r.compression.tokens_after <= 4096 - 100
    rows = await app.engine.get_request_history(1)
    assert rows[0].compression is not None


async def test_a_second_context_error_is_final(start: Start) -> None:
    models = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
    app, server = await start({"/v1/models": Reply.json(models)})
    refusal = {"error": {"message": "prompt is too long"}}
    server.queue(Reply.json(refusal, status=400), Reply.json(refusal, status=400), Reply.json(answer()))
    with pytest.raises(E.ContextRejected):
        await app.engine.execute_enhanced_ai_request(ask(fallbacks=[]))
    assert len(chats(server)) == 2


async def test_ollama_serves_num_ctx_not_the_model_maximum(start: Start) -> None:
    models = {"object": "list", "data": [{"id": "llama3.2-vision:11b", "object": "model", "owned_by": "library"}]}
    show = {
        "parameters": "temperature 0.6\nnum_ctx 8192",
        "model_info": {"general.architecture": "mllama", "mllama.context_length": 131072},
        "capabilities": ["completion", "tools", "vision"],
    }
    app, _ = await start({"/v1/models": Reply.json(models), "/api/version": Reply.json({"version": "0.12.3"}),
                          "/api/show": Reply.json(show)})  # fmt: skip
    info = (await app.engine.get_openrouter_models())[0]
    assert (info.context_length, info.context_known) == (8192, True)
    assert "tools" in info.supported_parameters and "image" in info.input_modalities
    assert info.price_known and info.price_in == 0  # Ollama runs on this machine


async def test_ollama_without_num_ctx_uses_its_default_window(start: Start) -> None:
    models = {"object": "list", "data": [{"id": "qwen3:8b", "object": "model", "owned_by": "library"}]}
    show = {"model_info": {"qwen3.context_length": 40960}, "capabilities": ["completion", "tools", "thinking"]}
    app, _ = await start({"/v1/models": Reply.json(models), "/api/version": Reply.json({"version": "0.12.3"}),
                          "/api/show": Reply.json(show)})  # fmt: skip
    info = (await app.engine.get_openrouter_models())[0]
    assert info.context_length == 4096 and "reasoning" in info.supported_parameters


async def test_lm_studio_loaded_window(start: Start) -> None:
    models = {
        "object": "list",
        "data": [{"id": "qwen2-vl-7b-instruct", "object": "model", "owned_by": "organization_owner"}],
    }
    native = {"data": [{"id": "qwen2-vl-7b-instruct", "type": "vlm", "max_context_length": 32768,
                        "loaded_context_length": 8192, "capabilities": ["tool_use"]}]}  # fmt: skip
    app, _ = await start({"/v1/models": Reply.json(models), "/api/v0/models": Reply.json(native)})
    info = (await app.engine.get_openrouter_models())[0]
    assert (info.context_length, info.context_known) == (8192, True)
    assert "image" in info.input_modalities and "tools" in info.supported_parameters


async def test_unknown_price_is_refused_under_a_cap_by_default(start: Start) -> None:
    models = {"object": "list", "data": [{"id": MODEL, "object": "model", "max_model_len": 32768}]}
    app, server = await start(
        {"/v1/models": Reply.json(models), "/v1/chat/completions": Reply.json(answer())},
        budget={"daily_usd": 5.0},
    )
    info = (await app.engine.get_openrouter_models())[0]
    assert not info.price_known
    with pytest.raises((E.BudgetExceeded, E.NoRouteAvailable)) as exc:
        await app.engine.execute_enhanced_ai_request(ask(fallbacks=[]))
    assert "price is unknown" in str(exc.value)
    assert not chats(server)
