"""The Status panel against a real engine and the simulator: an opened breaker shows red with a countdown,
budget caps show as gauges with their numbers, the provider row shows its state and key source, and its last
background probe (failed, then ok) with the probe mode."""

from __future__ import annotations

import asyncio
import contextlib
import re
from types import SimpleNamespace

import pytest

from autodevai.engine.errors import EngineError
from autodevai.engine.types import ChatRequest
from autodevai.gui.panels.status import PROVIDER_COLUMNS, StatusPanel
from autodevai.gui.panels.status_cells import probe_cell
from autodevai.gui.theme import state_color

from .conftest import SIM_KEY, Harness

# The offscreen platform warns whenever a shown top-level widget's size hints change: not a defect of ours.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

FAILING = "openai/gpt-4o-mini"
GOOD = "google/gemini-2.0-flash-001"
RESILIENCE = {"retries_per_model": 0, "breaker": {"min_calls": 3, "window": 4, "open_s": 30}}


def _panel(harness: Harness, ctx) -> StatusPanel:  # type: ignore[no-untyped-def]
    w = StatusPanel(ctx)
    harness.widgets.append(w)
    w.resize(1000, 720)
    w.show()
    w.on_shown()
    return w


def _row(table, col: int, text: str) -> int:  # type: ignore[no-untyped-def]
    for r in range(table.rowCount()):
        item = table.item(r, col)
        if item is not None and item.text() == text:
            return r
    return -1


def test_an_open_breaker_shows_red_and_counts_down_to_half_open(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience=RESILIENCE)
        assert harness.sim is not None
        harness.sim.add_fault({"kind": "http_error", "status": 500, "model": FAILING})
        w = _panel(harness, ctx)
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is 1+1?", model=GOOD))
        for i in range(8):
            with contextlib.suppress(EngineError):
                await ctx.engine.execute_enhanced_ai_request(
                    ChatRequest.from_prompt(f"What is {i}+3?", model=FAILING, fallbacks=[])
                )
            status = await ctx.engine.get_enhanced_system_status()
            if any(b.model == FAILING and str(b.snapshot.state) == "open" for b in status.breakers):
                break
        else:
            raise AssertionError("the breaker never opened")

        t = w.breakers_table
        await harness.wait_until(lambda: (r := _row(t, 1, FAILING)) >= 0 and t.item(r, 2).text() == "open")
        r = _row(t, 1, FAILING)
        assert r == 0, "open breakers are listed first"
        assert t.item(r, 2).foreground().color().name() == state_color("open")
        assert t.item(r, 4).text() == "100 %"
        first = t.item(r, 6).text()
        m = re.fullmatch(r"(\d+) s", first)
        assert m and 25 <= int(m.group(1)) <= 40, first

        def ticked() -> bool:
            later = re.fullmatch(r"(\d+) s", t.item(_row(t, 1, FAILING), 6).text())
            return bool(later) and int(later.group(1)) < int(m.group(1))

        await harness.wait_until(ticked, limit_s=3.0, what="the countdown to tick")
        good = _row(t, 1, GOOD)
        assert t.item(good, 2).text() == "closed"
        assert t.item(good, 2).foreground().color().name() == state_color("closed")
        assert "1 not closed" in w.breakers_note.text()

    harness.run(body())


