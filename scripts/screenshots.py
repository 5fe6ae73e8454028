"""Render every panel, the onboarding dialog and the tray's quick-prompt popup to PNG files (developer script).

usage: python scripts/screenshots.py OUT_DIR [--dark] [--size 1180x760]

A short simulator session first makes the data realistic: routed requests, a streamed one, a model that fails
(so a breaker opens, an alert is raised and a fallback shows), a workflow, a self-test and a few conversations.
Execute (the conversation view) is shown with a thread of Markdown and a highlighted code block, then with the
conversation list searched, a comparison of three models side by side, an attached image answered by a vision
model, and a reasoning model's reasoning and tool call; then the alert notifications (toasts over the Status
panel, as shown where there is no system tray) and Configure's Desktop tab. Everything runs offscreen against the
built-in simulator in temporary directories; nothing touches the user's config, data or keyring.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import keyring.backend
from PySide6.QtCore import QRectF, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from autodevai.adapters.keyring_secrets import MemoryKeyring
from autodevai.engine.conversations import Preset
from autodevai.engine.errors import EngineError
from autodevai.engine.settings import parse_settings
from autodevai.engine.types import ChatRequest
from autodevai.gui.app import EngineHost
from autodevai.gui.bridge import GuiContext, install_event_loop
from autodevai.gui.icon import app_icon
from autodevai.gui.main_window import MainWindow
from autodevai.gui.panels import PANELS
from autodevai.gui.theme import apply_theme
from autodevai.sim.config import SimConfig
from autodevai.sim.server import SimServer

FAILING = "openai/gpt-4o"
TOOL_REASONER = "openai/o3"  # reasons, and calls tools
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather and forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
SONNET = "anthropic/claude-3.5-sonnet"
RETRY_ANSWER = """Here is a small, dependency-free helper. It retries only the errors you name and waits a random
time between 0 and the exponential cap (**full jitter**), so clients that failed together do not retry together:

```python
import random
import time


def retry(call, *, attempts=5, base=0.2, cap=10.0, retry_on=(ConnectionError, TimeoutError)):
    \"\"\"Call ``call()`` until it succeeds, sleeping with full jitter between tries.\"\"\"
    for attempt in range(attempts):
        try:
            return call()
        except retry_on:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(cap, base * 2 ** attempt)))
```

| attempt | longest wait |
|---|---|
| 1 | 0.2 s |
| 3 | 0.8 s |
| 5 | 3.2 s |

Honor a server's `Retry-After` when it sends one: wait at least that long."""
OLDER = [
    (
        "Postgres index for a LIKE query",
        "Which index helps `WHERE name LIKE 'abc%'`?",
        "A B-tree index with `text_pattern_ops` (or the `C` collation) serves prefix `LIKE` queries.",
    ),
    (
        "Trip to Lisbon",
        "Three things to see in Lisbon in one day?",
        "Alfama and the castle in the morning, Belém after lunch, sunset at a miradouro.",
    ),
]
PROMPTS = [
    "What is 17*23?",
    "Summarize the CAP theorem in two sentences.",
    "What is the capital of Japan?",
    "Write a haiku about connection pools.",
    "What is 1234+4321?",
    "Explain exponential backoff with jitter.",
]


async def _settle(seconds: float = 0.6) -> None:
    """Let timers, spawned engine calls and redraws run (Qt processes events while asyncio sleeps)."""
    await asyncio.sleep(seconds)


async def _session(ctx: GuiContext, sim: SimServer) -> None:
    engine = ctx.engine
    for i, prompt in enumerate(PROMPTS * 3):
        pref = ["balanced", "cost", "quality", "speed"][i % 4]
        await engine.execute_enhanced_ai_request(ChatRequest.from_prompt(prompt, preference=pref, max_tokens=120))
    sim.add_fault({"kind": "http_error", "status": 500, "model": FAILING})
    for _ in range(7):  # enough failures for the breaker to open and the advisor to speak up
        request = ChatRequest.from_prompt("Review this function for bugs.", model=FAILING, max_tokens=120)
        await engine.execute_enhanced_ai_request(request)
    stream = engine.stream_enhanced_ai_request(ChatRequest.from_prompt("Explain circuit breakers.", max_tokens=200))
    async for _ in stream:
        pass
    await engine.execute_adaptive_workflow("Design and compare two caching strategies for an API, with trade-offs.")


