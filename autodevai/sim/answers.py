"""What a simulated model says: deterministic answers from (seed, model, prompt).

Owns: the checkable tasks (arithmetic like "What is 17*23?" and capitals of countries), answered correctly
with a probability that follows the model's accuracy and the task's difficulty, and otherwise with a
plausible wrong answer; a readable generated reply for any other prompt; the cheap token estimate (chars/4,
plus 4 per message) used for usage and for ``max_tokens``. Same seed, model and messages always give the same
text, so tests and benchmarks can check answers.

Task difficulty. A model's catalog ``accuracy`` is its chance on a reference task of difficulty d = 1 (one
4-digit addition; a 3-digit by 2-digit multiplication is 1.4). On a task of difficulty d it is right with probability

    p = clamp(1 - (1 - accuracy) * d, 0, 1)

so easy tasks (d < 1) shrink the error rate and hard ones (d > 1) multiply it. d sums a cost per operation,
where k is the larger digit count of the operation's two written operands (sign and decimal point not
counted):

    + or -:  0.2 + 0.4 * max(0, k - 2)      (2 digits: 0.2, 3: 0.6, 4: 1.0, 5: 1.4)
    * or /:  0.2 + 1.2 * max(0, k - 2)      (2 digits: 0.2, 3: 1.4, 4: 2.6)

So one operation on numbers of at most 2 digits is d = 0.2 (an accuracy-0.75 model is right 95% of the time),
"123 * 456 * 789" is d = 2.8 (the same model: 30%; an accuracy-0.95 model: 86%). A capital is d = 0.5.
A model of accuracy 0 (or less) has no skill and is never right, whatever the difficulty.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from autodevai.sim.followups import resolve_followup

__all__ = [
    "CAPITAL_DIFFICULTY",
    "Answer",
    "answer",
    "difficulty",
    "estimate_tokens",
    "message_text",
    "p_correct",
    "prompt_tokens",
    "split_pieces",
    "truncate",
]

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
DEFAULT_REPLY_TOKENS = 60

CAPITAL_DIFFICULTY = 0.5
EASY_OP_DIFFICULTY = 0.2  # one operation on numbers of at most EASY_DIGITS digits
EASY_DIGITS = 2
ADD_PER_DIGIT = 0.4  # each digit past EASY_DIGITS, for + and -
MUL_PER_DIGIT = 1.2  # each digit past EASY_DIGITS, for * and /

_NUM = r"\d+(?:\.\d+)?"
_OPS = "+-*/x×÷"
_EXPR_RE = re.compile(rf"-?{_NUM}(?:\s*[{re.escape(_OPS)}]\s*-?{_NUM})+")
_TOKEN_RE = re.compile(rf"{_NUM}|[{re.escape(_OPS)}]")
_CAPITAL_RE = re.compile(r"capital (?:city )?of\s+(?:the\s+)?([a-z][a-z .'-]*?)\s*[?.!]*\s*$", re.IGNORECASE)
_ASKED_LENGTH = re.compile(r"\b(\d{2,5})\s+words\b", re.IGNORECASE)
_WORD_RE = re.compile(r"\S+\s*")
_TOPIC_RE = re.compile(r"[A-Za-z][A-Za-z\-]{3,23}")

CAPITALS: dict[str, str] = {
    "france": "Paris", "germany": "Berlin", "italy": "Rome", "spain": "Madrid", "portugal": "Lisbon",
    "united kingdom": "London", "ireland": "Dublin", "netherlands": "Amsterdam", "belgium": "Brussels",
    "switzerland": "Bern", "austria": "Vienna", "poland": "Warsaw", "czechia": "Prague",
    "hungary": "Budapest", "greece": "Athens", "sweden": "Stockholm", "norway": "Oslo",
    "denmark": "Copenhagen", "finland": "Helsinki",
    "russia": "Moscow", "ukraine": "Kyiv", "turkey": "Ankara", "egypt": "Cairo", "nigeria": "Abuja",
    "kenya": "Nairobi", "south africa": "Pretoria", "morocco": "Rabat", "ethiopia": "Addis Ababa",
    "united states": "Washington, D.C.", "canada": "Ottawa", "mexico": "Mexico City", "brazil": "Brasília",
    "argentina": "Buenos Aires", "chile": "Santiago", "peru": "Lima", "colombia": "Bogotá", "japan": "Tokyo",
    "china": "Beijing", "india": "New Delhi", "south korea": "Seoul", "indonesia": "Jakarta",
    "thailand": "Bangkok", "vietnam": "Hanoi", "philippines": "Manila", "australia": "Canberra",
    "new zealand": "Wellington", "iran": "Tehran", "saudi arabia": "Riyadh", "pakistan": "Islamabad",
}  # fmt: skip
_ALIASES = {
    "usa": "united states", "us": "united states", "uk": "united kingdom", "czech republic": "czechia",
    "britain": "united kingdom", "america": "united states", "korea": "south korea",
}  # fmt: skip

_OPENINGS = (
    "Here is a short answer about {topic}.",
    "Good question about {topic}.",
    "Let me address {topic} directly.",
    "Thinking about {topic}, a few points stand out.",
    "In short, {topic} comes down to a handful of trade-offs.",
)
_SENTENCES = (
    "The key idea is to break the problem into smaller steps and check each one.",
    "In practice, the right choice depends on the constraints you care about most.",
    "A simple approach works well for most cases, and you can refine it later.",
    "Start with the clearest example, then generalize from it.",
    "Measure before and after any change, so you know whether it helped.",
    "Keep the interface small and the details behind it easy to replace.",
    "Most problems here come from unclear assumptions rather than hard limits.",
    "Write down what success looks like before you pick a tool.",
    "When in doubt, prefer the option that is easier to undo.",
    "Cost, speed and quality pull in different directions, so decide which matters first.",
    "A small experiment usually answers the question faster than a long debate.",
    "Document the decision and the reason for it, so the next person can follow.",
    "Edge cases deserve a test of their own, even when they look unlikely.",
    "Reuse what already works instead of building everything from scratch.",
    "If the numbers disagree with your intuition, trust the numbers and look closer.",
    "Finally, revisit the result after some real use; it will teach you more than planning.",
)
_STOP = frozenset((
    "what", "which", "where", "when", "there", "their", "about", "would", "could", "should", "this",
    "that", "with", "from", "have", "your", "into", "explain", "please", "tell", "give", "write", "make",
    "does", "some", "more", "most", "than", "then", "them", "they",
))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answer:
    """A model's reply: text, pieces, token count, why it ended, whether a checkable task was right."""

    text: str
    pieces: tuple[str, ...]
    completion_tokens: int
    finish_reason: str  # "stop" or "length"
    correct: bool | None  # None when the prompt was not a checkable task
    value: str | None = None  # the bare answer of a checkable task ("391", "Paris"), right or wrong


