"""The simulator serves the whole chat-completions API over real HTTP: tools, structured output, images and files,
OpenRouter's 404 refusals and ``models`` fallback, ``stop``, ``seed``, reasoning and logprobs."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel, Field

from autodevai.sim import SimConfig, SimServer

WEATHER_PARAMS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": WEATHER_PARAMS},
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The local time in a timezone",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    },
}
ASK_WEATHER = "What's the weather in Paris in fahrenheit for 3 days?"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(latency_scale=0))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def c(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"Authorization": "Bearer k"}, timeout=10) as client:
        yield client


def user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


async def chat(c: httpx.AsyncClient, model: str, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    r = await c.post("/chat/completions", json={"model": model, "messages": messages, **extra})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def events(c: httpx.AsyncClient, model: str, messages: list[dict[str, Any]], **extra: Any) -> list[Any]:
    """The JSON chunks of one streamed call (keep-alive comments and [DONE] left out)."""
    payload = {"model": model, "messages": messages, "stream": True, **extra}
    async with c.stream("POST", "/chat/completions", json=payload) as r:
        assert r.status_code == 200
        lines = [line async for line in r.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def png(width: int, height: int) -> bytes:
    """A real PNG of one grey colour, built from the spec (signature, IHDR, IDAT, IEND)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    rows = (b"\x00" + b"\x80" * width) * height
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


# ---- tools -------------------------------------------------------------------------------------------------


async def test_tool_call_round_trip_answers_with_the_tool_result(c: httpx.AsyncClient) -> None:
    first = await chat(c, "openai/gpt-4o", user(ASK_WEATHER), tools=[WEATHER])
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] in (None, "")
    (call,) = choice["message"]["tool_calls"]
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["id"]) and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    jsonschema.validate(args, WEATHER_PARAMS)
    assert args == {"city": "Paris", "unit": "fahrenheit", "days": 3}  # taken from the prompt
    result = '{"temperature": 68, "conditions": "sunny"}'
    conversation = [
        *user(ASK_WEATHER),
        {"role": "assistant", "content": None, "tool_calls": [{k: call[k] for k in ("id", "type", "function")}]},
        {"role": "tool", "tool_call_id": call["id"], "content": result},
    ]
    second = await chat(c, "openai/gpt-4o", conversation, tools=[WEATHER])
    final = second["choices"][0]
    assert final["finish_reason"] == "stop" and "tool_calls" not in final["message"]
    assert f"get_weather returned {result}" in final["message"]["content"]
    assert "temperature is 68" in final["message"]["content"]
    assert second["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]


async def test_streamed_tool_call_assembles_by_index_into_valid_arguments(c: httpx.AsyncClient) -> None:
    whole = await chat(c, "openai/gpt-4o", user(ASK_WEATHER), tools=[WEATHER])
    chunks = await events(c, "openai/gpt-4o", user(ASK_WEATHER), tools=[WEATHER])
    calls: dict[int, dict[str, Any]] = {}
    fragments = 0
    for chunk in chunks:
        for part in chunk["choices"][0]["delta"].get("tool_calls") or []:
            slot = calls.setdefault(part["index"], {"id": None, "name": None, "arguments": ""})
            if "id" in part:
                assert part["type"] == "function" and part["function"]["arguments"] == ""
                slot["id"], slot["name"] = part["id"], part["function"]["name"]
            else:
                fragments += 1
                slot["arguments"] += part["function"]["arguments"]
    assert list(calls) == [0] and fragments > 1  # the arguments arrive in pieces
    expected = whole["choices"][0]["message"]["tool_calls"][0]
    assert calls[0]["id"] == expected["id"] and calls[0]["name"] == "get_weather"
    jsonschema.validate(json.loads(calls[0]["arguments"]), WEATHER_PARAMS)
    assert calls[0]["arguments"] == expected["function"]["arguments"]
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "tool_calls"
    assert last["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"] > 0


async def test_tool_choice_none_required_named_and_parallel(c: httpx.AsyncClient) -> None:
    tools = [WEATHER, TIME]

    async def called(prompt: str, **extra: Any) -> list[str]:
        message = (await chat(c, "openai/gpt-4o-mini", user(prompt), tools=tools, **extra))["choices"][0]["message"]
        return [t["function"]["name"] for t in message.get("tool_calls") or []]

    assert await called("Tell me a joke about penguins") == []  # auto: nothing matches, answers in text
    assert await called(ASK_WEATHER) == ["get_weather"]
    assert await called(ASK_WEATHER, tool_choice="none") == []
    assert await called("Tell me a joke about penguins", tool_choice="required") == ["get_weather"]
    named = {"type": "function", "function": {"name": "get_time"}}
    assert await called(ASK_WEATHER, tool_choice=named) == ["get_time"]
    both = "What's the weather and the local time in Paris?"
    assert await called(both) == ["get_weather", "get_time"]
    assert len(await called(both, parallel_tool_calls=False)) == 1
    text = (await chat(c, "openai/gpt-4o-mini", user(ASK_WEATHER), tools=tools, tool_choice="none"))["choices"][0]
    assert text["finish_reason"] == "stop" and text["message"]["content"]


async def test_tool_mistakes_are_400s_naming_the_problem(c: httpx.AsyncClient) -> None:
    orphan = [*user("hi"), {"role": "tool", "tool_call_id": "call_nope", "content": "{}"}]
    cases = [
        ({"messages": orphan}, "must be a response to a preceeding message with 'tool_calls'"),
        ({"messages": user("hi"), "tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
         "no function named 'x'"),
        ({"messages": user("hi"), "tool_choice": "required"}, "only allowed when 'tools' are specified"),
        ({"messages": user("hi"), "tools": [{"type": "function"}]}, "tools[0]"),
    ]  # fmt: skip
    for body, needle in cases:
        r = await c.post("/chat/completions", json={"model": "openai/gpt-4o", **body})
        assert r.status_code == 400 and needle in r.json()["error"]["message"], r.text


async def test_openai_sdk_calls_tools_and_parses_structured_output(sim: SimServer) -> None:
    class Capital(BaseModel):
        country: str
        capital: str

    client = openai.AsyncOpenAI(base_url=sim.base_url, api_key="k", max_retries=0)
    try:
        done = await client.chat.completions.create(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": ASK_WEATHER}],
            tools=[WEATHER],
        )
        (call,) = done.choices[0].message.tool_calls or []
        assert call.type == "function" and call.function.name == "get_weather"
        assert json.loads(call.function.arguments)["city"] == "Paris"
        parsed = await client.chat.completions.parse(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "What is the capital of France?"}],
            response_format=Capital,
        )  # fmt: skip
    finally:
        await client.close()
    answer = parsed.choices[0].message.parsed
    assert isinstance(answer, Capital) and answer.country == "France" and answer.capital == "Paris"


