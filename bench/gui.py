"""Desktop app responsiveness: cold start, event-loop lag under streaming load with live charts, peak memory.

- start_s: spawn `python -m autodevai` (offscreen, smoke mode) to the moment its window is shown; baseline in
  the same run: a bare interpreter that imports PySide6 and shows an empty QWidget.
- lag_p99_ms: in this process, the main window with the Metrics panel visible (charts redrawing) while 200
  streamed requests run against the simulator (its own process); lag = how late a 10 ms asyncio timer fires.
  Baseline: the same probe with the window idle.
- rss_mb: peak resident memory of this process after the load.

usage: python bench/gui.py [--requests 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest
from autodevai.gui.app import EngineHost
from autodevai.gui.bridge import GuiContext, install_event_loop
from autodevai.gui.main_window import MainWindow
from autodevai.gui.theme import apply_theme

BASELINE_START = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.resize(1180, 760); w.show(); app.processEvents()
print("window shown", flush=True)
"""


def time_to_line(cmd: list[str], env: dict[str, str], needle: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    elapsed = float("nan")
    for line in proc.stdout:
        if needle in line:
            elapsed = time.perf_counter() - t0
            break
    proc.wait(timeout=60)
    return elapsed


def cold_start(runs: int = 3) -> tuple[float, float]:
    tmp = tempfile.mkdtemp(prefix="autodevai-bench-gui-")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "AUTODEVAI_GUI_SMOKE": "1",
        "AUTODEVAI_CONFIG_DIR": f"{tmp}/c",
        "AUTODEVAI_DATA_DIR": f"{tmp}/d",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    app_t = [time_to_line([sys.executable, "-m", "autodevai"], env, "window shown") for _ in range(runs)]
    base_t = [time_to_line([sys.executable, "-c", BASELINE_START], env, "window shown") for _ in range(runs)]
    return min(app_t), min(base_t)


def start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0.6"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip().split()[-1]


async def lag_probe(stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append(max(0.0, time.perf_counter() - t0 - 0.01) * 1000.0)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def load(base: str, requests: int, concurrency: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="autodevai-bench-gui-"))
    os.environ["AUTODEVAI_CONFIG_DIR"] = str(tmp / "c")
    os.environ["AUTODEVAI_DATA_DIR"] = str(tmp / "d")
    os.environ["BENCH_SIM_KEY"] = "bench"
    ctx = GuiContext(QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat))
    settings = parse_settings(
        {
            "providers": [
                {
                    "name": "sim",
                    "kind": "openrouter",
                    "base_url": base,
                    "attribution": False,
                    "api_key_env": "BENCH_SIM_KEY",
                }
            ]
        }
    )
    host = EngineHost(
        ctx,
        tmp / "config.toml",
        settings=settings,
        refresh="wait",
        rng=random.Random(0),
        db_path=tmp / "b.db",
        trust_env=False,
    )
    window = MainWindow(ctx)
    window.resize(1180, 760)
    window.show()
    await host.open()
    panel = window.show_panel("Metrics")

    idle: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.ensure_future(lag_probe(stop, idle))
    await asyncio.sleep(3.0)
    stop.set()
    await probe

    busy: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.ensure_future(lag_probe(stop, busy))
    remaining = requests
    deltas = 0

    async def worker() -> None:
        nonlocal remaining, deltas
        while remaining > 0:
            remaining -= 1
            req = ChatRequest.from_prompt("Explain event loops in a paragraph.", max_tokens=150)
            async for item in ctx.engine.stream_enhanced_ai_request(req):
                if isinstance(item, str):
                    deltas += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    stop.set()
    await probe
    redraws = getattr(panel, "redraws", 0)
    window.close()
    await host.close()
    slow = sorted(busy)[-8:]
    print(f"(slowest probes: {', '.join(f'{x:.0f}' for x in slow)} ms over {len(busy)} probes)")
    return {
        "idle_p99": pct(idle, 0.99),
        "busy_p50": pct(busy, 0.5),
        "busy_p99": pct(busy, 0.99),
        "busy_max": max(busy) if busy else float("nan"),
        "elapsed": elapsed,
        "deltas": deltas,
        "redraws": redraws,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    args = ap.parse_args()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[attr-defined]
    start_s, base_s = cold_start()
    proc, base = start_sim()
    try:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_theme(app)  # type: ignore[arg-type]
        app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
        loop = install_event_loop(app)
        try:
            r = loop.run_until_complete(load(base, args.requests, args.concurrency))
        finally:
            loop.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rows = [
        ("cold start to window shown", f"{start_s:.2f} s", f"baseline bare Qt window {base_s:.2f} s"),
        ("event-loop lag p99, idle window", f"{r['idle_p99']:.1f} ms", ""),
        (
            f"event-loop lag p50 / p99 / max, {args.requests} streams",
            f"{r['busy_p50']:.1f} / {r['busy_p99']:.1f} / {r['busy_max']:.1f} ms",
            f"{r['deltas']} deltas in {r['elapsed']:.1f} s, {r['redraws']} chart redraws",
        ),
        ("peak RSS", f"{rss_mb:.0f} MB", ""),
    ]
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    for a, b, c in rows:
        print(f"{a.ljust(w0)}  {b.ljust(w1)}  {c}")
    print(json.dumps({"start_s": round(start_s, 3), "lag_p99_ms": round(r["busy_p99"], 2), "rss_mb": round(rss_mb, 1)}))
    sys.stdout.flush()
    # pyqtgraph's plot items and PySide6 can crash in the interpreter's final garbage collection when a
    # QApplication was created in __main__ (a known PySide6 teardown issue); the figures are out, so skip it.
    os._exit(0)


if __name__ == "__main__":
    main()