def test_budget_gauges_and_the_provider_row(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(budget={"daily_usd": 1.0})
        w = _panel(harness, ctx)
        await harness.wait_until(lambda: w.providers_table.rowCount() == 1, what="the provider row")
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is 2+2?", model=GOOD))

        daily = w.budget_bars["daily"]
        await harness.wait_until(lambda: "of $1.0000" in daily.text() and "$0 of" not in daily.text())
        assert re.search(r"\$0\.\d+ of \$1\.0000 · \$[01]\.\d+ left", daily.text()), daily.text()
        assert daily.bar.isEnabled() and daily.bar.format().endswith("% used")
        for cap in ("monthly", "total"):
            gauge = w.budget_bars[cap]
            assert gauge.bar.format() == "no cap" and "no cap" in gauge.text()
            assert not gauge.bar.isEnabled()

        t = w.providers_table
        await harness.wait_until(lambda: t.item(0, 4) is not None and t.item(0, 4).text() == "1", what="one call")
        cells = {t.horizontalHeaderItem(c).text(): t.item(0, c).text() for c in range(t.columnCount())}
        assert cells["Provider"] == "sim" and cells["Kind"] == "openrouter"
        assert cells["State"] == "up"
        assert t.item(0, 3).foreground().color().name() == state_color("up")
        assert cells["Key"] == "keyring"
        assert cells["Rate limit"] == "no limit"
        assert cells["Base URL"].startswith("http://127.0.0.1:")
        shown = " ".join(
            t.item(r, c).text() + t.item(r, c).toolTip() for r in range(t.rowCount()) for c in range(t.columnCount())
        )
        assert SIM_KEY not in shown, "the key itself is never shown"
        assert "models" in w.engine_grid.values["Catalog"].text()

    harness.run(body())


def test_status_refreshes_right_after_a_request_and_stops_when_hidden(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = _panel(harness, ctx)
        await harness.wait_until(lambda: w.providers_table.rowCount() == 1, what="the provider row")
        w.on_hidden()
        assert not w.timer.isActive()
        w.on_shown()
        await ctx.engine.execute_enhanced_ai_request(ChatRequest.from_prompt("What is 3+3?", model=GOOD))
        # Well before the next one-second tick would be due on its own.
        await harness.wait_until(lambda: _row(w.breakers_table, 1, GOOD) >= 0, limit_s=0.9, what="the breaker row")

    harness.run(body())


# ---- background probes ---------------------------------------------------------------------------------------------

PROBED = {"retries_per_model": 0, "breaker": {"min_calls": 3, "window": 4, "open_s": 0.4, "open_jitter": 0.0}}


def _probe_cell(w: StatusPanel) -> tuple[str, str]:
    t = w.providers_table
    col = PROVIDER_COLUMNS.index("Last probe")
    item = t.item(0, col)
    return (item.text(), item.toolTip()) if item is not None else ("", "")


def test_the_last_background_probe_shows_per_provider_and_updates_live(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start(resilience=PROBED, health={"probe": "chat"})
        assert harness.sim is not None
        w = _panel(harness, ctx)
        async with harness.wait_signal(w.refreshed, what="the first status"):
            pass
        assert _probe_cell(w)[0] == "never probed"
        assert "one-token request" in w.probe_note.text(), "the probe mode is said under the table"

        harness.sim.add_fault({"kind": "http_error", "status": 500, "model": FAILING})
        for i in range(6):
            with contextlib.suppress(EngineError):
                await ctx.engine.execute_enhanced_ai_request(
                    ChatRequest.from_prompt(f"What is {i}+5?", model=FAILING, fallbacks=[])
                )
        await asyncio.sleep(0.5)  # the breaker's open time is up: the next maintenance pass probes it
        await ctx.engine.run_maintenance()
        failed = lambda st: st.providers[0].last_probe_ok is False  # noqa: E731
        async with harness.wait_signal(w.refreshed, check=failed, what="the failed probe"):
            w.refresh_now()
        text, tip = _probe_cell(w)
        assert text == "failed · just now", text
        assert "failed: ProviderUnavailable" in tip, tip  # what went wrong, in the tooltip
        col = PROVIDER_COLUMNS.index("Last probe")
        assert w.providers_table.item(0, col).foreground().color().name() == state_color("error")

        harness.sim.clear_faults()  # the model recovers; the next probe (after the open time again) answers
        await asyncio.sleep(0.5)
        await ctx.engine.run_maintenance()
        ok = lambda st: st.providers[0].last_probe_ok is True  # noqa: E731
        async with harness.wait_signal(w.refreshed, check=ok, what="the successful probe"):
            w.refresh_now()
        text, tip = _probe_cell(w)
        assert text == "ok · just now" and "answered" in tip, (text, tip)

    harness.run(body())


def test_a_probe_cell_reads_how_long_ago_and_the_mode_off(qapp: object) -> None:
    now = 1_700_000_000.0
    failed = SimpleNamespace(last_probe_wall=now - 125, last_probe_ok=False, last_probe_detail="ProviderTimeout: 10 s")
    text, color, tip = probe_cell(failed, "models", now)
    assert (text, color) == ("failed · 2 min ago", state_color("error"))
    assert tip.endswith("failed: ProviderTimeout: 10 s")
    fresh = SimpleNamespace(last_probe_wall=now - 12, last_probe_ok=True, last_probe_detail="GET /models: 312 models")
    assert probe_cell(fresh, "models", now)[0] == "ok · 12 s ago"
    never = SimpleNamespace(last_probe_wall=None, last_probe_ok=None, last_probe_detail=None)
    assert probe_cell(never, "models", now)[0] == "never probed"
    assert probe_cell(never, "off", now)[0] == "probes off"
