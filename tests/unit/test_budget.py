"""Budget ledger: refusals that say what is left, reservation arithmetic, UTC rollover, concurrency."""

from __future__ import annotations

import asyncio
import math
import random
from datetime import UTC, datetime

import pytest

from autodevai.engine.budget import BudgetLedger, Reservation, format_usd
from autodevai.engine.errors import BudgetExceeded
from autodevai.engine.settings import BudgetSettings


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


NOW = wall(2024, 3, 15, 12, 0, 0)


def ledger(**caps: float) -> BudgetLedger:
    return BudgetLedger(BudgetSettings(**caps), now_wall=NOW)


def test_refusal_names_the_cap_what_is_left_and_what_was_needed() -> None:
    led = BudgetLedger(BudgetSettings(daily_usd=0.05), spent_today=0.0488, now_wall=NOW)
    with pytest.raises(BudgetExceeded) as info:
        led.reserve(0.0031, NOW)
    err = info.value
    assert "daily budget: $0.0012 left of $0.0500, this request may cost up to $0.0031" in str(err)
    assert err.hint and "budget.<cap>_usd" in str(err)  # says what to do
    assert (err.cap, err.needed) == ("daily", 0.0031)
    assert err.left == pytest.approx(0.0012)
    snap = led.snapshot(NOW)
    assert snap.reserved == 0.0  # a refusal reserves nothing ...
    assert led.reserve(0.0012, NOW).amount == 0.0012  # ... so what is left is still usable, to the cent
    assert led.left(NOW) == 0.0


def test_per_request_cap_refuses_a_single_expensive_request() -> None:
    led = ledger(per_request_usd=0.10, daily_usd=5.0)
    with pytest.raises(BudgetExceeded, match=r"per-request budget: .*\$0\.2500.*\$0\.1000") as info:
        led.reserve(0.25, NOW)
    assert info.value.cap == "per_request"
    assert led.reserve(0.10, NOW).amount == 0.10
    assert led.affordable(NOW) == pytest.approx(0.10)  # per-request bounds what one request may reserve
    assert led.left(NOW) == pytest.approx(4.90)


def test_the_tightest_cap_is_the_one_reported() -> None:
    led = BudgetLedger(
        BudgetSettings(daily_usd=10.0, monthly_usd=20.0, total_usd=100.0),
        spent_today=1.0,
        spent_month=19.5,
        spent_total=50.0,
        now_wall=NOW,
    )
    with pytest.raises(BudgetExceeded) as info:
        led.reserve(0.75, NOW)
    assert info.value.cap == "monthly"
    assert "monthly budget: $0.5000 left of $20.00" in str(info.value)
    assert led.left(NOW) == pytest.approx(0.5)
    snap = led.snapshot(NOW)
    assert snap.left == pytest.approx({"daily": 9.0, "monthly": 0.5, "total": 50.0})
    assert snap.caps == {"daily": 10.0, "monthly": 20.0, "total": 100.0}


def test_reservations_count_against_the_cap_until_settled_or_released() -> None:
    led = ledger(daily_usd=1.0)
    first = led.reserve(0.6, NOW)
    with pytest.raises(BudgetExceeded, match=r"\$0\.4000 left"):
        led.reserve(0.5, NOW)
    led.release(first)
    second = led.reserve(0.5, NOW)
    led.settle(second, 0.2, NOW + 1)  # the real cost was lower: the difference comes back
    snap = led.snapshot(NOW + 1)
    assert snap.reserved == 0.0
    assert snap.spent["daily"] == pytest.approx(0.2)
    assert led.left(NOW + 1) == pytest.approx(0.8)


def test_an_overrun_is_recorded_and_left_never_goes_negative() -> None:
    led = ledger(daily_usd=1.0)
    res = led.reserve(0.5, NOW)
    led.settle(res, 1.3, NOW)  # the provider charged more than the worst case we computed
    snap = led.snapshot(NOW)
    assert snap.spent["daily"] == pytest.approx(1.3)
    assert snap.left["daily"] == 0.0 and led.left(NOW) == 0.0
    with pytest.raises(BudgetExceeded, match=r"\$0\.0000 left of \$1\.00") as info:
        led.reserve(0.0001, NOW)
    assert info.value.left == 0.0
    led.release(led.reserve(0.0, NOW))  # a free model still runs: it cannot make things worse