# ---- structured output -------------------------------------------------------------------------------------


class Address(BaseModel):
    street: str
    city: str
    postcode: str = Field(pattern=r"^\d{5}$")


class Trip(BaseModel):
    """A pydantic model whose schema uses $defs/$ref, enums, bounds, optional fields and arrays."""

    traveller: str
    destination: Address
    stops: list[Address] = Field(min_length=2)
    nights: int = Field(ge=1, le=30)
    budget_eur: float | None = Field(default=None, gt=0)
    mode: Literal["train", "plane", "car"]
    tags: list[str] = []


async def test_json_schema_output_from_a_pydantic_model_with_defs_validates(c: httpx.AsyncClient) -> None:
    schema = Trip.model_json_schema()
    assert "$defs" in schema  # the point of the test: references must be followed
    fmt = {"type": "json_schema", "json_schema": {"name": "trip", "schema": schema, "strict": True}}
    prompt = "Plan a trip for Alice from Berlin to Rome by train, 4 nights"
    data = await chat(c, "openai/gpt-4o", user(prompt), response_format=fmt)
    content = json.loads(data["choices"][0]["message"]["content"])
    jsonschema.validate(content, schema)
    trip = Trip.model_validate(content)
    assert trip.mode == "train" and trip.nights == 4 and len(trip.stops) >= 2