async def _shoot(out: Path, dark: bool, size: tuple[int, int]) -> list[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="autodevai-shots-"))
    os.environ["AUTODEVAI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["AUTODEVAI_DATA_DIR"] = str(tmp / "data")
    keyring.set_keyring(MemoryKeyring())
    keyring.get_keyring().set_password("autodevai", "sim", "screenshot-key")
    sim = SimServer(SimConfig(latency_scale=0.02, seed=7))
    await sim.start()
    ctx = GuiContext(QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat))
    ctx.theme.set_mode("dark" if dark else "light")  # as the user would pick it (View → Theme)
    settings = {
        "providers": [{"name": "sim", "kind": "openrouter", "base_url": sim.base_url, "attribution": False}],
        "budget": {"daily_usd": 0.5, "monthly_usd": 10.0},
        "resilience": {"retries_per_model": 0, "breaker": {"min_calls": 5, "window": 8, "open_s": 90}},
        "routing": {"chains": {FAILING: ["anthropic/claude-3.5-sonnet", "google/gemini-2.0-flash-001"]}},
    }
    host = EngineHost(
        ctx,
        tmp / "config.toml",
        settings=parse_settings(settings),
        refresh="wait",
        rng=random.Random(1),
        db_path=tmp / "data" / "shots.db",
        trust_env=False,
    )
    window = MainWindow(ctx)
    window.setWindowIcon(app_icon())
    window.resize(*size)
    window.show()
    await host.open()
    await _session(ctx, sim)
    for toast in list(window.toasts.toasts):  # the session's alerts get their own picture below
        toast.dismiss()
    written: list[Path] = []
    suffix = "-dark" if dark else ""
    for index, (title, _spec) in enumerate(PANELS, start=1):
        panel = window.show_panel(title)
        await _prepare(title, panel, ctx)
        await _settle(0.8)
        path = out / f"{index:02d}-{title.lower()}{suffix}.png"
        window.grab().save(str(path))
        written.append(path)
    written += await _extras(ctx, window, out, suffix)
    written += await _execute_extras(window, out, suffix, tmp)
    written += await _alerts_and_desktop(ctx, window, out, suffix)
    window.keep_in_tray = False
    window.close()
    await host.close()
    await sim.stop()
    return written


async def _prepare(title: str, panel: Any, ctx: GuiContext) -> None:
    """Put a panel in its most telling state before the picture (each step is the panel's own public API)."""
    if title == "Execute" and hasattr(panel, "send"):
        await _conversations(ctx, panel)
    elif title == "Diagnostics" and hasattr(panel, "run"):
        panel.run()
        await _settle(1.5)
    elif title == "Workflows" and hasattr(panel, "task_edit"):
        panel.task_edit.setPlainText("Design and compare two caching strategies for an API, with trade-offs.")
        panel.run()
        await _settle(2.5)
    elif title == "Swarm" and hasattr(panel, "task_edit"):
        panel.task_edit.setPlainText("What is 123*45?")
        panel.topology_combo.setCurrentText("star")
        panel.agents_spin.setValue(5)
        panel.run()
        await _settle(2.0)
    elif title == "Models" and hasattr(panel, "search_edit"):
        for _ in range(200):  # the catalog loads in the background
            if panel.source.rowCount():
                break
            await asyncio.sleep(0.02)
        panel.search_edit.setText("gpt-4o")
        panel.select_model("openai/gpt-4o")
    elif hasattr(panel, "refresh_now"):
        panel.refresh_now()


