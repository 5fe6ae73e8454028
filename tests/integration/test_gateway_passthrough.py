"""The gateway is transparent: what an OpenAI client sends reaches the upstream field for field, and what the
upstream answers (tool calls, reasoning, refusals, logprobs, usage details, extra message fields) reaches the
client. A scripted loopback upstream (tests/fakes/recording_upstream.py) records each body the engine's real
provider sent it, for an OpenRouter-kind and for an OpenAI-kind provider."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from autodevai.compose import App
from autodevai.engine import types as engine_types
from autodevai.engine.types import OPENROUTER_ONLY_FIELDS
from autodevai.gateway import Gateway
from autodevai.gateway.request import KNOWN_FIELDS
from tests.fakes.recording_upstream import Answer, RecordingUpstream

from . import test_gateway
from .conftest import MakeEngine
from .test_gateway import TOKEN, client, http

openapi_conformance = test_gateway.openapi_conformance  # every response checked against OpenAI's spec

OMNI = "acme/omni-1"
PNG_DATA_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGAAAAAFAAE="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True,
    },
}
MESSAGES = [
    {"role": "developer", "content": "Answer briefly."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these?", "cache_control": {"type": "ephemeral"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
            {"type": "image_url", "image_url": {"url": PNG_DATA_URL, "detail": "low"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}},
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
        ],
        "name": "alice",
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'},
    {"role": "user", "content": "And now?", "x_message_note": "kept as sent"},
]
# Every field of the chat API the gateway honors, OpenRouter's own, legacy functions and unknown ones.
FULL_BODY: dict[str, Any] = {
    "model": OMNI,
    "messages": MESSAGES,
    "tools": [WEATHER_TOOL],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": False,
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "weather",
            "strict": True,
            "schema": {"type": "object", "properties": {"temp_c": {"type": "number"}}, "required": ["temp_c"]},
        },
    },
    "stop": ["END", "STOP"],
    "seed": 7,
    "temperature": 0.3,
    "top_p": 0.9,
    "top_k": 40,
    "frequency_penalty": 0.1,
    "presence_penalty": 0.2,
    "repetition_penalty": 1.1,
    "min_p": 0.05,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 2,
    "user": "user-1234",
    "max_tokens": 100,
    "max_completion_tokens": 300,  # wins over max_tokens
    "reasoning": {"effort": "low", "exclude": False},
    "modalities": ["text"],
    # OpenRouter-only
    "provider": {"order": ["acme"], "allow_fallbacks": False},
    "transforms": ["middle-out"],
    "models": [OMNI],
    "plugins": [{"id": "context-compression"}],
    "route": "fallback",
    "include_reasoning": True,
    "usage": {"include": True},
    # legacy and unknown: passed through verbatim
    "functions": [{"name": "legacy_fn", "parameters": {"type": "object"}}],
    "function_call": "auto",
    "metadata": {"team": "qa"},
    "x_vendor_option": {"nested": [1, {"deep": None}]},
    # gateway-only: consumed
    "stream": False,
    "n": 1,
}
GATEWAY_ONLY = {"stream", "stream_options", "n"}


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    async with RecordingUpstream() as server:
        yield server


@pytest.fixture
async def gateway_over(make_engine: MakeEngine, upstream: RecordingUpstream) -> AsyncIterator[Any]:
    """``await gateway_over(kind)`` -> (app, gateway) with one provider of that kind at the recording upstream."""
    gateways: list[Gateway] = []

    async def run(kind: str) -> tuple[App, Gateway]:
        app = await make_engine(
            providers=[{"name": "up", "kind": kind, "base_url": upstream.base_url, "attribution": False}],
            resilience={"retries_per_model": 0},
        )
        gateway = Gateway(app.engine, token=TOKEN)
        await gateway.start()
        gateways.append(gateway)
        return app, gateway

    yield run
    for gateway in gateways:
        await gateway.stop()


def expected_messages() -> list[dict[str, Any]]:
    out = copy.deepcopy(MESSAGES)
    out[0]["role"] = "system"  # developer is the newer name of system
    return out


@pytest.mark.parametrize("kind", ["openrouter", "openai"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_upstream_receives_exactly_the_fields_the_client_sent(
    gateway_over: Any, upstream: RecordingUpstream, kind: str, stream: bool
) -> None:
    _, gateway = await gateway_over(kind)
    body = {**FULL_BODY, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    async with http(gateway) as h:
        r = await h.post("/chat/completions", json=body)
        text = r.text
    assert r.status_code == 200, text
    sent = upstream.bodies[-1]

    assert sent["messages"] == expected_messages(), "messages reach the upstream exactly as sent"
    assert sent["max_tokens"] == 300 and "max_completion_tokens" not in sent, "max_completion_tokens wins"
    assert sent["stream"] is stream and "n" not in sent
    for name, value in body.items():
        if name in GATEWAY_ONLY or name in ("messages", "max_tokens", "max_completion_tokens"):
            continue
        if name in OPENROUTER_ONLY_FIELDS and kind == "openai":
            assert name not in sent, f"OpenRouter-only {name!r} must not reach an OpenAI-kind server"
            continue
        if name == "reasoning" and kind == "openai":  # OpenAI's chat API takes only the effort, by its own name
            assert "reasoning" not in sent and sent["reasoning_effort"] == value["effort"]
            continue
        assert sent.get(name, "<missing>") == value, name
    expected_keys = set(body) - GATEWAY_ONLY - {"max_completion_tokens"} | {"stream"}
    if kind == "openai":
        expected_keys = expected_keys - set(OPENROUTER_ONLY_FIELDS) - {"reasoning"} | {"reasoning_effort"}
    if stream:
        expected_keys.add("stream_options")  # the engine asks every upstream stream for its usage
    assert set(sent) == expected_keys, "nothing added, nothing dropped"


async def test_max_completion_tokens_goes_out_as_the_field_the_upstream_takes(
    gateway_over: Any, upstream: RecordingUpstream
) -> None:
    _, gateway = await gateway_over("openai")
    async with http(gateway) as h:
        for model in (OMNI, "openai/o3-mini"):
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 77}
            assert (await h.post("/chat/completions", json=body)).status_code == 200
    plain, o_series = upstream.bodies[-2:]
    assert plain["max_tokens"] == 77 and "max_completion_tokens" not in plain
    # OpenAI's o-series and GPT-5 refuse max_tokens on OpenAI's own API.
    assert o_series["max_completion_tokens"] == 77 and "max_tokens" not in o_series


async def test_reasoning_effort_becomes_reasoning_and_null_stream_is_false(
    gateway_over: Any, upstream: RecordingUpstream
) -> None:
    _, gateway = await gateway_over("openrouter")
    body = {"model": OMNI, "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "high", "stream": None}
    async with http(gateway) as h:
        r = await h.post("/chat/completions", json=body)
    assert r.status_code == 200 and r.json()["object"] == "chat.completion"
    assert upstream.bodies[-1]["reasoning"] == {"effort": "high"}
    assert "reasoning_effort" not in upstream.bodies[-1]


async def test_unknown_fields_reach_the_upstream_through_the_sdk(
    gateway_over: Any, upstream: RecordingUpstream
) -> None:
    _, gateway = await gateway_over("openai")
    extra = {"prediction": {"type": "content", "content": "x"}, "x_local_option": [1, 2], "service_tier": "flex"}
    async with client(gateway) as c:
        done = await c.chat.completions.create(
            model=OMNI, messages=[{"role": "user", "content": "hi"}], extra_body=extra, metadata={"k": "v"}
        )
    assert done.choices[0].message.content == "ok"
    sent = upstream.bodies[-1]
    assert {k: sent.get(k) for k in extra} == extra and sent["metadata"] == {"k": "v"}


def test_every_field_the_engine_reserves_is_handled_by_the_gateway() -> None:
    # A reserved name the gateway passed on as an unknown field would be refused by ChatRequest (extra_body may
    # not set it): the client would get a 400 for a field it is entitled to send.
    assert engine_types._RESERVED <= KNOWN_FIELDS  # the engine's private list is the contract


# ---- what the upstream answers reaches the client ---------------------------------------------------------

TOOL_ANSWER = Answer(
    message={
        "content": None,
        "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
            {"id": "call_10", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}},
        ],
        "reasoning": "Two cities: call twice.",
        "reasoning_details": [{"type": "reasoning.text", "text": "Two cities: call twice.", "index": 0}],
        "annotations": [],
    },
    finish_reason="tool_calls",
    usage={
        "prompt_tokens": 40,
        "completion_tokens": 30,
        "total_tokens": 70,
        "prompt_tokens_details": {"cached_tokens": 32},
        "completion_tokens_details": {"reasoning_tokens": 12},
    },
)


async def test_tool_calls_reasoning_and_usage_details_come_back_in_openai_shape(
    gateway_over: Any, upstream: RecordingUpstream
) -> None:
    _, gateway = await gateway_over("openrouter")
    upstream.queue(TOOL_ANSWER)
    async with client(gateway) as c:
        raw = await c.chat.completions.with_raw_response.create(
            model=OMNI, messages=[{"role": "user", "content": "Weather in Oslo and Rome?"}], tools=[WEATHER_TOOL]
        )
    done = raw.parse()
    message = done.choices[0].message
    assert done.choices[0].finish_reason == "tool_calls"
    assert message.content is None, "a model that only called tools wrote no text: content is null"
    assert [(t.id, t.function.name, json.loads(t.function.arguments)) for t in message.tool_calls or []] == [
        ("call_9", "get_weather", {"city": "Oslo"}),
        ("call_10", "get_weather", {"city": "Rome"}),
    ]
    body = json.loads(raw.http_response.content)["choices"][0]["message"]
    assert body["reasoning"] == "Two cities: call twice."
    assert body["reasoning_details"][0]["text"] == "Two cities: call twice."
    assert body["annotations"] == [], "other message fields the upstream sent are kept"
    assert done.usage is not None and done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == 32
    assert done.usage.completion_tokens_details is not None
    assert done.usage.completion_tokens_details.reasoning_tokens == 12


async def test_streamed_tool_call_fragments_and_reasoning_reach_the_sdk(
    gateway_over: Any, upstream: RecordingUpstream
) -> None:
    _, gateway = await gateway_over("openrouter")
    upstream.queue(
        Answer(
            message={},
            deltas=[
                {"reasoning": "Look it up. ", "reasoning_details": [{"type": "reasoning.text", "text": "Look"}]},
                {"content": None, "tool_calls": [{"index": 0, "id": "call_7", "type": "function",
                                                  "function": {"name": "get_weather", "arguments": ""}}]},
                {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]},
                {"tool_calls": [{"index": 0, "function": {"arguments": 'ty":"Oslo"}'}}]},
            ],
            finish_reason="tool_calls",
            model=OMNI,
        )
    )  # fmt: skip
    async with client(gateway) as c:
        stream = await c.chat.completions.create(
            model=OMNI, messages=[{"role": "user", "content": "Oslo?"}], tools=[WEATHER_TOOL], stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant", "the role chunk comes first"
    assert all(ch.model == OMNI for ch in chunks), "every chunk names the routed model"
    fragments = [tc for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
    assert len(fragments) == 3, "tool-call pieces are re-emitted as they arrive"
    assert fragments[0].id == "call_7" and fragments[0].function and fragments[0].function.name == "get_weather"
    arguments = "".join(f.function.arguments or "" for f in fragments if f.function)
    assert json.loads(arguments) == {"city": "Oslo"}
    reasoning = [getattr(ch.choices[0].delta, "reasoning", None) for ch in chunks if ch.choices]
    assert "Look it up. " in reasoning
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "tool_calls"


async def test_refusal_and_logprobs_come_back(gateway_over: Any, upstream: RecordingUpstream) -> None:
    _, gateway = await gateway_over("openai")
    logprobs = {"content": [{"token": "No", "logprob": -0.1, "bytes": [78, 111], "top_logprobs": []}]}
    upstream.queue(Answer(message={"content": None, "refusal": "I can't help with that."}, logprobs=logprobs))
    async with client(gateway) as c:
        done = await c.chat.completions.create(
            model=OMNI, messages=[{"role": "user", "content": "hi"}], logprobs=True, top_logprobs=0
        )
    choice = done.choices[0]
    assert choice.message.refusal == "I can't help with that." and choice.message.content is None
    assert choice.logprobs is not None and choice.logprobs.content is not None
    assert choice.logprobs.content[0].token == "No"


async def test_streamed_refusal_reaches_the_sdk(gateway_over: Any, upstream: RecordingUpstream) -> None:
    _, gateway = await gateway_over("openai")
    upstream.queue(Answer(message={}, deltas=[{"refusal": "I can't "}, {"refusal": "help with that."}]))
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=OMNI, messages=[{"role": "user", "content": "hi"}], stream=True)
        chunks = [chunk async for chunk in stream]
    refusal = "".join(ch.choices[0].delta.refusal or "" for ch in chunks if ch.choices)
    assert refusal == "I can't help with that."
    assert not any(ch.choices[0].delta.content for ch in chunks if ch.choices)
