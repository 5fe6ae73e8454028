"""Configure panel: keys go to the keyring and never show, bad values are refused next to their field with
nothing saved, good values are saved and announced, and a system without a keyring says so."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QWidget,
)

from autodevai.gui.panels.configure import ConfigurePanel

from .conftest import Harness

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform warns on show()


def fake_key() -> str:
    """A clearly fake, key-shaped canary made at runtime."""
    return "sk-" + "or-v1-canary-" + secrets.token_hex(12)


def all_texts(root: QWidget) -> list[str]:
    """Every piece of text a user could see (or copy) in ``root`` and its children."""
    texts: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        texts += [w.toolTip(), w.windowTitle()]
        if isinstance(w, QLineEdit):
            texts += [w.text(), w.displayText(), w.placeholderText()]
        elif isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        elif isinstance(w, QPlainTextEdit | QTextEdit):
            texts.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QTableWidget):
            items = [w.item(r, c) for r in range(w.rowCount()) for c in range(w.columnCount())]
            texts += [i.text() for i in items if i is not None] + [i.toolTip() for i in items if i is not None]
    return texts


def config_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


async def _panel(harness: Harness, **settings: Any) -> ConfigurePanel:
    ctx = await harness.start(**settings)
    panel = ConfigurePanel(ctx)
    harness.widgets.append(panel)
    panel.resize(1000, 720)
    panel.show()
    panel.on_shown()
    return panel


def test_a_saved_key_lands_in_the_keyring_and_is_never_shown(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness)
        # Reopen the way the app does: from the config file the panel writes.
        assert harness.host is not None
        harness.host.open_kw.pop("settings")
        providers = panel.providers
        providers.add_provider()
        assert providers.name_edit.text() == "openrouter"
        providers.url_edit.setText(harness.sim.base_url)  # type: ignore[union-attr]
        async with harness.wait_signal(panel.ctx.events.settings_changed, what="the provider saved"):
            panel.apply()
        assert "Saved to" in panel.status_label.text()
        await harness.wait_until(
            lambda: (
                panel.ctx.ready and panel.ctx.engine.settings.provider("openrouter") is not None and not providers.busy
            ),
            what="the engine reopened with the new provider",
        )
        providers.select("openrouter")
        assert "not set" in providers.key_title.text()

        key = fake_key()
        panel.key_edit.setText(key)
        assert panel.key_edit.echoMode() == QLineEdit.EchoMode.Password
        panel.save_key_button.click()
        assert panel.key_edit.text() == "", "the key field is cleared at once"
        await harness.wait_until(lambda: not providers.busy, what="the key saved and the engine reopened")
        assert harness.keyring.get_password("autodevai", "openrouter") == key
        assert "stored in keyring" in providers.key_title.text()
        assert "saved" in providers.key_result.text()
        leaks = [t for t in all_texts(panel) if key in t]
        assert not leaks, "the key must never appear in a widget"
        assert key not in (config_text(harness.tmp / "config.toml") or "")

        panel.test_button.click()  # a round trip through the new provider, with the new key
        await harness.wait_until(lambda: "round trip" in providers.key_result.text(), what="the provider test")
        assert "✓" in providers.key_result.text() and "✗" not in providers.key_result.text()
        assert not [t for t in all_texts(panel) if key in t]

    harness.run(body())


def test_a_negative_budget_is_refused_next_to_its_field_and_nothing_is_saved(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness)
        config = harness.tmp / "config.toml"
        before = config_text(config)
        field = panel.field_widgets["budget.daily_usd"]
        assert isinstance(field, QLineEdit)

        panel.no_cap["budget.daily_usd"].setChecked(False)
        field.setText("lots")  # not a number: refused before the engine is asked
        panel.apply()
        error = panel.field_errors["budget.daily_usd"]
        assert error.isVisible() and "amount in USD" in error.text()

        field.setText("-5")
        panel.apply()
        await harness.wait_until(lambda: "greater than or equal to 0" in error.text(), what="the engine's error")
        assert error.isVisible()
        assert error.parentWidget() is field.parentWidget(), "the error sits next to the field"
        assert "Not saved" in panel.status_label.text()
        assert config_text(config) == before
        assert panel.ctx.engine.settings.budget.daily_usd is None
        assert panel.apply_button.isEnabled(), "the edit is kept so it can be fixed"

        field.setText("2.5")  # fixing the field hides its error
        assert not error.isVisible()

    harness.run(body())


def test_a_valid_change_is_saved_announced_and_only_what_changed_is_sent(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness)
        ctx = panel.ctx
        assert not panel.apply_button.isEnabled(), "nothing to apply yet"
        # Someone else (the CLI, another panel) changes a setting after the form was loaded.
        await ctx.engine.configure_enhanced_orchestration({"routing": {"min_quality": 0.3}})

        panel.no_cap["budget.daily_usd"].setChecked(False)
        panel.field_widgets["budget.daily_usd"].setText("5")  # type: ignore[attr-defined]
        panel.field_widgets["routing.weights.price"].setValue(0.5)  # type: ignore[attr-defined]
        panel.field_widgets["tray/keep_running"].setChecked(True)  # type: ignore[attr-defined]
        assert panel.apply_button.isEnabled() and "Unsaved changes (3)" in panel.status_label.text()
        async with harness.wait_signal(ctx.events.settings_changed, what="settings_changed") as announced:
            panel.apply_button.click()

        config = harness.tmp / "config.toml"
        assert f"Saved to {config}" in panel.status_label.text()
        text = config_text(config) or ""
        assert "daily_usd = 5.0" in text and "price = 0.5" in text
        assert "min_quality = 0.3" in text, "a setting the form did not change is left alone"
        assert announced.args[0].budget.daily_usd == 5.0
        assert ctx.qsettings.value("tray/keep_running", False, type=bool) is True
        assert not panel.apply_button.isEnabled() and not panel.revert_button.isEnabled()

        panel.field_widgets["resilience.deadline_s"].setValue(90)  # type: ignore[attr-defined]
        panel.revert_button.click()
        assert panel.field_widgets["resilience.deadline_s"].value() == 60  # type: ignore[attr-defined]
        assert not panel.apply_button.isEnabled()

    harness.run(body())


def test_a_fallback_chain_and_the_tray_preference_are_saved(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness)
        ctx = panel.ctx
        announced: list[object] = []
        ctx.events.settings_changed.connect(announced.append)

        panel.field_widgets["tray/keep_running"].setChecked(True)  # type: ignore[attr-defined]
        panel.apply()  # only the window preference: nothing goes to the engine, the tray is told
        assert ctx.qsettings.value("tray/keep_running", False, type=bool) is True
        assert announced and not (harness.tmp / "config.toml").exists()

        panel.chains_table.setRowCount(1)
        panel.chains_table.setItem(0, 0, QTableWidgetItem("openai/gpt-4o"))
        panel.chains_table.setItem(0, 1, QTableWidgetItem(" anthropic/claude-3.5-sonnet ,google/gemini-2.0-flash-001"))
        assert panel.apply_button.isEnabled()
        async with harness.wait_signal(ctx.events.settings_changed, what="the chain saved"):
            panel.apply()
        assert "Saved to" in panel.status_label.text()
        assert ctx.engine.settings.routing.chains == {
            "openai/gpt-4o": ["anthropic/claude-3.5-sonnet", "google/gemini-2.0-flash-001"]
        }
        assert '"openai/gpt-4o" = [' in (config_text(harness.tmp / "config.toml") or "")

        panel.chains_table.setRowCount(0)  # deleting the row deletes the chain
        async with harness.wait_signal(ctx.events.settings_changed, what="the chain removed"):
            panel.apply()
        assert not ctx.engine.settings.routing.chains
        assert "openai/gpt-4o" not in (config_text(harness.tmp / "config.toml") or "")

    harness.run(body())


def test_the_built_in_simulator_is_shown_but_never_saved(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.host is not None and harness.sim is not None
        ctx.app.ephemeral.add("sim")  # as when compose started the simulator because nothing was configured
        harness.host.open_kw.pop("settings")  # reopen from the config file, as the app does
        panel = ConfigurePanel(ctx)
        harness.widgets.append(panel)
        panel.show()
        panel.on_shown()
        providers = panel.providers
        assert "built-in, not saved" in providers.table.item(0, 1).text()  # type: ignore[union-attr]
        assert not providers.name_edit.isEnabled() and not providers.remove_button.isEnabled()
        assert not panel.key_edit.isEnabled(), "the simulator needs no key"

        providers.add_provider()
        providers.name_edit.setText("local")
        providers.kind_combo.setCurrentText("openai")
        providers.url_edit.setText(harness.sim.base_url)
        async with harness.wait_signal(ctx.events.settings_changed, what="the provider saved"):
            panel.apply()
        assert "Saved to" in panel.status_label.text()
        await harness.wait_until(lambda: not providers.busy, what="the engine reopened")
        text = config_text(harness.tmp / "config.toml") or ""
        assert 'name = "local"' in text and 'name = "sim"' not in text
        assert [p.name for p in ctx.engine.settings.providers] == ["local"]

    harness.run(body())


def test_a_bad_provider_is_refused_with_its_name(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness)
        providers = panel.providers
        providers.add_provider()
        providers.name_edit.setText("local")
        providers.url_edit.setText("ftp://127.0.0.1/v1")
        panel.apply()
        error = panel.field_errors["providers"]
        await harness.wait_until(error.isVisible, what="the provider error")
        assert "local" in error.text() and "base url" in error.text()
        assert [p.name for p in panel.ctx.engine.settings.providers] == ["sim"]

    harness.run(body())


def test_without_a_keyring_the_panel_says_so_and_cannot_save_keys(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]  # untyped lib
        try:
            panel = ConfigurePanel(ctx)
            harness.widgets.append(panel)
            panel.show()
            panel.on_shown()
            assert panel.providers.notice.isVisible()
            assert "No OS keyring on this system" in panel.providers.notice.text()
            assert "OPENROUTER_API_KEY" in panel.providers.notice.text()
            assert not panel.save_key_button.isEnabled()
        finally:
            keyring.set_keyring(harness.keyring)

    harness.run(body())


def test_hedging_and_the_probe_mode_are_offered_and_saved(harness: Harness) -> None:
    async def body() -> None:
        panel = await _panel(harness, health={"probe": "chat"})
        ctx = panel.ctx
        assert not panel.hedge_check.isChecked(), "hedging is off by default"
        assert panel.probe_combo.currentData() == "chat", "the form shows the saved probe mode"
        assert panel.probe_combo.currentText() == "One-token request to the model"
        panel.show_tab("Budgets & resilience")
        assert panel.hedge_check.isVisible() and panel.probe_combo.isVisible()

        panel.hedge_check.setChecked(True)
        panel.probe_combo.setCurrentIndex(panel.probe_combo.findData("off"))
        assert "Unsaved changes (2)" in panel.status_label.text()
        async with harness.wait_signal(ctx.events.settings_changed, what="the resilience settings saved"):
            panel.apply_button.click()
        assert ctx.engine.settings.resilience.hedge is True
        assert ctx.engine.settings.health.probe == "off"
        text = config_text(harness.tmp / "config.toml") or ""
        assert "hedge = true" in text and 'probe = "off"' in text

        # A change made elsewhere (the CLI's `config set`) shows in the form.
        async with harness.wait_signal(ctx.events.settings_changed, what="the form reloaded"):
            await ctx.engine.configure_enhanced_orchestration(
                {"resilience": {"hedge": False}, "health": {"probe": "models"}}
            )
            ctx.events.settings_changed.emit(ctx.engine.settings)
        assert not panel.hedge_check.isChecked() and panel.probe_combo.currentData() == "models"

    harness.run(body())
