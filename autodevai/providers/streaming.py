"""``StreamState``: one SSE stream of ``chat.completion.chunk`` objects, read line by line into stream events and,
at the end, one ``Completion``.

SSE framing follows WHATWG HTML §9.2: ``:`` starts a comment (OpenRouter's ``: OPENROUTER PROCESSING``
keep-alive), blank lines end an event, ``event:``/``id:``/``retry:`` carry nothing we use. Chunks follow OpenAI's
``chat.completion.chunk``: ``delta.content`` text, ``delta.tool_calls`` pieces assembled by ``index`` (``id``,
``type`` and the function ``name`` once, ``arguments`` in fragments), ``delta.refusal``, and the reasoning as
OpenRouter streams it (``delta.reasoning`` with ``delta.reasoning_details``; ``reasoning_content`` from vLLM,
DeepSeek and LM Studio reads the same). The last chunk carries ``usage``; an ``error`` object or
``finish_reason: "error"`` is a mid-stream failure (``EmbeddedError``).
"""

from __future__ import annotations

import json
from typing import Any

from autodevai.engine.errors import redact
from autodevai.engine.types import Completion, StreamEvent, ToolCall, ToolCallDelta, Usage
from autodevai.providers.wire import EmbeddedError, WireError, merge_reasoning_details, parse_usage

__all__ = ["StreamState"]

_KNOWN_DELTA_FIELDS = frozenset(
    {"role", "content", "refusal", "reasoning", "reasoning_content", "reasoning_details", "tool_calls"}
)


class _CallParts:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


