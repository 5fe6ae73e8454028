"""Client-side rate limits: requests per minute and tokens per minute per key (a provider name or
"provider:model"), so the engine waits *before* a provider answers 429.

Each limit is a token bucket whose capacity is the per-minute limit and which refills continuously at
limit / 60 per second; a full bucket allows a burst of one minute's worth. After a 429, ``penalize`` blocks
the key until the server's ``Retry-After`` has passed. Pure: ``now`` (engine monotonic seconds) is an
argument, and ``try_acquire`` answers how long to wait instead of sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Headroom", "RateLimiter"]

# A wait this short is float rounding, not a real shortfall: after sleeping exactly the wait we answered, a
# clock reading near 1e6 s (days of uptime; its float spacing is ~1e-10 s) can refill a hair less than needed,
# and we must not answer "wait 1e-11 s" again. Granting it over-serves by at most one microsecond of refill.
_SLACK_S = 1e-6


@dataclass(frozen=True, slots=True)
class Headroom:
    """What is left for a key at a moment; ``None`` limits mean "not limited"."""

    rpm_limit: int | None
    rpm_left: float | None
    tpm_limit: int | None
    tpm_left: float | None
    blocked_until: float | None  # set while a 429 penalty is running


class _Buckets:
    __slots__ = ("blocked_until", "last", "rpm", "rpm_left", "tpm", "tpm_left")

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.rpm_left = float(rpm or 0)  # a new key starts with full buckets
        self.tpm_left = float(tpm or 0)
        self.last = -math.inf  # "never refilled": the first refill tops up to capacity, whatever the clock
        self.blocked_until = -math.inf

    def refill(self, now: float) -> None:
        elapsed = now - self.last
        if elapsed <= 0.0:  # same instant, or an out-of-order `now` from another task: never go back
            return
        self.last = now
        if self.rpm is not None:
            self.rpm_left = min(float(self.rpm), self.rpm_left + elapsed * self.rpm / 60.0)
        if self.tpm is not None:
            self.tpm_left = min(float(self.tpm), self.tpm_left + elapsed * self.tpm / 60.0)

    def levels(self, now: float) -> tuple[float, float]:
        """The bucket levels at ``now`` without changing anything."""
        elapsed = now - self.last if now > self.last else 0.0
        rpm_left = self.rpm_left if self.rpm is None else min(self.rpm, self.rpm_left + elapsed * self.rpm / 60.0)
        tpm_left = self.tpm_left if self.tpm is None else min(self.tpm, self.tpm_left + elapsed * self.tpm / 60.0)
        return rpm_left, tpm_left


class RateLimiter:
    """Token buckets per key. Not thread-safe: call it from the event loop."""

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: dict[str, _Buckets] = {}

    def configure(self, key: str, rpm: int | None, tpm: int | None) -> None:
        """Set the limits of ``key`` (None = unlimited). An existing key keeps its levels, clipped to the new
        capacity, and any 429 penalty; a new key starts with full buckets. Raises ``ValueError`` for a limit
        below 1."""
        if (rpm is not None and rpm < 1) or (tpm is not None and tpm < 1):
            raise ValueError(f"rate limits must be at least 1 per minute (got rpm={rpm}, tpm={tpm})")
        b = self._keys.get(key)
        if b is None:
            self._keys[key] = _Buckets(rpm, tpm)
            return
        if rpm is not None:
            b.rpm_left = float(rpm) if b.rpm is None else min(float(rpm), b.rpm_left)
        if tpm is not None:
            b.tpm_left = float(tpm) if b.tpm is None else min(float(tpm), b.tpm_left)
        b.rpm = rpm
        b.tpm = tpm

    def try_acquire(self, key: str, tokens: int, now: float) -> float:
        """Take one request and ``tokens`` tokens for ``key`` at ``now``.

        Returns 0.0 when taken (the buckets are debited), else the seconds to wait until the request would
        fit (nothing is debited), or ``math.inf`` when ``tokens`` exceeds the key's tokens-per-minute limit
        and can never fit. An unconfigured key always returns 0.0, except while a 429 penalty blocks it.
        """
        b = self._keys.get(key)
        if b is None:
            return 0.0
        tpm = b.tpm
        if tpm is not None and tokens > tpm:
            return math.inf
        b.refill(now)
        wait = b.blocked_until - now
        rpm = b.rpm
        if rpm is not None:
            short = 1.0 - b.rpm_left
            if short > 0.0:
                wait = max(wait, short * 60.0 / rpm)
        if tpm is not None and tokens > 0:
            short = tokens - b.tpm_left
            if short > 0.0:
                wait = max(wait, short * 60.0 / tpm)
        if wait > _SLACK_S:
            return wait
        if rpm is not None:
            b.rpm_left = max(0.0, b.rpm_left - 1.0)
        if tpm is not None and tokens > 0:
            b.tpm_left = max(0.0, b.tpm_left - tokens)
        return 0.0

    def penalize(self, key: str, retry_after_s: float, now: float) -> None:
        """After a 429: refuse ``key`` until ``now + retry_after_s`` (an earlier, longer penalty is kept)."""
        b = self._keys.get(key)
        if b is None:
            b = self._keys[key] = _Buckets(None, None)
        if not retry_after_s > 0.0:  # negative or NaN: nothing to wait for
            return
        b.blocked_until = max(b.blocked_until, now + retry_after_s)

    def refund(self, key: str, tokens: int) -> None:
        """Give back ``tokens`` reserved but not used (the estimate was larger than the real usage)."""
        b = self._keys.get(key)
        if b is None or b.tpm is None or tokens <= 0:
            return
        b.tpm_left = min(float(b.tpm), b.tpm_left + tokens)

    def headroom(self, key: str, now: float) -> Headroom:
        b = self._keys.get(key)
        if b is None:
            return Headroom(None, None, None, None, None)
        rpm_left, tpm_left = b.levels(now)
        return Headroom(
            rpm_limit=b.rpm,
            rpm_left=rpm_left if b.rpm is not None else None,
            tpm_limit=b.tpm,
            tpm_left=tpm_left if b.tpm is not None else None,
            blocked_until=b.blocked_until if b.blocked_until > now else None,
        )

    def keys(self) -> list[str]:
        """Every key configured or penalized so far, sorted."""
        return sorted(self._keys)
