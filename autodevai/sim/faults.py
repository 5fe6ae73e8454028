"""Fault injection for the simulator: the rule type, the ``X-Sim-Fault`` header syntax, and the live rule set.

A rule says what goes wrong (``kind``), for which models (an fnmatch glob, or every model), how often
(``probability``, drawn from a seeded rng so runs repeat) and how many times (``times`` counts down each time
the rule fires; None is forever).

The header form applies to its own request only (``model=`` still restricts it; ``times`` and ``p`` are
ignored there, and a header fault never triggers a ``models`` fallback):

    X-Sim-Fault: kind;status=500;retry_after=1;delay=2;after=3
"""

from __future__ import annotations

import enum
import fnmatch
import random
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["FaultKind", "FaultRule", "FaultSet", "parse_fault_spec"]

DEFAULT_TIMEOUT_S = 3600.0  # a "timeout" fault holds the connection this long unless delay_s says otherwise
DEFAULT_SLOW_S = 1.0
DEFAULT_AFTER_CHUNKS = 2


class FaultKind(enum.StrEnum):
    HTTP_ERROR = "http_error"  # an error status in OpenRouter's error shape (400..503)
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After and X-RateLimit-* headers
    TIMEOUT = "timeout"  # accept, send nothing for delay_s, close
    RESET = "reset"  # abort the connection (TCP RST) without a response
    MALFORMED = "malformed"  # 200 with a body that is not JSON
    CUT_STREAM = "cut_stream"  # after_chunks chunks, then close without [DONE] (non-stream: half a body)
    STREAM_ERROR = "stream_error"  # after_chunks chunks, then an error chunk with finish_reason "error"
    SLOW_FIRST_BYTE = "slow_first_byte"  # wait delay_s before the status line, then answer normally


class FaultRule(BaseModel):
    """One fault: what, for which models, how often. Unset numbers take the kind's default."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    model: str | None = None  # fnmatch glob over model ids; None matches every model
    times: Annotated[int, Field(ge=0)] | None = None  # fires this many times, then is spent; None = forever
    probability: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    status: Annotated[int, Field(ge=100, le=599)] | None = None
    retry_after: Annotated[float, Field(ge=0)] | None = None  # seconds, sent as Retry-After
    delay_s: Annotated[float, Field(ge=0)] | None = None
    after_chunks: Annotated[int, Field(ge=0)] | None = None

    @property
    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        return 429 if self.kind is FaultKind.RATE_LIMIT else 500

    @property
    def delay(self) -> float:
        if self.delay_s is not None:
            return self.delay_s
        return DEFAULT_TIMEOUT_S if self.kind is FaultKind.TIMEOUT else DEFAULT_SLOW_S

    @property
    def chunks(self) -> int:
        return DEFAULT_AFTER_CHUNKS if self.after_chunks is None else self.after_chunks

    def matches(self, model: str) -> bool:
        return self.model is None or fnmatch.fnmatchcase(model, self.model)


_SPEC_KEYS = {
    "status": "status",
    "retry_after": "retry_after",
    "retry-after": "retry_after",
    "delay": "delay_s",
    "delay_s": "delay_s",
    "after": "after_chunks",
    "after_chunks": "after_chunks",
    "model": "model",
    "times": "times",
    "p": "probability",
    "probability": "probability",
}


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse ``kind;key=value;...`` (the ``X-Sim-Fault`` header and the CLI ``--fault``); raises ValueError.

    Keys: status, retry_after, delay (seconds), after (chunks), and for rules also model, times, p.
    """
    kind, *pairs = [part.strip() for part in spec.split(";") if part.strip()] or [""]
    fields: dict[str, str] = {"kind": kind}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        name = _SPEC_KEYS.get(key.strip().lower())
        if not sep or name is None:
            raise ValueError(f"bad fault spec {spec!r}: {pair!r} is not one of {', '.join(sorted(_SPEC_KEYS))}")
        fields[name] = value.strip()
    try:
        return FaultRule.model_validate(fields)
    except ValidationError as exc:
        kinds = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"bad fault spec {spec!r} (kinds: {kinds}): {exc.errors()[0]['msg']}") from exc


class FaultSet:
    """The live fault rules of one server. Used from the server's event loop only (not thread-safe)."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._left: list[int | None] = []
        self._rng = random.Random(seed)
        for rule in rules or ():
            self.add(rule)

    def add(self, rule: FaultRule) -> None:
        self._rules.append(rule)
        self._left.append(rule.times)

    def clear(self) -> None:
        self._rules.clear()
        self._left.clear()

    def rules(self) -> list[FaultRule]:
        """The rules still able to fire, each with ``times`` set to what is left of it."""
        return [
            r.model_copy(update={"times": left})
            for r, left in zip(self._rules, self._left, strict=True)
            if left is None or left > 0
        ]

    def pick(self, model: str) -> FaultRule | None:
        """The first rule that fires for a request to ``model`` (counting it down), or None."""
        if not self._rules:
            return None
        for i, rule in enumerate(self._rules):
            left = self._left[i]
            if (left is not None and left <= 0) or not rule.matches(model):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if left is not None:
                self._left[i] = left - 1
            return rule
        return None