async def test_checkable_answers_land_in_a_fitting_field(c: httpx.AsyncClient) -> None:
    for model in ("openai/gpt-4o-mini", "anthropic/claude-3.7-sonnet", "google/gemini-2.0-flash-001"):
        plain = (await chat(c, model, user("What is 17*23?")))["choices"][0]["message"]["content"]
        schema = {"type": "object", "properties": {"working": {"type": "string"}, "result": {"type": "integer"}},
                  "required": ["working", "result"], "additionalProperties": False}  # fmt: skip
        fmt = {"type": "json_schema", "json_schema": {"name": "math", "schema": schema, "strict": True}}
        data = await chat(c, model, user("What is 17*23?"), response_format=fmt)
        result = json.loads(data["choices"][0]["message"]["content"])
        jsonschema.validate(result, schema)
        assert plain.endswith(f"= {result['result']}.")  # the same answer, right or wrong, as in plain text
    schema = {"type": "object", "properties": {"country": {"type": "string"}, "capital": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "capital", "schema": schema}}
    data = await chat(c, "openai/gpt-4o", user("What is the capital of Japan?"), response_format=fmt)
    assert json.loads(data["choices"][0]["message"]["content"]) == {"country": "Japan", "capital": "Tokyo"}


async def test_json_object_mode_and_streamed_json_schema(c: httpx.AsyncClient) -> None:
    data = await chat(c, "openai/gpt-4o", user("What is 6*7?"), response_format={"type": "json_object"})
    assert json.loads(data["choices"][0]["message"]["content"]) == {"answer": 42}
    prose = await chat(c, "openai/gpt-4o", user("Explain caching"), response_format={"type": "json_object"})
    assert isinstance(json.loads(prose["choices"][0]["message"]["content"])["answer"], str)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "score": {"type": "number", "minimum": 0}},
              "required": ["city", "score"]}  # fmt: skip
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    chunks = await events(c, "openai/gpt-4o", user("Rate Lisbon"), response_format=fmt)
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
    jsonschema.validate(json.loads(text), schema)
    assert len([ch for ch in chunks if ch["choices"][0]["delta"].get("content")]) > 1


# ---- images and files --------------------------------------------------------------------------------------


async def test_image_data_url_is_described_with_its_real_format_and_size(c: httpx.AsyncClient) -> None:
    image = png(64, 48)
    kb = f"{len(image) / 1024:.1f} KB" if len(image) >= 1024 else f"{len(image)} bytes"

    def ask(detail: str) -> list[dict[str, Any]]:
        part = {"type": "image_url", "image_url": {"url": data_url("image/png", image), "detail": detail}}
        return user([{"type": "text", "text": "What is in this picture?"}, part])

    high = await chat(c, "openai/gpt-4o", ask("high"))
    low = await chat(c, "openai/gpt-4o", ask("low"))
    text_only = await chat(c, "openai/gpt-4o", user([{"type": "text", "text": "What is in this picture?"}]))
    assert high["choices"][0]["message"]["content"].startswith(f"The attached image is a 64×48 PNG ({kb}).")
    text_tokens = text_only["usage"]["prompt_tokens"]
    assert high["usage"]["prompt_tokens"] - text_tokens == 765 and low["usage"]["prompt_tokens"] - text_tokens == 85
    gif = b"GIF89a" + struct.pack("<HH", 3, 2) + b"\x00\x00\x00;"
    remote = {"type": "image_url", "image_url": {"url": "https://images.example.com/cat.png"}}
    both = user([{"type": "image_url", "image_url": {"url": data_url("image/gif", gif)}}, remote])
    said = (await chat(c, "google/gemini-2.0-flash-001", both))["choices"][0]["message"]["content"]
    assert f"a 3×2 GIF ({len(gif)} bytes)" in said and "not fetched" in said and "images.example.com" in said
    bad = user([{"type": "image_url", "image_url": {"url": data_url("image/png", b"not an image at all")}}])
    r = await c.post("/chat/completions", json={"model": "openai/gpt-4o", "messages": bad})
    assert r.status_code == 400 and "unsupported image" in r.json()["error"]["message"]


async def test_file_part_is_named_with_its_media_type_size_and_pages(c: httpx.AsyncClient) -> None:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type /Page >>\n%%EOF"
    part = {"type": "file", "file": {"filename": "report.pdf", "file_data": data_url("application/pdf", pdf)}}
    data = await chat(c, "anthropic/claude-3.5-sonnet", user([{"type": "text", "text": "Summarize this"}, part]))
    content = data["choices"][0]["message"]["content"]
    assert f"The attached file report.pdf is application/pdf ({len(pdf)} bytes, 2 pages)." in content
    plain = await chat(c, "anthropic/claude-3.5-sonnet", user([{"type": "text", "text": "Summarize this"}]))
    assert data["usage"]["prompt_tokens"] - plain["usage"]["prompt_tokens"] == len(pdf) // 30


