"""JSON Schema instances: the values a simulated model writes for tool arguments and structured output.

Owns: ``instance(schema, hints)``, a value that validates against ``schema`` (JSON Schema draft 2020-12 as
OpenAI's structured outputs and pydantic's ``model_json_schema`` write it), filled from the prompt where that is
reasonable: a string property named like a place (city, location, country, ...) takes a capitalised phrase of
the prompt, one named like a query takes the prompt's subject, numbers come from the prompt's numbers in order,
an enum takes the member the prompt mentions (else the first), booleans are false. A checkable answer
(``Hints.answer``: the model's result of an arithmetic task or a capital) goes into the first fitting property
(named answer/result/value/capital/..., else the first of a fitting type), so tests can check it.

Honoured: ``type`` (also lists), ``properties``/``required``/``additionalProperties``/``min|maxProperties``,
``items``/``prefixItems``/``min|maxItems``/``uniqueItems``, ``enum``, ``const``, ``minimum``/``maximum`` (and the
exclusive forms, numeric or draft-4 boolean), ``multipleOf``, ``min|maxLength``, ``pattern`` (a small generator
for literal, class, group and quantifier patterns), common ``format``s, ``$ref`` into ``$defs``/``definitions``,
``allOf`` (merged), ``anyOf``/``oneOf`` (the first non-null branch). Recursion stops: past depth 4 optional
properties are left out and arrays take their minimum length; past depth 12 a value is cut short.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from autodevai.sim.patterns import example, matches

__all__ = ["Hints", "instance"]

SOFT_DEPTH = 4
HARD_DEPTH = 12
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_AFTER_PREP = re.compile(r"\b(?:in|for|at|to|from|near|of|about)\s+((?:[A-Z][\w'\-]*)(?:\s+[A-Z][\w'\-]*)*)")
_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z][\w'\-]*(?:\s+[A-Z][\w'\-]*)*)")
_SUBJECT = re.compile(r"\b(?:for|about|on|regarding)\s+(.+?)[\s?.!]*$", re.IGNORECASE)
_EXPRESSION = re.compile(r"-?\d+(?:\.\d+)?(?:\s*[-+*/x×÷]\s*-?\d+(?:\.\d+)?)+")
_STOP = frozenset((
    "what", "which", "where", "when", "there", "their", "about", "would", "could", "should", "this", "that",
    "with", "from", "have", "your", "into", "explain", "please", "tell", "give", "write", "make", "does", "some",
    "more", "most", "than", "then", "them", "they", "the", "and", "for", "are", "can", "you", "how",
))  # fmt: skip
_PLACE = frozenset((
    "city", "location", "place", "town", "country", "region", "address", "destination", "origin", "state",
    "where", "venue",
))  # fmt: skip
_QUERY = frozenset((
    "query", "q", "search", "question", "prompt", "input", "text", "keywords", "keyword", "term", "terms",
    "topic", "subject", "message", "content", "request",
))  # fmt: skip
_EXPR = frozenset(("expression", "formula", "equation", "expr", "calculation"))
_PROPER = frozenset(("name", "title", "person", "user", "username", "author", "label", "entity"))
_PROSE = frozenset((
    "explanation", "description", "summary", "reason", "reasoning", "notes", "note", "comment", "details",
    "rationale", "justification",
))  # fmt: skip
_ANSWER = ("answer", "result", "value", "solution", "output", "total", "sum", "product", "difference",
           "quotient", "capital", "city")  # fmt: skip
_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z", "date": "2025-01-01", "time": "12:00:00Z", "duration": "P1D",
    "email": "user@example.com", "idn-email": "user@example.com", "hostname": "example.com",
    "idn-hostname": "example.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1", "uri": "https://example.com/",
    "uri-reference": "https://example.com/", "iri": "https://example.com/", "url": "https://example.com/",
    "uuid": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hints:
    """What the prompt offers to fill a schema: its text and, for a checkable task, the model's answer."""

    text: str
    answer: int | float | str | None = None


