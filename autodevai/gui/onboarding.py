"""The first-run dialog: with no provider or key configured, it offers the three ways forward, each one click away.

(1) paste an OpenRouter key (saved in the OS keyring through the engine, then the engine is reopened);
(2) use a local Ollama, found by compose's quick TCP probe of 127.0.0.1:11434 (added as an OpenAI-compatible
provider through ``configure_enhanced_orchestration``); (3) keep the built-in simulator. Every way out, closing the
dialog included, sets ``onboarding/done`` so it is not shown again. The key is never echoed.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from autodevai.compose import OLLAMA_URL, local_server_running
from autodevai.engine.errors import EngineError
from autodevai.gui.bridge import GuiContext
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, muted

__all__ = ["DONE_KEY", "OLLAMA_URL", "OnboardingDialog"]

DONE_KEY = "onboarding/done"


def _colored(state: str, text: str) -> str:
    return f'<span style="color:{state_color(state)}">{html.escape(text)}</span>'


class OnboardingDialog(QDialog):
    """Shown once, when the simulator answers because nothing is configured. Use ``open()`` (window-modal)."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None, *, ollama_url: str = OLLAMA_URL) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ollama_url = ollama_url.rstrip("/")
        self._busy = False
        self._ollama_found = False
        self.setWindowTitle("Welcome to AutoDevAI")
        self.setMinimumWidth(600)
        self.setStyleSheet('QFrame[role="card"] { background: palette(alternate-base); }')
        lay = QVBoxLayout(self)
        lay.setContentsMargins(22, 18, 22, 18)
        lay.setSpacing(12)
        title = QLabel("Welcome to AutoDevAI")
        title.setProperty("role", "title")
        lay.addWidget(title)
        lay.addWidget(
            muted(
                "No provider or API key is configured yet, so the built-in simulator is answering "
                "(its answers are simulated). Choose how to continue; you can change this any time in Configure."
            )
        )

        card = Card("1. Use OpenRouter: 400+ models with one key")
        where = muted(
            'Create a key at <a href="https://openrouter.ai/keys">openrouter.ai/keys</a> and paste it here. '
            "It goes to the OS keyring, never to a file."
        )
        where.setOpenExternalLinks(True)
        card.body.addWidget(where)
        row = QHBoxLayout()
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste your OpenRouter API key")
        self.key_edit.returnPressed.connect(self.save_key)
        self.save_key_button = QPushButton("Save to keyring")
        self.save_key_button.setProperty("role", "primary")
        self.save_key_button.setToolTip("Store the key in the OS keyring and switch to OpenRouter")
        self.save_key_button.clicked.connect(self.save_key)
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.save_key_button)
        card.body.addLayout(row)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        self.key_status.hide()
        card.body.addWidget(self.key_status)
        lay.addWidget(card)

        card = Card("2. Use a local Ollama")
        self.ollama_status = QLabel()
        self.ollama_status.setWordWrap(True)
        self.ollama_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.ollama_status, 1)
        self.retry_button = QPushButton("Check again")
        self.retry_button.setToolTip(f"Look for Ollama at {self.ollama_url} again")
        self.retry_button.clicked.connect(self.check_ollama)
        self.ollama_button = QPushButton("Use Ollama")
        self.ollama_button.setToolTip(f"Add Ollama ({self.ollama_url}) as a provider and use its models")
        self.ollama_button.clicked.connect(self.use_ollama)
        row.addWidget(self.retry_button)
        row.addWidget(self.ollama_button)
        card.body.addLayout(row)
        lay.addWidget(card)

        card = Card("3. Try the built-in simulator")
        row = QHBoxLayout()
        row.addWidget(
            muted("Explore every panel with simulated answers; nothing leaves this computer. Add a key later."), 1
        )
        self.simulator_button = QPushButton("Try the simulator")
        self.simulator_button.setToolTip("Close this dialog and keep the simulator answering")
        self.simulator_button.clicked.connect(self.accept)
        row.addWidget(self.simulator_button)
        card.body.addLayout(row)
        lay.addWidget(card)

        self._show_keyring()
        self.check_ollama()

    # ---- every way out marks onboarding as done --------------------------------------------------------------

    def done(self, result: int) -> None:
        self.ctx.qsettings.setValue(DONE_KEY, True)
        self.ctx.qsettings.sync()
        super().done(result)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for button in (self.save_key_button, self.ollama_button, self.simulator_button, self.retry_button):
            button.setEnabled(not busy)
        self._show_keyring()
        if not busy and not self._ollama_found:
            self.ollama_button.setEnabled(False)

    def _has_keyring(self) -> bool:
        return bool(self.ctx.ready and self.ctx.engine.secrets_backend().startswith("keyring"))

    def _show_keyring(self) -> None:
        ok = self._has_keyring()
        self.key_edit.setEnabled(ok and not self._busy)
        self.save_key_button.setEnabled(ok and not self._busy)
        if self.ctx.ready and not ok:
            self.key_status.setText(
                "No OS keyring on this system: set the OPENROUTER_API_KEY environment variable to your key and "
                "restart AutoDevAI. AutoDevAI never writes keys to disk."
            )
            self.key_status.show()

    # ---- 1. OpenRouter key -----------------------------------------------------------------------------------

    def save_key(self) -> None:
        key = self.key_edit.text().strip()
        if self._busy or not self.save_key_button.isEnabled():
            return
        if not key:
            self._key_message("warning", "Paste the key first.")
            return
        self.key_edit.clear()  # from here on the key lives only in the coroutine, never in a widget
        self._set_busy(True)
        self._key_message("info", "Saving the key…")
        self.ctx.spawn(self._save_key(key), on_error=self._failed)

    async def _save_key(self, key: str) -> None:
        await self.ctx.engine.set_api_key("openrouter", key)
        self.ctx.qsettings.setValue(DONE_KEY, True)
        self._key_message("ok", "Key saved in the OS keyring. Connecting to OpenRouter…")
        await self._reopen()
        self.accept()

    def _key_message(self, state: str, text: str) -> None:
        self.key_status.setText(_colored(state, text))
        self.key_status.show()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        text = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        self._key_message("error", text)

    async def _reopen(self) -> None:
        if self.ctx.reopen is not None:
            await self.ctx.reopen()

    # ---- 2. Ollama -------------------------------------------------------------------------------------------

    def check_ollama(self) -> None:
        parts = urlsplit(self.ollama_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 11434
        self._ollama_found = False
        self.ollama_button.setEnabled(False)
        self.ollama_status.setText(f"Looking for Ollama at {host}:{port}…")
        self.ctx.spawn(local_server_running(self.ollama_url), on_result=self._probed)

    def _probed(self, found: bool) -> None:
        self._ollama_found = found
        self.ollama_button.setEnabled(found and not self._busy)
        if found:
            self.ollama_status.setText(_colored("ok", f"Ollama is running at {self.ollama_url}."))
        else:
            self.ollama_status.setText("Ollama not detected (start it and reopen this dialog).")

    def use_ollama(self) -> None:
        if self._busy or not self.ctx.ready:
            return
        self._set_busy(True)
        self.ollama_status.setText("Adding Ollama as a provider…")
        self.ctx.spawn(self._use_ollama(), on_error=self._ollama_failed)

    async def _use_ollama(self) -> None:
        engine = self.ctx.engine
        existing = [p.model_dump(mode="json") for p in engine.settings.providers if p.name != "ollama"]
        new = {"name": "ollama", "kind": "openai", "base_url": self.ollama_url}
        settings = await engine.configure_enhanced_orchestration({"providers": [*existing, new]})
        self.ctx.events.settings_changed.emit(settings)
        self.ctx.qsettings.setValue(DONE_KEY, True)
        await self._reopen()
        self.accept()

    def _ollama_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.ollama_status.setText(_colored("error", str(exc)))
