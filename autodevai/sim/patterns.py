"""Strings for regular-expression patterns: what a simulated model writes into a string with a ``pattern``.

Owns: ``example(pattern)``, the shortest string of a simple pattern (literals, escapes such as ``\\d``,
character classes, groups with alternatives, quantifiers ``? * + {n} {n,m}``), good enough for the patterns
JSON Schemas carry (codes, ids, dates); and ``matches``, JSON Schema's unanchored test (``re.search``). What
``example`` cannot handle, the caller checks with ``matches`` and replaces.
"""

from __future__ import annotations

import re

__all__ = ["example", "matches"]


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` anywhere (JSON Schema's rule); True for a pattern Python rejects."""
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot compile is not ours to enforce


_CLASS_SAMPLE = {"d": "1", "w": "a", "s": " ", "D": "a", "W": "-", "S": "a"}


def _first_alternative(pattern: str) -> str:
    depth, i = 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            return pattern[:i]
        i += 1
    return pattern


def example(pattern: str) -> str:
    """The shortest string of a simple pattern: literals, escapes, ``[...]``, ``(...|...)``, quantifiers."""
    pattern = _first_alternative(pattern)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        piece = ""
        if ch in "^$":
            i += 1
            continue
        if ch == "\\" and i + 1 < len(pattern):
            piece = _CLASS_SAMPLE.get(pattern[i + 1], pattern[i + 1])
            i += 2
        elif ch == "[":
            end = pattern.find("]", i + 2)
            end = end if end != -1 else len(pattern)
            body = pattern[i + 1 : end]
            piece = (
                "a" if body.startswith("^") else (_CLASS_SAMPLE.get(body[1], body[1]) if body[:1] == "\\" else body[:1])
            )
            i = end + 1
        elif ch == "(":
            depth, j = 1, i + 1
            while j < len(pattern) and depth:
                depth += {"(": 1, ")": -1}.get(pattern[j], 0)
                j += 1
            inner = pattern[i + 1 : j - 1].removeprefix("?:")
            piece = example(inner)
            i = j
        elif ch == ".":
            piece, i = "a", i + 1
        else:
            piece, i = ch, i + 1
        times = 1
        if i < len(pattern) and pattern[i] in "?*+{":
            if pattern[i] == "{":
                end = pattern.find("}", i)
                low = pattern[i + 1 : end].split(",")[0] if end != -1 else "1"
                times = int(low) if low.isdigit() else 1
                i = end + 1 if end != -1 else len(pattern)
            else:
                times = 1 if pattern[i] == "+" else 0
                i += 1
            if i < len(pattern) and pattern[i] in "?+":  # lazy or possessive modifier
                i += 1
        out.append(piece * times)
    return "".join(out)
