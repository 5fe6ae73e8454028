"""Metrics: percentiles within histogram accuracy, window eviction, per-model vs overall, series, live stats,
alerts on a latency spike or an error burst, and sinks."""

from __future__ import annotations

import math
import random

import pytest

from autodevai.engine.metrics import Metrics, RequestEvent, Stats

ACCURACY = 0.055  # bins grow by 10 %: a bin's geometric middle is within ~4.9 % of any value in it


def _event(
    now: float,
    latency: float = 0.5,
    *,
    model: str = "openai/gpt-4o",
    provider: str = "sim",
    outcome: str = "ok",
    ttft: float | None = None,
    prompt: int = 100,
    completion: int = 20,
    cost: float = 0.001,
) -> RequestEvent:
    return RequestEvent(
        now=now,
        wall=1_700_000_000 + now,
        provider=provider,
        model=model,
        outcome=outcome,
        latency_s=latency,
        ttft_s=ttft,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
    )


def _exact(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, no numpy."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _close(measured: float | None, exact_s: float) -> bool:
    assert measured is not None
    return abs(measured / 1000.0 - exact_s) <= ACCURACY * exact_s


def test_percentiles_match_exact_ones_within_bin_accuracy() -> None:
    rng = random.Random(42)
    m = Metrics()
    lat = [rng.lognormvariate(-0.5, 1.0) for _ in range(5000)]
    ttft = [x * rng.uniform(0.05, 0.5) for x in lat]
    for i, (a, b) in enumerate(zip(lat, ttft, strict=True)):
        m.record(_event(1000.0 + i * 0.1, a, ttft=b))
    s = m.summary("15m", 1000.0 + 5000 * 0.1).overall
    assert s.count == 5000 and s.ok == 5000 and s.success_rate == 1.0
    for measured, q in ((s.latency_p50_ms, 0.5), (s.latency_p95_ms, 0.95), (s.latency_p99_ms, 0.99)):
        assert _close(measured, _exact(lat, q)), (q, measured, _exact(lat, q))
    for measured, q in ((s.ttft_p50_ms, 0.5), (s.ttft_p95_ms, 0.95), (s.ttft_p99_ms, 0.99)):
        assert _close(measured, _exact(ttft, q)), (q, measured, _exact(ttft, q))


def test_extreme_latencies_stay_in_range() -> None:
    m = Metrics()
    m.record(_event(10.0, 0.00001))
    m.record(_event(10.0, 5000.0))  # beyond the last bin: counted there, not lost
    s = m.summary("1m", 10.0).overall
    assert s.count == 2
    assert s.latency_p50_ms is not None and s.latency_p50_ms < 0.1
    assert s.latency_p99_ms is not None and s.latency_p99_ms >= 550_000


def test_windows_evict_old_events() -> None:
    m = Metrics()
    for i in range(10):
        m.record(_event(100.0 + i, 0.2))
    assert m.summary("1m", 110.0).overall.count == 10
    assert m.summary("1m", 100.0 + 9 + 61).overall.count == 0  # a minute later: gone from 1m
    assert m.summary("15m", 100.0 + 9 + 61).overall.count == 10  # still in 15m
    assert m.summary("24h", 100.0 + 86_400 + 1200).overall.count == 0
    empty = m.summary("15m", 5000.0)
    assert empty.overall.latency_p50_ms is None and empty.overall.success_rate is None
    assert empty.per_model == {}


def test_per_model_and_overall_tokens_cost_errors() -> None:
    m = Metrics()
    for i in range(6):
        m.record(_event(50.0 + i, 0.1, model="a/fast", cost=0.01, prompt=10, completion=5))
    for i in range(4):
        outcome = "ok" if i < 2 else "ProviderUnavailable"
        m.record(_event(50.0 + i, 2.0, model="b/slow", outcome=outcome, cost=0.0))
    m.record(_event(55.0, 0.05, provider="", model="", outcome="NoRouteAvailable", cost=0.0))
    s = m.summary("1m", 60.0)
    assert set(s.per_model) == {"sim:a/fast", "sim:b/slow"}
    fast, slow = s.per_model["sim:a/fast"], s.per_model["sim:b/slow"]
    assert fast.count == 6 and fast.prompt_tokens == 60 and fast.completion_tokens == 30
    assert fast.cost_usd == pytest.approx(0.06)
    assert slow.errors == {"ProviderUnavailable": 2} and slow.success_rate == 0.5
    assert _close(slow.latency_p50_ms, 2.0) and _close(fast.latency_p99_ms, 0.1)
    assert s.overall.count == 11  # a request that failed before any model counts overall only
    assert s.overall.errors == {"ProviderUnavailable": 2, "NoRouteAvailable": 1}
    assert s.overall.cost_usd == pytest.approx(0.06)
    assert s.overall.requests_per_s == pytest.approx(11 / 10.0)  # the engine is 10 s old: rate over 10 s
    with pytest.raises(ValueError, match="1m, 15m, 24h"):
        m.summary("1h", 60.0)


def test_out_of_order_and_history_events_count_everywhere() -> None:
    m = Metrics()
    m.record(_event(100.0, 0.3))
    m.record(_event(97.5, 0.3))  # finished earlier on the clock, reported later
    m.load_history([_event(30.0, 1.0), _event(-500.0, 1.0), _event(-100_000.0, 1.0)])
    assert m.summary("1m", 100.0).overall.count == 2
    assert m.summary("15m", 100.0).overall.count == 4
    assert m.summary("24h", 100.0).overall.count == 4  # the one from 28 h ago is outside every window


def test_series_buckets_requests_in_time_oldest_first() -> None:
    m = Metrics()
    for i in range(30):  # 30 requests in the first 30 s, then 5 slow ones near the end
        m.record(_event(1001.0 + i, 0.1))
    for i in range(5):
        m.record(_event(1055.0 + i, 3.0))
    series = m.series("1m", 1060.0, points=6)
    assert len(series) == 6
    times = [t for t, _ in series]
    assert times == sorted(times) and times[-1] == 1060.0
    counts = [s.count for _, s in series]
    assert sum(counts) == 35 and counts[-1] == 5
    last: Stats = series[-1][1]
    assert _close(last.latency_p50_ms, 3.0)
    assert last.requests_per_s == pytest.approx(5 / 10.0)
    with pytest.raises(ValueError):
        m.series("2m", 1060.0)


def test_live_stats_for_routing() -> None:
    m = Metrics()
    assert m.live("sim", "x/y", 10.0).calls == 0
    for i in range(8):
        m.record(_event(10.0 + i, 0.4 if i % 2 else 0.6, outcome="ok" if i < 6 else "ProviderTimeout"))
    live = m.live("sim", "openai/gpt-4o", 20.0)
    assert live.calls == 8 and live.success_rate == 0.75
    assert live.p50_latency_s is not None and abs(live.p50_latency_s - 0.4) <= 0.4 * ACCURACY
    m.record(_event(21.0, 0.6))
    assert m.live("sim", "openai/gpt-4o", 21.0).calls == 9  # a new event invalidates the cache
    assert m.live("sim", "openai/gpt-4o", 21.0 + 1000).calls == 0  # 15 min later: forgotten


def _steady(m: Metrics, start: float, n: int, latency: float, model: str = "openai/gpt-4o") -> None:
    for i in range(n):
        m.record(_event(start + i * 5.0, latency * (1 + 0.1 * (i % 3)), model=model))


def test_alert_on_latency_spike_against_baseline() -> None:
    m = Metrics()
    _steady(m, 0.0, 150, 0.5)  # 12.5 min of normal traffic
    _steady(m, 0.0, 150, 0.5, model="other/model")
    assert m.alerts(750.0) == []
    for i in range(8):  # then a minute of 2.5 s answers from one model
        m.record(_event(751.0 + i * 5, 2.5))
    alerts = m.alerts(795.0)
    subjects = {a.subject for a in alerts}
    assert "sim:openai/gpt-4o" in subjects and "sim:other/model" not in subjects
    spike = next(a for a in alerts if a.subject == "sim:openai/gpt-4o")
    assert spike.severity in {"warning", "critical"}
    assert "p95 latency 2.5 s" in spike.message or "p95 latency 2.6 s" in spike.message
    assert "baseline" in spike.message


def test_alert_on_error_burst_and_none_without_enough_samples() -> None:
    m = Metrics()
    _steady(m, 0.0, 100, 0.5)
    for i in range(10):
        m.record(_event(601.0 + i, 0.5, outcome="ok" if i < 3 else "ProviderUnavailable"))
    alerts = [a for a in m.alerts(611.0) if a.subject == "sim:openai/gpt-4o" and "error rate" in a.message]
    assert alerts and alerts[0].severity == "critical"
    assert "70%" in alerts[0].message and "ProviderUnavailable" in alerts[0].message
    few = Metrics()
    for i in range(3):
        few.record(_event(float(i), 9.0, outcome="ProviderTimeout"))
    assert few.alerts(3.0) == []  # three events prove nothing


class _ListSink:
    def __init__(self) -> None:
        self.events: list[RequestEvent] = []

    def record(self, event: RequestEvent) -> None:
        self.events.append(event)


class _BrokenSink:
    def record(self, event: RequestEvent) -> None:
        raise RuntimeError("chart closed")


def test_sinks_get_every_recorded_event_but_not_history(caplog: pytest.LogCaptureFixture) -> None:
    m = Metrics()
    sink = _ListSink()
    m.add_sink(_BrokenSink())
    m.add_sink(sink)
    m.load_history([_event(1.0)])
    e = _event(2.0)
    m.record(e)  # the broken sink is logged and does not stop the next one
    assert sink.events == [e]
    assert "chart closed" in caplog.text
    assert m.summary("1m", 2.0).overall.count == 2


def test_custom_windows() -> None:
    m = Metrics({"10s": 10.0, "2h": 7200.0})
    m.record(_event(1.0))
    assert m.summary("10s", 5.0).overall.count == 1
    assert m.summary("10s", 20.0).overall.count == 0
    assert m.summary("2h", 20.0).overall.count == 1


def test_window_counts_match_brute_force_under_random_traffic() -> None:
    """Events mostly in order, some late, queries interleaved: every window counts exactly its buckets."""
    rng = random.Random(5)
    m = Metrics()
    widths = {"1m": 1.0, "15m": 15.0, "24h": 600.0}
    keep = {"1m": 60, "15m": 60, "24h": 144}
    seen: list[float] = []
    t = 0.0
    for step in range(3000):
        t += rng.expovariate(1 / 20.0)
        when = t - rng.uniform(0, 120) if rng.random() < 0.1 else t
        m.record(_event(when, 0.2, model=f"m/{step % 3}"))
        seen.append(when)
        if step % 97 == 0:
            now = t + rng.uniform(0, 30)
            for name, width in widths.items():
                cur = int(now // width)
                expected = sum(1 for x in seen if cur - keep[name] < int(x // width) <= cur)
                assert m.summary(name, now).overall.count == expected, (step, name)


def test_a_cancelled_request_is_neither_a_failure_nor_a_latency_sample() -> None:
    m = Metrics()
    for i in range(4):
        m.record(_event(float(i), 0.2))
    m.record(_event(5.0, 30.0, outcome="Cancelled", prompt=0, completion=0, cost=0.0))
    s = m.summary("1m", 10.0).overall
    assert (s.count, s.ok, s.cancelled, s.errors) == (5, 4, 1, {})
    assert s.success_rate == 1.0  # the user's Stop is not the model's failure
    assert s.latency_p99_ms is not None and s.latency_p99_ms < 1000  # the 30 s wait was the user's choice


def test_attempts_a_fallback_recovered_count_in_the_failing_models_row() -> None:
    m = Metrics()
    e = RequestEvent(
        now=1.0,
        wall=1_700_000_001.0,
        provider="sim",
        model="b/answered",
        outcome="ok",
        latency_s=0.9,
        ttft_s=None,
        prompt_tokens=100,
        completion_tokens=20,
        cost_usd=0.001,
        attempts=(("sim", "a/first", "ProviderUnavailable", 0.3), ("sim", "a/second", "ProviderTimeout", 0.5)),
    )
    m.record(e)
    summary = m.summary("1m", 2.0)
    assert summary.overall.count == 1 and summary.overall.ok == 1  # one request overall
    first, second = summary.per_model["sim:a/first"], summary.per_model["sim:a/second"]
    assert (first.count, first.errors, first.success_rate) == (1, {"ProviderUnavailable": 1}, 0.0)
    assert second.errors == {"ProviderTimeout": 1} and summary.per_model["sim:b/answered"].ok == 1
    assert first.cost_usd == 0.0 and first.prompt_tokens == 0  # tokens and cost belong to the answer
