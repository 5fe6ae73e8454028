"""The whole chat API through the gateway, as OpenAI's own Python SDK uses it, over a real engine on the
simulator: tool calls (plain and streamed, assembled by the SDK), structured output parsed into a pydantic
object, image input routed to a vision model, and a pinned model that cannot serve the request refused before
any upstream call."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from autodevai.sim.server import SimServer

from . import test_gateway
from .conftest import BIG, MINI
from .test_gateway import Start, client

start = test_gateway.start  # the gateway fixture, shared with test_gateway.py
openapi_conformance = test_gateway.openapi_conformance  # every response checked against OpenAI's spec

NO_TOOLS = "google/gemma-2-9b-it"  # the simulator's catalog lists no "tools" in its supported_parameters
TEXT_ONLY = "meta-llama/llama-3.1-8b-instruct"  # reads text only
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}
TOOL_RESULT = '{"temp_c": 21, "sky": "clear"}'


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of ``width``×``height`` grey pixels (PNG spec: signature, IHDR, IDAT, IEND)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def data_url(data: bytes, media_type: str = "image/png") -> str:
    import base64

    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def tool_round_trip(call: Any) -> list[dict[str, Any]]:
    """The conversation after the model called ``call``: the assistant turn as sent back, then the tool result."""
    function = {"name": call.function.name, "arguments": call.function.arguments}
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call.id, "type": "function", "function": function}],
    }
    return [QUESTION, assistant, {"role": "tool", "tool_call_id": call.id, "content": TOOL_RESULT}]


async def test_tool_call_round_trip(start: Start) -> None:
    app, gateway = await start()
    async with client(gateway) as c:
        first = await c.chat.completions.create(model="auto", messages=[QUESTION], tools=[WEATHER])
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None, "only a tool call, no text"
        calls = choice.message.tool_calls or []
        assert len(calls) == 1 and calls[0].function.name == "get_weather"
        arguments = json.loads(calls[0].function.arguments)
        assert isinstance(arguments.get("city"), str)
        info = app.engine.find_model(first.model)
        assert info is not None and "tools" in info.supported_parameters, "routed to a model that supports tools"

        final = await c.chat.completions.create(model=first.model, messages=tool_round_trip(calls[0]), tools=[WEATHER])
    answer = final.choices[0].message.content
    assert final.choices[0].finish_reason == "stop" and not final.choices[0].message.tool_calls
    assert answer and "21" in answer and "get_weather" in answer, "the answer uses the tool's result"


async def test_streamed_tool_call_is_assembled_by_the_sdk(start: Start) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=MINI, messages=[QUESTION], tools=[WEATHER], stream=True)
        chunks = [chunk async for chunk in stream]
        # the SDK's own helper assembles the same stream into a completion
        async with c.chat.completions.stream(model=MINI, messages=[QUESTION], tools=[WEATHER]) as helper:
            final = await helper.get_final_completion()
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {ch.model for ch in chunks} == {MINI}, "every chunk names the model"
    pieces = [tc for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
    assert len(pieces) > 1, "the call arrived in fragments, re-emitted as they came"
    assert pieces[0].id and pieces[0].function and pieces[0].function.name == "get_weather"
    assembled = "".join(p.function.arguments or "" for p in pieces if p.function)
    assert isinstance(json.loads(assembled)["city"], str)
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == [
        "tool_calls"
    ]
    calls = final.choices[0].message.tool_calls or []
    assert len(calls) == 1 and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == json.loads(assembled)

    async with client(gateway) as c:
        stream = await c.chat.completions.create(
            model=MINI, messages=tool_round_trip(calls[0]), tools=[WEATHER], stream=True
        )
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
    assert "21" in text, "the streamed answer uses the tool's result"


class Arithmetic(BaseModel):
    expression: str
    answer: int


async def test_parse_returns_the_pydantic_object(start: Start) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        done = await c.chat.completions.parse(
            model=BIG, messages=[{"role": "user", "content": "What is 17*23?"}], response_format=Arithmetic
        )
    parsed = done.choices[0].message.parsed
    assert isinstance(parsed, Arithmetic)
    assert parsed.answer == 391


async def test_image_part_goes_to_a_vision_model_that_reads_it(start: Start) -> None:
    app, gateway = await start()
    image = png(3, 2)
    content = [
        {"type": "text", "text": "Describe this image."},
        {"type": "image_url", "image_url": {"url": data_url(image), "detail": "low"}},
    ]
    async with client(gateway) as c:
        done = await c.chat.completions.create(model="auto", messages=[{"role": "user", "content": content}])
    info = app.engine.find_model(done.model)
    assert info is not None and "image" in info.input_modalities, "routed to a model that reads images"
    answer = done.choices[0].message.content or ""
    assert "3×2" in answer and "PNG" in answer, answer


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_pinned_model_without_tools_is_refused_before_any_call(
    sim: SimServer, start: Start, stream: bool
) -> None:
    _, gateway = await start()
    before = sim.stats
    async with client(gateway) as c:
        with pytest.raises(openai.BadRequestError) as info:
            await c.chat.completions.create(model=NO_TOOLS, messages=[QUESTION], tools=[WEATHER], stream=stream)
    err = info.value
    assert err.code == "model_capability_missing" and err.param == "tools"
    assert NO_TOOLS in err.message and "tools" in err.message
    after = sim.stats
    assert after.total == before.total and NO_TOOLS not in after.by_model, "the upstream never heard of it"


async def test_pinned_text_model_with_an_image_is_refused(sim: SimServer, start: Start) -> None:
    _, gateway = await start()
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": data_url(png(1, 1))}},
    ]
    async with client(gateway) as c:
        with pytest.raises(openai.BadRequestError) as info:
            await c.chat.completions.create(model=TEXT_ONLY, messages=[{"role": "user", "content": content}])
    assert info.value.code == "model_capability_missing" and info.value.param == "messages"
    assert sim.stats.total == 0


async def test_unknown_fields_are_accepted_and_sent_on(start: Start) -> None:
    _, gateway = await start()
    async with client(gateway) as c:
        done = await c.chat.completions.create(
            model=MINI,
            messages=[{"role": "user", "content": "What is 12*12?"}],
            seed=3,
            stop=["zzz"],
            extra_body={"x_unknown_option": {"a": 1}, "transforms": ["middle-out"]},
        )
    assert "144" in (done.choices[0].message.content or "")


async def test_stream_chunks_name_the_fallback_that_answered(sim: SimServer, start: Start) -> None:
    _, gateway = await start()
    sim.add_fault({"kind": "http_error", "status": 500, "model": MINI})
    async with client(gateway) as c:
        stream = await c.chat.completions.create(model=MINI, messages=[QUESTION], stream=True)
        chunks = [chunk async for chunk in stream]
    models = {chunk.model for chunk in chunks}
    assert len(models) == 1 and MINI not in models, "from the first chunk on, the model that is answering"
    assert sim.stats.by_model.get(MINI) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_upstream_out_of_credits_is_429_insufficient_quota_without_retry(
    sim: SimServer, start: Start, stream: bool
) -> None:
    _, gateway = await start()
    sim.add_fault({"kind": "http_error", "status": 402})
    async with client(gateway) as c:
        with pytest.raises(openai.RateLimitError) as info:
            await c.chat.completions.create(model=MINI, messages=[QUESTION], stream=stream)
    err = info.value
    assert err.status_code == 429 and err.type == "insufficient_quota" and err.code == "upstream_payment_required"
    assert err.response.headers["x-should-retry"] == "false", "no retry can add credits"


async def test_compression_and_simulated_answers_are_announced(start: Start) -> None:
    _, gateway = await start(context={"overflow": "compress"})
    long = " ".join(f"Fact {i}: the queue drains at {i} items per second under load." for i in range(900))
    messages: Any = [{"role": "user", "content": long + "\n\nWhat is the drain rate of fact 7?"}]
    async with client(gateway) as c:
        raw = await c.chat.completions.with_raw_response.create(
            model="openai/gpt-4",
            messages=messages,
            max_tokens=100,  # an 8,191-token window: this needs ~13K
        )
        compression = raw.headers.get("x-autodevai-compression", "")
        assert "->" in compression and "tokens" in compression and "quality" in compression
        assert raw.headers.get("x-autodevai-simulated") == "1"
        stream = await c.chat.completions.create(model="openai/gpt-4", messages=messages, max_tokens=100, stream=True)
        metas = [chunk.model_extra["autodevai"] async for chunk in stream if (chunk.model_extra or {}).get("autodevai")]
    assert metas and "->" in metas[-1]["compression"] and metas[-1]["simulated"] is True
