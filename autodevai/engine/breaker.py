"""Circuit breakers, one per (provider, model): which models may be called right now.

Pure state machines: every method takes ``now`` (engine monotonic seconds) and jitter comes from an injected
``random.Random``; nothing here sleeps or does I/O.

    CLOSED ──(window has >= min_calls and failure_rate >= threshold or slow_rate >= threshold)──> OPEN
    OPEN ──(now >= open_until; open duration = open_s × (1 + U(0, open_jitter)))──> HALF_OPEN
    HALF_OPEN ──(any counted failure)──> OPEN          HALF_OPEN ──(half_open_probes successes)──> CLOSED

The window holds the outcomes of the last ``window`` calls (a ring buffer with running counts, so recording an
outcome is O(1)). A call is *slow* when it took ``slow_call_s`` or longer, whether it succeeded or failed.
Only failures that say something about the model's health count (``counts_as_failure``): a 429 belongs to
the rate limiter, a 400/401/402/403 to the caller or the account, a cancel to nobody (DESIGN.md, "OpenRouter
facts").
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass

from autodevai.engine.errors import ProviderError, RateLimited
from autodevai.engine.settings import BreakerSettings

__all__ = [
    "Breaker",
    "BreakerBoard",
    "BreakerSnapshot",
    "BreakerState",
    "counts_as_failure",
    "outcome_counts_as_failure",
]

_FAIL = 1  # outcome bits in the ring buffer
_SLOW = 2


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What the status panel shows for one breaker. Rates are over the current window (0.0 when empty)."""

    state: BreakerState
    calls: int
    failure_rate: float
    slow_rate: float
    open_until: float | None  # engine-clock seconds; set only while OPEN
    retry_in_s: float | None  # seconds until it half-opens; set only while OPEN
    consecutive_opens: int  # opens since the breaker last closed (0 when closed normally)


def counts_as_failure(exc: BaseException) -> bool:
    """True when ``exc`` should count against a model's health: retryable provider errors other than 429.

    False for final errors (BadRequest, AuthRejected, PaymentRequired, ContentFiltered), RateLimited,
    cancellation (``Cancelled``, ``asyncio.CancelledError``), budget refusals and everything that is not a
    ``ProviderError``.
    """
    if isinstance(exc, (RateLimited, asyncio.CancelledError)):
        return False
    return isinstance(exc, ProviderError) and bool(exc.retryable)


