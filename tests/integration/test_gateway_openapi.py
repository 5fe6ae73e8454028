"""What the gateway returns matches OpenAI's OpenAPI spec (the schemas in tests/data/openai_openapi_subset.json,
extracted by scripts/extract_openapi.py), validated with ``jsonschema``.

Every gateway test checks its own responses after it ran (``test_gateway.openapi_conformance``); this module
makes sure each kind of object is among them — a plain completion, a tool-call completion, a reasoning
completion, stream chunks with content, tool-call fragments, reasoning, usage and a mid-stream error, the model
list, one model, and the error bodies — and that the checks would catch an object that breaks the spec.

Where we go beyond the spec, on purpose (the spec's objects do not forbid extra properties, so these validate):
OpenRouter's ``reasoning`` / ``reasoning_details`` on messages and deltas (clients written for OpenRouter read
them), the upstream's other message fields, and ``autodevai`` (request id, provider, cost) on a stream's last
chunks. One deliberate deviation: a mid-stream error chunk says ``finish_reason: "error"`` (OpenRouter's shape,
outside OpenAI's enum) so that no client takes a failed answer for a complete one; its ``error`` object is
OpenAI's.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import openai
import pytest

from autodevai.sim.server import SimServer
from tests.fakes.recording_upstream import Answer, RecordingUpstream

from . import test_gateway
from .conftest import BIG, MINI, MakeEngine
from .test_gateway import (
    SPEC_SUBSET,
    TOKEN,
    Seen,
    Start,
    chunk_problems,
    client,
    http,
    response_problems,
    spec_problems,
    sse_objects,
)

start = test_gateway.start  # the gateway fixture, shared with test_gateway.py
openapi_conformance = test_gateway.openapi_conformance  # every response checked against OpenAI's spec

REASONER = "deepseek/deepseek-r1"  # the simulator's reasoning model: streams `reasoning` deltas before content
NO_TOOLS = "google/gemma-2-9b-it"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_openapi.py"
FULL_SPEC = Path(__file__).resolve().parents[3] / "shared" / "data" / "openai-openapi" / "openapi.json"


def chunks_of(seen: list[Seen]) -> list[dict[str, Any]]:
    return [c for s in seen if s.content_type.startswith("text/event-stream") for c in sse_objects(bytes(s.body))]


async def test_every_kind_of_answer_matches_openai_spec(
    sim: SimServer, start: Start, openapi_conformance: list[Seen]
) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        await c.chat.completions.create(model=MINI, messages=[{"role": "user", "content": "What is 12*12?"}])
        tool = await c.chat.completions.create(model=MINI, messages=ASK, tools=[WEATHER])
        assert tool.choices[0].message.tool_calls
        await c.chat.completions.create(model=REASONER, messages=[{"role": "user", "content": "What is 2+2?"}])
        for model, tools in ((MINI, None), (MINI, [WEATHER]), (REASONER, None)):
            kw: dict[str, Any] = {"tools": tools} if tools else {}
            stream = await c.chat.completions.create(
                model=model, messages=ASK, stream=True, stream_options={"include_usage": True}, **kw
            )
            _ = [chunk async for chunk in stream]
        await c.models.list()
        await c.models.retrieve(MINI)
        await c.models.retrieve("auto")
        with pytest.raises(openai.NotFoundError):
            await c.models.retrieve("no/such-model")
        with pytest.raises(openai.BadRequestError):
            await c.chat.completions.create(model=NO_TOOLS, messages=ASK, tools=[WEATHER])
        sim.add_fault({"kind": "stream_error", "after_chunks": 2, "model": BIG})
        with pytest.raises(openai.APIError):
            stream = await c.chat.completions.create(model=BIG, messages=ASK, stream=True)
            _ = [chunk async for chunk in stream]
    async with http(gateway) as h:
        await h.post("/chat/completions", content=b"{not json")
        await h.get("/chat/completions")
        await h.get("/embeddings")
    async with http(gateway, token="wrong") as h:
        await h.get("/models")

    seen = list(openapi_conformance)
    statuses = sorted({s.status for s in seen})
    assert statuses == [200, 400, 401, 404, 405]
    chunks = chunks_of(seen)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert any(d.get("content") for d in deltas), "content chunks"
    assert any(d.get("tool_calls") for d in deltas), "tool-call chunks"
    assert any(d.get("reasoning") for d in deltas) and any(d.get("reasoning_details") for d in deltas)
    assert any(c["choices"] == [] and c.get("usage") for c in chunks), "usage chunks"
    assert any("error" in c for c in chunks), "a mid-stream error chunk"
    messages = [json.loads(s.body)["choices"][0]["message"] for s in seen if s.path.endswith("/chat/completions")
                and s.status == 200 and s.content_type.startswith("application/json")]  # fmt: skip
    assert any(m.get("tool_calls") for m in messages) and any(m.get("reasoning") for m in messages)
    problems = [p for s in seen for p in response_problems(s)]
    assert problems == []


async def test_budget_refusal_and_upstream_extras_match_the_spec(
    make_engine: MakeEngine, openapi_conformance: list[Seen]
) -> None:
    async with RecordingUpstream() as upstream:
        upstream.queue(
            Answer(
                message={
                    "content": None,
                    "refusal": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                    "reasoning": "think",
                    "annotations": [{"type": "url_citation", "url_citation": {
                        "url": "https://example.com", "title": "Ex", "start_index": 0, "end_index": 2}}],
                },
                finish_reason="tool_calls",
                logprobs={"content": [{"token": "x", "logprob": -0.5, "bytes": [120], "top_logprobs": []}]},
            )
        )  # fmt: skip
        provider = {"name": "up", "kind": "openrouter", "base_url": upstream.base_url, "attribution": False}
        app = await make_engine(providers=[provider], budget={"daily_usd": 0.0001})
        gateway = test_gateway.Gateway(app.engine, token=TOKEN)
        await gateway.start()
        try:
            async with client(gateway) as c:
                done = await c.chat.completions.create(
                    model="acme/omni-1", messages=ASK, tools=[WEATHER], max_tokens=16
                )
                assert done.choices[0].message.tool_calls
                with pytest.raises(openai.RateLimitError):
                    await c.chat.completions.create(model="acme/omni-1", messages=ASK, max_tokens=100_000)
        finally:
            await gateway.stop()
    assert sorted(s.status for s in openapi_conformance) == [200, 429]
    assert [p for s in openapi_conformance for p in response_problems(s)] == []


def test_the_checks_catch_what_breaks_the_spec() -> None:
    good_message = {"role": "assistant", "content": "hi", "refusal": None}
    good = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": good_message, "logprobs": None, "finish_reason": "stop"}],
    }
    assert spec_problems("CreateChatCompletionResponse", good) == []
    no_refusal = {**good, "choices": [{**good["choices"][0], "message": {"role": "assistant", "content": "hi"}}]}
    bad_finish = {**good, "choices": [{**good["choices"][0], "finish_reason": "done"}]}
    for bad in ({k: v for k, v in good.items() if k != "choices"}, no_refusal, bad_finish):
        assert spec_problems("CreateChatCompletionResponse", bad), bad
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    ok_chunk = {**chunk, "choices": [{"index": 0, "delta": {"content": "x"}, "logprobs": None, "finish_reason": None}]}
    assert chunk_problems(ok_chunk) == []
    error = {"message": "boom", "type": "server_error", "param": None, "code": "x"}
    error_chunk = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}], "error": error}
    assert chunk_problems(error_chunk) == []
    assert chunk_problems({**error_chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    assert chunk_problems({**error_chunk, "error": {"message": "boom"}})
    assert chunk_problems({**ok_chunk, "usage": {"prompt_tokens": "1"}})
    assert spec_problems("Model", {"id": "m", "object": "model", "created": 1})
    assert spec_problems("ErrorResponse", {"error": {"message": "m", "type": "t", "code": None}})
    assert response_problems(Seen("GET", "/v1/models", 200, "text/html", bytearray(b"<html>")))


def test_the_subset_is_what_the_script_extracts_from_the_spec() -> None:
    if not FULL_SPEC.is_file():
        pytest.skip(f"OpenAI's full spec is not here ({FULL_SPEC}); CI uses the committed subset")
    spec = importlib.util.spec_from_file_location("extract_openapi", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    committed = json.loads(SPEC_SUBSET.read_text(encoding="utf-8"))
    fresh = script.extract(json.loads(FULL_SPEC.read_text(encoding="utf-8")), "?")
    assert fresh["components"] == committed["components"], "regenerate: python scripts/extract_openapi.py"
    assert "nullable" not in json.dumps(committed["components"]), "OpenAPI 3.0 nullability rewritten"