def message_text(message: Any) -> str:
    """The text of one chat message, whether ``content`` is a string or a list of OpenAI content parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_pieces(text: str) -> tuple[str, ...]:
    """``text`` as the word-sized pieces a stream sends (each word with the spaces after it)."""
    return tuple(_WORD_RE.findall(text)) or (text,)


def estimate_tokens(text: str) -> int:
    """The cheap token estimate: one token per four characters, at least one for non-empty text."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


_COUNTER: Any = None


def prompt_tokens(messages: list[Any]) -> int:
    """Prompt tokens of a message list, counted with a real tokenizer (o200k_base, as OpenAI's models do) so
    context-window checks and usage behave like a real provider's: content tokens plus 4 per message."""
    global _COUNTER
    if _COUNTER is None:
        from autodevai.adapters.tokenizer import TiktokenCounter

        _COUNTER = TiktokenCounter()
    return sum(_COUNTER.count(message_text(m)) + MESSAGE_OVERHEAD for m in messages)


Number = int | Fraction  # ints stay ints (fast); a decimal or a division makes a Fraction (exact)


def _fmt(value: Number) -> str:
    if isinstance(value, int) or value.denominator == 1:
        return str(int(value))
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _split(expr: str) -> tuple[list[str], list[str]]:
    """The operands (as written, a unary minus attached) and the operators (``*``, ``/``, ``+``, ``-``)."""
    operands: list[str] = []
    ops: list[str] = []
    sign = ""
    expect_number = True
    for tok in _TOKEN_RE.findall(expr):
        if expect_number:  # a "-" at the start or right after another operator belongs to the number
            if tok == "-":
                sign = "" if sign else "-"
                continue
            operands.append(sign + tok)
            sign, expect_number = "", False
        else:
            ops.append({"x": "*", "×": "*", "÷": "/"}.get(tok, tok))
            expect_number = True
    return operands, ops


