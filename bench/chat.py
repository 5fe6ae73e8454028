"""Conversations at scale: opening a long thread, searching many messages, fitting a 128K-token thread, and the
desktop window's responsiveness while an answer streams into a long thread.

- open_thread_ms_1000: ``Engine.conversations.open`` of a 1,000-message thread (its branch tree and current
  path), median of 15; baseline: the raw SQLite read of the same rows. Target < 150 ms.
- search_ms_10k: full-text search (FTS5) over 10,000 messages, median over 20 queries; baseline: a LIKE scan of
  the same rows. Target < 30 ms.
- fit_ms_128k_thread: fitting a ~128K-token thread into 32K tokens (recent turns verbatim, older compressed),
  counting included, median of 5; baseline: counting its tokens alone. Target < 200 ms.
- lag_p99_ms_long_thread: in the desktop app (offscreen), event-loop lag (how late a 10 ms timer fires) while a
  4,000-token answer streams into an open 1,000-message thread; baseline: the same window idle. Target < 20 ms.
- open_thread_gui_ms_1000: showing that thread in the window (engine open + the view), median of 5.

usage: python bench/chat.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from autodevai.adapters.sqlite_store import SqliteStore
from autodevai.adapters.tokenizer import TiktokenCounter
from autodevai.engine.conversations import Conversation, ThreadMessage, build_thread
from autodevai.engine.thread_fit import fit_thread
from autodevai.engine.types import ChatMessage

WORDS = [
    "router",
    "budget",
    "breaker",
    "latency",
    "stream",
    "token",
    "window",
    "cache",
    "retry",
    "fallback",
    "provider",
    "model",
    "prompt",
    "answer",
    "metric",
    "chart",
    "queue",
    "thread",
    "branch",
    "summary",
    "search",
    "export",
    "import",
    "gateway",
    "simulator",
    "catalog",
    "price",
    "quality",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


async def fill(store: SqliteStore, conversations: int, per: int, rng: random.Random) -> list[str]:
    """``conversations`` threads of ``per`` alternating user/assistant messages; returns their ids."""
    ids = []
    t = time.time()
    for c in range(conversations):
        conv = Conversation(f"conv{c}", f"Thread {c}", t, t)
        await store.conversations.create(conv)
        parent = None
        batch = []
        for i in range(per):
            role = "user" if i % 2 == 0 else "assistant"
            mid = f"c{c}m{i}"
            text = f"{sentence(rng, 12)} marker{c}x{i} {sentence(rng, 20 if role == 'user' else 60)}"
            batch.append(ThreadMessage(mid, conv.id, parent, role, text, t + i * 1e-3, model="sim/m" * (i % 2)))
            parent = mid
        # Concurrent adds are group-committed by the store's writer thread.
        await asyncio.gather(*(store.conversations.add_message(m, head=(m is batch[-1])) for m in batch))
        ids.append(conv.id)
    return ids


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


async def timed(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return median_ms(out)


async def store_figures(tmp: Path) -> dict[str, float]:
    rng = random.Random(12)
    store = await SqliteStore.open(tmp / "chat.db")
    try:
        t0 = time.perf_counter()
        ids = await fill(store, 10, 1000, rng)
        fill_s = time.perf_counter() - t0

        async def open_one() -> None:
            conv = await store.conversations.get(ids[0])
            assert conv is not None
            thread = build_thread(conv, await store.conversations.messages(ids[0]))
            assert len(thread.messages) == 1000

        open_ms = await timed(open_one, 15)
        raw = sqlite3.connect(tmp / "chat.db")
        t_raw = []
        for _ in range(15):
            t = time.perf_counter()
            rows = raw.execute("SELECT * FROM messages WHERE conversation_id = ?", (ids[0],)).fetchall()
            t_raw.append(time.perf_counter() - t)
        assert len(rows) == 1000
        queries = [f"marker{c}x{i}" for c, i in zip(range(10), range(5, 1000, 97), strict=False)] + [
            f"{a} {b}" for a, b in zip(WORDS[:10], WORDS[10:20], strict=True)
        ]
        t_search, t_like = [], []
        for q in queries:
            t = time.perf_counter()
            hits = await store.conversations.search(q, 50)
            t_search.append(time.perf_counter() - t)
            t = time.perf_counter()
            where = " AND ".join("text LIKE ?" for _ in q.split())
            raw.execute(f"SELECT count(*) FROM messages WHERE {where}", [f"%{w}%" for w in q.split()]).fetchall()
            t_like.append(time.perf_counter() - t)
            if q.startswith("marker"):
                assert hits, q
        raw.close()
        return {
            "fill_s": fill_s,
            "open_ms": open_ms,
            "open_raw_ms": median_ms(t_raw),
            "search_ms": median_ms(t_search),
            "like_ms": median_ms(t_like),
        }
    finally:
        await store.close()


def fit_figures() -> dict[str, float]:
    counter = TiktokenCounter()
    rng = random.Random(5)
    history = [ChatMessage(role="system", content="You are a careful assistant.")]
    while True:
        history.append(ChatMessage(role="user", content=" ".join(sentence(rng, 30) for _ in range(8))))
        history.append(ChatMessage(role="assistant", content=" ".join(sentence(rng, 30) for _ in range(20))))
        if len(history) % 20 == 1 and counter.count_messages(history) >= 128_000:
            break
    history.append(ChatMessage(role="user", content="What did we say about the fallback budget?"))
    tokens = counter.count_messages(history)
    fits, counts = [], []
    for _ in range(5):
        t = time.perf_counter()
        fit = fit_thread(history, 32_000, counter, window=32_000)
        fits.append(time.perf_counter() - t)
        t = time.perf_counter()
        counter.count_messages(history)
        counts.append(time.perf_counter() - t)
    assert fit.tokens <= 32_000
    return {"thread_tokens": tokens, "fit_ms": median_ms(fits), "count_ms": median_ms(counts), "quality": fit.quality}


def long_export(n: int = 1000) -> str:
    messages: list[dict[str, Any]] = []
    for i in range(n // 2):
        messages.append({"role": "user", "content": f"Question {i}: what is {i}*3? Keep it short."})
        answer = f"**{i * 3}** — multiply {i} by 3." + (f"\n\n```python\nprint({i} * 3)\n```" if i % 10 == 0 else "")
        messages.append({"role": "assistant", "content": answer, "model": "openai/gpt-4o"})
    return json.dumps({"title": "A very long thread", "messages": messages})


async def _signal(signal: Any, act: Callable[[], Any], limit_s: float = 120.0) -> tuple[Any, ...]:
    """Connect to a Qt ``signal``, run ``act``, and wait for the signal's arguments."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def fire(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(fire)
    try:
        act()
        return await asyncio.wait_for(future, limit_s)
    finally:
        signal.disconnect(fire)


