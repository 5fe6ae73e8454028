"""The Models and Capabilities panels against the real engine and the simulator's 400-model catalog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyle, QTableView
from pytestqt.qtbot import QtBot

from autodevai.engine.types import ModelInfo
from autodevai.gui.panels.capabilities import CapabilitiesPanel, keys_html
from autodevai.gui.panels.models import ModelsPanel

from .conftest import Harness

# The offscreen platform warns when a top-level widget is shown; it says nothing about our code.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
OUT = 6  # the "$/M out" column


def _price(text: str) -> float:
    if text == "unknown":  # sorted after every known price
        return float("inf")
    return 0.0 if text == "free" else float(text.replace("$", "").replace(",", ""))


def test_models_search_sort_filter_and_use(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = ModelsPanel(ctx)
        harness.widgets.append(w)
        w.resize(1000, 700)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.proxy.rowCount() >= 300, what="the catalog in the table")
        total = w.proxy.rowCount()
        assert w.count_label.text().startswith(f"{total} of {total} models")

        qtbot.keyClicks(w.search_edit, "gpt-4o")
        shown = w.proxy.rowCount()
        assert 0 < shown < total
        assert all("gpt-4o" in mid for mid in w.visible_ids())
        assert w.count_label.text().startswith(f"{shown} of {total} models")

        w.search_edit.clear()
        head = w.view.horizontalHeader()
        x = head.sectionViewportPosition(OUT) + head.sectionSize(OUT) // 2
        qtbot.mouseClick(head.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
        prices = [_price(w.proxy.index(r, OUT).data()) for r in range(w.proxy.rowCount())]
        if prices[0] > prices[-1]:  # a second click sorts the other way; both must be numeric
            prices.reverse()
        assert prices == sorted(prices) and prices[-1] > 10 > prices[len(prices) // 2]

        w.free_check.setChecked(True)
        free = w.proxy.rowCount()
        assert 0 < free < total
        assert all(w.proxy.index(r, OUT).data() == "free" for r in range(free))
        w.free_check.setChecked(False)

        used: list[str] = []
        ctx.events.use_model.connect(used.append)
        assert not w.use_button.isEnabled()
        qtbot.keyClicks(w.search_edit, "openai/gpt-4o-mini")
        assert w.select_model("openai/gpt-4o-mini")
        assert "openai/gpt-4o-mini" in w.detail_title.text()
        qtbot.mouseClick(w.use_button, Qt.MouseButton.LeftButton)
        rect = w.view.visualRect(w.view.currentIndex())
        qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert used == ["openai/gpt-4o-mini", "openai/gpt-4o-mini"]

    harness.run(body())


def test_capabilities_show_the_catalog_and_providers(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = CapabilitiesPanel(ctx)
        harness.widgets.append(w)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.capabilities is not None, what="capabilities")
        n = len(ctx.engine.models())
        assert w.catalog_grid.values["Models"].text() == f"{n} models"
        assert f"{n} models from" in w.status_label.text()
        assert "sim" in w.providers_label.text()
        assert "balanced" in w.strategies_label.text() and "(default)" in w.strategies_label.text()
        assert "circuit breakers" in w.features_label.text()
        keys = w.secrets_label.text()  # one plain sentence, not "Keys are read from: keyring: keyring …"
        assert keys.startswith("Keys are kept in the <b>OS keyring</b>;") and "environment variable" in keys
        assert "read from:" not in keys and "keyring: " not in keys

    harness.run(body())


def test_without_a_keyring_the_keys_card_points_at_environment_variables() -> None:
    text = keys_html("no OS keyring available: keys come from environment variables")
    assert text.startswith("There is no OS keyring here:") and "OPENROUTER_API_KEY" in text


# Among the longest ids of OpenRouter's real listing (../shared/data/openrouter/or_models_2026-08-19.json).
LONG_ID = "cognitivecomputations/dolphin-mistral-24b-venice-edition"


def _text_room(view: QTableView, row: int) -> int:
    """How many pixels of text the id cell of ``row`` shows before it elides."""
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    return view.visualRect(view.model().index(row, 0)).width() - margin


def test_the_longest_model_id_is_never_cut(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = ModelsPanel(ctx)
        harness.widgets.append(w)
        w.resize(1000, 700)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.proxy.rowCount() >= 300, what="the catalog in the table")
        metrics = w.view.fontMetrics()
        longest = max((m.id for m in w.source.models), key=metrics.horizontalAdvance)
        qtbot.keyClicks(w.search_edit, longest)
        assert w.select_model(longest)
        assert _text_room(w.view, w.view.currentIndex().row()) >= metrics.horizontalAdvance(longest)

        # A longer id from OpenRouter's real catalog: the column widens for it when the catalog holds it.
        extra = ModelInfo(id=LONG_ID, provider="openrouter", name="Venice: Uncensored", vendor="cognitivecomputations")
        w.source.set_models([*w.source.models, extra])
        w.fit_id_column()
        w.search_edit.setText(LONG_ID)
        assert w.select_model(LONG_ID)
        assert _text_room(w.view, w.view.currentIndex().row()) >= metrics.horizontalAdvance(LONG_ID)
        name_col = w.view.horizontalHeader().sectionSize(1)
        assert name_col >= 48, "the name column keeps some room (it elides, the id does not)"

    harness.run(body())


def test_unknown_windows_and_prices_read_unknown_and_unrouted_models_say_why(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        w = ModelsPanel(ctx)
        harness.widgets.append(w)
        w.resize(1000, 700)
        w.show()
        w.on_shown()
        await harness.wait_until(lambda: w.proxy.rowCount() >= 300, what="the catalog in the table")
        mystery = ModelInfo(id="local/mystery-13b", provider="local", context_known=False, price_known=False)
        music = ModelInfo(
            id="acme/lyria-music",
            provider="openrouter",
            price_known=True,
            route_exclusion="billed $0.04 per clip",
            output_modalities=("audio",),
        )
        w.source.set_models([*w.source.models, mystery, music])

        w.search_edit.setText("mystery-13b")
        assert w.visible_ids() == ["local/mystery-13b"]
        cells = [w.proxy.index(0, c).data() for c in (4, 5, 6)]
        assert cells == ["unknown", "unknown", "unknown"], "an unstated window or price is not 4K nor free"
        assert "did not state" in w.proxy.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
        w.select_model("local/mystery-13b")
        assert w.detail_grid.values["Context"].text().startswith("unknown")
        assert w.detail_grid.values["Prices"].text().startswith("unknown")
        w.free_check.setChecked(True)
        assert w.visible_ids() == [], "an unknown price is never listed as free"
        w.free_check.setChecked(False)

        w.search_edit.setText("lyria")
        assert w.visible_ids() == ["acme/lyria-music"]
        tip = w.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
        assert "Routing never picks it on its own: billed $0.04 per clip" in tip
        muted = w.proxy.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
        assert muted is not None and muted == w.palette().color(QPalette.ColorRole.PlaceholderText)
        assert "1 shown muted" in w.count_label.text()
        w.select_model("acme/lyria-music")
        assert "billed $0.04 per clip" in w.detail_grid.values["Routing"].text()

    harness.run(body())