def _evaluate(expr: str) -> tuple[str, Number] | None:
    """Evaluate ``a op b op c ...`` with * and / before + and -; None on division by zero."""
    operands, ops = _split(expr)
    if len(operands) != len(ops) + 1 or not ops:
        return None
    values: list[Number] = [Fraction(v) if "." in v else int(v) for v in operands]
    terms: list[Number] = [values[0]]
    term_ops: list[str] = []
    for op, value in zip(ops, values[1:], strict=True):
        if op in "*/":
            if op == "/" and value == 0:
                return None
            terms[-1] = terms[-1] * value if op == "*" else Fraction(terms[-1]) / value
        else:
            terms.append(value)
            term_ops.append(op)
    total = terms[0]
    for op, term in zip(term_ops, terms[1:], strict=True):
        total = total + term if op == "+" else total - term
    shown = " ".join(
        [_fmt(values[0])] + [f"{'×' if o == '*' else o} {_fmt(v)}" for o, v in zip(ops, values[1:], strict=True)]
    )
    return shown, total


def _digits(operand: str) -> int:
    return sum(ch.isdigit() for ch in operand)


def _expression_difficulty(expr: str) -> float:
    """The sum of the per-operation costs of the module docstring's table."""
    operands, ops = _split(expr)
    total = 0.0
    for i, op in enumerate(ops):
        k = max(_digits(operands[i]), _digits(operands[i + 1])) if i + 1 < len(operands) else 0
        per_digit = MUL_PER_DIGIT if op in "*/" else ADD_PER_DIGIT
        total += EASY_OP_DIFFICULTY + per_digit * max(0, k - EASY_DIGITS)
    return round(total, 6)


def _capital(text: str) -> str | None:
    """The canonical country of a "capital of X" question we know, or None."""
    cap = _CAPITAL_RE.search(text.strip())
    if not cap:
        return None
    country = cap.group(1).strip().lower()
    country = _ALIASES.get(country, country)
    return country if country in CAPITALS else None


def difficulty(text: str) -> float | None:
    """The difficulty d of the checkable task in ``text`` (see the module docstring), or None for prose.

    ``difficulty("What is 17*23?") == 0.2``; ``difficulty("What is 123*456*789?") == 2.8``; a capital is 0.5.
    """
    match = _EXPR_RE.search(text)
    if match:
        return _expression_difficulty(match.group(0))
    return CAPITAL_DIFFICULTY if _capital(text) is not None else None


def p_correct(accuracy: float, d: float) -> float:
    """The chance a model of catalog ``accuracy`` answers a task of difficulty ``d`` right:
    ``clamp(1 - (1 - accuracy) * d, 0, 1)``, and 0 for a model without skill (accuracy <= 0)."""
    if accuracy <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - (1.0 - accuracy) * d))


def _wrong_number(right: Number, rng: random.Random) -> Number:
    delta = rng.choice((1, 2, 3, 4, 9, 10, 11, 100)) * rng.choice((-1, 1))
    if isinstance(right, Fraction) and right.denominator != 1:
        return right + Fraction(delta, 2)
    return right + delta