def instance(schema: Any, hints: Hints) -> Any:
    """A value that validates against ``schema``, filled from ``hints`` (see the module docstring)."""
    return _Gen(schema, hints).value(schema, "", 0)


def _name_words(name: str) -> set[str]:
    words = {w.lower() for w in _NAME_PARTS.findall(name)}
    return words | {w[:-3] + "y" if w.endswith("ies") else w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra``'s keywords added; ``properties`` and ``required`` are united."""
    out = dict(base)
    for key, val in extra.items():
        if key == "properties" and isinstance(out.get(key), dict) and isinstance(val, dict):
            out[key] = {**out[key], **val}
        elif key == "required" and isinstance(out.get(key), list) and isinstance(val, list):
            out[key] = list(dict.fromkeys([*out[key], *val]))
        elif key not in out or key in ("type", "$ref"):
            out[key] = val
    return out


def _type_of(s: dict[str, Any]) -> str:
    t = s.get("type")
    if isinstance(t, list):
        return next((x for x in t if x != "null"), "null")
    if isinstance(t, str):
        return t
    if "properties" in s or "required" in s or "additionalProperties" in s:
        return "object"
    if "items" in s or "prefixItems" in s:
        return "array"
    if any(k in s for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


class _Gen:
    def __init__(self, root: Any, hints: Hints) -> None:
        self.root = root
        self.text = hints.text
        self.lower = hints.text.lower()
        self.answer = hints.answer
        self.placed = hints.answer is None
        self.numbers = [float(n) if "." in n else int(n) for n in _NUMBER.findall(hints.text)]
        words = [w for w in _WORD.findall(hints.text) if w.lower().split("'")[0] not in _STOP]
        self.topic = " ".join(dict.fromkeys(w.lower() for w in words[:3])) or "example"

    # ---- schema plumbing -----------------------------------------------------------------------------------

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}  # remote references are not fetched
        node = self.root
        for raw in ref[1:].split("/")[1:]:
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return {}
        return node

    def resolve(self, node: Any) -> dict[str, Any]:
        """``node`` with ``$ref`` followed (siblings kept, as in 2020-12) and ``allOf`` merged in."""
        if not isinstance(node, dict):
            return {}
        schema: dict[str, Any] = node
        for _ in range(32):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            target = self.pointer(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(rest, target) if isinstance(target, dict) else rest
        parts = schema.get("allOf")
        if isinstance(parts, list):
            schema = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                schema = _merge(schema, self.resolve(part))
        return schema

    def branch(self, s: dict[str, Any], deep: bool) -> dict[str, Any]:
        """``s`` with its ``anyOf``/``oneOf`` replaced by the first non-null branch (the null one when deep)."""
        options = s.get("anyOf") or s.get("oneOf")
        if not isinstance(options, list) or not options:
            return s
        rest = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
        resolved = [self.resolve(o) for o in options]
        non_null = [o for o in resolved if o.get("type") != "null" and o.get("const", 0) is not None]
        pick = resolved[0] if not non_null or (deep and len(non_null) < len(resolved)) else non_null[0]
        return self.branch(_merge(rest, pick), deep)

    # ---- values -------------------------------------------------------------------------------------------

    def value(self, schema: Any, name: str, depth: int, forced: Any = None) -> Any:
        s = self.branch(self.resolve(schema), depth >= SOFT_DEPTH)
        if "const" in s:
            return s["const"]
        enum = s.get("enum")
        if isinstance(enum, list) and enum:
            if forced is not None and forced in enum:
                return forced
            mentioned = [
                m for m in enum if isinstance(m, str) and re.search(rf"\b{re.escape(m.lower())}\b", self.lower)
            ]
            return mentioned[0] if mentioned else enum[0]
        kind = _type_of(s)
        if kind == "object":
            return self.object(s, depth)
        if kind == "array":
            return self.array(s, name, depth)
        if kind in ("number", "integer"):
            return self.number(s, kind == "integer", forced)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return self.string(s, name, forced)

    def fits(self, schema: Any) -> bool:
        """Whether the checkable answer can be written into a property of this schema."""
        s = self.branch(self.resolve(schema), False)
        kind = _type_of(s)
        if "const" in s or ("enum" in s and self.answer not in s["enum"]):
            return False
        if isinstance(self.answer, str):
            return kind == "string"
        if kind == "integer":
            return float(self.answer or 0).is_integer()
        return kind in ("number", "string")

    def answer_key(self, props: dict[str, Any]) -> str | None:
        numeric = not isinstance(self.answer, str)
        for key in props:
            if key.lower() in _ANSWER and self.fits(props[key]):
                return key
        for key, sub in props.items():
            s = self.branch(self.resolve(sub), False)
            if self.fits(sub) and (_type_of(s) != "string" if numeric else "format" not in s):
                return key
        return None

    def object(self, s: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth >= HARD_DEPTH:
            return {}
        raw = s.get("properties")
        props: dict[str, Any] = raw if isinstance(raw, dict) else {}
        required = [r for r in s.get("required", []) if isinstance(r, str)]
        target = None if self.placed else self.answer_key(props)
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if sub is False or (depth >= SOFT_DEPTH and key not in required):
                continue
            if key == target:
                out[key] = self.value(sub, key, depth + 1, self.answer)
                self.placed = True
            else:
                out[key] = self.value(sub, key, depth + 1)
        extra = s.get("additionalProperties")
        extra_schema = extra if isinstance(extra, dict) else {}
        for key in required:
            if key not in out:
                out[key] = self.value(extra_schema, key, depth + 1)
        n = 0
        while len(out) < s.get("minProperties", 0) and extra is not False:
            n += 1
            out.setdefault(f"extra_{n}", self.value(extra_schema, "", depth + 1))
        most = s.get("maxProperties")
        if isinstance(most, int) and len(out) > most:
            keep = [k for k in out if k in required] + [k for k in out if k not in required]
            out = {k: out[k] for k in keep[: max(most, len(required))]}
        return out

    def array(self, s: dict[str, Any], name: str, depth: int) -> list[Any]:
        least = s.get("minItems", 0) if isinstance(s.get("minItems"), int) else 0
        count = least if depth >= SOFT_DEPTH or depth >= HARD_DEPTH else max(least, 1)
        if isinstance(s.get("maxItems"), int):
            count = min(count, s["maxItems"])
        prefix = s.get("prefixItems") if isinstance(s.get("prefixItems"), list) else None
        items = s.get("items")
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, s.get("additionalItems", {})
        if prefix:
            count = max(count, len(prefix))
            count = min(count, s["maxItems"]) if isinstance(s.get("maxItems"), int) else count
        item_name = name[:-3] + "y" if name.endswith("ies") else name[:-1] if name.endswith("s") else name
        out: list[Any] = []
        for i in range(count):
            sub = prefix[i] if prefix and i < len(prefix) else (items if isinstance(items, dict) else {})
            value = self.value(sub, item_name, depth + 1)
            if s.get("uniqueItems") and value in out:
                value = self.distinct(sub, value, out)
            out.append(value)
        return out

    def distinct(self, schema: Any, value: Any, taken: list[Any]) -> Any:
        s = self.branch(self.resolve(schema), True)
        for candidate in s.get("enum", []) if isinstance(s.get("enum"), list) else []:
            if candidate not in taken:
                return candidate
        if isinstance(value, str):
            return f"{value} {len(taken) + 1}"
        if isinstance(value, bool):
            return not value
        if isinstance(value, (int, float)):
            return value + len(taken)
        return value

    def number(self, s: dict[str, Any], integer: bool, forced: Any) -> int | float:
        low, high, xlow, xhigh = (
            _num(s.get(k)) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        )
        if s.get("exclusiveMinimum") is True:  # draft 4: a boolean modifier of minimum/maximum
            low, xlow = None, low
        if s.get("exclusiveMaximum") is True:
            high, xhigh = None, high
        if integer:  # the integer bounds, all inclusive
            lows = [math.ceil(x) for x in (low,) if x is not None] + [
                math.floor(x) + 1 for x in (xlow,) if x is not None
            ]
            highs = [math.floor(x) for x in (high,) if x is not None] + [
                math.ceil(x) - 1 for x in (xhigh,) if x is not None
            ]
            low, high, xlow, xhigh = max(lows, default=None), min(highs, default=None), None, None

        def ok(v: float) -> bool:
            return not (
                (low is not None and v < low) or (high is not None and v > high)
                or (xlow is not None and v <= xlow) or (xhigh is not None and v >= xhigh)
            )  # fmt: skip

        v: float
        if isinstance(forced, (int, float)):
            v = forced
        elif self.numbers:
            v = self.numbers.pop(0)
        else:
            v = low if low is not None else 1
        if integer:
            v = round(v)
        if not ok(v):
            floor_ = low if low is not None else (xlow + (1 if integer else 0.5) if xlow is not None else None)
            ceil_ = high if high is not None else (xhigh - (1 if integer else 0.5) if xhigh is not None else None)
            v = max(v, floor_) if floor_ is not None else v
            v = min(v, ceil_) if ceil_ is not None else v
            if not ok(v) and xlow is not None and xhigh is not None:
                v = (xlow + xhigh) / 2
        step = _num(s.get("multipleOf"))
        if step is not None and step > 0:
            v = _multiple(v, step, ok)
        if integer or (isinstance(v, float) and v.is_integer() and isinstance(forced, int)):
            return int(v)
        return v

    def string(self, s: dict[str, Any], name: str, forced: Any) -> str:
        fmt = s.get("format")
        if forced is not None:
            v = str(forced)
        elif isinstance(fmt, str) and fmt in _FORMATS:
            v = _FORMATS[fmt]
        else:
            v = self.text_for(name)
        pattern = s.get("pattern")
        if isinstance(pattern, str) and not matches(pattern, v):
            v = next((c for c in (example(pattern), v.replace(" ", "_"), "a", "A", "0") if matches(pattern, c)), v)
        least, most = s.get("minLength"), s.get("maxLength")
        if isinstance(least, int) and len(v) < least:
            v = v + "x" * (least - len(v))
        if isinstance(most, int) and len(v) > most:
            v = v[:most]
        return v

    def text_for(self, name: str) -> str:
        words = _name_words(name)
        if words & _PLACE:
            return self.proper(place=True)
        if words & _EXPR and (m := _EXPRESSION.search(self.text)):
            return m.group(0)
        if words & _QUERY:
            subject = _SUBJECT.search(self.text)
            text = subject.group(1) if subject else self.text.strip().rstrip("?.!")
            return text[:120] or self.topic
        if words & _PROPER:
            return self.proper(place=False)
        if words & _PROSE:
            return f"The answer is {self.answer}." if self.answer is not None else f"A short note on {self.topic}."
        if "email" in words:
            return _FORMATS["email"]
        if words & {"url", "link", "uri", "website", "homepage"}:
            return _FORMATS["uri"]
        if words & {"date", "day"}:
            return _FORMATS["date"]
        return self.topic

    def proper(self, place: bool) -> str:
        """A capitalised phrase of the prompt (after "in", "for", ... when it names a place), else the topic."""
        found = _AFTER_PREP.search(self.text) if place else None
        if found is None:
            found = _CAPITALISED.search(self.text)
        if found is not None:
            return found.group(1)
        return self.topic.title() if place else self.topic


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _multiple(v: float, step: float, ok: Any) -> float:
    """A multiple of ``step`` near ``v`` that ``ok`` accepts and that a float check ``(x / step).is_integer()``
    agrees is one (validators divide; 0.3 / 0.1 is not 3.0 in floating point)."""
    k = math.ceil(v / step)
    for n in (k, k + 1, k - 1, k + 2, k - 2, 0):
        cand = n * step if isinstance(step, int) else round(n * step, 12)
        if (cand / step).is_integer() and ok(cand):
            return cand
    return v
