"""The whole chat-completions API in the engine: request validation, what goes into an upstream body, what a
response and a stream carry back (real OpenRouter payloads included), and what a request needs from a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from autodevai.engine.capabilities import Need, abilities_of, describe, needs_of
from autodevai.engine.messages import ChatMessage, ImagePart, TextPart
from autodevai.engine.types import ChatRequest, ModelInfo, ProviderCall, StreamEvent
from autodevai.providers import wire
from autodevai.providers.streaming import StreamState

DATA = Path(__file__).parent.parent / "data" / "openrouter"
PNG = "data:image/png;base64,iVBORw0KGgo="
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def req(**kw: Any) -> ChatRequest:
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatRequest.model_validate(kw)


# ---- validation at the boundary ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"messages": [{"role": "tool", "content": "42"}]}, "tool_call_id"),
        ({"tool_choice": "required"}, "tool_choice needs tools"),
        ({"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "not in tools"),
        ({"top_logprobs": 3}, "top_logprobs needs logprobs"),
        ({"extra_body": {"model": "x"}}, "engine sets itself"),
        ({"openrouter": {"temperature": 1}}, "not OpenRouter-only"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
            "https",
        ),
        ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}]}, "text"),
        ({"tools": [{"type": "function", "function": {"name": "has space"}}]}, "function name"),
        ({"response_format": {"type": "json_schema"}}, "json_schema"),
        ({"stop": ""}, "stop"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(fields: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        req(**fields)


def test_an_image_only_user_message_is_a_prompt() -> None:
    r = req(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}])
    assert r.has_media and r.messages[0].text == ""


def test_api_fields_are_json_ready_and_only_what_was_set() -> None:
    r = req(
        tools=[TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        seed=7,
        stop=["END"],
        reasoning={"effort": "high"},
    )
    fields = r.api_fields()
    assert set(fields) == {"tools", "tool_choice", "response_format", "seed", "stop", "reasoning"}
    assert fields["response_format"]["json_schema"]["schema"] == {"type": "object"}  # the alias, not schema_
    assert fields["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert json.loads(json.dumps(fields)) == fields
    assert req().api_fields() == {}


def test_with_text_keeps_images_and_tool_calls() -> None:
    m = ChatMessage.model_validate(
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": PNG}}]}
    )
    short = m.with_text("b")
    assert isinstance(short.content, tuple)
    assert [type(p) for p in short.content] == [TextPart, ImagePart] and short.text == "b"
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    a = ChatMessage.model_validate({"role": "assistant", "content": None, "tool_calls": [call]})
    assert a.with_text("x").tool_calls == a.tool_calls and "f{}" in a.counted_text()


# ---- the upstream body ---------------------------------------------------------------------------------------


def _call(model: str = "acme/m", **kw: Any) -> ProviderCall:
    r = req(**kw)
    return ProviderCall(
        model=model,
        messages=tuple(r.messages),
        max_tokens=99,
        params=r.api_fields(),
        openrouter=r.openrouter,
        extra_body=r.extra_body,
    )


def test_body_carries_every_field_and_unknown_ones_verbatim() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "see", "cache_control": {"type": "ephemeral"}},
                                     {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}}]},
        {"role": "assistant", "content": None, "reasoning_details": [{"type": "reasoning.encrypted", "data": "x"}],
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
    ]  # fmt: skip
    call = _call(messages=messages, tools=[TOOL], seed=1, logprobs=True, extra_body={"verbosity": "low"})
    body = wire.chat_body(call, stream=False)
    assert body["messages"] == messages  # identical, unknown message fields (reasoning_details) included
    assert body["tools"] == [TOOL] and body["seed"] == 1 and body["logprobs"] is True
    assert body["verbosity"] == "low" and body["max_tokens"] == 99


def test_openrouter_only_fields_go_only_to_openrouter() -> None:
    call = _call(openrouter={"provider": {"sort": "price"}, "transforms": ["middle-out"]})
    assert "provider" not in wire.chat_body(call, stream=False)
    body = wire.chat_body(call, stream=True, openrouter=True)
    assert body["provider"] == {"sort": "price"} and body["transforms"] == ["middle-out"]
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("model", "openrouter", "field"),
    [
        ("o3-mini", False, "max_completion_tokens"),
        ("openai/o1", False, "max_completion_tokens"),
        ("gpt-5-mini", False, "max_completion_tokens"),
        ("gpt-4o", False, "max_tokens"),
        ("openai/o3-mini", True, "max_tokens"),  # OpenRouter takes max_tokens for every model
    ],
)
def test_output_limit_field_follows_the_model_family(model: str, openrouter: bool, field: str) -> None:
    body = wire.chat_body(_call(model), stream=False, openrouter=openrouter)
    assert body[field] == 99 and ({"max_tokens", "max_completion_tokens"} - {field}).isdisjoint(body)


# ---- responses and streams -----------------------------------------------------------------------------------


def test_real_tool_call_completion_keeps_calls_and_reasoning_details() -> None:
    data = json.loads((DATA / "nonstream_gemini_toolcall.json").read_text())
    c = wire.parse_completion(data, provider="or", requested_model="x", generation_header=None)
    assert [(t.id, t.name, t.arguments) for t in c.tool_calls] == [("tool_123", "test", "{}")]
    assert c.finish_reason == "tool_calls" and c.content == ""
    assert c.reasoning_details[0]["type"] == "reasoning.encrypted"
    assert c.message_extra == {"annotations": []}


def test_real_paid_completion_usage() -> None:
    data = json.loads((DATA / "nonstream_paid_cost.json").read_text())
    c = wire.parse_completion(data, provider="or", requested_model="x", generation_header=None)
    assert c.usage.cost is not None and c.usage.cost > 0


def _replay(raw: bytes, split: int) -> tuple[StreamState, list[StreamEvent]]:
    """Feed ``raw`` in two network reads cut at ``split``, line by line as the provider does."""
    state, events, pending = StreamState(), [], b""
    for piece in (raw[:split], raw[split:]):
        lines = (pending + piece).split(b"\n")
        pending = lines.pop()
        for line in lines:
            event = state.feed(line.rstrip(b"\r"))
            if event is not None:
                events.append(event)
    if pending.strip():
        event = state.feed(pending.strip())
        if event is not None:
            events.append(event)
    return state, events


@pytest.mark.parametrize("name", ["01_liquid_free_real.sse", "02_glm45_reasoning.sse", "03_gpt_oss_single_newline.sse",
                                  "05_claude_cost_crlf.sse"])  # fmt: skip
def test_real_transcripts_parse_the_same_at_every_split(name: str) -> None:
    raw = (DATA / "sse" / name).read_bytes()
    whole, events = _replay(raw, len(raw))
    assert whole.finished and whole.text and whole.usage is not None
    reasoning = "".join(e.reasoning for e in events) or None
    for split in range(1, len(raw)):
        state, _ = _replay(raw, split)
        got = state.completion(provider="p", requested_model="m", generation_header=None, ttft_s=None)
        assert (got.content, got.reasoning, got.usage, got.finish_reason) == (
            whole.text,
            reasoning,
            whole.usage,
            whole.finish_reason,
        )


def test_real_reasoning_transcript_streams_reasoning_before_content() -> None:
    state, events = _replay((DATA / "sse" / "02_glm45_reasoning.sse").read_bytes(), 10**9)
    first_text = next(i for i, e in enumerate(events) if e.delta)
    assert events[0].reasoning and all(not e.delta for e in events[:first_text])
    c = state.completion(provider="p", requested_model="m", generation_header=None, ttft_s=None)
    assert c.reasoning and c.reasoning.startswith("\nOkay")
    assert len(c.reasoning_details) == 1 and c.reasoning_details[0]["text"] == c.reasoning  # merged by index


def test_real_midstream_error_is_an_embedded_error() -> None:
    with pytest.raises(wire.EmbeddedError, match="Provider returned error"):
        _replay((DATA / "sse" / "04_midstream_error.sse").read_bytes(), 10**9)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).encode()


def test_interleaved_tool_call_deltas_assemble_by_index() -> None:
    state = StreamState()
    lines = [
        _chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 1, "id": "b", "type": "function",
                                "function": {"name": "g", "arguments": "{\"x\""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"y\":"}}]}),
        _chunk({"tool_calls": [{"index": 1, "function": {"arguments": ":1}"}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "2}"}}]}, "tool_calls"),
    ]  # fmt: skip
    events = [state.feed(line) for line in lines]
    assert all(e is not None and e.tool_calls for e in events)
    calls = state.tool_calls()
    assert [(c.id, c.name, c.parsed_arguments()) for c in calls] == [("a", "f", {"y": 2}), ("b", "g", {"x": 1})]
    assert state.finish_reason == "tool_calls"


def test_whole_tool_calls_without_index_and_other_reasoning_names() -> None:
    state = StreamState()
    state.feed(_chunk({"reasoning_content": "think"}))
    state.feed(_chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": {"k": 1}}}]}))
    state.feed(_chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{}"}}]}))
    state.feed(_chunk({"refusal": "no"}, "stop"))
    c = state.completion(provider="p", requested_model="m", generation_header=None, ttft_s=None)
    assert [(t.id, t.name, t.arguments) for t in c.tool_calls] == [("a", "f", '{"k": 1}'), ("b", "g", "{}")]
    assert c.reasoning == "think" and c.refusal == "no"


# ---- what a request needs, what a model can ---------------------------------------------------------------


def test_needs_of_each_feature() -> None:
    image = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}
    pdf = {
        "role": "user",
        "content": [{"type": "file", "file": {"filename": "a.pdf", "file_data": "data:x;base64,AA"}}],
    }
    assert needs_of(req()) == Need.NONE
    assert needs_of(req(tools=[TOOL])) == Need.TOOLS
    assert needs_of(req(tools=[TOOL], tool_choice="none")) == Need.NONE
    assert needs_of(req(extra_body={"functions": [TOOL["function"]]})) == Need.TOOLS  # legacy, passed verbatim
    assert needs_of(req(response_format={"type": "json_object"})) == Need.JSON_MODE
    assert needs_of(req(reasoning={"effort": "low"})) == Need.REASONING
    assert needs_of(req(reasoning={"exclude": True})) == Need.NONE
    assert needs_of(req(messages=[image, pdf])) == Need.IMAGE_IN | Need.FILE_IN
    assert needs_of(req(modalities=["image", "text"])) == Need.IMAGE_OUT
    assert describe(Need.TOOLS | Need.IMAGE_IN) == ["tools", "image input"]


def test_abilities_follow_the_catalog_and_unknowns_are_allowed() -> None:
    listed = ModelInfo(id="a/b", provider="p", supported_parameters=("tools", "response_format"),
                       input_modalities=("text", "image"))  # fmt: skip
    can = abilities_of(listed)
    assert can & Need.TOOLS and can & Need.JSON_MODE and can & Need.IMAGE_IN
    assert not can & Need.STRUCTURED and not can & Need.REASONING and not can & Need.FILE_IN
    silent = ModelInfo(id="local", provider="p", modalities_known=False)  # a plain OpenAI-compatible server
    assert (
        abilities_of(silent) & (Need.TOOLS | Need.IMAGE_IN | Need.STRUCTURED)
        == Need.TOOLS | Need.IMAGE_IN | Need.STRUCTURED
    )
