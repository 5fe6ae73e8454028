"""One assistant reply in every shape the chat API has: text, tool calls, JSON, reasoning, logprobs, images.

Owns: turning the model's ``Answer`` (``answers``) and the request's ``ChatOptions`` into a ``Reply``: the
content (or the tool calls that replace it), how it ended, its completion tokens (reasoning and generated images
included), and both wire forms: the ``message`` of a whole response and the ``delta``s of a stream (reasoning
first, then images or tool calls, then content), shaped like OpenRouter's (see
``shared/data/openrouter/nonstream_gemini_toolcall.json`` and ``sse/02_glm45_reasoning.sse``).

What wins, in order: tool results at the end of the conversation are answered in text that quotes them (unless
``tool_choice`` forces another call); otherwise a chosen tool is called; a ``json_schema`` or ``json_object``
response format makes the content JSON (checkable answers go into a fitting field); images, files and audio of
the last user message are described before the answer. Then ``stop`` cuts the text, ``logprobs`` are attached,
and a reasoning model's thought comes before it all. Plain requests to models that do not reason skip this
module (``plain``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from autodevai.sim.answers import Answer, estimate_tokens, message_text, split_pieces, truncate
from autodevai.sim.catalog import SimModel
from autodevai.sim.logprobs import entries, tokens
from autodevai.sim.media import png_bytes
from autodevai.sim.options import ChatOptions
from autodevai.sim.reasoning import think
from autodevai.sim.schema_gen import Hints, instance
from autodevai.sim.tools import pick, results_answer, tool_calls

__all__ = ["Reply", "compose", "plain"]

IMAGE_OUTPUT_TOKENS = 1290  # completion tokens Gemini bills per generated image
ARGUMENT_PIECE = 8  # characters of tool-call arguments per stream delta
NO_LIMIT = 1_000_000
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+\.\d+")


def _detail(text: str) -> dict[str, Any]:
    return {"type": "reasoning.text", "text": text, "format": "unknown", "index": 0}


@dataclass(slots=True)
class Reply:
    """What the model says. ``content`` is None when it only calls tools; ``logprobs`` has one entry per piece."""

    content: str | None
    pieces: tuple[str, ...]
    finish_reason: str
    completion_tokens: int
    reasoning: str | None = None
    reasoning_tokens: int = 0
    tool_calls: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None
    images: list[dict[str, Any]] | None = None

    def message(self) -> dict[str, Any]:
        """The ``choices[0].message`` of a whole response."""
        msg: dict[str, Any] = {
            "role": "assistant",
            "content": self.content,
            "refusal": None,
            "reasoning": self.reasoning,
        }
        if self.reasoning is not None:
            msg["reasoning_details"] = [_detail(self.reasoning)]
        if self.tool_calls:
            msg["tool_calls"] = [{"index": i, **call} for i, call in enumerate(self.tool_calls)]
        if self.images:
            msg["images"] = self.images
        return msg

    def logprobs_json(self, cut: int | None = None) -> dict[str, Any] | None:
        """``choices[0].logprobs``: None unless asked; ``cut`` keeps the first pieces only."""
        if self.logprobs is None:
            return None
        return {"content": self.logprobs if cut is None else self.logprobs[:cut], "refusal": None}

    def head_deltas(self) -> list[dict[str, Any]]:
        """The stream deltas between the reasoning pieces (streamed first, see ``chat``) and the content:
        images, then tool calls with their argument fragments."""
        out: list[dict[str, Any]] = []
        if self.images:
            out.append({"role": "assistant", "content": "", "images": self.images})
        for i, call in enumerate(self.tool_calls or ()):
            fn = call["function"]
            head = {"index": i, "id": call["id"], "type": "function", "function": {"name": fn["name"], "arguments": ""}}
            out.append({"role": "assistant", "content": None, "tool_calls": [head]})
            args = fn["arguments"]
            for k in range(0, len(args), ARGUMENT_PIECE):
                fragment = {"index": i, "function": {"arguments": args[k : k + ARGUMENT_PIECE]}}
                out.append({"role": "assistant", "content": None, "tool_calls": [fragment]})
        return out


def plain(ans: Answer) -> Reply:
    """The reply to a plain text request: the answer as it is."""
    return Reply(ans.text, ans.pieces, ans.finish_reason, ans.completion_tokens)


def _value(ans: Answer) -> int | float | str | None:
    """The bare checkable answer as JSON would hold it: 391, 3.5 or "Paris"."""
    if ans.value is None:
        return None
    if _INTEGER.fullmatch(ans.value):
        return int(ans.value)
    return float(ans.value) if _DECIMAL.fullmatch(ans.value) else ans.value


def _pieces(text: str) -> tuple[str, ...]:
    """Stream pieces: words, or slices for text without spaces (compact JSON)."""
    if " " in text or not text:
        return split_pieces(text)
    return tuple(text[i : i + ARGUMENT_PIECE] for i in range(0, len(text), ARGUMENT_PIECE))


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    at = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:at], True) if at >= 0 else (text, False)


def _special(
    options: ChatOptions, ans: Answer, messages: list[Any], prompt: str, salt: str
) -> tuple[str | None, list[dict[str, Any]] | None]:
    """(text, tool calls) when the options change what the model says; (None, None) when they do not."""
    results = None
    if messages[-1].get("role") == "tool" and options.tool_mode not in ("required", "named"):
        results = results_answer(messages)
    if results is None and options.tools:
        picked = pick(options.tools, options.tool_mode, options.forced_tool, options.parallel_tool_calls, prompt)
        if picked:
            return None, tool_calls(picked, prompt, salt)
    if options.response_type == "json_schema":
        hints = Hints(f"{prompt} {results}" if results else prompt, None if results else _value(ans))
        return json.dumps(instance(options.schema, hints), ensure_ascii=False, separators=(",", ":")), None
    if options.response_type == "json_object":
        value = _value(ans)
        return json.dumps({"answer": results or (value if value is not None else ans.text)}, ensure_ascii=False), None
    if results is not None:
        return results, None
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    described = [m.description for m in options.media if m.message == last_user]
    return (" ".join([*described, ans.text]), None) if described else (None, None)


def compose(
    ans: Answer, options: ChatOptions | None, model: SimModel, messages: list[Any], seed: int,
    max_tokens: int | None,
) -> Reply:  # fmt: skip
    """The reply of ``model`` to a request with ``options`` (or to a plain one, when the model reasons)."""
    prompt = next((message_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    salt = f"{seed}\x1d{model.id}\x1d{len(messages)}\x1d{prompt}"
    text, calls = _special(options, ans, messages, prompt, salt) if options is not None else (None, None)
    if calls:
        spent = sum(estimate_tokens(c["function"]["name"] + c["function"]["arguments"]) for c in calls)
        reply = Reply(None, (), "tool_calls", spent, tool_calls=calls)
    else:
        if text is None:
            text, finish, pieces = ans.text, ans.finish_reason, ans.pieces
        else:
            text, cut = truncate(text, max_tokens or NO_LIMIT)
            finish, pieces = ("length" if cut else "stop"), _pieces(text)
        if options is not None and options.stop:
            text, hit = _cut_at_stop(text, options.stop)
            finish, pieces = ("stop" if hit else finish), (_pieces(text) if hit else pieces)
        logprobs = None
        if options is not None and options.logprobs and "logprobs" in model.params:
            pieces = tuple(tokens(text)) or ("",)
            logprobs = entries(list(pieces), options.top_logprobs, salt)
        reply = Reply(text, pieces, finish, max(1, estimate_tokens(text)), logprobs=logprobs)
    if options is not None and "image" in options.modalities and "image" in model.outputs:
        url = "data:image/png;base64," + base64.b64encode(png_bytes(salt)).decode()
        reply.images = [{"type": "image_url", "image_url": {"url": url}}]
        reply.completion_tokens += IMAGE_OUTPUT_TOKENS
    room = None if max_tokens is None else max_tokens - reply.completion_tokens
    thought = think(options, "reasoning" in model.params, seed, model.id, prompt, ans.text, room)
    if thought is not None:
        reply.reasoning, reply.reasoning_tokens = thought.text, thought.tokens
        reply.completion_tokens += thought.tokens
    return reply