def test_settling_twice_is_refused_and_release_is_idempotent() -> None:
    led = ledger(total_usd=1.0)
    res = led.reserve(0.3, NOW)
    led.settle(res, 0.3, NOW)
    with pytest.raises(ValueError, match="already settled"):
        led.settle(res, 0.3, NOW)
    led.release(res)  # after settle: nothing happens
    led.release(res)
    assert led.snapshot(NOW).spent["total"] == pytest.approx(0.3)
    assert led.left(NOW) == pytest.approx(0.7)


def test_garbage_amounts_are_refused_or_made_safe() -> None:
    led = ledger(daily_usd=1.0)
    for bad in (-0.01, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite, non-negative"):
            led.reserve(bad, NOW)
    res = led.reserve(0.4, NOW)
    led.settle(res, math.nan, NOW)  # a garbled cost counts as the worst case we reserved
    assert led.snapshot(NOW).spent["daily"] == pytest.approx(0.4)
    led.settle(led.reserve(0.1, NOW), -3.0, NOW)  # a negative cost is not a refund
    assert led.snapshot(NOW).spent["daily"] == pytest.approx(0.4)


def test_no_caps_means_unlimited() -> None:
    led = ledger()
    res = led.reserve(1_000.0, NOW)
    led.settle(res, 999.0, NOW)
    assert led.left(NOW) is None and led.affordable(NOW) is None
    snap = led.snapshot(NOW)
    assert snap.left == {"daily": None, "monthly": None, "total": None}
    assert snap.spent["total"] == pytest.approx(999.0)


def test_daily_spending_resets_at_utc_midnight_but_the_month_and_total_do_not() -> None:
    late = wall(2024, 3, 15, 23, 59, 59)
    led = BudgetLedger(BudgetSettings(daily_usd=1.0, monthly_usd=10.0, total_usd=100.0), now_wall=late)
    led.settle(led.reserve(1.0, late), 1.0, late)
    with pytest.raises(BudgetExceeded, match="daily"):
        led.reserve(0.5, late + 0.5)
    midnight = wall(2024, 3, 16, 0, 0, 0)
    assert led.reserve(0.5, midnight).amount == 0.5
    snap = led.snapshot(midnight)
    assert snap.spent == pytest.approx({"daily": 0.0, "monthly": 1.0, "total": 1.0})
    assert snap.left["daily"] == pytest.approx(0.5)  # the open reservation counts in the new day


def test_monthly_spending_resets_on_the_first_of_the_month_and_of_the_year() -> None:
    start = wall(2024, 2, 29, 18, 0, 0)  # leap day
    led = BudgetLedger(
        BudgetSettings(monthly_usd=5.0), spent_today=2.0, spent_month=5.0, spent_total=7.0, now_wall=start
    )
    with pytest.raises(BudgetExceeded, match="monthly"):
        led.reserve(0.01, start)
    march = wall(2024, 3, 1, 0, 0, 1)
    assert led.left(march) == pytest.approx(5.0)
    assert led.snapshot(march).spent == pytest.approx({"daily": 0.0, "monthly": 0.0, "total": 7.0})
    led.settle(led.reserve(4.0, march), 4.0, march)
    new_year = wall(2025, 1, 1, 0, 0, 0)
    assert led.snapshot(new_year).spent == pytest.approx({"daily": 0.0, "monthly": 0.0, "total": 11.0})


def test_spending_lands_in_the_day_it_was_settled() -> None:
    late = wall(2024, 3, 15, 23, 59, 0)
    led = BudgetLedger(BudgetSettings(daily_usd=1.0), now_wall=late)
    res = led.reserve(0.8, late)
    led.settle(res, 0.8, wall(2024, 3, 16, 0, 1, 0))  # the answer arrived after midnight
    assert led.snapshot(wall(2024, 3, 16, 0, 2, 0)).spent["daily"] == pytest.approx(0.8)


def test_a_wall_clock_stepping_back_does_not_reset_spending() -> None:
    led = ledger(daily_usd=1.0)
    led.settle(led.reserve(0.9, NOW), 0.9, NOW)
    yesterday = NOW - 86_400
    assert led.left(yesterday) == pytest.approx(0.1)


def test_reconfigure_applies_new_caps_to_existing_spending() -> None:
    led = ledger(daily_usd=1.0)
    led.settle(led.reserve(0.6, NOW), 0.6, NOW)
    open_res = led.reserve(0.2, NOW)
    led.reconfigure(BudgetSettings(daily_usd=0.5))
    assert led.left(NOW) == 0.0
    with pytest.raises(BudgetExceeded, match=r"left of \$0\.5000"):
        led.reserve(0.01, NOW)
    led.settle(open_res, 0.1, NOW)
    led.reconfigure(BudgetSettings(daily_usd=2.0))
    assert led.left(NOW) == pytest.approx(1.3)


async def test_caps_hold_for_200_concurrent_requests() -> None:
    cap = 1.0
    led = ledger(daily_usd=cap, monthly_usd=1.5, total_usd=3.0)
    rng = random.Random(2024)
    outcomes = {"ok": 0, "refused": 0}

    def check() -> None:
        snap = led.snapshot(NOW)
        for name, limit in snap.caps.items():
            assert limit is not None
            assert snap.spent[name] + snap.reserved <= limit + 1e-12

    async def request(i: int) -> None:
        amount = rng.uniform(0.001, 0.02)
        await asyncio.sleep(0)
        try:
            res = led.reserve(amount, NOW)
        except BudgetExceeded as exc:
            assert exc.needed == amount
            outcomes["refused"] += 1
            check()
            return
        check()
        for _ in range(rng.randrange(4)):  # the call takes a while; others reserve meanwhile
            await asyncio.sleep(0)
        if i % 7 == 0:
            led.release(res)  # cancelled
        else:
            led.settle(res, amount * rng.uniform(0.1, 1.0), NOW)
            outcomes["ok"] += 1
        check()

    await asyncio.gather(*(request(i) for i in range(200)))
    snap = led.snapshot(NOW)
    assert snap.reserved == 0.0
    assert snap.spent["daily"] <= cap
    assert outcomes["refused"] > 0 and outcomes["ok"] > 50  # the cap was actually reached, and work was done


def test_random_sequences_of_reserve_settle_release_keep_exact_books() -> None:
    """Model-based check: amounts are whole micro-dollars so an integer model is exact."""
    rng = random.Random(1234)
    caps_micro = {"daily": 200_000, "monthly": 500_000, "total": 900_000, "per_request": 30_000}
    led = BudgetLedger(
        BudgetSettings(
            daily_usd=caps_micro["daily"] / 1e6,
            monthly_usd=caps_micro["monthly"] / 1e6,
            total_usd=caps_micro["total"] / 1e6,
            per_request_usd=caps_micro["per_request"] / 1e6,
        ),
        now_wall=NOW,
    )
    now = NOW
    day = int(now // 86_400)
    month = (3, 2024)
    spent = {"daily": 0, "monthly": 0, "total": 0}
    open_res: dict[int, tuple[Reservation, int]] = {}
    refused = 0
    for _ in range(5000):
        now += rng.uniform(0, 3600 * 3)  # about 20 weeks in all: days and months roll over
        d = datetime.fromtimestamp(now, UTC)
        if int(now // 86_400) != day:
            day = int(now // 86_400)
            spent["daily"] = 0
        if (d.month, d.year) != month:
            month = (d.month, d.year)
            spent["monthly"] = 0
        reserved = sum(m for _, m in open_res.values())
        op = rng.random()
        if op < 0.55 or not open_res:
            micro = rng.randrange(0, 40_000)
            lefts = [caps_micro[k] - spent[k] - reserved for k in ("daily", "monthly", "total")]
            fits = micro == 0 or (micro <= caps_micro["per_request"] and all(micro <= x for x in lefts))
            try:
                res = led.reserve(micro / 1e6, now)
            except BudgetExceeded:
                assert not fits
                refused += 1
            else:
                assert fits
                open_res[res.id] = (res, micro)
        else:
            rid = rng.choice(list(open_res))
            res, micro = open_res.pop(rid)
            if op < 0.8:
                actual = rng.randrange(0, micro + 1)
                led.settle(res, actual / 1e6, now)
                for k in spent:
                    spent[k] += actual
            else:
                led.release(res)
        snap = led.snapshot(now)
        assert snap.reserved == pytest.approx(sum(m for _, m in open_res.values()) / 1e6, abs=1e-12)
        for k in ("daily", "monthly", "total"):
            assert snap.spent[k] == pytest.approx(spent[k] / 1e6, abs=1e-12)
            assert spent[k] + round(snap.reserved * 1e6) <= caps_micro[k]
    assert refused > 100  # the caps were exercised, not just approached


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0.0, "$0.0000"), (0.0031, "$0.0031"), (0.05, "$0.0500"), (0.00003, "$0.000030"), (1234.5, "$1,234.50")],
)
def test_format_usd(amount: float, text: str) -> None:
    assert format_usd(amount) == text
