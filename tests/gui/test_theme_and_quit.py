"""The theme switch (View → Theme and Configure → Desktop) changes the palette at once and is restored on restart;
in the dark theme a check box stays visible; Ctrl+Q quits — the window, even when it would keep running in the
tray, and the whole app started by ``autodevai.gui.app.main``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle, QStyleOptionButton
from pytestqt.qtbot import QtBot

from autodevai.gui.bridge import GuiContext
from autodevai.gui.main_window import MainWindow
from autodevai.gui.theme import THEME_KEY, apply_theme, is_dark
from autodevai.gui.tray import TrayController
from autodevai.gui.widgets import Card

from .conftest import Harness

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    """The application is shared by every test: put its palette, style sheet and style back afterwards."""
    palette, sheet, style = QPalette(qapp.palette()), qapp.styleSheet(), qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def _window_color(widget: Any) -> QColor:
    return widget.palette().color(QPalette.ColorRole.Window)


def test_the_theme_switch_applies_live_and_is_restored_on_restart(
    harness: Harness, qtbot: QtBot, restore_theme: None
) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        window.show()
        execute = window.show_panel("Execute")
        assert window.theme_actions["system"].isChecked(), "System is the first choice"

        window.theme_actions["dark"].trigger()  # View → Theme → Dark
        assert is_dark() and _window_color(execute).lightness() < 100, "an open panel turns dark at once"
        assert ctx.qsettings.value(THEME_KEY) == "dark"
        configure: Any = window.show_panel("Configure")
        configure.show_tab("Desktop")
        combo = configure.theme_combo
        assert combo.currentText() == "Dark", "Configure shows the same choice as the menu"

        combo.setCurrentIndex(combo.findData("light"))  # Configure → Desktop → Theme → Light
        combo.activated.emit(combo.currentIndex())
        assert not is_dark() and _window_color(execute).lightness() > 200
        assert window.theme_actions["light"].isChecked(), "the menu follows Configure"

        window.theme_actions["dark"].trigger()
        window.close()
        apply_theme(QApplication.instance(), dark=False)  # a fresh start begins from the default palette
        again = GuiContext(QSettings(str(harness.tmp / "ui.ini"), QSettings.Format.IniFormat))
        assert again.theme.mode == "dark"
        again.theme.apply_saved()  # what app.main does before building the window
        restarted = MainWindow(again)
        harness.widgets.append(restarted)
        assert is_dark() and restarted.theme_actions["dark"].isChecked()

    harness.run(body())


def test_an_unchecked_check_box_stands_out_from_a_dark_card(qtbot: QtBot, restore_theme: None) -> None:
    apply_theme(QApplication.instance(), dark=True)
    card = Card("Desktop app")
    qtbot.add_widget(card)
    check = QCheckBox("Show alerts as desktop notifications")
    card.body.addWidget(check)
    card.resize(360, 80)
    card.show()
    qtbot.waitExposed(card)
    image = card.grab().toImage()
    option = QStyleOptionButton()
    option.initFrom(check)
    box = check.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, check)
    box.translate(check.mapTo(card, QPoint(0, 0)))
    background = image.pixelColor(box.right() + 40, box.top() - 4 if box.top() > 4 else box.bottom() + 4)
    edge = [image.pixelColor(box.left() + 1, y) for y in range(box.top() + 3, box.bottom() - 2)]
    contrast = max(abs(c.lightness() - background.lightness()) for c in edge)
    assert contrast >= 60, f"the box's edge is lost in the card ({contrast} levels of lightness apart)"


def test_ctrl_q_closes_the_window_even_when_it_would_keep_running_in_the_tray(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        harness.widgets.append(window)
        closed: list[bool] = []
        window.closing.connect(lambda: closed.append(True))
        window.show()
        window.activateWindow()
        await harness.wait_until(window.isActiveWindow, what="the window to be active")
        assert QKeySequence("Ctrl+Q") in window.quit_action.shortcuts()
        window.keep_in_tray = True  # as with a tray and "Keep running in the tray" ticked
        QTest.keySequence(window, QKeySequence("Ctrl+Q"))
        assert closed == [True] and not window.isVisible(), "Ctrl+Q quits instead of hiding into the tray"

    harness.run(body())


def test_ctrl_q_quits_the_app(qapp: QApplication, tmp_path: Any, restore_theme: None) -> None:
    """The real ``main()``: the built-in simulator starts (nothing is configured), Ctrl+Q in the window ends it."""
    from autodevai import paths
    from autodevai.gui import app as gui_app

    state = QSettings(str(paths.config_dir() / "ui.ini"), QSettings.Format.IniFormat)
    state.setValue("onboarding/done", True)  # no first-run dialog over the window
    state.sync()
    pressed: list[str] = []

    def press_when_ready() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and "models" in windows[0].engine_label.text() and not pressed:
            windows[0].activateWindow()
            pressed.append(windows[0].engine_label.text())
            QTest.keySequence(windows[0], QKeySequence("Ctrl+Q"))

    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(press_when_ready)
    poll.start()
    fired: list[bool] = []

    def give_up() -> None:  # so a broken Ctrl+Q fails the test instead of hanging it
        fired.append(True)
        for w in qapp.topLevelWidgets():
            if isinstance(w, MainWindow):
                w.quit_app()

    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(give_up)
    watchdog.start(30_000)
    hooks = sys.get_asyncgen_hooks()
    try:
        assert gui_app.main(["autodevai"]) == 0
    finally:
        poll.stop()
        watchdog.stop()
        asyncio.set_event_loop(None)
        sys.set_asyncgen_hooks(*hooks)
        for w in qapp.topLevelWidgets():
            if isinstance(w, MainWindow):
                w.hide()
                w.deleteLater()
    assert pressed and "built-in simulator" in pressed[0], "the window was up, on the simulator, when Ctrl+Q came"
    assert not fired, "Ctrl+Q, not the watchdog, ended the app"


def test_ctrl_q_in_the_quick_prompt_quits_while_the_window_hides_in_the_tray(harness: Harness, qtbot: QtBot) -> None:
    async def body() -> None:
        ctx = await harness.start()
        window = MainWindow(ctx)
        harness.widgets.append(window)
        tray = TrayController(ctx, window)
        closed: list[bool] = []
        window.closing.connect(lambda: closed.append(True))
        window.show()
        window.keep_in_tray = True
        window.close()
        assert not window.isVisible() and not closed, "the window went to the tray"
        popup = tray.popup
        harness.widgets.append(popup)
        popup.setMinimumSize(popup.size())  # the layout then never resizes the window (offscreen warns)
        popup.show_near()
        await harness.wait_until(popup.isActiveWindow, what="the popup to be active")
        QTest.keySequence(popup.prompt_edit, QKeySequence("Ctrl+Q"))
        assert closed == [True], "Ctrl+Q in the popup ends the app though the window is hidden"

    harness.run(body())
