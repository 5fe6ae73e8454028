"""Function calling in the simulator: which tools a model calls, with what arguments, and how it answers once
the tools have returned.

Owns: checking ``tools``, ``tool_choice`` and the tool messages of a conversation (400s in OpenAI's words);
choosing the tools to call (``tool_choice`` "none" answers in text, a named function forces that one,
"required" forces the best match, "auto" calls the tools whose name or description shares words with the last
user message, and ``parallel_tool_calls`` lets several of them be called in one turn); building the
``tool_calls`` (ids ``call_<hex>``, ``function.arguments`` a JSON string valid against the tool's ``parameters``,
from ``schema_gen``); and the text answer that quotes the tool results when the conversation ends with tool
messages answering the assistant's calls.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from autodevai.sim.answers import message_text
from autodevai.sim.schema_gen import Hints, instance

__all__ = ["ToolSpec", "check_tool_messages", "parse_tool_choice", "parse_tools", "pick", "results_answer",
           "tool_calls"]  # fmt: skip

_WORDS = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")
_IGNORED = frozenset((
    "get", "set", "fetch", "find", "the", "and", "for", "with", "from", "into", "that", "this", "what", "which",
    "when", "where", "who", "how", "are", "was", "were", "will", "can", "you", "your", "tool", "function",
    "call", "use", "returns", "return", "given", "current", "value", "data", "info", "information", "about",
    "please", "tell", "show", "give", "make", "does", "some", "any", "all", "one", "its", "their", "there",
))  # fmt: skip
_QUOTE_CHARS = 300  # a tool result longer than this is quoted up to here, then "…"
_ORPHAN_TOOL = (  # OpenAI's wording, typo included
    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One function tool: its name, description, ``parameters`` schema and the words it is matched by."""

    name: str
    description: str
    parameters: dict[str, Any]
    name_words: frozenset[str]
    words: frozenset[str]


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in (_stem(t) for t in _WORDS.findall(text)) if len(w) > 2 and w not in _IGNORED)


def parse_tools(raw: Any) -> tuple[ToolSpec, ...] | str:
    """The function tools of a request, or the 400 message that says what is wrong with ``tools``."""
    if not isinstance(raw, list):
        return "Invalid type for 'tools': expected an array of tool objects."
    tools: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type", "function") != "function" or not isinstance(fn, dict):
            return f"Invalid value for 'tools[{i}]': expected {{'type': 'function', 'function': {{'name': ...}}}}."
        name = fn.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name):
            return f"Invalid 'tools[{i}].function.name': a name of 1-64 letters, digits, '_', '.' or '-'."
        params = fn.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            return f"Invalid 'tools[{i}].function.parameters': expected a JSON Schema object."
        raw_description = fn.get("description")
        description = raw_description if isinstance(raw_description, str) else ""
        tools.append(ToolSpec(name, description, params, _words(name), _words(description)))
    return tuple(tools)


def parse_tool_choice(raw: Any, tools: tuple[ToolSpec, ...]) -> tuple[str, str | None] | str:
    """``(mode, forced name)`` with mode "auto", "none", "required" or "named"; or the 400 message."""
    if raw is None:
        return "auto", None
    if not tools:
        return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
    if raw in ("auto", "none", "required"):
        return raw, None
    fn = raw.get("function") if isinstance(raw, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str):
        return "Invalid value for 'tool_choice': use 'none', 'auto', 'required' or {'type': 'function', ...}."
    if name not in {t.name for t in tools}:
        return f"Invalid value for 'tool_choice': no function named '{name}' was specified in the 'tools' parameter."
    return "named", name


def check_tool_messages(messages: list[Any]) -> str | None:
    """The 400 message when a ``tool`` message answers no call of the assistant turn before it, else None."""
    open_ids: set[str] = set()
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            calls = message.get("tool_calls")
            ids = [c.get("id") for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
            open_ids = {i for i in ids if isinstance(i, str)}
        elif role == "tool":
            if message.get("tool_call_id") not in open_ids:
                return _ORPHAN_TOOL
        else:
            open_ids = set()
    return None


def pick(tools: tuple[ToolSpec, ...], mode: str, forced: str | None, parallel: bool, prompt: str) -> list[ToolSpec]:
    """The tools a model calls this turn (empty: it answers in text), in the order the request lists them."""
    if mode == "none" or not tools:
        return []
    if mode == "named":
        return [t for t in tools if t.name == forced][:1]
    asked = _words(prompt)
    scores = [2 * len(t.name_words & asked) + len(t.words & asked) for t in tools]
    best = max(range(len(tools)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        return [tools[0]] if mode == "required" else []
    if not parallel:
        return [tools[best]]
    # several calls at once only for tools the prompt names (a shared name word), as models tend to do
    return [t for i, t in enumerate(tools) if i == best or t.name_words & asked]


def tool_calls(picked: list[ToolSpec], prompt: str, salt: str) -> list[dict[str, Any]]:
    """OpenAI ``tool_calls`` for ``picked``: deterministic ids from ``salt``, arguments filled from ``prompt``."""
    calls = []
    for i, tool in enumerate(picked):
        digest = hashlib.blake2b(f"{salt}\x1d{i}\x1d{tool.name}".encode(), digest_size=12).hexdigest()
        args = instance(tool.parameters, Hints(prompt))
        arguments = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
        calls.append(
            {"id": f"call_{digest}", "type": "function", "function": {"name": tool.name, "arguments": arguments}}
        )
    return calls


def _quote(content: str) -> str:
    content = content.strip()
    return content if len(content) <= _QUOTE_CHARS else content[:_QUOTE_CHARS].rstrip() + "…"


def _reading(content: str) -> str:
    """What a model reads out of a tool result: "key is value" for a small JSON object, else nothing."""
    try:
        data = json.loads(content)
    except ValueError:
        return ""
    if not isinstance(data, dict) or not data:
        return ""
    items = [f"{k} is {v}" for k, v in list(data.items())[:4] if isinstance(v, (str, int, float, bool))]
    return ", ".join(items)


def results_answer(messages: list[Any]) -> str | None:
    """The answer to a conversation that ends with tool results, quoting each result; None when it does not."""
    tail: list[Any] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        tail.append(message)
    if not tail:
        return None
    tail.reverse()
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(call.get("id"), str):
                names[call["id"]] = str(fn.get("name", "the tool"))
    sentences = []
    for message in tail:
        name = names.get(message.get("tool_call_id", ""), "the tool")
        content = message_text(message)
        reading = _reading(content)
        sentences.append(f"{name} returned {_quote(content)}" + (f": {reading}." if reading else "."))
    sentences.append("That is the answer, based on the tool results above.")
    return " ".join(sentences)