async def test_image_output_model_returns_a_png(c: httpx.AsyncClient) -> None:
    data = await chat(c, "google/gemini-2.5-flash-image", user("Draw a lighthouse"), modalities=["image", "text"])
    (image,) = data["choices"][0]["message"]["images"]
    url = image["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    raw = base64.b64decode(url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", raw[16:24]) == (64, 64)
    assert data["usage"]["completion_tokens"] > 1290  # an image is billed like Gemini's 1290 tokens
    r = await c.post("/chat/completions", json={"model": "openai/gpt-4o", "messages": user("Draw"),
                                                "modalities": ["image", "text"]})  # fmt: skip
    assert r.status_code == 404
    assert (
        r.json()["error"]["message"] == "No endpoints found that support the requested output modalities: image, text"
    )


# ---- refusals and fallback ---------------------------------------------------------------------------------

_PIXEL = data_url("image/png", png(1, 1))
_WAV = b"RIFF" + struct.pack("<I", 36 + 8000) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
_WAV += b"data" + struct.pack("<I", 8000) + b"\x80" * 8000  # one second of 8 kHz mono silence
_TEXT_FILE = data_url("text/plain", b"hello")


@pytest.mark.parametrize(
    ("model", "extra", "message"),
    [
        ("deepseek/deepseek-r1", {"tools": [WEATHER]}, "No endpoints found that support tool use. To learn more"),
        ("openai/gpt-3.5-turbo", {"messages": user([{"type": "image_url", "image_url": {"url": _PIXEL}}])},
         "No endpoints found that support image input"),
        ("meta-llama/llama-3.1-8b-instruct",
         {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
         "No endpoints found that can handle the requested parameters."),
        ("mistralai/mistral-large",
         {"messages": user([{"type": "file", "file": {"filename": "a.txt", "file_data": _TEXT_FILE}}])},
         "No endpoints found that support file input"),
        ("openai/gpt-4o",
         {"messages": user([{"type": "input_audio", "input_audio": {"data": base64.b64encode(_WAV).decode(),
                                                                    "format": "wav"}}])},
         "No endpoints found that support audio input"),
    ],
)  # fmt: skip
async def test_requests_a_model_cannot_serve_are_openrouter_404s(
    sim: SimServer, c: httpx.AsyncClient, model: str, extra: dict[str, Any], message: str
) -> None:
    r = await c.post("/chat/completions", json={"model": model, "messages": user("Hello there"), **extra})
    assert r.status_code == 404
    body = r.json()
    assert body["error"]["code"] == 404 and body["error"]["message"].startswith(message)
    assert sim.stats.by_outcome == {"unsupported": 1} and sim.usage == {}


async def test_models_list_falls_back_to_the_first_model_that_can_serve(sim: SimServer, c: httpx.AsyncClient) -> None:
    models = ["mistralai/pixtral-12b", "openai/gpt-4o-mini", "openai/gpt-4o"]
    data = await chat(c, "deepseek/deepseek-r1", user(ASK_WEATHER), models=models, tools=[WEATHER])
    assert data["model"] == "openai/gpt-4o-mini"
    assert data["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sim.stats.fallbacks == 1
    part = {"type": "image_url", "image_url": {"url": _PIXEL}}
    seen = await chat(
        c, "openai/gpt-3.5-turbo", user([part]), models=["deepseek/deepseek-r1", "x-ai/grok-2-vision-1212"]
    )
    assert seen["model"] == "x-ai/grok-2-vision-1212" and "1×1 PNG" in seen["choices"][0]["message"]["content"]


async def test_audio_clip_length_is_read_and_billed(c: httpx.AsyncClient) -> None:
    part = {"type": "input_audio", "input_audio": {"data": base64.b64encode(_WAV).decode(), "format": "wav"}}
    data = await chat(c, "google/gemini-2.5-flash", user([{"type": "text", "text": "Transcribe"}, part]))
    assert "The attached audio is a WAV clip of 1.0 s" in data["choices"][0]["message"]["content"]
    plain = await chat(c, "google/gemini-2.5-flash", user([{"type": "text", "text": "Transcribe"}]))
    assert data["usage"]["prompt_tokens"] - plain["usage"]["prompt_tokens"] == 32  # 32 tokens per second


async def test_catalog_lists_parameters_and_modalities_like_openrouter(c: httpx.AsyncClient) -> None:
    by_id = {m["id"]: m for m in (await c.get("/models")).json()["data"]}
    assert len(by_id) == 400

    def params(model: str) -> set[str]:
        return set(by_id[model]["supported_parameters"])

    assert {"structured_outputs", "logprobs", "top_logprobs", "tools", "tool_choice"} <= params("openai/gpt-4o")
    assert "structured_outputs" not in params("openai/o1-mini") and "structured_outputs" in params("openai/o3-mini")
    assert "logprobs" not in params("openai/o3") and {"reasoning", "include_reasoning"} <= params("openai/o3")
    assert {"top_k", "repetition_penalty", "min_p"} <= params("meta-llama/llama-3.3-70b-instruct")
    assert "top_k" not in params("anthropic/claude-3.7-sonnet") | params("openai/gpt-4o")
    assert "structured_outputs" in params("anthropic/claude-3.5-sonnet") and "structured_outputs" not in params(
        "anthropic/claude-3-haiku"
    )
    assert by_id["google/gemini-2.0-flash-001"]["architecture"]["input_modalities"] == [
        "text",
        "image",
        "file",
        "audio",
    ]
    assert by_id["anthropic/claude-sonnet-4"]["architecture"]["modality"] == "text+image+file->text"
    image_out = by_id["google/gemini-2.5-flash-image-preview"]["architecture"]
    assert image_out["output_modalities"] == ["image", "text"] and image_out["modality"] == "text+image->text+image"
    generated = [m for m in by_id.values() if "(simulated)" in m["description"]]
    structured = [m for m in generated if "structured_outputs" in m["supported_parameters"]]
    sizes = [int(re.findall(r"-(\d+)b-", m["id"])[0]) for m in structured]
    assert sizes and min(sizes) >= 70


# ---- stop and seed -----------------------------------------------------------------------------------------


async def test_stop_cuts_the_answer_before_the_first_stop_sequence(c: httpx.AsyncClient) -> None:
    prompt = "Explain the trade-offs of caching in web services"
    full = (await chat(c, "openai/gpt-4o", user(prompt)))["choices"][0]["message"]["content"]
    words = full.split()
    early, late = words[3], words[8]
    cut = await chat(c, "openai/gpt-4o", user(prompt), stop=[late, early])
    choice = cut["choices"][0]
    assert choice["message"]["content"] == full[: full.index(early)] and choice["finish_reason"] == "stop"
    assert (
        cut["usage"]["completion_tokens"] < (await chat(c, "openai/gpt-4o", user(prompt)))["usage"]["completion_tokens"]
    )
    chunks = await events(c, "openai/gpt-4o", user(prompt), stop=early)
    assert "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks) == full[: full.index(early)]
    absent = await chat(c, "openai/gpt-4o", user(prompt), stop="zzz-not-there")
    assert absent["choices"][0]["message"]["content"] == full


async def test_seed_gives_repeatable_answers_that_differ_between_seeds(c: httpx.AsyncClient) -> None:
    prompt = "Give me advice on structuring a Python project"

    async def text(seed: int) -> str:
        content: str = (await chat(c, "openai/gpt-4o-mini", user(prompt), seed=seed))["choices"][0]["message"][
            "content"
        ]
        return content

    assert await text(7) == await text(7)
    assert len({await text(s) for s in range(8)}) >= 3


async def test_seeds_keep_each_models_accuracy_on_checkable_tasks(c: httpx.AsyncClient) -> None:
    # llama-3.1-8b: accuracy 0.62 on a difficulty-1 task (one 4-digit addition): right ~62% over many seeds
    right = 0
    for seed in range(150):
        data = await chat(c, "meta-llama/llama-3.1-8b-instruct", user("What is 4567+8912?"), seed=seed)
        right += data["choices"][0]["message"]["content"] == "4567 + 8912 = 13479."
    assert 0.48 <= right / 150 <= 0.76


# ---- reasoning and logprobs --------------------------------------------------------------------------------


async def test_reasoning_models_return_reasoning_and_count_its_tokens(c: httpx.AsyncClient) -> None:
    model, ask = "deepseek/deepseek-r1", user("What is 17*23?")
    high = await chat(c, model, ask, reasoning={"effort": "high"})
    message, usage = high["choices"][0]["message"], high["usage"]
    assert "17 × 23" in message["reasoning"] and message["content"].startswith("17 × 23 = ")
    assert message["reasoning_details"] == [
        {"type": "reasoning.text", "text": message["reasoning"], "format": "unknown", "index": 0}
    ]
    spent = usage["completion_tokens_details"]["reasoning_tokens"]
    assert spent > 10 and usage["completion_tokens"] > spent
    low = await chat(c, model, ask, reasoning={"effort": "low"})
    assert 0 < low["usage"]["completion_tokens_details"]["reasoning_tokens"] < spent
    default = await chat(c, model, ask)  # reasoning models reason unless told otherwise
    assert default["choices"][0]["message"]["reasoning"]
    capped = await chat(c, model, ask, reasoning={"effort": "high", "max_tokens": 8})
    assert capped["usage"]["completion_tokens_details"]["reasoning_tokens"] <= 8
    hidden = await chat(c, model, ask, reasoning={"effort": "high", "exclude": True})
    assert hidden["choices"][0]["message"]["reasoning"] is None
    assert "reasoning_details" not in hidden["choices"][0]["message"]
    assert hidden["usage"]["completion_tokens_details"]["reasoning_tokens"] == spent  # billed all the same
    off = await chat(c, model, ask, reasoning={"effort": "none"})
    assert (
        off["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
        and off["choices"][0]["message"]["reasoning"] is None
    )
    plain = await chat(c, "openai/gpt-4o-mini", ask, reasoning={"effort": "high"})
    assert plain["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_streamed_reasoning_arrives_before_the_content(c: httpx.AsyncClient) -> None:
    model, ask = "qwen/qwen3-32b", user("Explain the CAP theorem")
    whole = await chat(c, model, ask, reasoning={"effort": "medium"})
    chunks = await events(c, model, ask, reasoning={"effort": "medium"})
    deltas = [ch["choices"][0]["delta"] for ch in chunks]
    kinds = ["reasoning" if d.get("reasoning") else "content" for d in deltas if d.get("reasoning") or d.get("content")]
    assert kinds[0] == "reasoning" and "reasoning" not in kinds[kinds.index("content") :]
    reasoning = "".join(d.get("reasoning") or "" for d in deltas)
    details = "".join(x["text"] for d in deltas for x in d.get("reasoning_details") or [])
    assert reasoning == details == whole["choices"][0]["message"]["reasoning"]
    assert "".join(d.get("content") or "" for d in deltas) == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["usage"] == whole["usage"] | {"cost": chunks[-1]["usage"]["cost"]}
    hidden = await events(c, model, ask, reasoning={"exclude": True})
    assert not any(ch["choices"][0]["delta"].get("reasoning") for ch in hidden)
    assert hidden[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


async def test_logprobs_cover_the_content_with_ranked_alternatives(c: httpx.AsyncClient) -> None:
    ask = user("Say something about queues")
    data = await chat(c, "openai/gpt-4o-mini", ask, logprobs=True, top_logprobs=3)
    content = data["choices"][0]["message"]["content"]
    entries = data["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == content and len(entries) > 5
    for e in entries:
        assert e["bytes"] == list(e["token"].encode()) and e["logprob"] <= 0
        tops = e["top_logprobs"]
        assert len(tops) == 3 and tops[0]["token"] == e["token"]
        assert [t["logprob"] for t in tops] == sorted((t["logprob"] for t in tops), reverse=True)
    again = await chat(c, "openai/gpt-4o-mini", ask, logprobs=True, top_logprobs=3)
    assert again["choices"][0]["logprobs"] == data["choices"][0]["logprobs"]
    bare = await chat(c, "openai/gpt-4o-mini", ask, logprobs=True)
    assert all(e["top_logprobs"] == [] for e in bare["choices"][0]["logprobs"]["content"])
    unsupported = await chat(c, "anthropic/claude-3.5-sonnet", ask, logprobs=True)
    assert unsupported["choices"][0]["logprobs"] is None
    chunks = await events(c, "openai/gpt-4o-mini", ask, logprobs=True, top_logprobs=1)
    streamed = [e for ch in chunks if ch["choices"][0]["logprobs"] for e in ch["choices"][0]["logprobs"]["content"]]
    assert "".join(e["token"] for e in streamed) == content
    r = await c.post("/chat/completions", json={"model": "openai/gpt-4o", "messages": ask, "top_logprobs": 21})
    assert r.status_code == 400 and "top_logprobs" in r.json()["error"]["message"]