def _checkable(text: str, rng: random.Random, draw: float, accuracy: float) -> tuple[str, bool, str | None] | None:
    """The reply to a checkable task in ``text``, whether it is right (``draw < p_correct``) and the bare answer,
    or None."""
    match = _EXPR_RE.search(text)
    if match:
        expr = match.group(0)
        correct = draw < p_correct(accuracy, _expression_difficulty(expr))
        result = _evaluate(expr)
        if result is None:
            return "Division by zero is undefined.", correct, None
        shown, right = result
        value = right if correct else _wrong_number(right, rng)
        return f"{shown} = {_fmt(value)}.", correct, _fmt(value)
    country = _capital(text)
    if country is not None:
        correct = draw < p_correct(accuracy, CAPITAL_DIFFICULTY)
        city = CAPITALS[country]
        if not correct:
            city = rng.choice([c for c in CAPITALS.values() if c != city])
        return f"The capital of {country.title()} is {city}.", correct, city
    return None


def _prose(text: str, rng: random.Random, target_tokens: int) -> str:
    words = list(dict.fromkeys(w.lower() for w in _TOPIC_RE.findall(text) if w.lower() not in _STOP))
    topic = " ".join(words[:2]) or "your question"
    parts = [rng.choice(_OPENINGS).format(topic=topic)]
    pool = list(_SENTENCES)
    rng.shuffle(pool)
    used = estimate_tokens(parts[0])
    for i in range(10_000):  # whole sentences only, as long as the reply stays within the target
        sentence = pool[i % len(pool)]
        used += estimate_tokens(sentence) + 1
        if used > target_tokens:
            break
        parts.append(sentence if i % len(pool) or i == 0 else "\n\n" + sentence)  # a paragraph per round
    return " ".join(parts)


def truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """``text`` cut to about ``max_tokens`` tokens (at a space when one is near), and whether it was cut."""
    if estimate_tokens(text) <= max_tokens:
        return text, False
    limit = max_tokens * CHARS_PER_TOKEN
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut), True


def answer(seed: int, model: str, messages: list[Any], max_tokens: int | None, accuracy: float) -> Answer:
    """The reply of ``model`` to ``messages``: deterministic in (seed, model, messages).

    A checkable task in the last user message is answered right when a hash-derived uniform draw falls below
    ``p_correct(accuracy, difficulty(task))``. The reply never exceeds ``max_tokens`` (default cap: 60 tokens
    for prose).
    """
    convo = "\x1e".join(f"{m.get('role', '')}\x1f{message_text(m)}" for m in messages if isinstance(m, dict))
    last_user = next(
        (message_text(m) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), ""
    )
    if len(messages) > 1:  # "multiply that by 2" after an answer: the previous number stands in for "that"
        last_user = resolve_followup(last_user, messages, message_text) or last_user
    return _answer(seed, model, convo, last_user, max_tokens, accuracy)


@lru_cache(maxsize=4096)  # benchmarks repeat prompts; an answer is a pure function of these arguments
def _answer(seed: int, model: str, convo: str, last_user: str, max_tokens: int | None, accuracy: float) -> Answer:
    digest = hashlib.blake2b(f"{seed}\x1d{model}\x1d{convo}".encode(), digest_size=16).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    rng = random.Random(int.from_bytes(digest[8:], "big"))
    task = _checkable(last_user, rng, draw, accuracy)
    text, checked, value = task if task is not None else (None, None, None)
    if text is None:
        asked = _ASKED_LENGTH.search(last_user)  # "in about 3000 words": a long answer, for long-stream tests
        target = (
            int(int(asked.group(1)) * 4 / 3) if asked else rng.randint(DEFAULT_REPLY_TOKENS // 2, DEFAULT_REPLY_TOKENS)
        )
        text = _prose(last_user, rng, target)
    text, cut = truncate(text, max_tokens if max_tokens and max_tokens > 0 else DEFAULT_REPLY_TOKENS * 4)
    return Answer(
        text=text,
        pieces=split_pieces(text),
        completion_tokens=max(1, estimate_tokens(text)),
        finish_reason="length" if cut else "stop",
        correct=checked,
        value=value,
    )
