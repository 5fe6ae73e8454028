"""A scripted OpenAI-compatible upstream on 127.0.0.1 that records every chat body it receives.

Point an engine provider at ``base_url`` (``kind = "openai"`` or ``"openrouter"``): ``GET /models`` lists
``MODELS`` in OpenRouter's shape (prices, windows, modalities, supported parameters), and each
``POST /chat/completions`` is recorded in ``bodies`` (the parsed JSON, exactly as the provider sent it) and
answered with the next queued ``Answer`` — as a ``chat.completion`` object, or as SSE chunks when the request
asked for a stream — or with a short text answer when nothing is queued. Unlike the simulator it answers
whatever shape a test needs (tool calls, reasoning, refusals, logprobs, extra message fields), so tests can check
what the gateway makes of each.

    async with RecordingUpstream() as up:
        up.queue(Answer(message={"content": None, "tool_calls": [...]}, finish_reason="tool_calls"))
        ... engine with a provider at up.base_url ...
        assert up.bodies[0]["tools"] == ...
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autodevai.webserver import HttpServer, Request, Responder

__all__ = ["MODELS", "Answer", "RecordingUpstream"]

ALL_PARAMETERS = [
    "max_tokens", "temperature", "top_p", "top_k", "stop", "seed", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "min_p", "logit_bias", "logprobs", "top_logprobs", "tools", "tool_choice",
    "parallel_tool_calls", "response_format", "structured_outputs", "reasoning", "include_reasoning",
]  # fmt: skip


def _model(model_id: str, *, parameters: Sequence[str] = ALL_PARAMETERS, inputs: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": model_id,
        "created": 1700000000,
        "context_length": 128000,
        "architecture": {"input_modalities": ["text", *inputs], "output_modalities": ["text"]},
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "top_provider": {"context_length": 128000, "max_completion_tokens": 16000},
        "supported_parameters": list(parameters),
    }


MODELS = [
    _model("acme/omni-1", inputs=("image", "audio", "file")),  # can serve every field of the chat API
    _model("openai/o3-mini"),  # an OpenAI family that takes max_completion_tokens on OpenAI-kind servers
]


@dataclass
class Answer:
    """One scripted answer. ``message`` holds the response message's fields beyond ``role`` (``content``,
    ``tool_calls``, ``reasoning``, ...). For a stream, ``deltas`` are the chunks' deltas in order (default: the
    message as one delta); the last chunk carries ``finish_reason`` and ``usage``."""

    message: Mapping[str, Any] = field(default_factory=lambda: {"content": "ok"})
    finish_reason: str = "stop"
    usage: Mapping[str, Any] = field(
        default_factory=lambda: {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    )
    logprobs: Mapping[str, Any] | None = None
    deltas: Sequence[Mapping[str, Any]] | None = None
    model: str | None = None  # the response's `model` (default: the requested one)


class RecordingUpstream:
    """The server; an async context manager. ``bodies`` are the chat bodies received, in order."""

    def __init__(self, models: Sequence[Mapping[str, Any]] = MODELS) -> None:
        self.models = list(models)
        self.bodies: list[dict[str, Any]] = []
        self.answers: deque[Answer] = deque()
        self._http = HttpServer(self._handle, name="recording-upstream")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}/v1"

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    async def __aenter__(self) -> RecordingUpstream:
        await self._http.start("127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.stop()

    async def _handle(self, req: Request, resp: Responder) -> None:
        path = req.path.rstrip("/")
        if req.method == "GET" and path == "/v1/models":
            await resp.send(200, json.dumps({"data": self.models}).encode())
            return
        if req.method != "POST" or path != "/v1/chat/completions":
            await resp.send(404, b'{"error": {"code": 404, "message": "no such route"}}')
            return
        body = json.loads(await req.read())
        self.bodies.append(body)
        answer = self.answers.popleft() if self.answers else Answer()
        model = answer.model or body.get("model", "")
        if not body.get("stream"):
            choice = {
                "index": 0,
                "message": {"role": "assistant", **answer.message},
                "logprobs": answer.logprobs,
                "finish_reason": answer.finish_reason,
            }
            await resp.send(200, json.dumps(_envelope(model, [choice], answer.usage)).encode())
            return
        await resp.start_stream(200)
        deltas = list(answer.deltas if answer.deltas is not None else [answer.message])
        pieces = [_chunk(model, {"role": "assistant", **deltas[0]}, None)] if deltas else []
        pieces += [_chunk(model, d, None) for d in deltas[1:]]
        last = _envelope(model, [{"index": 0, "delta": {}, "finish_reason": answer.finish_reason}], answer.usage)
        if answer.logprobs is not None:
            last["choices"][0]["logprobs"] = answer.logprobs
        pieces += [b"data: " + json.dumps(last).encode() + b"\n\n", b"data: [DONE]\n\n"]
        await resp.send_chunks(pieces)
        await resp.end_stream()


def _envelope(model: str, choices: list[dict[str, Any]], usage: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "gen-recorded", "object": "chat.completion", "created": 1700000000, "model": model}
    out["choices"] = choices
    if usage is not None:
        out["usage"] = dict(usage)
    return out


def _chunk(model: str, delta: Mapping[str, Any], finish: str | None) -> bytes:
    body = _envelope(model, [{"index": 0, "delta": dict(delta), "finish_reason": finish}], None)
    body["object"] = "chat.completion.chunk"
    return b"data: " + json.dumps(body).encode() + b"\n\n"
