"""What the engine adds on top of a bare HTTP client, measured against the same simulator in one run.

The simulator runs in its own process with zero latency. In this process, a plain ``httpx.AsyncClient`` (same
pool limits as the engine's) and the full engine (routing, budget, breakers, rate limits, metrics, SQLite commit
before returning) send the same requests, interleaved in rounds so machine noise hits both alike.

Reports: added p50/p99 latency at concurrency 1, throughput ratio at concurrency 50, client CPU per request for
both, and the routing decision time over a 400-model catalog. Last line: one JSON object.

usage: python bench/overhead.py [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from autodevai.compose import open_engine
from autodevai.engine import constants as C
from autodevai.engine.catalog import Catalog
from autodevai.engine.routing import Router
from autodevai.engine.settings import ProviderSettings, RoutingSettings, Settings
from autodevai.engine.types import ChatRequest, ModelInfo, Preference

PROMPT = "Summarize the benefits of connection pooling in one sentence."
KEY = "bench-key"


def start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.strip().split()[-1]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def plain_one(client: httpx.AsyncClient, url: str, model: str) -> float:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
    t0 = time.perf_counter()
    r = await client.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"})
    r.raise_for_status()
    data = r.json()
    assert data["choices"][0]["message"]["content"]
    return time.perf_counter() - t0


async def engine_one(engine: object, request: ChatRequest) -> float:
    t0 = time.perf_counter()
    resp = await engine.execute_enhanced_ai_request(request)  # type: ignore[attr-defined]
    assert resp.content
    return time.perf_counter() - t0


async def run_c1(fn, n: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    cpu0 = time.process_time()
    lat = [await fn() for _ in range(n)]
    return lat, time.process_time() - cpu0


async def run_concurrent(fn, total: int, conc: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await fn()

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return total / (time.perf_counter() - t0), time.process_time() - cpu0


def routing_bench(models: list[ModelInfo]) -> tuple[float, int]:
    catalog = Catalog(models[:400])
    router = Router(catalog, RoutingSettings(allow_free=True))  # every model is a candidate: the slowest case
    rng = random.Random(1)
    prefs = list(Preference)
    times: list[int] = []
    for i in range(20_000):
        pref = prefs[i % 4]
        t0 = time.perf_counter_ns()
        router.decide(preference=pref, prompt_tokens=rng.randint(10, 20_000), max_tokens=512, now=i * 0.001)
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1000.0, len(catalog)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300, help="requests per round per client at concurrency 1")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--c50-total", type=int, default=3000)
    args = ap.parse_args()

    proc, base = start_sim()
    tmp = tempfile.mkdtemp(prefix="autodevai-bench-")
    os.environ["AUTODEVAI_DATA_DIR"] = tmp
    os.environ["AUTODEVAI_CONFIG_DIR"] = tmp
    os.environ["OPENROUTER_API_KEY"] = KEY
    try:
        settings = Settings(
            providers=[ProviderSettings(name="openrouter", kind="openrouter", base_url=base, attribution=False)]
        )
        app = await open_engine(
            Path(tmp) / "config.toml",
            settings=settings,
            refresh="wait",
            db_path=Path(tmp) / "bench.db",
            trust_env=False,
        )
        engine = app.engine
        request = ChatRequest.from_prompt(PROMPT, max_tokens=64, preference="cost")
        first = await engine.execute_enhanced_ai_request(request)
        model = first.model
        pinned = ChatRequest.from_prompt(PROMPT, max_tokens=64, model=model, fallbacks=[])
        limits = httpx.Limits(max_connections=C.POOL_MAX_CONNECTIONS, max_keepalive_connections=C.POOL_MAX_KEEPALIVE)
        url = base + "/chat/completions"
        async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=30) as plain:
            for _ in range(50):  # warm both paths
                await plain_one(plain, url, model)
                await engine_one(engine, request)
            plain_lat: list[float] = []
            eng_lat: list[float] = []
            routed_lat: list[float] = []
            plain_cpu = eng_cpu = 0.0
            for _ in range(args.rounds):
                lat, cpu = await run_c1(lambda: plain_one(plain, url, model), args.requests)
                plain_lat += lat
                plain_cpu += cpu
                lat, cpu = await run_c1(lambda: engine_one(engine, request), args.requests)
                routed_lat += lat
                eng_cpu += cpu
                lat, _ = await run_c1(lambda: engine_one(engine, pinned), args.requests // 3)
                eng_lat += lat
            n = args.requests * args.rounds
            plain_rps, plain_cpu50 = await run_concurrent(lambda: plain_one(plain, url, model), args.c50_total, 50)
            eng_rps, eng_cpu50 = await run_concurrent(lambda: engine_one(engine, request), args.c50_total, 50)
            plain_rps2, _ = await run_concurrent(lambda: plain_one(plain, url, model), args.c50_total, 50)
            eng_rps2, _ = await run_concurrent(lambda: engine_one(engine, request), args.c50_total, 50)
        sim_models = Catalog.from_dicts(Catalog.to_dicts(engine.models()))
        await app.aclose()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    route_us, route_n = routing_bench(sim_models)
    plain_rps_m = (plain_rps + plain_rps2) / 2
    eng_rps_m = (eng_rps + eng_rps2) / 2
    ms = 1000.0
    rows = [
        (
            "p50 latency c=1",
            f"{pct(plain_lat, 0.5) * ms:.3f} ms",
            f"{pct(routed_lat, 0.5) * ms:.3f} ms",
            f"{(pct(routed_lat, 0.5) - pct(plain_lat, 0.5)) * ms:+.3f} ms",
        ),
        (
            "p99 latency c=1",
            f"{pct(plain_lat, 0.99) * ms:.3f} ms",
            f"{pct(routed_lat, 0.99) * ms:.3f} ms",
            f"{(pct(routed_lat, 0.99) - pct(plain_lat, 0.99)) * ms:+.3f} ms",
        ),
        ("p50 pinned model c=1", "", f"{pct(eng_lat, 0.5) * ms:.3f} ms", ""),
        (
            "CPU per request c=1",
            f"{plain_cpu / n * ms:.3f} ms",
            f"{eng_cpu / n * ms:.3f} ms",
            f"{(eng_cpu - plain_cpu) / n * ms:+.3f} ms",
        ),
        (
            "CPU per request c=50",
            f"{plain_cpu50 / args.c50_total * ms:.3f} ms",
            f"{eng_cpu50 / args.c50_total * ms:.3f} ms",
            "",
        ),
        ("throughput c=50", f"{plain_rps_m:,.0f}/s", f"{eng_rps_m:,.0f}/s", f"ratio {eng_rps_m / plain_rps_m:.2f}"),
        (f"routing decision ({route_n} models)", "", f"{route_us:.1f} us median", ""),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("measure", "plain httpx", "engine", "added")
    w = [max(w[i], len(head[i])) for i in range(4)]
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    print(f"({n} requests per client at c=1 over {args.rounds} interleaved rounds; {args.c50_total} x2 at c=50)")
    figures = {
        "added_p50_ms_c1": round((pct(routed_lat, 0.5) - pct(plain_lat, 0.5)) * ms, 4),
        "added_p99_ms_c1": round((pct(routed_lat, 0.99) - pct(plain_lat, 0.99)) * ms, 4),
        "throughput_ratio_c50": round(eng_rps_m / plain_rps_m, 3),
        "cpu_ms_per_req_engine": round(eng_cpu / n * ms, 4),
        "cpu_ms_per_req_plain": round(plain_cpu / n * ms, 4),
        "route_median_us": round(route_us, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
