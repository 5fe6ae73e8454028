"""The engine's per-request hot paths, timed: a breaker's allow/record/peek, a rate-limit slot, and a budget
reservation settled. Each runs on every attempt, so each must cost microseconds.

These were timing asserts in the unit tests, which flake on a loaded machine; measured here, they are reported
against the limits the unit tests used to hold them to (``--check`` exits 1 when one is over its limit).

usage: python bench/hot_paths.py [--repeat 5] [--check]
Last line: one JSON object (breaker_us, ratelimit_us, budget_pair_us).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable

from autodevai.engine.breaker import Breaker
from autodevai.engine.budget import BudgetLedger
from autodevai.engine.ratelimit import RateLimiter
from autodevai.engine.settings import BreakerSettings, BudgetSettings

# µs per operation that must never be exceeded (~1-5 µs on a laptop; generous for a shared CI core).
LIMITS_US = {"breaker_us": 20.0, "ratelimit_us": 20.0, "budget_pair_us": 40.0}
NOW_WALL = 1_710_504_000.0  # 2024-03-15 12:00 UTC


def breaker_us(n: int = 20_000) -> float:
    """allow + on_success + peek of one breaker with a 100-call window, per call."""
    b = Breaker(BreakerSettings(window=100, min_calls=50), random.Random(7))
    start = time.perf_counter()
    for i in range(n):
        now = float(i)
        if b.allow(now):
            b.on_success(now, 0.2)
        b.peek(now)
    return (time.perf_counter() - start) / n * 1e6


def ratelimit_us(n: int = 20_000) -> float:
    """One ``try_acquire`` of a key limited by requests and tokens per minute."""
    rl = RateLimiter()
    rl.configure("p", rpm=10**9, tpm=10**12)
    start = time.perf_counter()
    for i in range(n):
        rl.try_acquire("p", 500, i * 1e-3)
    return (time.perf_counter() - start) / n * 1e6


def budget_pair_us(n: int = 10_000) -> float:
    """One reservation and its settlement under daily, monthly, total and per-request caps."""
    caps = BudgetSettings(daily_usd=1e9, monthly_usd=1e9, total_usd=1e9, per_request_usd=1.0)
    led = BudgetLedger(caps, now_wall=NOW_WALL)
    start = time.perf_counter()
    for _ in range(n):
        led.settle(led.reserve(0.001, NOW_WALL), 0.0005, NOW_WALL)
    return (time.perf_counter() - start) / n * 1e6


def best_of(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure; the best one is reported")
    parser.add_argument("--check", action="store_true", help="exit 1 when a measure is over its limit")
    args = parser.parse_args()
    figures = {
        "breaker_us": best_of(breaker_us, args.repeat),
        "ratelimit_us": best_of(ratelimit_us, args.repeat),
        "budget_pair_us": best_of(budget_pair_us, args.repeat),
    }
    over = [name for name, us in figures.items() if us > LIMITS_US[name]]
    for name, us in figures.items():
        print(f"{name:<16} {us:8.2f} µs   (limit {LIMITS_US[name]:.0f} µs){'   OVER' if name in over else ''}")
    print(json.dumps({name: round(us, 3) for name, us in figures.items()}))
    if args.check and over:
        sys.exit(1)


if __name__ == "__main__":
    main()
