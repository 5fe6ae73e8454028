"""What a reasoning model thinks before it answers: a short deterministic thought text and its token count.

Owns: whether a model reasons on a request (a model whose catalog entry lists ``reasoning`` does by default;
``reasoning.effort: "none"`` or ``enabled: false`` switch it off; a model without it never does), how much
(``effort``: more sentences for more effort, at most ``reasoning.max_tokens`` tokens and never more than what
``max_tokens`` leaves after the answer), whether it is returned (``exclude: true`` or ``include_reasoning:
false`` hide it; its tokens are still counted, as OpenRouter bills them), and the text itself: it restates the
task, works toward the answer the model gives (the arithmetic result or the capital, right or wrong) and closes.
The text is a pure function of its inputs, so the same request reasons the same way.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from autodevai.sim.answers import estimate_tokens, truncate
from autodevai.sim.options import ChatOptions

__all__ = ["Thought", "think"]

DEFAULT_EFFORT = "medium"
_EXTRA_SENTENCES = {"minimal": 0, "low": 1, "medium": 2, "high": 4, "xhigh": 6}
_POOL = (
    "Let me make sure I read the question correctly.",
    "I should keep the answer short and concrete.",
    "It is worth double-checking the key step before answering.",
    "Nothing in the request looks ambiguous.",
    "A quick sanity check on the result would help.",
    "The main trade-off should be stated clearly.",
    "An example would make this easier to follow.",
    "I will avoid details the user did not ask for.",
)
_EQUATION = re.compile(r"^(.*?) = (.+?)\.?$")
_CAPITAL = re.compile(r"^The capital of (.+?) is (.+?)\.$")
_TOPIC = re.compile(r"[A-Za-z][A-Za-z\-]{3,23}")


@dataclass(frozen=True, slots=True)
class Thought:
    """The reasoning of one reply: ``text`` is None when it is hidden; ``tokens`` are billed either way."""

    text: str | None
    tokens: int


def think(
    options: ChatOptions | None, can_reason: bool, seed: int, model: str, prompt: str, answer: str,
    room: int | None,
) -> Thought | None:  # fmt: skip
    """The reasoning before ``answer``, or None when the model does not reason on this request.

    ``room`` is how many tokens ``max_tokens`` leaves after the answer (None: no limit).
    """
    if not can_reason or (options is not None and options.reasoning_off):
        return None
    effort = (options.effort if options is not None else None) or DEFAULT_EFFORT
    text = _thought(seed, model, prompt, answer, effort)
    caps = [c for c in (room, options.reasoning_max_tokens if options is not None else None) if c is not None]
    if caps and estimate_tokens(text) > min(caps):
        if min(caps) <= 0:
            return None
        text = truncate(text, min(caps))[0]
    hidden = options is not None and options.reasoning_hidden
    return Thought(None if hidden else text, estimate_tokens(text))


@lru_cache(maxsize=4096)  # a pure function of its arguments; benchmarks repeat prompts
def _thought(seed: int, model: str, prompt: str, answer: str, effort: str) -> str:
    digest = hashlib.blake2b(f"{seed}\x1d{model}\x1d{prompt}\x1d{effort}".encode(), digest_size=8).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    capital = _CAPITAL.match(answer)
    equation = _EQUATION.match(answer) if capital is None else None
    if capital is not None:
        opening = f"The question is about the capital of {capital.group(1)}."
        work = f"From what I know, the capital of {capital.group(1)} is {capital.group(2)}."
    elif equation is not None and len(equation.group(1)) < 80:
        opening = f"The user wants {equation.group(1)} worked out."
        work = f"Going step by step, {equation.group(1)} comes to {equation.group(2)}."
    else:
        words = list(dict.fromkeys(w.lower() for w in _TOPIC.findall(prompt)))[:3]
        opening = f"The user asks about {' '.join(words) or 'something general'}."
        work = "A brief answer with the main idea and one practical point should do."
    pool = list(_POOL)
    rng.shuffle(pool)
    extra = pool[: _EXTRA_SENTENCES.get(effort, 2)]
    return " ".join([opening, *extra, work, "Now I can answer."])
