"""`autodevai run` / `route` with the rest of the chat API: images and files, tools, structured output, seed, stop
and reasoning — real processes against the auto-started simulator, as a user runs them."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import jsonschema
import pytest

from tests.integration.test_cli import cli

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "explanation": {"type": "string"}},
    "required": ["answer", "explanation"],
    "additionalProperties": False,
}


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of one color (PNG spec: signature, IHDR, IDAT, IEND; each chunk with its CRC)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _input_modalities(model: str) -> list[str]:
    result = cli("models", model, "--json")
    assert result.returncode == 0, result.stderr
    return next(m["input_modalities"] for m in json.loads(result.stdout) if m["id"] == model)


def test_an_image_is_answered_by_a_vision_model_that_sees_its_size(tmp_path: Path) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(png(64, 48))
    result = cli("run", "What is in this picture?", "--image", str(image), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "64×48 PNG" in data["content"], data["content"]
    assert "image" in _input_modalities(data["model"]), f"{data['model']} cannot read images"
    assert data["usage"]["prompt_tokens"] > 80, "the image is billed as prompt tokens"

    text = cli("run", "Describe it", "--image", str(image))
    assert text.returncode == 0, text.stderr
    assert "64×48 PNG" in text.stdout


def test_route_dry_run_with_an_image_only_considers_vision_models(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(png(8, 8))
    result = cli("route", "What is this?", "--image", str(image), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)["candidates"][0]["model"]
    assert "image" in _input_modalities(chosen)


def test_files_go_as_a_file_part_or_inline_text(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n")
    notes = tmp_path / "notes.py"
    notes.write_text("def cache_hit_ratio():\n    return 0.93\n", encoding="utf-8")
    result = cli("run", "Summarize", "--file", str(pdf), "--file", str(notes), "--json")
    assert result.returncode == 0, result.stderr
    content = json.loads(result.stdout)["content"]
    assert "report.pdf" in content and "application/pdf" in content and "1 page" in content, content


def test_a_tool_call_is_printed_with_arguments_that_parse(tmp_path: Path) -> None:
    tools = _write(tmp_path / "tools.json", [WEATHER_TOOL])
    result = cli("run", "What is the weather in Paris?", "--tools", str(tools), "--tool-choice", "required")
    assert result.returncode == 0, result.stderr
    _before, found, rest = result.stdout.partition("tool call: get_weather")
    assert found, result.stdout
    arguments = json.loads(rest.split("\n", 1)[1])  # the indented JSON block under the call's name
    assert arguments["city"] == "Paris"
    jsonschema.validate(arguments, WEATHER_TOOL["parameters"])

    wrapped = _write(tmp_path / "wrapped.json", {"tools": [{"type": "function", "function": WEATHER_TOOL}]})
    result = cli("run", "Weather in Oslo?", "--tools", str(wrapped), "--stream", "--json")
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.splitlines()[-1])  # JSON Lines: the response comes last
    assert last["type"] == "response"
    calls = last["tool_calls"]
    assert calls and calls[0]["name"] == "get_weather"
    assert calls[0]["parsed_arguments"] == json.loads(calls[0]["arguments"])
    assert calls[0]["parsed_arguments"]["city"] == "Oslo"


def test_a_schema_answer_is_pretty_valid_json(tmp_path: Path) -> None:
    schema = _write(tmp_path / "arithmetic_answer.json", ANSWER_SCHEMA)
    for stream in ("--stream", "--no-stream"):
        result = cli("run", "What is 17*23?", "--schema", str(schema), stream)
        assert result.returncode == 0, result.stderr
        value = json.loads(result.stdout)
        jsonschema.validate(value, ANSWER_SCHEMA)
        assert result.stdout.startswith("{\n  "), "pretty-printed"
    result = cli("run", "What is 17*23?", "--schema", str(schema), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["parsed"] == json.loads(data["content"])
    jsonschema.validate(data["parsed"], ANSWER_SCHEMA)


def test_seed_and_stop_reach_the_model() -> None:
    def answer(*extra: str) -> dict[str, object]:
        result = cli("run", "Explain how caching helps", "-m", "openai/gpt-4o-mini", "--json", *extra)
        assert result.returncode == 0, result.stderr
        data: dict[str, object] = json.loads(result.stdout)
        return data

    one, again, two = answer("--seed", "1"), answer("--seed", "1"), answer("--seed", "2")
    assert one["content"] == again["content"], "the same seed gives the same answer"
    assert one["content"] != two["content"], "another seed picks another answer"
    full = str(one["content"])
    cut = answer("--seed", "1", "--stop", ".", "--stop", "###")
    assert cut["content"] == full.split(".")[0] and cut["finish_reason"] == "stop"
    empty = cli("run", "hi", "--stop", "")
    assert empty.returncode == 2 and "--stop: a stop sequence cannot be empty" in empty.stderr


def test_streamed_reasoning_goes_to_stderr_apart_from_the_answer() -> None:
    result = cli("run", "Is 91 a prime number?", "--reasoning", "high", "--stream")
    assert result.returncode == 0, result.stderr
    assert "reasoning:\n" in result.stderr
    reasoning = result.stderr.split("reasoning:\n", 1)[1].split("\n\n", 1)[0].strip()
    assert reasoning and reasoning not in result.stdout
    assert "reasoning)" in result.stderr, "the footer counts reasoning tokens"
    assert "\x1b[" not in result.stderr, "no color codes when stderr is not a terminal"

    both = cli("run", "Is 91 a prime number?", "--reasoning", "high", "--stream", "--json")
    assert both.returncode == 0, both.stderr
    lines = [json.loads(line) for line in both.stdout.splitlines()]  # JSON Lines, the response last
    data = lines[-1]
    assert data["type"] == "response" and data["reasoning"] and data["usage"]["reasoning_tokens"] > 0
    assert "".join(e["text"] for e in lines if e["type"] == "reasoning") == data["reasoning"]
    assert "reasoning:\n" not in both.stderr, "with --json the reasoning is in the JSON, not on stderr"


@pytest.mark.parametrize(
    ("option", "content", "needle"),
    [
        ("--image", None, "no such file"),
        ("--image", b"just some text\n", "not a known image"),
        ("--image", b"GIF8 broken", "not a known image"),
        ("--file", None, "no such file"),
        ("--file", b"", "empty"),
        ("--schema", b'{"type": "object",', "not valid JSON"),
        ("--schema", b'["not", "an", "object"]', "must be an object, not a list"),
        ("--tools", b'[{"description": "nameless"}]', "tool 1 has no 'name'"),
        ("--tools", b'[{"name": "bad name!"}]', "function name"),
        ("--tools", b'"get_weather"', "expected a non-empty JSON list"),
        ("--tools", b"[]", "expected a non-empty JSON list"),
        ("--tools", b'[{"name": "a", "parameters": []}]', "'parameters' must be a JSON Schema object"),
    ],
)
def test_bad_files_exit_2_naming_the_file(tmp_path: Path, option: str, content: bytes | None, needle: str) -> None:
    path = tmp_path / ("input.png" if option == "--image" else "input.json")
    if content is not None:
        path.write_bytes(content)
    result = cli("run", "hi", option, str(path))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert needle in result.stderr and str(path) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "simulator" not in result.stderr, "refused before anything started"


def test_an_image_over_20_mb_is_refused_before_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as f:
        f.write(png(1, 1))
        os.truncate(f.fileno(), 21 * 1024 * 1024)  # sparse: no 21 MB written to disk
    result = cli("run", "hi", "--image", str(big))
    assert result.returncode == 2 and "over the 20.0 MB limit" in result.stderr, result.stderr


def test_a_pinned_model_without_vision_is_refused_with_exit_2(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(png(4, 4))
    result = cli("run", "What is this?", "--image", str(image), "-m", "meta-llama/llama-3.1-8b-instruct")
    assert result.returncode == 2, result.stderr
    assert "image" in result.stderr and "Traceback" not in result.stderr


def test_help_documents_the_new_options() -> None:
    result = cli("run", "--help")
    for option in ("--image", "--file", "--schema", "--tools", "--tool-choice", "--seed", "--stop", "--reasoning"):
        assert option in result.stdout
    assert "20 MB" in result.stdout