async def _window_figures(tmp: Path, base: str) -> dict[str, float]:
    from PySide6.QtCore import QSettings

    from autodevai.engine.conversations import Preset
    from autodevai.engine.settings import parse_settings
    from autodevai.gui.app import EngineHost
    from autodevai.gui.bridge import GuiContext
    from autodevai.gui.main_window import MainWindow

    os.environ["BENCH_SIM_KEY"] = "bench"
    ctx = GuiContext(QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat))
    provider = {"name": "sim", "kind": "openrouter", "base_url": base, "attribution": False,
                "api_key_env": "BENCH_SIM_KEY"}  # fmt: skip
    host = EngineHost(
        ctx, tmp / "config.toml", settings=parse_settings({"providers": [provider]}), refresh="wait",
        rng=random.Random(0), db_path=tmp / "gui.db", trust_env=False,
    )  # fmt: skip
    window = MainWindow(ctx)
    window.resize(1180, 760)
    window.show()
    await host.open()
    panel: Any = window.show_panel("Execute")
    await asyncio.sleep(0.5)
    conv = await ctx.engine.conversations.import_json(long_export())
    await ctx.engine.conversations.set_preset(conv.id, Preset(model="openai/gpt-4o-mini", max_tokens=4200))
    opens = []
    for _ in range(5):
        t0 = time.perf_counter()
        await _signal(panel.session.opened, lambda: panel.open_conversation(conv.id))
        panel.thread_view.viewport().repaint()
        opens.append(time.perf_counter() - t0)

    async def probe(stop: asyncio.Event, out: list[float]) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            out.append(max(0.0, time.perf_counter() - t0 - 0.01) * 1000.0)

    idle: list[float] = []
    stop = asyncio.Event()
    task = asyncio.ensure_future(probe(stop, idle))
    await asyncio.sleep(2.0)
    stop.set()
    await task
    busy: list[float] = []
    stop = asyncio.Event()
    task = asyncio.ensure_future(probe(stop, busy))
    panel.composer.prompt_edit.setPlainText("Write about event loops and back-pressure in 3000 words.")
    (turn,) = await _signal(panel.finished, panel.send, limit_s=300)
    stop.set()
    await task
    window.close()
    await host.close()
    tokens = getattr(getattr(turn, "response", None), "usage", None)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[int(0.99 * (len(xs) - 1))] if xs else float("nan")

    return {
        "open_gui_ms": median_ms(opens),
        "lag_p99_ms": p99(busy),
        "idle_p99_ms": p99(idle),
        "deltas": float(tokens.completion_tokens if tokens else 0),
    }


