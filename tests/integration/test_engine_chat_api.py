"""The whole chat API through the engine over the simulator: tool calls (plain and streamed), structured output,
images routed to vision models, capability refusals before any call, what the store keeps, swarm agents with
tools."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import pytest

from autodevai.engine import errors as E
from autodevai.engine.swarm import SwarmSpec
from autodevai.engine.types import ChatRequest, EngineResponse, Preference, StreamDelta, ToolCallDelta
from autodevai.sim.server import SimServer

from .conftest import MakeEngine

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
NO_TOOLS = "openai/gpt-3.5-turbo-instruct"  # the simulator lists no "tools" for it


def png(width: int, height: int) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    body = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(body).decode()


def ask(messages: list[dict[str, Any]], **kw: Any) -> ChatRequest:
    return ChatRequest.model_validate({"messages": messages, "max_tokens": 300, **kw})


def weather_turn() -> list[dict[str, Any]]:
    return [{"role": "user", "content": "What is the weather in Paris today?"}]


async def test_tool_call_round_trip_through_the_engine(make_engine: MakeEngine, sim: SimServer) -> None:
    app = await make_engine()
    first = await app.engine.execute_enhanced_ai_request(ask(weather_turn(), tools=[WEATHER], preference="cost"))
    assert first.finish_reason == "tool_calls" and len(first.tool_calls) >= 1
    call = first.tool_calls[0]
    assert call.name == "get_weather" and call.parsed_arguments()["city"]
    info = app.engine.find_model(first.model)
    assert info is not None and "tools" in info.supported_parameters  # routed to a model that lists tools
    assert any(r.startswith("needs tools: ") for r in first.route.reasons)
    follow = [
        *weather_turn(),
        {"role": "assistant", "content": None, "tool_calls": [call.as_json()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21, "sky": "sunny"}'},
    ]
    second = await app.engine.execute_enhanced_ai_request(ask(follow, tools=[WEATHER], model=first.model))
    assert second.finish_reason == "stop" and not second.tool_calls
    assert "21" in second.content  # the model used the tool's result
    rows = await app.engine.get_request_history(2)
    assert (
        rows[1].detail is not None and rows[1].detail["response"]["tool_calls"][0]["function"]["name"] == "get_weather"
    )
    assert rows[1].detail["request"]["tools"] == ["get_weather"]


async def test_streamed_tool_call_arrives_in_pieces_and_whole(make_engine: MakeEngine) -> None:
    app = await make_engine()
    pieces: list[ToolCallDelta] = []
    markers: list[StreamDelta] = []
    final: EngineResponse | None = None
    request = ask(weather_turn(), tools=[WEATHER], tool_choice="required")
    async for item in app.engine.stream_enhanced_ai_request(request):
        if isinstance(item, StreamDelta) and item.is_marker:
            markers.append(item)
        elif isinstance(item, StreamDelta):
            pieces.extend(item.tool_calls)
        elif isinstance(item, EngineResponse):
            final = item
    assert final is not None and len(markers) == 1 and markers[0].model == final.model
    assert pieces and pieces[0].name == "get_weather"
    assembled = "".join(p.arguments for p in pieces if p.index == 0)
    assert json.loads(assembled) == final.tool_calls[0].parsed_arguments()


async def test_structured_output_validates_against_the_schema(make_engine: MakeEngine) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}, "explanation": {"type": "string"}},
        "required": ["answer", "explanation"],
        "additionalProperties": False,
    }
    app = await make_engine()
    fmt = {"type": "json_schema", "json_schema": {"name": "math", "schema": schema, "strict": True}}
    r = await app.engine.execute_enhanced_ai_request(
        ask([{"role": "user", "content": "What is 12*12?"}], response_format=fmt, preference="quality")
    )
    data = json.loads(r.content)
    jsonschema.validate(data, schema)
    info = app.engine.find_model(r.model)
    assert info is not None and "structured_outputs" in info.supported_parameters


async def test_an_image_goes_to_a_vision_model_which_describes_it(make_engine: MakeEngine) -> None:
    app = await make_engine()
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": png(64, 48)}},
    ]
    r = await app.engine.execute_with_smart_routing(ask([{"role": "user", "content": content}]), Preference.COST)
    info = app.engine.find_model(r.model)
    assert info is not None and "image" in info.input_modalities
    assert "64" in r.content and "48" in r.content and "PNG" in r.content
    assert r.usage.prompt_tokens > 700  # the image counts toward the prompt


async def test_a_pinned_model_without_tools_is_refused_before_any_call(make_engine: MakeEngine, sim: SimServer) -> None:
    app = await make_engine()
    before = sim.stats.total
    with pytest.raises(E.CapabilityMissing) as info:
        await app.engine.execute_enhanced_ai_request(ask(weather_turn(), tools=[WEATHER], model=NO_TOOLS))
    assert sim.stats.total == before  # nothing was sent
    assert "tools" in info.value.missing and NO_TOOLS in str(info.value)
    rows = await app.engine.get_request_history(1)
    assert rows[0].status == "CapabilityMissing"  # refused, and still in the history


async def test_seed_and_stop_reach_the_model(make_engine: MakeEngine) -> None:
    app = await make_engine()
    prompt = [{"role": "user", "content": "Explain circuit breakers in distributed systems."}]
    a = await app.engine.execute_enhanced_ai_request(ask(prompt, model="openai/gpt-4o-mini", seed=5))
    b = await app.engine.execute_enhanced_ai_request(ask(prompt, model="openai/gpt-4o-mini", seed=5))
    assert a.content == b.content
    word = a.content.split()[3]
    cut = await app.engine.execute_enhanced_ai_request(ask(prompt, model="openai/gpt-4o-mini", seed=5, stop=[word]))
    assert word not in cut.content and a.content.startswith(cut.content.rstrip())


async def test_swarm_agents_with_tools_run_them(make_engine: MakeEngine) -> None:
    app = await make_engine()
    ran: list[tuple[str, dict[str, Any]]] = []

    async def run_tool(name: str, arguments: str) -> str:
        ran.append((name, json.loads(arguments)))
        return '{"temp_c": 19}'

    spec = SwarmSpec(
        task="What is the weather in Paris today?", topology="star", n_agents=3, consensus="none", tools=(WEATHER,)
    )
    result = await app.engine.execute_swarm(spec, run_tool=run_tool)
    assert ran and all(name == "get_weather" for name, _ in ran)
    spokes = [r for r in result.replies if r.agent.startswith("spoke") and r.ok]
    assert spokes and all("19" in r.content for r in spokes)
