"""Follow-up questions that refer to the previous answer ("multiply that by 2", "add 5 to it", "double it"), as a
simulated model understands them: the number the last assistant message ended with stands in for "that", so the
follow-up becomes a checkable task ("144 * 2") answered like any other — which makes multi-turn behaviour
testable (a thread that loses its history cannot answer 288 after "What is 12*12?").
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["resolve_followup"]

_REF = r"(?:that|it|this|the (?:result|answer|number))"
_NUM = r"(-?\d+(?:\.\d+)?)"
_FOLLOWUPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), template)
    for pattern, template in (
        (rf"\b(?:multiply|times) {_REF} by {_NUM}", "{prev} * {n}"),
        (rf"\b{_REF} (?:times|multiplied by) {_NUM}", "{prev} * {n}"),
        (rf"\bdivide {_REF} by {_NUM}", "{prev} / {n}"),
        (rf"\b{_REF} divided by {_NUM}", "{prev} / {n}"),
        (rf"\badd {_NUM} to {_REF}", "{prev} + {n}"),
        (rf"\b{_REF} plus {_NUM}", "{prev} + {n}"),
        (rf"\bsubtract {_NUM} from {_REF}", "{prev} - {n}"),
        (rf"\b{_REF} minus {_NUM}", "{prev} - {n}"),
        (rf"\bdouble {_REF}", "{prev} * 2"),
        (rf"\b(?:halve {_REF}|half of {_REF})", "{prev} / 2"),
        (rf"\bsquare {_REF}", "{prev} * {prev}"),
    )
)
_LAST_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(?!.*\d)", re.DOTALL)


def resolve_followup(last_user: str, messages: list[Any], text_of: Any) -> str | None:
    """``last_user`` rewritten as an arithmetic task when it is a follow-up on the previous answer's number (the
    last number of the latest assistant message before it), else None. ``text_of`` reads a message's text."""
    for pattern, template in _FOLLOWUPS:
        found = pattern.search(last_user)
        if found is None:
            continue
        previous = next(
            (text_of(m) for m in reversed(messages[:-1]) if isinstance(m, dict) and m.get("role") == "assistant"),
            "",
        )
        number = _LAST_NUMBER.search(previous.rstrip(". "))
        if number is None:
            return None
        n = found.group(1) if found.groups() else ""
        return "What is " + template.format(prev=number.group(1), n=n) + "?"
    return None
