"""What the gateway adds on top of calling the upstream directly, measured against the same simulator in one run.

Three processes, so client CPU does not mix with server CPU: the simulator (latency 0), the gateway
(``python -m autodevai --config FILE serve --port 0``: the real CLI, engine and SQLite store, pointed at the
simulator), and this client. One ``httpx.AsyncClient`` per path with identical pool limits sends the same chat
request (same model, pinned) (a) to the simulator directly and (b) through the gateway, at concurrency 50
(and at 1), in interleaved rounds so machine noise hits both alike. The gateway path includes everything a
gateway request costs: auth, OpenAI parsing, routing, budget, breakers, metrics, the SQLite commit before
answering, and a second HTTP hop.

Reports p50/p99 latency of both paths, the added p50/p99, throughput, and the gateway process's CPU per
request. Last line: one JSON object (``gateway_added_p50_ms``, ``gateway_added_p99_ms``, ...).

usage: python bench/gateway.py [--requests N] [--rounds R] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from autodevai.engine import constants as C
from autodevai.engine.settings import ProviderSettings, Settings, settings_to_toml

PROMPT = "Summarize the benefits of connection pooling in one sentence."
UPSTREAM_KEY = "bench-upstream-key"
TOKEN = "bench-gateway-token-0123456789"
URL_RE = re.compile(r"http://\S+?/(?:api/)?v1")

# Used only when this checkout has no `autodevai serve` verb: the same gateway, started by a tiny script.
INLINE_GATEWAY = """
import asyncio, signal, sys
from pathlib import Path
from autodevai.compose import open_engine
from autodevai.gateway import serve