async def _extras(ctx: GuiContext, window: MainWindow, out: Path, suffix: str) -> list[Path]:
    written: list[Path] = []
    from autodevai.gui.onboarding import OnboardingDialog
    from autodevai.gui.tray import QuickPromptPopup

    dialog = OnboardingDialog(ctx, window)
    dialog.show()
    await _settle(0.8)
    path = out / f"{len(PANELS) + 1:02d}-onboarding{suffix}.png"
    dialog.grab().save(str(path))
    written.append(path)
    dialog.close()

    popup = QuickPromptPopup(ctx)
    popup.show()
    popup.refresh_last()
    await _settle(0.3)
    popup.prompt_edit.setText("And in one sentence?")
    popup.send()
    await _settle(1.5)
    path = out / f"{len(PANELS) + 2:02d}-tray-popup{suffix}.png"
    popup.grab().save(str(path))
    written.append(path)
    popup.close()
    return written


def _chart_png(path: Path) -> Path:
    """A small bar chart (latency per model) to attach: something a vision model would be asked about."""
    image = QImage(480, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("#1f2328"))
    painter.drawText(QRectF(0, 8, 480, 24), Qt.AlignmentFlag.AlignCenter, "p95 latency by model (ms)")
    for i, (value, color) in enumerate(((180, "#3b82f6"), (240, "#16a34a"), (120, "#d97706"), (200, "#dc2626"))):
        painter.fillRect(QRectF(50 + i * 105, 270 - value, 70, value), QColor(color))
    painter.drawLine(30, 270, 460, 270)
    painter.end()
    image.save(str(path))
    return path


async def _until_idle(panel: Any, limit_s: float = 10.0) -> None:
    for _ in range(int(limit_s / 0.02)):
        await asyncio.sleep(0.02)
        if not panel.is_running and not panel.composer.attachments.loading:
            return


async def _opened(panel: Any, cid: str) -> None:
    panel.open_conversation(cid)
    for _ in range(200):
        await asyncio.sleep(0.02)
        current = panel.thread_model.current
        if current is not None and current.conversation.id == cid:
            return


async def _conversations(ctx: GuiContext, panel: Any) -> None:
    """A few conversations in the list (one pinned), and one open: a Markdown answer with a code block and a
    table, then a simulated turn with its details expanded."""
    convs = ctx.engine.conversations
    for title, question, answer in OLDER:
        await convs.import_json(
            json.dumps(
                {
                    "title": title,
                    "messages": [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": answer, "model": SONNET},
                    ],
                }
            )
        )
    pinned = await convs.import_json(
        json.dumps(
            {
                "title": "Release checklist",
                "messages": [
                    {"role": "user", "content": "What do we check before a release?"},
                    {"role": "assistant", "content": "- tests green\n- changelog\n- version bump", "model": SONNET},
                ],
            }
        )
    )
    await convs.pin(pinned.id)
    conv = await convs.import_json(
        json.dumps(
            {
                "title": "Retry with backoff",
                "messages": [
                    {
                        "role": "user",
                        "content": "Write a retry helper with exponential backoff and full jitter in Python.",
                    },
                    {"role": "assistant", "content": RETRY_ANSWER, "model": SONNET},
                ],
            }
        )
    )
    await convs.set_preset(conv.id, Preset(model="openai/gpt-4o"))
    panel.refresh_list()
    await _opened(panel, conv.id)
    panel.composer.prompt_edit.setPlainText("Why full jitter rather than equal jitter? Two sentences.")
    panel.send()
    await _until_idle(panel)
    await _settle(0.4)
    rows = panel.thread_model.rows
    panel.thread_model.toggle(rows[-1].key, "details")
    await _settle(0.3)
    panel.thread_view.scrollTo(panel.thread_model.index(1))


