"""First-run dialog: each of the three ways forward works in one click and marks onboarding as done."""

from __future__ import annotations

import socket

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QWidget

from autodevai.gui.bridge import GuiContext
from autodevai.gui.onboarding import DONE_KEY, OnboardingDialog

from .conftest import Harness
from .test_configure import all_texts, config_text, fake_key

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform warns on show()


def _dialog(harness: Harness, ctx: GuiContext, **kw: str) -> OnboardingDialog:
    """The dialog over a visible main window, as the app shows it (closing it must not end the app)."""
    window = QWidget()
    window.resize(400, 300)
    window.show()
    harness.widgets.append(window)
    dialog = OnboardingDialog(ctx, window, **kw)
    dialog.open()
    return dialog


def _done(dialog: OnboardingDialog) -> bool:
    return bool(dialog.ctx.qsettings.value(DONE_KEY, False, type=bool))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_pasting_a_key_saves_it_to_the_keyring_and_finishes(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        dialog = _dialog(harness, ctx)
        assert not _done(dialog)
        key = fake_key()
        dialog.key_edit.setText(key)
        assert dialog.key_edit.displayText() != key, "the key is masked"
        async with harness.wait_signal(dialog.finished, what="the dialog to close"):
            dialog.save_key_button.click()
            assert not [t for t in all_texts(dialog) if key in t], "the key is never shown"
        assert not dialog.isVisible()
        assert harness.keyring.get_password("autodevai", "openrouter") == key
        assert _done(dialog)
        assert ctx.ready, "the engine was reopened"

    harness.run(body())


def test_the_simulator_choice_closes_and_finishes(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        dialog = _dialog(harness, ctx)
        dialog.simulator_button.click()
        assert not dialog.isVisible()
        assert _done(dialog)

    harness.run(body())


def test_ollama_not_running_is_reported(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        dialog = _dialog(harness, ctx)
        await harness.wait_until(lambda: "Looking" not in dialog.ollama_status.text(), what="the Ollama probe")
        if _port_open(11434):
            pytest.skip("something listens on 127.0.0.1:11434 on this machine")
        assert "Ollama not detected (start it and reopen this dialog)" in dialog.ollama_status.text()
        assert not dialog.ollama_button.isEnabled()
        dialog.reject()  # closing the dialog also counts as done
        assert _done(dialog)

    harness.run(body())


def test_a_detected_ollama_is_added_as_a_provider(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        assert harness.sim is not None
        # The simulator speaks the OpenAI API, so it stands in for a local Ollama.
        dialog = _dialog(harness, ctx, ollama_url=harness.sim.base_url)
        await harness.wait_until(dialog.ollama_button.isEnabled, what="Ollama detected")
        assert "running" in dialog.ollama_status.text()
        async with harness.wait_signal(dialog.finished, what="the dialog to close"):
            dialog.ollama_button.click()
        assert not dialog.isVisible()
        text = config_text(harness.tmp / "config.toml") or ""
        assert 'name = "ollama"' in text and harness.sim.base_url in text
        assert _done(dialog)

    harness.run(body())


def test_without_a_keyring_the_dialog_explains_the_env_var(harness: Harness) -> None:
    async def body() -> None:
        ctx = await harness.start()
        keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]  # untyped lib
        try:
            dialog = _dialog(harness, ctx)
            assert not dialog.save_key_button.isEnabled() and not dialog.key_edit.isEnabled()
            assert "OPENROUTER_API_KEY" in dialog.key_status.text()
            dialog.simulator_button.click()
            assert _done(dialog)
        finally:
            keyring.set_keyring(harness.keyring)

    harness.run(body())