async def main():
    app = await open_engine(Path(sys.argv[1]))
    gateway = await serve(app, port=0)
    print(f"AutoDevAI gateway on {gateway.base_url}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await gateway.stop()
    await app.aclose()

asyncio.run(main())
"""


def start(cmd: list[str], env: dict[str, str], what: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``cmd`` and return it with the first URL it prints on stdout."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = URL_RE.search(line)
        if found:
            return proc, found.group(0)
    proc.kill()
    raise SystemExit(f"{what} did not start")


def has_serve_verb(env: dict[str, str]) -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "autodevai", "serve", "--help"], capture_output=True, env=env, check=False
    )
    return probe.returncode == 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def caller(client: httpx.AsyncClient, url: str, key: str, model: str) -> Callable[[], Awaitable[float]]:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
    headers = {"Authorization": f"Bearer {key}"}

    async def one() -> float:
        t0 = time.perf_counter()
        r = await client.post(url, json=body, headers=headers)
        r.raise_for_status()
        assert r.json()["choices"][0]["message"]["content"]
        return time.perf_counter() - t0

    return one


async def run(fn: Callable[[], Awaitable[float]], total: int, conc: int) -> tuple[list[float], float]:
    """``total`` calls by ``conc`` workers: latencies and wall seconds."""
    remaining = total
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            latencies.append(await fn())

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return latencies, time.perf_counter() - t0


async def measure(args: argparse.Namespace, sim_url: str, gw_url: str, gw_pid: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=C.POOL_MAX_CONNECTIONS, max_keepalive_connections=C.POOL_MAX_KEEPALIVE)
    async with (
        httpx.AsyncClient(limits=limits, trust_env=False, timeout=60) as to_sim,
        httpx.AsyncClient(limits=limits, trust_env=False, timeout=60) as to_gw,
    ):
        r = await to_gw.post(
            gw_url + "/chat/completions",
            json={"model": "autodevai/cheapest", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        r.raise_for_status()
        model = r.json()["model"]
        direct = caller(to_sim, sim_url + "/chat/completions", UPSTREAM_KEY, model)
        gateway = caller(to_gw, gw_url + "/chat/completions", TOKEN, model)
        await run(direct, 200, args.concurrency)  # warm both paths and their pools
        await run(gateway, 200, args.concurrency)
        d50: list[float] = []
        g50: list[float] = []
        d1: list[float] = []
        g1: list[float] = []
        d_wall = g_wall = gw_cpu = 0.0
        for _ in range(args.rounds):
            lat, wall = await run(direct, args.requests, args.concurrency)
            d50 += lat
            d_wall += wall
            cpu0 = cpu_seconds(gw_pid)
            lat, wall = await run(gateway, args.requests, args.concurrency)
            gw_cpu += cpu_seconds(gw_pid) - cpu0
            g50 += lat
            g_wall += wall
            d1 += (await run(direct, args.requests // 5, 1))[0]
            g1 += (await run(gateway, args.requests // 5, 1))[0]
    n = args.requests * args.rounds
    ms = 1000.0
    return {
        "model": model,  # type: ignore[dict-item]
        "direct_p50_ms": pct(d50, 0.5) * ms,
        "direct_p99_ms": pct(d50, 0.99) * ms,
        "gateway_p50_ms": pct(g50, 0.5) * ms,
        "gateway_p99_ms": pct(g50, 0.99) * ms,
        "direct_rps": n / d_wall,
        "gateway_rps": n / g_wall,
        "direct_p50_ms_c1": pct(d1, 0.5) * ms,
        "direct_p99_ms_c1": pct(d1, 0.99) * ms,
        "gateway_p50_ms_c1": pct(g1, 0.5) * ms,
        "gateway_p99_ms_c1": pct(g1, 0.99) * ms,
        "gateway_cpu_ms_per_request": gw_cpu / n * ms,
        "requests": n,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000, help="requests per round per path at concurrency C")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="autodevai-bench-gateway-"))
    env = {
        **os.environ,
        "AUTODEVAI_DATA_DIR": str(tmp / "data"),
        "AUTODEVAI_CONFIG_DIR": str(tmp / "config"),
        "OPENROUTER_API_KEY": UPSTREAM_KEY,
        "AUTODEVAI_GATEWAY_TOKEN": TOKEN,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never the user's keyring
    }
    sim, sim_url = start(
        [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0"], env, "the simulator"
    )
    gw: subprocess.Popen[str] | None = None
    try:
        config = tmp / "config.toml"
        settings = Settings(
            providers=[ProviderSettings(name="openrouter", kind="openrouter", base_url=sim_url, attribution=False)]
        )
        config.write_text(settings_to_toml(settings), encoding="utf-8")
        if has_serve_verb(env):
            cmd = [sys.executable, "-m", "autodevai", "--config", str(config), "serve", "--port", "0"]
            how = "autodevai serve"
        else:
            cmd = [sys.executable, "-c", INLINE_GATEWAY, str(config)]
            how = "inline script"
        gw, gw_url = start(cmd, env, "the gateway")
        r = asyncio.run(measure(args, sim_url, gw_url, gw.pid))
    finally:
        for proc in (gw, sim):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)

    rows = [
        ("p50 latency c=50", r["direct_p50_ms"], r["gateway_p50_ms"]),
        ("p99 latency c=50", r["direct_p99_ms"], r["gateway_p99_ms"]),
        ("p50 latency c=1", r["direct_p50_ms_c1"], r["gateway_p50_ms_c1"]),
        ("p99 latency c=1", r["direct_p99_ms_c1"], r["gateway_p99_ms_c1"]),
    ]
    table = [(name, f"{a:.3f} ms", f"{b:.3f} ms", f"{b - a:+.3f} ms") for name, a, b in rows]
    table.append(
        (
            "throughput c=50",
            f"{r['direct_rps']:,.0f}/s",
            f"{r['gateway_rps']:,.0f}/s",
            f"ratio {r['gateway_rps'] / r['direct_rps']:.2f}",
        )
    )
    table.append(("gateway CPU per request", "", f"{r['gateway_cpu_ms_per_request']:.3f} ms", ""))
    head = ("measure", "direct to sim", "via gateway", "added")
    w = [max(len(str(row[i])) for row in [head, *table]) for i in range(4)]
    for row in [head, *table]:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(row)))
    print(
        f"({r['requests']} requests per path at c={args.concurrency} over {args.rounds} interleaved rounds; "
        f"model {r['model']}; gateway started by {how}; 2 server processes + this client)"
    )
    figures = {
        "gateway_added_p50_ms": round(r["gateway_p50_ms"] - r["direct_p50_ms"], 3),
        "gateway_added_p99_ms": round(r["gateway_p99_ms"] - r["direct_p99_ms"], 3),
        "direct_p50_ms": round(r["direct_p50_ms"], 3),
        "direct_p99_ms": round(r["direct_p99_ms"], 3),
        "gateway_p50_ms": round(r["gateway_p50_ms"], 3),
        "gateway_p99_ms": round(r["gateway_p99_ms"], 3),
        "gateway_added_p50_ms_c1": round(r["gateway_p50_ms_c1"] - r["direct_p50_ms_c1"], 3),
        "gateway_added_p99_ms_c1": round(r["gateway_p99_ms_c1"] - r["direct_p99_ms_c1"], 3),
        "throughput_ratio_c50": round(r["gateway_rps"] / r["direct_rps"], 3),
        "gateway_cpu_ms_per_request": round(r["gateway_cpu_ms_per_request"], 3),
        "concurrency": args.concurrency,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