async def _execute_extras(window: MainWindow, out: Path, suffix: str, tmp: Path) -> list[Path]:
    """Execute: the list searched, a comparison, an attached image, and a reasoning model's tool call."""
    written: list[Path] = []
    panel: Any = window.show_panel("Execute")
    n = len(PANELS) + 3

    async def shot(name: str) -> None:
        nonlocal n
        await _settle(0.6)
        path = out / f"{n:02d}-execute-{name}{suffix}.png"
        window.grab().save(str(path))
        written.append(path)
        n += 1

    panel.thread_list.search_edit.setText("jitter")
    await _settle(0.8)
    await shot("search")
    panel.thread_list.search_edit.clear()

    panel.new_conversation()
    panel.composer.compare_button.setChecked(True)
    for combo, target in zip(panel.composer.target_combos, ("openai/gpt-4o", "cheapest", "fastest"), strict=False):
        combo.setCurrentText(target)
    panel.composer.prompt_edit.setPlainText("What is 17*23? Show the steps.")
    panel.send()
    await _until_idle(panel)
    await shot("compare")
    columns = panel.compare_view.columns
    if columns and columns[0].turn is not None:
        columns[0].continue_button.click()
        await _settle(0.5)

    panel.new_conversation()
    panel.composer.attachments.add_files([str(_chart_png(tmp / "latency-chart.png"))])
    await _until_idle(panel)
    panel.composer.prompt_edit.setPlainText("What does this chart show? Which model is slowest?")
    panel.send()
    await _until_idle(panel)
    await shot("image")

    panel.new_conversation()
    panel.set_tools([WEATHER_TOOL])
    panel.preset_bar.model_edit.setText(TOOL_REASONER)
    panel.preset_bar.changed.emit(panel.preset_bar.preset())
    panel.composer.prompt_edit.setPlainText("What's the weather in Paris today? Do I need an umbrella?")
    panel.send()
    await _until_idle(panel)
    await _settle(0.4)  # the thread reloads with the stored answer
    rows = panel.thread_model.rows
    if rows:
        panel.thread_model.toggle(rows[-1].key, "reasoning")
    await shot("tools-reasoning")
    return written


async def _alerts_and_desktop(ctx: GuiContext, window: MainWindow, out: Path, suffix: str) -> list[Path]:
    """The Status panel with its recent alerts and the session's last alerts as toasts; Configure → Desktop."""
    written: list[Path] = []
    window.show_panel("Status")
    daily = ctx.engine.settings.budget.daily_usd
    status = await ctx.engine.get_enhanced_system_status()
    spent = status.budget.spent.get("daily", 0.0)
    # A cap just above today's spending: the next request crosses 80 %, and a budget alert joins the breaker's.
    await ctx.engine.configure_enhanced_orchestration({"budget": {"daily_usd": round(spent * 1.15, 6)}})
    with contextlib.suppress(EngineError):
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt(PROMPTS[2], max_tokens=40))
    await ctx.engine.configure_enhanced_orchestration({"budget": {"daily_usd": daily}})
    for event in ctx.engine.recent_alerts()[-2:]:
        if not any(t.alert is event for t in window.toasts.toasts):
            window.notifier.notify(event)
    await _settle(1.0)
    path = out / f"{len(PANELS) + 7:02d}-alerts{suffix}.png"
    window.grab().save(str(path))
    written.append(path)
    for toast in list(window.toasts.toasts):
        toast.dismiss()

    panel: Any = window.show_panel("Configure")
    panel.show_tab("Desktop")
    await _settle(0.5)
    path = out / f"{len(PANELS) + 8:02d}-configure-desktop{suffix}.png"
    window.grab().save(str(path))
    written.append(path)
    panel.show_tab("Providers & keys")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/screenshots.py")
    ap.add_argument("out", type=Path)
    ap.add_argument("--dark", action="store_true", help="dark theme (default: light)")
    ap.add_argument("--size", default="1180x760")
    args = ap.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, dark=args.dark)  # type: ignore[arg-type]
    app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
    loop = install_event_loop(app)
    try:
        written = loop.run_until_complete(_shoot(args.out, args.dark, (width, height)))
    finally:
        loop.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
