"""The main window: every panel reachable from the sidebar and Ctrl+1..0, lazy creation, state restored."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from autodevai.gui.bridge import GuiContext
from autodevai.gui.main_window import MainWindow
from autodevai.gui.panels import PANELS

from .conftest import Harness


def test_every_panel_opens_and_shortcuts_switch(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        harness.widgets.append(window)
        window.show()
        window.activateWindow()
        await harness.wait_until(window.isActiveWindow, what="the window to be active")
        assert set(window.panels) == {"Execute"}, "only the first panel is built at start"
        for index, (title, _spec) in enumerate(PANELS):
            if index < 10:
                QTest.keySequence(window, QKeySequence(f"Ctrl+{(index + 1) % 10}"))
            else:  # past the tenth panel there is no shortcut: the sidebar
                window.sidebar.setCurrentRow(index)
            await harness.wait_until(lambda t=title: window.current_title() == t, what=title)
            panel = window.panels[title]
            assert panel.isVisible()
            texts = [w.text() for w in panel.findChildren(QLabel)]
            assert title in texts, f"{title} panel shows its title"
        await harness.wait_until(lambda: "models" in window.engine_label.text())

    harness.run(body())


def test_geometry_and_last_panel_are_restored(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        window.show()
        window.resize(900, 650)  # the offscreen screen is 800x800: Qt clamps wider geometries when restoring
        window.show_panel("Status")
        window.close()
        again = MainWindow(GuiContext(QSettings(str(harness.tmp / "ui.ini"), QSettings.Format.IniFormat)))
        harness.widgets.append(again)
        assert again.current_title() == "Status"
        assert (again.size().width(), again.size().height()) == (900, 650)

    harness.run(body())


def test_close_keeps_running_in_tray_when_asked(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        harness.widgets.append(window)
        closed: list[bool] = []
        window.closing.connect(lambda: closed.append(True))
        window.show()
        window.keep_in_tray = True
        window.close()
        assert not window.isVisible() and not closed
        window.keep_in_tray = False
        window.show()
        window.close()
        assert closed == [True]

    harness.run(body())


def test_errors_show_in_the_banner(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        harness.widgets.append(window)
        window.show()
        ctx.events.error.emit("BudgetExceeded", "daily budget: $0.0000 left")
        assert window.banner.isVisible() and "daily budget" in window.banner.label.text()
        dismiss = next(b for b in window.banner.findChildren(QPushButton) if b.text() == "Dismiss")
        qtbot.mouseClick(dismiss, Qt.MouseButton.LeftButton)
        assert not window.banner.isVisible()

    harness.run(body())


def test_status_bar_shows_the_gateway(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        harness.keyring.set_password("autodevai", "gateway-token", "gui-test-gateway-token")
        ctx = await harness.start(gateway={"enabled": True, "port": 0})
        window = MainWindow(ctx)
        harness.widgets.append(window)
        window.show()
        text = window.gateway_label.text()
        assert text.startswith("Gateway http://127.0.0.1:") and text.endswith("/v1")
        assert harness.host is not None and harness.host.gateway is not None
        # the gateway answers OpenAI's models call with the token
        import httpx

        async with httpx.AsyncClient(trust_env=False) as client:
            r = await client.get(
                harness.host.gateway.base_url + "/models",
                headers={"Authorization": "Bearer gui-test-gateway-token"},
            )
        assert r.status_code == 200 and any(m["id"] == "auto" for m in r.json()["data"])

    harness.run(body())
