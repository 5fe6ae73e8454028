"""Token log probabilities for ``logprobs: true``, in OpenAI's shape, deterministic per reply.

Owns: splitting a reply into tokens (words with their leading space, punctuation marks, whitespace runs: the
pieces join back to the text exactly) and giving each ``{"token", "logprob", "bytes", "top_logprobs"}``. The
chosen token is the most likely one; ``top_logprobs`` (when ``top_logprobs`` N > 0 is asked) lists it first and
then N - 1 plausible alternatives, each less likely than the one before, as OpenAI's API does.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

__all__ = ["entries", "tokens"]

_TOKEN = re.compile(r"\s*[\w']+|\s*[^\w\s]|\s+")
_ALTERNATIVES = (" the", " a", ",", ".", " and", " of", " to", " is", " in", " that", " it", " for", " on",
                 " with", " as", " this", " be", " or", " by", " an", " not")  # fmt: skip


def tokens(text: str) -> list[str]:
    """``text`` as tokens whose concatenation is ``text``."""
    return _TOKEN.findall(text)


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def entries(pieces: list[str], top: int, salt: str) -> list[dict[str, Any]]:
    """One ``logprobs.content`` entry per piece, with ``top`` alternatives each (0: an empty list)."""
    digest = hashlib.blake2b(salt.encode(), digest_size=8).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    out = []
    for token in pieces:
        logprob = -round(rng.random() ** 3 * 2.5, 6)  # mostly close to 0: a confident model
        entry = _entry(token, logprob)
        alternatives = [_entry(token, logprob)] if top else []
        pool = [a for a in _ALTERNATIVES if a != token]
        for i in range(top - 1):
            logprob = round(logprob - 0.25 - rng.random() * 1.5, 6)
            alternatives.append(_entry(pool[(i + len(token)) % len(pool)], logprob))
        entry["top_logprobs"] = alternatives
        out.append(entry)
    return out
