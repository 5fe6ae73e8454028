"""The gateway against calling the upstream directly and against LiteLLM's proxy, on the same simulator, one run.

Processes, so client CPU does not mix with server CPU: the simulator (latency 0), our gateway
(``python -m autodevai --config FILE serve --port 0``: the real CLI, engine and SQLite store, pointed at the
simulator), LiteLLM's proxy (``litellm --config FILE``, one worker, the same simulator as an ``openai/``
upstream) and this client (aiohttp, the cheapest client we know, so the load generator is not the bottleneck).
Each proxy is pinned to the same one core (the last); the simulator and the client share the others. The same
chat request (same model, pinned) goes (a) to the simulator directly, (b) through our gateway and (c) through
LiteLLM, at concurrency 50 and at 1, in interleaved rounds so machine noise hits all paths alike. Our path
includes everything a gateway request costs: auth, OpenAI parsing, routing, budget reservation in SQLite,
breakers, metrics, the SQLite commit before answering, and a second HTTP hop.

LiteLLM is installed into its own venv (``--litellm-venv``, default in the user cache dir) the first time; when
that cannot be done (no registry, no wheel for this Python) its rows are skipped with a message.

Reports p50/p99 latency, throughput and each proxy's CPU per request (its whole process tree). Last line: one
JSON object (``gateway_added_p50_ms``, ..., ``rps_c50_ratio_vs_litellm``, ``cpu_ratio_c1_vs_litellm``,
``cpu_ratio_c50_vs_litellm``, ``p99_c50_ratio_vs_litellm``).

usage: python bench/gateway.py [--requests N] [--rounds R] [--concurrency C] [--litellm-venv DIR | --no-litellm]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import platformdirs
from proxies import (  # bench/proxies.py: python puts bench/ first on sys.path when it runs this script
    LITELLM_KEY,
    pin,
    start,
    start_litellm,
    stop,
    tree_cpu_seconds,
    usable_litellm,
)

from autodevai.engine.settings import ProviderSettings, Settings, settings_to_toml

PROMPT = "Summarize the benefits of connection pooling in one sentence."
UPSTREAM_KEY = "bench-upstream-key"
TOKEN = "bench-gateway-token-0123456789"
MS = 1000.0


@dataclass
class Target:
    """One way to the upstream: where, with which key, and what was measured over all rounds."""

    name: str
    url: str
    key: str
    pid: int | None = None  # the server process whose CPU is counted (None: direct)
    lat50: list[float] = field(default_factory=list)
    lat1: list[float] = field(default_factory=list)
    wall50: float = 0.0
    cpu50: float = 0.0
    cpu1: float = 0.0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def caller(session: aiohttp.ClientSession, path: Target, model: str) -> Callable[[], Awaitable[float]]:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
    headers = {"Authorization": f"Bearer {path.key}"}
    url = path.url + "/chat/completions"

    async def one() -> float:
        t0 = time.perf_counter()
        async with session.post(url, json=body, headers=headers) as r:
            data = await r.json()
            if r.status != 200 or not data["choices"][0]["message"]["content"]:
                raise SystemExit(f"{path.name} answered {r.status}: {str(data)[:300]}")
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


async def measure(args: argparse.Namespace, paths: list[Target], model: str) -> None:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        calls = {p.name: caller(session, p, model) for p in paths}
        for p in paths:  # warm every path and its pools
            await run(calls[p.name], 200, args.concurrency)
        for _ in range(args.rounds):
            for p in paths:
                cpu0 = tree_cpu_seconds(p.pid)
                lat, wall = await run(calls[p.name], args.requests, args.concurrency)
                p.cpu50 += tree_cpu_seconds(p.pid) - cpu0
                p.lat50 += lat
                p.wall50 += wall
            for p in paths:
                cpu0 = tree_cpu_seconds(p.pid)
                p.lat1 += (await run(calls[p.name], args.requests // 5, 1))[0]
                p.cpu1 += tree_cpu_seconds(p.pid) - cpu0


def write_gateway_config(tmp: Path, sim_url: str) -> Path:
    config = tmp / "config.toml"
    settings = Settings(
        providers=[ProviderSettings(name="openrouter", kind="openrouter", base_url=sim_url, attribution=False)]
    )
    config.write_text(settings_to_toml(settings), encoding="utf-8")
    return config


def routed_model(gw_url: str) -> str:
    """The model our gateway routes ``autodevai/cheapest`` to: every path then asks for exactly that one."""

    async def ask() -> str:
        async with aiohttp.ClientSession() as s:
            body = {"model": "autodevai/cheapest", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with s.post(gw_url + "/chat/completions", json=body, headers=headers) as r:
                return str((await r.json())["model"])

    return asyncio.run(ask())


def table(rows: list[tuple[str, ...]]) -> None:
    w = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(row)))


def report(args: argparse.Namespace, paths: list[Target], model: str, skipped: str | None) -> None:
    n50 = args.requests * args.rounds
    n1 = args.requests // 5 * args.rounds
    fig: dict[str, dict[str, float]] = {}
    for p in paths:
        fig[p.name] = {
            "p50": pct(p.lat50, 0.5) * MS,
            "p99": pct(p.lat50, 0.99) * MS,
            "p50_c1": pct(p.lat1, 0.5) * MS,
            "p99_c1": pct(p.lat1, 0.99) * MS,
            "rps": n50 / p.wall50,
            "cpu50": p.cpu50 / n50 * MS,
            "cpu1": p.cpu1 / n1 * MS,
        }
    names = [p.name for p in paths]
    rows: list[tuple[str, ...]] = [("measure", *names)]
    for label, key, unit in (
        (f"p50 latency c={args.concurrency}", "p50", "ms"),
        (f"p99 latency c={args.concurrency}", "p99", "ms"),
        ("p50 latency c=1", "p50_c1", "ms"),
        ("p99 latency c=1", "p99_c1", "ms"),
        (f"throughput c={args.concurrency}", "rps", "/s"),
        ("server CPU per request c=1", "cpu1", "ms"),
        (f"server CPU per request c={args.concurrency}", "cpu50", "ms"),
    ):
        cells = []
        for name in names:
            v = fig[name][key]
            if key.startswith("cpu") and name == "direct":
                cells.append("")
            else:
                cells.append(f"{v:,.0f}/s" if unit == "/s" else f"{v:.3f} ms")
        rows.append((label, *cells))
    table(rows)
    cores = "proxies pinned to one core" if args.pinned else "not pinned"
    print(
        f"({n50} requests per path at c={args.concurrency} and {n1} at c=1 over {args.rounds} interleaved rounds; "
        f"model {model}; {cores}; {os.cpu_count()} cores)"
    )
    d, g = fig["direct"], fig["autodevai"]
    out: dict[str, object] = {
        "gateway_added_p50_ms": round(g["p50"] - d["p50"], 3),
        "gateway_added_p99_ms": round(g["p99"] - d["p99"], 3),
        "gateway_added_p50_ms_c1": round(g["p50_c1"] - d["p50_c1"], 3),
        "gateway_added_p99_ms_c1": round(g["p99_c1"] - d["p99_c1"], 3),
        "gateway_p99_ms": round(g["p99"], 3),
        "gateway_rps_c50": round(g["rps"], 1),
        "direct_rps_c50": round(d["rps"], 1),
        "throughput_ratio_c50": round(g["rps"] / d["rps"], 3),
        "gateway_cpu_ms_per_request": round(g["cpu50"], 3),
        "gateway_cpu_ms_per_request_c1": round(g["cpu1"], 3),
        "concurrency": args.concurrency,
    }
    if "litellm" in fig:
        ll = fig["litellm"]
        out |= {
            "litellm_rps_c50": round(ll["rps"], 1),
            "litellm_p99_ms": round(ll["p99"], 3),
            "litellm_cpu_ms_per_request": round(ll["cpu50"], 3),
            "litellm_cpu_ms_per_request_c1": round(ll["cpu1"], 3),
            "rps_c50_ratio_vs_litellm": round(g["rps"] / ll["rps"], 2),
            "cpu_ratio_c1_vs_litellm": round(g["cpu1"] / ll["cpu1"], 3),
            "cpu_ratio_c50_vs_litellm": round(g["cpu50"] / ll["cpu50"], 3),
            "p99_c50_ratio_vs_litellm": round(g["p99"] / ll["p99"], 3),
        }
        print(
            f"vs LiteLLM: {out['rps_c50_ratio_vs_litellm']}x the throughput, "
            f"{out['cpu_ratio_c1_vs_litellm']} / {out['cpu_ratio_c50_vs_litellm']} of its CPU per request "
            f"(c=1 / c={args.concurrency}), {out['p99_c50_ratio_vs_litellm']} of its p99"
        )
    else:
        out["litellm"] = f"skipped: {skipped}"
        print(f"LiteLLM skipped: {skipped}")
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=600, help="requests per round per path at concurrency C")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=50)
    default_venv = Path(platformdirs.user_cache_dir("autodevai")) / "bench-litellm-venv"
    ap.add_argument("--litellm-venv", type=Path, default=default_venv, help="LiteLLM's venv (made if missing)")
    ap.add_argument("--no-litellm", action="store_true", help="measure only direct and our gateway")
    ap.add_argument("--no-pin", action="store_true", help="let the OS place every process")
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
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    args.pinned = len(cores) >= 2 and not args.no_pin
    proxy_core, other_cores = (cores[-1:], cores[:-1]) if args.pinned else ([], [])
    litellm_bin, skipped = (None, "--no-litellm") if args.no_litellm else usable_litellm(args.litellm_venv)

    procs: list[subprocess.Popen[str]] = []
    try:
        sim, sim_url = start([sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0"], env)
        procs.append(sim)
        config = write_gateway_config(tmp, sim_url)
        gw, gw_url = start([sys.executable, "-m", "autodevai", "--config", str(config), "serve", "--port", "0"], env)
        procs.append(gw)
        model = routed_model(gw_url)
        paths = [Target("direct", sim_url, UPSTREAM_KEY), Target("autodevai", gw_url, TOKEN, gw.pid)]
        if litellm_bin is not None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            try:
                ll = start_litellm(litellm_bin, tmp, sim_url, UPSTREAM_KEY, model, port)
                procs.append(ll)
                paths.append(Target("litellm", f"http://127.0.0.1:{port}/v1", LITELLM_KEY, ll.pid))
            except RuntimeError as exc:
                skipped = str(exc)
        for p in paths:
            if p.pid is not None:
                pin(p.pid, proxy_core)
        pin(sim.pid, other_cores)
        pin(os.getpid(), other_cores)
        asyncio.run(measure(args, paths, model))
    finally:
        for proc in reversed(procs):
            stop(proc)
    report(args, paths, model, skipped)


if __name__ == "__main__":
    main()
