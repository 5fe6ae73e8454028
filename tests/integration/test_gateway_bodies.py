"""Bodies the gateway must refuse with a 400 that names the problem — never a 500 — and odd but valid bodies it
must accept: JSON too deep to parse or to send on, invalid JSON, lone UTF-16 surrogates, invalid fields deep
inside messages and tools, ``n`` > 1, ``stream: null``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from autodevai.gateway import Gateway
from autodevai.gateway.request import MAX_DEPTH
from autodevai.sim.server import SimServer

from . import test_gateway
from .conftest import MINI
from .test_gateway import Start, http

start = test_gateway.start  # the gateway fixture, shared with test_gateway.py
openapi_conformance = test_gateway.openapi_conformance  # every response checked against OpenAI's spec
PROMPT = [{"role": "user", "content": "What is 12*12?"}]


@pytest.fixture
async def gateway(start: Start) -> AsyncIterator[Gateway]:
    _, running = await start()
    yield running


async def post(gateway: Gateway, content: bytes) -> httpx.Response:
    async with http(gateway) as h:
        return await h.post("/chat/completions", content=content, headers={"content-type": "application/json"})


def body(**fields: Any) -> bytes:
    return json.dumps({"model": MINI, "messages": PROMPT, "max_tokens": 16, **fields}).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def error_of(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["x-should-retry"] == "false"
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    return error


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "auto", "messages": [',
        b"\xff\xfe{not utf-8",
        b"[1, 2, 3]",
        b"",
        b'{"model": "auto", "messages": NaN]',
    ],
    ids=["truncated", "not-utf8", "array", "empty", "garbage"],
)
async def test_invalid_json_is_400(gateway: Gateway, raw: bytes) -> None:
    error = error_of(await post(gateway, raw))
    assert "JSON" in error["message"]


@pytest.mark.parametrize("depth", [100_000, 990, MAX_DEPTH + 1], ids=["recursion-error", "near-limit", "over-cap"])
async def test_too_deep_json_is_400_never_500(gateway: Gateway, sim: SimServer, depth: int) -> None:
    # 100 000 levels make json.loads raise RecursionError; 990 parse but pydantic cannot serialize them on.
    raw = b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], "x_deep": ' + nested(depth).encode()
    error = error_of(await post(gateway, raw + b"}"))
    assert error["code"] == "json_too_deep" and str(MAX_DEPTH) in error["message"]
    assert sim.stats.total == 0


async def test_deep_but_reasonable_json_passes_through(gateway: Gateway) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(20):  # a 20-level JSON schema: deeper than any real tool
        schema = {"type": "object", "properties": {"x": schema}}
    tool = {"type": "function", "function": {"name": "deep", "parameters": schema}}
    r = await post(gateway, body(tools=[tool], tool_choice="none", x_nested=json.loads(nested(60))))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b'{"model": "auto", "messages": [{"role": "user", "content": "hi \\ud800 there"}]}', "messages[0].content"),
        (b'{"model": "auto", "messages": [{"role": "user", "content": "tail \\uDFFF"}]}', "messages[0].content"),
        (
            b'{"model": "auto", "messages": [{"role": "user", "content": [{"type": "text", "text": "\\udc00"}]}]}',
            "messages[0].content[0].text",
        ),
        (
            b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], "x_opt": {"\\ud801": 1}}',
            "x_opt.\\ud801",
        ),
    ],
    ids=["high", "low", "in-a-part", "in-a-key"],
)
async def test_lone_surrogates_are_400_never_500(gateway: Gateway, sim: SimServer, raw: bytes, param: str) -> None:
    error = error_of(await post(gateway, raw))
    assert error["code"] == "invalid_unicode" and error["param"] == param
    assert sim.stats.total == 0


async def test_surrogate_pairs_and_escaped_backslashes_are_fine(gateway: Gateway) -> None:
    # An escaped pair is one character (U+1F600); "\\\\ud800" is a backslash followed by the text "ud800".
    raw = b'{"model": "%s", "max_tokens": 16, "messages": [{"role": "user", "content": "\\ud83d\\ude00 \\\\ud800"}]}'
    r = await post(gateway, raw % MINI.encode())
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"n": 2}, "n", "unsupported_value"),
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"max_completion_tokens": 0}, "max_completion_tokens", "invalid_type"),
        ({"max_completion_tokens": 2_000_000}, "max_completion_tokens", "less_than_equal"),
        ({"model": ""}, "model", "invalid_type"),
        ({"temperature": 3}, "temperature", "less_than_equal"),
        ({"reasoning_effort": "enormous"}, "reasoning_effort", "literal_error"),
        ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools[0].function.name", "value_error"),
        ({"stop": [""]}, "stop[0]", "string_too_short"),
        ({"top_logprobs": 3}, None, "value_error"),
        ({"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]}, "messages[0].content[0]", None),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
async def test_invalid_fields_are_400_naming_the_field(
    gateway: Gateway, fields: dict[str, Any], param: str | None, code: str | None
) -> None:
    error = error_of(await post(gateway, body(**fields)))
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert f"'{param}'" in error["message"]


async def test_null_stream_and_developer_role_are_accepted(gateway: Gateway) -> None:
    messages = [{"role": "developer", "content": "Be terse."}, *PROMPT]
    r = await post(gateway, body(stream=None, n=1, stream_options=None, messages=messages))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "144" in r.json()["choices"][0]["message"]["content"]