def _failing_classes() -> frozenset[str]:
    """The names of the ``ProviderError`` classes whose errors count (retryable by default, not a 429)."""
    names: set[str] = set()
    todo: list[type[ProviderError]] = [ProviderError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.retryable and not issubclass(cls, RateLimited):
            names.add(cls.__name__)
    return frozenset(names)


_FAILING = _failing_classes()


def outcome_counts_as_failure(outcome: str) -> bool:
    """``counts_as_failure`` for a stored outcome (an error class name, as ``errors.error_class`` wrote it): the
    rule by which a new process replays the attempts the last one recorded."""
    return outcome in _FAILING


class Breaker:
    """The breaker of one (provider, model). Not thread-safe: call it from the event loop."""

    __slots__ = (
        "_calls",
        "_consecutive_opens",
        "_fails",
        "_half_open_ok",
        "_in_flight",
        "_max_fail",
        "_max_slow",
        "_min_calls",
        "_open_jitter",
        "_open_s",
        "_open_until",
        "_pos",
        "_probes",
        "_ring",
        "_rng",
        "_slow_call_s",
        "_slows",
        "_state",
        "_window",
    )

    def __init__(self, cfg: BreakerSettings, rng: random.Random) -> None:
        self._rng = rng
        self._state = BreakerState.CLOSED
        self._open_until = 0.0
        self._consecutive_opens = 0
        self._in_flight = 0  # half-open probes handed out by allow() and not yet finished
        self._half_open_ok = 0  # successful probes in the current half-open period
        self._ring: list[int] = []
        self._pos = 0
        self._calls = self._fails = self._slows = 0
        self._apply(cfg)
        self._clear_window()

    # ---- configuration -------------------------------------------------------------------------------------

    def _apply(self, cfg: BreakerSettings) -> None:
        # Copied into slots: the hot path reads plain attributes, not the pydantic model.
        self._window = cfg.window
        self._min_calls = cfg.min_calls
        self._max_fail = cfg.failure_rate
        self._max_slow = cfg.slow_rate
        self._slow_call_s = cfg.slow_call_s
        self._open_s = cfg.open_s
        self._open_jitter = cfg.open_jitter
        self._probes = cfg.half_open_probes

    def reconfigure(self, cfg: BreakerSettings) -> None:
        """Adopt new settings, keeping the state and the most recent outcomes that fit the new window."""
        recent = self._outcomes()
        self._apply(cfg)
        self._clear_window()
        for outcome in recent[-self._window :]:
            self._push(outcome)

    # ---- the sliding window --------------------------------------------------------------------------------

    def _clear_window(self) -> None:
        self._ring = [0] * self._window
        self._pos = 0
        self._calls = self._fails = self._slows = 0

    def _outcomes(self) -> list[int]:
        """The window's outcomes, oldest first."""
        if self._calls < self._window:
            return self._ring[: self._calls]
        return self._ring[self._pos :] + self._ring[: self._pos]

    def _push(self, outcome: int) -> None:
        ring = self._ring
        pos = self._pos
        if self._calls == self._window:  # full: the oldest outcome (at pos) leaves the window
            old = ring[pos]
            self._fails -= old & _FAIL
            self._slows -= (old & _SLOW) >> 1
        else:
            self._calls += 1
        ring[pos] = outcome
        self._fails += outcome & _FAIL
        self._slows += (outcome & _SLOW) >> 1
        pos += 1
        self._pos = 0 if pos == self._window else pos

    # ---- transitions ---------------------------------------------------------------------------------------

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._open_until = now + self._open_s * (1.0 + self._open_jitter * self._rng.random())
        self._consecutive_opens += 1
        self._in_flight = 0
        self._half_open_ok = 0

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._consecutive_opens = 0
        self._in_flight = 0
        self._half_open_ok = 0
        self._clear_window()

    def _advance(self, now: float) -> BreakerState:
        """Move OPEN to HALF_OPEN once its time is up; return the state."""
        state = self._state
        if state is BreakerState.OPEN and now >= self._open_until:
            state = self._state = BreakerState.HALF_OPEN
            self._in_flight = 0
            self._half_open_ok = 0
        return state

    # ---- the public, hot-path API --------------------------------------------------------------------------

    def allow(self, now: float) -> bool:
        """May a call start now? In HALF_OPEN a True answer reserves one of the ``half_open_probes`` slots;
        the caller must then report the call's end with ``on_success``, ``on_failure`` or ``on_ignored``."""
        state = self._state
        if state is BreakerState.CLOSED:
            return True
        state = self._advance(now)
        if state is BreakerState.OPEN:
            return False
        if self._in_flight >= self._probes:
            return False
        self._in_flight += 1
        return True

    def peek(self, now: float) -> BreakerState:
        """The state at ``now`` without side effects (OPEN whose time is up reads as HALF_OPEN)."""
        state = self._state
        if state is BreakerState.OPEN and now >= self._open_until:
            return BreakerState.HALF_OPEN
        return state

    def on_success(self, now: float, duration_s: float) -> None:
        """Record a call that succeeded after ``duration_s`` seconds."""
        state = self._state
        if state is BreakerState.CLOSED:
            self._record(now, _SLOW if duration_s >= self._slow_call_s else 0)
            return
        state = self._advance(now)
        # Only a success of a probe counts in HALF_OPEN: a call that started before the breaker opened and
        # ends late says nothing about recovery. Late results while OPEN are ignored for the same reason.
        if state is BreakerState.HALF_OPEN and self._in_flight > 0:
            self._in_flight -= 1
            self._half_open_ok += 1
            if self._half_open_ok >= self._probes:
                self._close()

    def on_failure(self, now: float, duration_s: float) -> None:
        """Record a call that failed in a way that counts (see ``counts_as_failure``; the caller decides)."""
        state = self._state
        if state is BreakerState.CLOSED:
            self._record(now, _FAIL | (_SLOW if duration_s >= self._slow_call_s else 0))
            return
        if self._advance(now) is BreakerState.HALF_OPEN:
            self._open(now)  # any failure while half-open re-opens at once
        # while OPEN: a late failure of a call started before opening changes nothing

    def on_ignored(self) -> None:
        """A call ended in an outcome that does not count (429, 400, cancel): frees its probe slot."""
        if self._in_flight > 0:
            self._in_flight -= 1

    def _record(self, now: float, outcome: int) -> None:
        self._push(outcome)
        calls = self._calls
        if calls >= self._min_calls and (
            self._fails >= self._max_fail * calls or self._slows >= self._max_slow * calls
        ):
            self._open(now)

    def snapshot(self, now: float) -> BreakerSnapshot:
        state = self.peek(now)
        calls = self._calls
        is_open = state is BreakerState.OPEN
        return BreakerSnapshot(
            state=state,
            calls=calls,
            failure_rate=self._fails / calls if calls else 0.0,
            slow_rate=self._slows / calls if calls else 0.0,
            open_until=self._open_until if is_open else None,
            retry_in_s=max(0.0, self._open_until - now) if is_open else None,
            consecutive_opens=self._consecutive_opens,
        )


class BreakerBoard:
    """All breakers, keyed by (provider, model), created on first use with the board's settings."""

    __slots__ = ("_breakers", "_cfg", "_rng")

    def __init__(self, cfg: BreakerSettings, rng: random.Random) -> None:
        self._cfg = cfg
        self._rng = rng
        self._breakers: dict[tuple[str, str], Breaker] = {}

    def get(self, provider: str, model: str) -> Breaker:
        key = (provider, model)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = Breaker(self._cfg, self._rng)
        return breaker

    def peek(self, provider: str, model: str, now: float) -> BreakerState:
        """The state of (provider, model) without creating a breaker; CLOSED for one never used."""
        breaker = self._breakers.get((provider, model))
        return BreakerState.CLOSED if breaker is None else breaker.peek(now)

    def snapshot(self, now: float) -> dict[tuple[str, str], BreakerSnapshot]:
        return {key: b.snapshot(now) for key, b in self._breakers.items()}

    def reconfigure(self, cfg: BreakerSettings) -> None:
        """New settings for every breaker, existing ones included (their state and recent outcomes kept)."""
        self._cfg = cfg
        for breaker in self._breakers.values():
            breaker.reconfigure(cfg)
