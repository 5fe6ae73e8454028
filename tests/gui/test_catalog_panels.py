"""The Models and Capabilities panels against the real engine and the simulator's 400-model catalog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from autodevai.gui.panels.capabilities import CapabilitiesPanel
from autodevai.gui.panels.models import ModelsPanel

from .conftest import Harness

# The offscreen platform warns when a top-level widget is shown; it says nothing about our code.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
OUT = 6  # the "$/M out" column


def _price(text: str) -> float:
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
        assert w.count_label.text() == f"{total} of {total} models"

        qtbot.keyClicks(w.search_edit, "gpt-4o")
        shown = w.proxy.rowCount()
        assert 0 < shown < total
        assert all("gpt-4o" in mid for mid in w.visible_ids())
        assert w.count_label.text() == f"{shown} of {total} models"

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
        n = len(ctx.engine.parts.catalog)
        assert w.catalog_grid.values["Models"].text() == f"{n} models"
        assert f"{n} models from" in w.status_label.text()
        assert "sim" in w.providers_label.text()
        assert "balanced" in w.strategies_label.text() and "(default)" in w.strategies_label.text()
        assert "circuit breakers" in w.features_label.text()

    harness.run(body())