def asyncio_gui_measure(tmp: Path) -> dict[str, float]:
    """The window figures, with the simulator in its own process (answers at a tenth of their modelled time)."""
    import subprocess

    from PySide6.QtWidgets import QApplication

    from autodevai.gui.bridge import install_event_loop
    from autodevai.gui.theme import apply_theme

    command = [sys.executable, "-m", "autodevai.sim", "--port", "0", "--latency-scale", "0.1"]
    sim = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert sim.stdout is not None
    base = sim.stdout.readline().strip().split()[-1]
    try:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_theme(app)  # type: ignore[arg-type]
        app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
        loop = install_event_loop(app)  # type: ignore[arg-type]
        try:
            return loop.run_until_complete(_window_figures(tmp, base))
        finally:
            loop.close()
    finally:
        sim.terminate()
        sim.wait(timeout=10)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="autodevai-bench-chat-"))
    s = asyncio.run(store_figures(tmp))
    f = fit_figures()
    gui = asyncio_gui_measure(tmp)
    rows = [
        ("open a 1,000-message thread (engine)", f"{s['open_ms']:.1f} ms", f"raw read {s['open_raw_ms']:.1f} ms"),
        ("search 10,000 messages (FTS5)", f"{s['search_ms']:.2f} ms", f"LIKE scan of every row {s['like_ms']:.2f} ms"),
        (f"fit a {f['thread_tokens']:,}-token thread into 32K", f"{f['fit_ms']:.0f} ms",
         f"counting alone {f['count_ms']:.0f} ms, quality {f['quality']:.2f}"),
    ]  # fmt: skip
    rows += [
        ("show a 1,000-message thread (window)", f"{gui['open_gui_ms']:.0f} ms", ""),
        ("event-loop lag p99 while a long answer streams into it", f"{gui['lag_p99_ms']:.1f} ms",
         f"idle window {gui['idle_p99_ms']:.1f} ms; {gui['deltas']:.0f}-token answer"),
    ]  # fmt: skip
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for a, b, c in rows:
        print(f"{a.ljust(w0)}  {b.ljust(w1)}  {c}")
    print(f"(10,000 messages stored in {s['fill_s']:.1f} s)")
    figures = {
        "open_thread_ms_1000": round(s["open_ms"], 2),
        "search_ms_10k": round(s["search_ms"], 3),
        "fit_ms_128k_thread": round(f["fit_ms"], 1),
        "lag_p99_ms_long_thread": round(gui["lag_p99_ms"], 2),
        "open_thread_gui_ms_1000": round(gui["open_gui_ms"], 1),
    }
    print(json.dumps(figures))
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown (see bench/gui.py)


if __name__ == "__main__":
    main()
