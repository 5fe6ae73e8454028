"""The optional fields of a chat request, read once into a ``ChatOptions`` value.

Owns: finding out cheaply whether a request uses anything beyond plain text messages (``has_options``: plain
requests skip all of this), then checking and reading ``tools``/``tool_choice``/``parallel_tool_calls``,
``response_format``, ``stop``, ``seed``, ``reasoning`` (OpenRouter's object; also OpenAI's
``reasoning_effort`` and the older ``include_reasoning``), ``logprobs``/``top_logprobs``, output ``modalities``,
the tool messages of the conversation and its image, file and audio parts. A wrong field gives the 400 message
that names it. ``ChatOptions.needs`` lists what a model must support to serve the request (see
``capabilities``), and ``extra_prompt_tokens`` what the parts and tool definitions add to the prompt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from autodevai.sim.answers import estimate_tokens
from autodevai.sim.media import Media, parse_media
from autodevai.sim.tools import ToolSpec, check_tool_messages, parse_tool_choice, parse_tools

__all__ = ["EFFORTS", "ChatOptions", "has_options", "parse_options"]

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
MAX_TOP_LOGPROBS = 20  # OpenAI's limit
_KEYS = frozenset((
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "stop", "seed", "reasoning",
    "reasoning_effort", "include_reasoning", "logprobs", "top_logprobs", "modalities",
))  # fmt: skip
_MODALITIES = ("text", "image", "audio")


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """Everything optional a request asked for. ``tool_mode`` is "auto", "none", "required" or "named"."""

    tools: tuple[ToolSpec, ...] = ()
    tool_mode: str = "auto"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    response_type: str = "text"  # "text", "json_object" or "json_schema"
    schema: Any = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    effort: str | None = None  # asked reasoning effort; None = the model's default
    reasoning_max_tokens: int | None = None
    reasoning_off: bool = False  # effort "none" or enabled: false
    reasoning_hidden: bool = False  # exclude: true (or include_reasoning: false): reason, return nothing of it
    logprobs: bool = False
    top_logprobs: int = 0
    modalities: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    extra_prompt_tokens: int = 0
    needs: tuple[str, ...] = ()  # what the model must support, in the order refusals are checked


def has_options(body: dict[str, Any], messages: list[Any]) -> bool:
    """True when the request uses an optional field, content parts or tool messages (the slow path)."""
    if not _KEYS.isdisjoint(body):
        return True
    return any(type(m.get("content")) is not str or m.get("role") == "tool" or "tool_calls" in m for m in messages)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reasoning(body: dict[str, Any]) -> dict[str, Any] | str:
    raw = body.get("reasoning")
    if raw is None:
        raw = {"effort": body["reasoning_effort"]} if "reasoning_effort" in body else {}
    if not isinstance(raw, dict):
        return "Invalid type for 'reasoning': expected an object with 'effort', 'max_tokens' or 'exclude'."
    effort, max_tokens = raw.get("effort"), raw.get("max_tokens")
    if effort is not None and effort not in EFFORTS:
        return f"Invalid value for 'reasoning.effort': {effort!r}. Supported values are: {', '.join(EFFORTS)}."
    if max_tokens is not None and (not _int(max_tokens) or max_tokens < 0):
        return "Invalid value for 'reasoning.max_tokens': expected a non-negative integer."
    for flag in ("exclude", "enabled"):
        if raw.get(flag) is not None and not isinstance(raw.get(flag), bool):
            return f"Invalid type for 'reasoning.{flag}': expected a boolean."
    include = body.get("include_reasoning")
    if include is not None and not isinstance(include, bool):
        return "Invalid type for 'include_reasoning': expected a boolean."
    return {
        "effort": effort,
        "max_tokens": max_tokens,
        "off": raw.get("enabled") is False or effort == "none",
        "hidden": raw.get("exclude") is True or include is False,
    }


def _response_format(raw: Any) -> tuple[str, Any] | str:
    if raw is None:
        return "text", None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        return "Invalid value for 'response_format.type': use 'text', 'json_object' or 'json_schema'."
    if kind != "json_schema":
        return kind, None
    spec = raw.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        return "Missing required parameter: 'response_format.json_schema.name'."
    schema = spec.get("schema", {})
    if not isinstance(schema, (dict, bool)):
        return "Invalid type for 'response_format.json_schema.schema': expected a JSON Schema object."
    return kind, schema


def _stop(raw: Any) -> tuple[str, ...] | str:
    if raw is None:
        return ()
    stops = [raw] if isinstance(raw, str) else raw
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        return "Invalid type for 'stop': expected a string or an array of strings."
    return tuple(s for s in stops if s)


def _tool_history_tokens(messages: list[Any]) -> int:
    total = 0
    for message in messages:
        for call in message.get("tool_calls") or ():
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                total += estimate_tokens(f"{fn.get('name', '')}{fn.get('arguments', '')}")
    return total


def parse_options(body: dict[str, Any], messages: list[Any]) -> ChatOptions | str:
    """The request's optional fields as ``ChatOptions``, or the 400 message for the first wrong one."""
    tools: tuple[ToolSpec, ...] = ()
    if body.get("tools") is not None:
        parsed = parse_tools(body["tools"])
        if isinstance(parsed, str):
            return parsed
        tools = parsed
    choice = parse_tool_choice(body.get("tool_choice"), tools)
    if isinstance(choice, str):
        return choice
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        return "Invalid type for 'parallel_tool_calls': expected a boolean."
    if (orphan := check_tool_messages(messages)) is not None:
        return orphan
    fmt = _response_format(body.get("response_format"))
    if isinstance(fmt, str):
        return fmt
    stop = _stop(body.get("stop"))
    if isinstance(stop, str):
        return stop
    seed = body.get("seed")
    if seed is not None and not _int(seed):
        return "Invalid type for 'seed': expected an integer."
    reasoning = _reasoning(body)
    if isinstance(reasoning, str):
        return reasoning
    logprobs, top = body.get("logprobs", False), body.get("top_logprobs", 0)
    if not isinstance(logprobs, bool) and logprobs is not None:
        return "Invalid type for 'logprobs': expected a boolean."
    if top is not None and (not _int(top) or not 0 <= top <= MAX_TOP_LOGPROBS):
        return f"Invalid value for 'top_logprobs': expected an integer from 0 to {MAX_TOP_LOGPROBS}."
    modalities = body.get("modalities") or []
    if not isinstance(modalities, list) or any(m not in _MODALITIES for m in modalities):
        return f"Invalid value for 'modalities': expected an array of {', '.join(repr(m) for m in _MODALITIES)}."
    media = parse_media(messages)
    if isinstance(media, str):
        return media
    needs = []
    if tools and choice[0] != "none":
        needs.append("tools")
    needs += list(dict.fromkeys(m.kind for m in media))
    if fmt[0] == "json_schema":
        needs.append("structured_outputs")
    elif fmt[0] == "json_object":
        needs.append("response_format")
    needs += [f"{m}_output" for m in ("image", "audio") if m in modalities]
    extra = sum(m.tokens for m in media) + _tool_history_tokens(messages)
    if tools:
        extra += estimate_tokens(json.dumps(body["tools"]))
    return ChatOptions(
        tools=tools, tool_mode=choice[0], forced_tool=choice[1], parallel_tool_calls=parallel,
        response_type=fmt[0], schema=fmt[1], stop=stop, seed=seed, effort=reasoning["effort"],
        reasoning_max_tokens=reasoning["max_tokens"], reasoning_off=reasoning["off"],
        reasoning_hidden=reasoning["hidden"], logprobs=bool(logprobs), top_logprobs=top or 0,
        modalities=tuple(modalities), media=tuple(media), extra_prompt_tokens=extra, needs=tuple(needs),
    )  # fmt: skip