class StreamState:
    """Accumulates one stream. ``feed(line)`` returns the ``StreamEvent`` a ``data:`` line carries (None when it
    carries nothing for the caller) and raises ``WireError`` or ``EmbeddedError``. ``done`` turns True at
    ``data: [DONE]``; ``finished`` when the stream may end cleanly."""

    __slots__ = (
        "_calls",
        "_details",
        "_extra",
        "_logprobs",
        "_reasoning",
        "_refusal",
        "done",
        "finish_reason",
        "generation_id",
        "model",
        "parts",
        "usage",
    )

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.done = False
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.generation_id: str | None = None
        self.usage: Usage | None = None
        self._reasoning: list[str] = []
        self._refusal: list[str] = []
        self._details: list[Any] = []
        self._calls: dict[int, _CallParts] = {}
        self._logprobs: list[Any] = []
        self._extra: dict[str, Any] = {}

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def finished(self) -> bool:
        """[DONE] arrived, or a chunk with a ``finish_reason`` did (servers that omit [DONE])."""
        return self.done or self.finish_reason is not None

    @property
    def has_output(self) -> bool:
        """Anything but keep-alives arrived: text, reasoning, a refusal or a tool call."""
        return bool(self.parts or self._reasoning or self._refusal or self._calls or self._details)

    def feed(self, line: bytes) -> StreamEvent | None:
        if not line.startswith(b"data:"):
            return None
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.done = True
            return None
        if not payload:
            return None
        try:
            chunk = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise WireError(redact(f"a stream chunk is not JSON: {payload[:60]!r}")) from exc
        if not isinstance(chunk, dict):
            raise WireError("a stream chunk is not a JSON object")
        err = chunk.get("error")
        if err is not None:
            raise EmbeddedError(err if isinstance(err, dict) else {"message": str(err)})
        if self.model is None:
            model = chunk.get("model")
            if isinstance(model, str) and model:
                self.model = model
            gen_id = chunk.get("id")
            if isinstance(gen_id, str) and gen_id:
                self.generation_id = gen_id
        usage = chunk.get("usage")
        if usage is not None:
            self.usage = parse_usage(usage)
        choices = chunk.get("choices")
        if not choices:
            return None
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise WireError("choices of a stream chunk is not a list of objects")
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish is not None:
            if finish == "error":
                raise EmbeddedError({"message": "the stream ended with finish_reason 'error'"})
            self.finish_reason = str(finish)
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            self._logprobs.extend(logprobs["content"])
        delta = choice.get("delta")
        if delta is None:
            return None
        if not isinstance(delta, dict):
            raise WireError("choices[0].delta is not an object")
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            raise WireError("choices[0].delta.content is not a string")
        if content:
            self.parts.append(content)
        if len(delta) <= 2 and ("role" in delta or len(delta) == 1) and "content" in delta:
            return StreamEvent(delta=content) if content else None  # the common case: a text delta
        return self._rich(delta, content or "")

    def _rich(self, delta: dict[str, Any], content: str) -> StreamEvent | None:
        reasoning = delta.get("reasoning")
        if not isinstance(reasoning, str):
            reasoning = delta.get("reasoning_content")
        reasoning = reasoning if isinstance(reasoning, str) else ""
        if reasoning:
            self._reasoning.append(reasoning)
        details = delta.get("reasoning_details")
        pieces = tuple(d for d in details if isinstance(d, dict)) if isinstance(details, list) else ()
        self._details.extend(pieces)
        refusal = delta.get("refusal")
        refusal = refusal if isinstance(refusal, str) else ""
        if refusal:
            self._refusal.append(refusal)
        calls = self._tool_deltas(delta.get("tool_calls"))
        for name, value in delta.items():
            if name not in _KNOWN_DELTA_FIELDS and value is not None:
                if isinstance(value, list):
                    self._extra.setdefault(name, []).extend(value)
                else:
                    self._extra[name] = value
        if not (content or reasoning or pieces or refusal or calls):
            return None
        return StreamEvent(
            delta=content, reasoning=reasoning, reasoning_details=pieces, tool_calls=calls, refusal=refusal
        )

    def _tool_deltas(self, raw: Any) -> tuple[ToolCallDelta, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise WireError("choices[0].delta.tool_calls is not a list")
        out: list[ToolCallDelta] = []
        for item in raw:
            if not isinstance(item, dict):
                raise WireError("choices[0].delta.tool_calls holds a non-object")
            index = self._index_of(item)
            parts = self._calls.setdefault(index, _CallParts())
            raw_function = item.get("function")
            function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
            call_id, kind, name = item.get("id"), item.get("type"), function.get("name")
            arguments = function.get("arguments")
            if isinstance(arguments, dict | list):  # a whole call in one piece, arguments as an object
                arguments = json.dumps(arguments, ensure_ascii=False)
            arguments = arguments if isinstance(arguments, str) else ""
            call_id = call_id if isinstance(call_id, str) and call_id else None
            kind = kind if isinstance(kind, str) and kind else None
            name = name if isinstance(name, str) and name else None
            if call_id is not None and parts.id is None:
                parts.id = call_id
            if kind is not None and parts.type is None:
                parts.type = kind
            if name is not None and parts.name is None:
                parts.name = name
            if arguments:
                parts.arguments.append(arguments)
            out.append(ToolCallDelta(index=index, id=call_id, name=name, arguments=arguments, type=kind))
        return tuple(out)

    def _index_of(self, item: dict[str, Any]) -> int:
        index = item.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            return index
        # Servers that omit the index (some send each call whole): a new id starts a new call.
        call_id = item.get("id")
        if isinstance(call_id, str) and call_id:
            for i, parts in self._calls.items():
                if parts.id == call_id:
                    return i
            return len(self._calls)
        return max(self._calls, default=0)

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls assembled so far, by index."""
        return tuple(
            ToolCall(
                id=parts.id or f"call_{index}",
                name=parts.name or "",
                arguments="".join(parts.arguments),
                type=parts.type or "function",
            )
            for index, parts in sorted(self._calls.items())
        )

    def completion(
        self, *, provider: str, requested_model: str, generation_header: str | None, ttft_s: float | None
    ) -> Completion:
        return Completion(
            provider=provider,
            model=self.model or requested_model,
            content=self.text,
            finish_reason=self.finish_reason,
            usage=self.usage or Usage(),
            generation_id=self.generation_id or generation_header,
            ttft_s=ttft_s,
            tool_calls=self.tool_calls(),
            refusal="".join(self._refusal) or None,
            reasoning="".join(self._reasoning) or None,
            reasoning_details=merge_reasoning_details(self._details),
            logprobs={"content": self._logprobs} if self._logprobs else None,
            message_extra=self._extra or None,
        )
