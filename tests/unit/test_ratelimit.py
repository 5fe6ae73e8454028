"""Client-side rate limits: requests and tokens per minute, waits, 429 penalties and refunds."""

from __future__ import annotations

import math

import pytest

from autodevai.engine.ratelimit import Headroom, RateLimiter


def test_unconfigured_keys_are_never_limited() -> None:
    rl = RateLimiter()
    assert all(rl.try_acquire("ollama", 1_000_000, float(t)) == 0.0 for t in range(100))
    assert rl.headroom("ollama", 0.0) == Headroom(None, None, None, None, None)
    assert rl.keys() == []


def test_requests_per_minute_allow_a_burst_then_refill_one_per_interval() -> None:
    rl = RateLimiter()
    rl.configure("openrouter:x/free", rpm=20, tpm=None)  # OpenRouter's :free limit
    assert [rl.try_acquire("openrouter:x/free", 0, 0.0) for _ in range(20)] == [0.0] * 20
    assert rl.try_acquire("openrouter:x/free", 0, 0.0) == pytest.approx(3.0)  # 60 s / 20
    assert rl.try_acquire("openrouter:x/free", 0, 1.0) == pytest.approx(2.0)
    assert rl.try_acquire("openrouter:x/free", 0, 3.0) == 0.0
    assert rl.try_acquire("openrouter:x/free", 0, 3.0) == pytest.approx(3.0)


def test_tokens_per_minute_refill_continuously_and_a_refusal_debits_nothing() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=None, tpm=6000)  # 100 tokens per second
    assert rl.try_acquire("p", 5000, 0.0) == 0.0
    assert rl.headroom("p", 0.0).tpm_left == pytest.approx(1000)
    assert rl.try_acquire("p", 1500, 0.0) == pytest.approx(5.0)  # 500 short at 100/s
    assert rl.headroom("p", 0.0).tpm_left == pytest.approx(1000)  # nothing taken
    assert rl.try_acquire("p", 1500, 2.0) == pytest.approx(3.0)
    assert rl.try_acquire("p", 1500, 5.0) == 0.0
    assert rl.headroom("p", 5.0).tpm_left == pytest.approx(0.0)


def test_a_request_larger_than_the_minute_budget_can_never_fit() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=60, tpm=1000)
    assert rl.try_acquire("p", 1001, 0.0) == math.inf
    assert rl.try_acquire("p", 1000, 0.0) == 0.0  # exactly the capacity fits a full bucket


@pytest.mark.parametrize("size", [70, 120])  # 70: requests per minute bind; 120: tokens per minute bind
def test_waiting_the_answered_time_always_succeeds_and_throughput_matches_the_limits(size: int) -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=30, tpm=3000)
    start = 987_654.321  # a monotonic clock after days of uptime: large values make float rounding show
    now, served = start, 0
    while now < start + 600.0:  # ten simulated minutes of a caller that does exactly what it is told
        wait = rl.try_acquire("p", size, now)
        if wait > 0.0:
            now += wait
            assert rl.try_acquire("p", size, now) == 0.0  # no float-rounding "wait 1e-13 s" loops
        served += 1
    per_minute = min(30, 3000 / size)
    # a full minute's burst at the start, then the refill rate for ten minutes
    assert per_minute * 10 <= served <= per_minute * 11 + 1


def test_buckets_never_exceed_their_capacity_after_a_long_idle() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=10, tpm=500)
    rl.try_acquire("p", 500, 0.0)
    h = rl.headroom("p", 10_000.0)
    assert (h.rpm_left, h.tpm_left) == (10.0, 500.0)
    assert [rl.try_acquire("p", 0, 10_000.0) for _ in range(11)][-1] > 0.0  # burst is one minute, not more


def test_penalize_blocks_a_key_until_retry_after_passed() -> None:
    rl = RateLimiter()
    rl.penalize("openrouter", 4.0, now=10.0)  # a 429 with Retry-After: 4 on an unconfigured key
    assert rl.try_acquire("openrouter", 10, 10.0) == pytest.approx(4.0)
    assert rl.try_acquire("openrouter", 10, 13.0) == pytest.approx(1.0)
    assert rl.headroom("openrouter", 12.0).blocked_until == pytest.approx(14.0)
    rl.penalize("openrouter", 1.0, now=12.0)  # a shorter penalty does not cut the longer one
    assert rl.try_acquire("openrouter", 10, 13.5) == pytest.approx(0.5)
    assert rl.try_acquire("openrouter", 10, 14.0) == 0.0
    assert rl.headroom("openrouter", 14.0).blocked_until is None
    assert rl.keys() == ["openrouter"]


def test_penalty_and_bucket_wait_combine_to_the_longer_one() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=6, tpm=None)
    for _ in range(6):
        assert rl.try_acquire("p", 0, 0.0) == 0.0
    rl.penalize("p", 2.0, now=0.0)
    assert rl.try_acquire("p", 0, 0.0) == pytest.approx(10.0)  # the bucket needs 10 s, the penalty 2 s
    rl.penalize("p", -5.0, now=0.0)  # garbage Retry-After changes nothing
    rl.penalize("p", math.nan, now=0.0)
    assert rl.headroom("p", 0.0).blocked_until == pytest.approx(2.0)


def test_refund_returns_unused_tokens_up_to_capacity() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=None, tpm=1000)
    rl.try_acquire("p", 800, 0.0)  # estimated 800, the answer used 300
    rl.refund("p", 500)
    assert rl.headroom("p", 0.0).tpm_left == pytest.approx(700)
    rl.refund("p", 10_000)
    assert rl.headroom("p", 0.0).tpm_left == pytest.approx(1000)
    rl.refund("unknown", 10)  # harmless
    assert rl.keys() == ["p"]


def test_reconfigure_keeps_levels_clipped_to_the_new_capacity() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=100, tpm=10_000)
    for _ in range(10):
        rl.try_acquire("p", 100, 0.0)
    rl.configure("p", rpm=50, tpm=20_000)
    h = rl.headroom("p", 0.0)
    assert (h.rpm_limit, h.rpm_left, h.tpm_limit, h.tpm_left) == (50, 50.0, 20_000, 9_000.0)
    rl.configure("p", rpm=None, tpm=None)  # limits removed
    assert rl.try_acquire("p", 10**9, 0.0) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        rl.configure("p", rpm=0, tpm=None)


def test_an_out_of_order_clock_reading_does_not_refill_backwards() -> None:
    rl = RateLimiter()
    rl.configure("p", rpm=60, tpm=None)
    for _ in range(60):
        rl.try_acquire("p", 0, 100.0)
    assert rl.try_acquire("p", 0, 99.0) > 0.0  # an older `now` from another task
    assert rl.try_acquire("p", 0, 101.0) == 0.0  # one second after the last real reading: one request
