"""The Providers section of Configure: configured upstreams (add, edit, remove) and each one's API key in the
OS keyring — masked, never read back, with a Test round trip. Where there is no keyring it says so and points
at the environment variables."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from autodevai.engine.constants import OPENROUTER_BASE_URL
from autodevai.engine.errors import EngineError
from autodevai.gui.bridge import GuiContext
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, badge_html, muted

__all__ = ["PROVIDER_COLUMNS", "ProvidersSection", "key_text"]


PROVIDER_COLUMNS = [
    ("Name", "The provider's name (also the keyring entry of its key)"),
    ("Kind", "openrouter: OpenRouter's API; openai: any OpenAI-compatible server (OpenAI, Ollama, LM Studio, vLLM)"),
    ("Base URL", "The API's base URL, ending in /v1 for most servers"),
    ("Enabled", "Disabled providers are kept in the config but not used"),
    ("Key", "Where the provider's API key comes from (the key itself is never shown)"),
]
KEY_TEXT = {"keyring": "stored in keyring", "none": "not set"}
NO_KEYRING = (
    "No OS keyring on this system: keys come from environment variables such as OPENROUTER_API_KEY; "
    "AutoDevAI never writes keys to disk."
)


def key_text(source: str) -> str:
    """``engine.key_source`` in words: "stored in keyring", "from env VAR", "not set"."""
    if source.startswith("env "):
        return f"from env {source[4:]}"
    return KEY_TEXT.get(source, source)


class ProvidersSection(Card):
    """The providers list with an editor (saved with Apply) and the selected provider's key (saved at once)."""

    changed = Signal()

    def __init__(self, ctx: GuiContext, error_label: QLabel) -> None:
        super().__init__("Providers & API keys")
        self.ctx = ctx
        self._rows: list[dict[str, Any]] = []
        self._fixed: set[str] = set()  # built-in providers (the simulator) as of the last load
        self._filling = False
        self.notice = QLabel(NO_KEYRING)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            f"QLabel {{ border: 1px solid {state_color('warning')}; border-radius: 6px; padding: 6px; }}"
        )
        self.notice.hide()
        self.body.addWidget(self.notice)

        self.table = QTableWidget(0, len(PROVIDER_COLUMNS))
        self.table.setHorizontalHeaderLabels([c for c, _ in PROVIDER_COLUMNS])
        for i, (_c, tip) in enumerate(PROVIDER_COLUMNS):
            header_item = self.table.horizontalHeaderItem(i)
            if header_item is not None:
                header_item.setToolTip(tip)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setMinimumHeight(96)
        self.table.setMaximumHeight(150)
        self.table.currentCellChanged.connect(lambda *_: self._fill_editor())
        self.body.addWidget(self.table)

        editor = QGridLayout()
        editor.setHorizontalSpacing(8)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. openrouter, ollama")
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(["openrouter", "openai"])
        self.kind_combo.setToolTip(PROVIDER_COLUMNS[1][1])
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://openrouter.ai/api/v1 or http://127.0.0.1:11434/v1")
        self.env_edit = QLineEdit()
        self.env_edit.setPlaceholderText("optional, e.g. MY_API_KEY")
        self.env_edit.setToolTip("Environment variable that holds the key when the keyring has none")
        self.enabled_check = QCheckBox("Enabled")
        self.add_button = QPushButton("Add provider")
        self.add_button.setToolTip("Add an OpenRouter or OpenAI-compatible provider (saved with Apply)")
        self.add_button.clicked.connect(self.add_provider)
        self.remove_button = QPushButton("Remove provider")
        self.remove_button.setToolTip("Remove the selected provider (saved with Apply; its key stays in the keyring)")
        self.remove_button.clicked.connect(self.remove_provider)
        buttons = QHBoxLayout()
        buttons.addWidget(muted("Provider changes are saved with Apply; keys are saved at once."), 1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self.body.addLayout(buttons)
        editor.addWidget(QLabel("Name"), 0, 0)
        editor.addWidget(self.name_edit, 0, 1)
        editor.addWidget(QLabel("Kind"), 0, 2)
        editor.addWidget(self.kind_combo, 0, 3)
        editor.addWidget(self.enabled_check, 0, 4)
        editor.addWidget(QLabel("Base URL"), 1, 0)
        editor.addWidget(self.url_edit, 1, 1, 1, 4)
        editor.addWidget(QLabel("Key env var"), 2, 0)
        editor.addWidget(self.env_edit, 2, 1)
        editor.setColumnStretch(1, 1)
        editor.setColumnStretch(4, 1)
        self.body.addLayout(editor)
        self.ephemeral_note = muted("")
        self.ephemeral_note.hide()
        self.body.addWidget(self.ephemeral_note)
        self.body.addWidget(error_label)
        self.name_edit.textChanged.connect(lambda t: self._edit("name", t.strip()))
        self.kind_combo.currentTextChanged.connect(lambda t: self._edit("kind", t))
        self.url_edit.textChanged.connect(lambda t: self._edit("base_url", t.strip()))
        self.env_edit.textChanged.connect(lambda t: self._edit("api_key_env", t.strip() or None))
        self.enabled_check.toggled.connect(lambda c: self._edit("enabled", c))

        self.body.addSpacing(6)
        self.key_title = QLabel()
        self.body.addWidget(self.key_title)
        keys = QHBoxLayout()
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste a new API key")
        self.key_edit.setToolTip("The key is saved in the OS keyring at once and never shown again")
        self.key_edit.setMinimumWidth(260)
        self.key_edit.returnPressed.connect(self.save_key)
        self.save_key_button = QPushButton("Save key")
        self.save_key_button.setToolTip("Store this key in the OS keyring (never in a file)")
        self.save_key_button.clicked.connect(self.save_key)
        self.remove_key_button = QPushButton("Remove key")
        self.remove_key_button.setToolTip("Delete this provider's key from the OS keyring")
        self.remove_key_button.clicked.connect(self.remove_key)
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("Check the key, list the models and make one small round trip")
        self.test_button.clicked.connect(self.test_provider)
        for w in (self.key_edit, self.save_key_button, self.remove_key_button, self.test_button):
            keys.addWidget(w)
        keys.addStretch(1)
        self.body.addLayout(keys)
        self.key_result = QLabel()
        self.key_result.hide()
        self.key_result.setWordWrap(True)
        self.key_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.key_result)
        self.backend_label = muted("")
        self.body.addWidget(self.backend_label)
        self._busy = False
        self._fill_editor()

    @property
    def busy(self) -> bool:
        """A key change, test or engine reopen is in progress."""
        return self._busy

    # ---- the provider list (a working copy, saved with Apply) ----------------------------------------------

    def value(self) -> list[dict[str, Any]]:
        """The providers to save: the rows shown, without the built-in ones compose added (never saved)."""
        return [dict(row) for row in self._rows if row.get("name") not in self._fixed]

    def load(self, providers: list[dict[str, Any]]) -> None:
        current = self._current_name()
        self._fixed = self._ephemeral()
        self._rows = [dict(p) for p in providers]
        self._render_table()
        names = [r.get("name") for r in self._rows]
        self.table.setCurrentCell(names.index(current) if current in names else (0 if self._rows else -1), 0)
        self._fill_editor()

    def _ephemeral(self) -> set[str]:
        return set(self.ctx.app.ephemeral) if self.ctx.app is not None else set()

    def _cells(self, row: dict[str, Any]) -> list[str]:
        name = str(row.get("name", ""))
        kind = str(row.get("kind", ""))
        if name in self._fixed:
            kind += " (built-in, not saved)"
        key = key_text(self.ctx.engine.key_source(name)) if self.ctx.ready and name else "–"
        return [
            name or "(unnamed)",
            kind,
            str(row.get("base_url", "")),
            "yes" if row.get("enabled", True) else "no",
            key,
        ]

    def _render_table(self) -> None:
        self.table.setRowCount(len(self._rows))
        for r, row in enumerate(self._rows):
            self._render_row(r, row)

    def _render_row(self, r: int, row: dict[str, Any]) -> None:
        for c, text in enumerate(self._cells(row)):
            item = self.table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(r, c, item)
            item.setText(text)

    def _current_name(self) -> str:
        r = self.table.currentRow()
        return str(self._rows[r].get("name", "")) if 0 <= r < len(self._rows) else ""

    def select(self, name: str) -> None:
        names = [r.get("name") for r in self._rows]
        if name in names:
            self.table.setCurrentCell(names.index(name), 0)

    def _fill_editor(self) -> None:
        r = self.table.currentRow()
        row = self._rows[r] if 0 <= r < len(self._rows) else None
        fixed = row is not None and row.get("name") in self._fixed
        self._filling = True
        try:
            self.name_edit.setText(str(row.get("name", "")) if row else "")
            self.kind_combo.setCurrentText(str(row.get("kind", "openai")) if row else "openai")
            self.url_edit.setText(str(row.get("base_url", "")) if row else "")
            self.env_edit.setText(str(row.get("api_key_env") or "") if row else "")
            self.enabled_check.setChecked(bool(row.get("enabled", True)) if row else False)
        finally:
            self._filling = False
        for w in (self.name_edit, self.kind_combo, self.url_edit, self.env_edit, self.enabled_check):
            w.setEnabled(row is not None and not fixed)
        self.remove_button.setEnabled(row is not None and not fixed)
        self.ephemeral_note.setVisible(fixed)
        if fixed:
            self.ephemeral_note.setText(
                "The built-in simulator answers because no provider is configured; it is not saved. "
                "Add a provider (or paste an OpenRouter key) to use real models."
            )
        self.refresh_keys()

    def _edit(self, key: str, value: Any) -> None:
        r = self.table.currentRow()
        if self._filling or not 0 <= r < len(self._rows):
            return
        self._rows[r][key] = value
        if key == "name":
            self.refresh_keys()
        else:
            self._render_row(r, self._rows[r])
        self.changed.emit()

    def add_provider(self) -> None:
        taken = {r.get("name") for r in self._rows}
        name = next(n for n in (f"provider{i}" if i else "openrouter" for i in range(100)) if n not in taken)
        openrouter = name == "openrouter"
        row: dict[str, Any] = {
            "name": name,
            "kind": "openrouter" if openrouter else "openai",
            "base_url": OPENROUTER_BASE_URL if openrouter else "http://127.0.0.1:8000/v1",
            "enabled": True,
        }
        self._rows.append(row)
        self._render_table()
        self.table.setCurrentCell(len(self._rows) - 1, 0)
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        self.changed.emit()

    def remove_provider(self) -> None:
        r = self.table.currentRow()
        if 0 <= r < len(self._rows):
            del self._rows[r]
            self._render_table()
            self.table.setCurrentCell(min(r, len(self._rows) - 1), 0)
            self._fill_editor()
            self.changed.emit()

    def describe_error(self, field: str, message: str) -> str:
        """ "providers.2.base_url" -> select that row and say "ollama, base URL: ..."."""
        parts = field.split(".")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self._rows):
            row = self._rows[int(parts[1])]
            self.table.setCurrentCell(int(parts[1]), 0)
            what = parts[2].replace("_", " ") if len(parts) > 2 else "settings"
            return f"Provider {row.get('name') or '(unnamed)'}, {what}: {message}"
        return message

    # ---- keys and the round-trip test (immediate, through the engine) ---------------------------------------

    def refresh_keys(self) -> None:
        name = self._current_name()
        ready = self.ctx.ready
        backend = self.ctx.engine.secrets_backend() if ready else ""
        has_keyring = backend.startswith("keyring")
        keyless = name in self._fixed
        self.notice.setVisible(ready and not has_keyring)
        self.backend_label.setText(
            f"Keys are saved at once in the OS keyring ({backend.removeprefix('keyring: ')}), never on disk."
            if has_keyring
            else ""
        )
        self.backend_label.setVisible(has_keyring)
        if not name:
            self.key_title.setText("<b>API key</b> — select a provider")
        else:
            source = key_text(self.ctx.engine.key_source(name)) if ready else "…"
            state = "ok" if source.startswith(("stored", "from", "not needed")) else "warning"
            self.key_title.setText(f"<b>API key for {html.escape(name)}</b> &nbsp; {badge_html(state, source)}")
        can_edit = ready and bool(name) and not keyless and not self._busy
        self.key_edit.setEnabled(can_edit and has_keyring)
        self.key_edit.setPlaceholderText(
            "Paste a new API key" if has_keyring else "No OS keyring: use an environment variable"
        )
        self.save_key_button.setEnabled(can_edit and has_keyring)
        self.remove_key_button.setEnabled(can_edit and has_keyring)
        self.test_button.setEnabled(ready and bool(name) and not self._busy)
        if self._rows:
            for r, row in enumerate(self._rows):
                self._render_row(r, row)

    def _set_busy(self, busy: bool, text: str | None = None) -> None:
        self._busy = busy
        if text is not None:
            self.key_result.setText(text)
            self.key_result.setVisible(bool(text))
        self.refresh_keys()

    def save_key(self) -> None:
        name, key = self._current_name(), self.key_edit.text().strip()
        if not name or not self.save_key_button.isEnabled():
            return
        if not key:
            self.key_result.setText("Paste the key first.")
            return
        self.key_edit.clear()  # the key lives only in the coroutine from here on, never in a widget
        self._set_busy(True, "Saving the key…")
        self.ctx.spawn(self._key_change(self.ctx.engine.set_api_key(name, key), f"Key for {name} saved"))

    def remove_key(self) -> None:
        name = self._current_name()
        if name:
            self._set_busy(True, "Removing the key…")
            self.ctx.spawn(self._key_change(self.ctx.engine.delete_api_key(name), f"Key for {name} removed"))

    async def _key_change(self, coro: Any, done: str) -> None:
        try:
            await coro
        except EngineError as exc:
            self._set_busy(False, f'<span style="color:{state_color("error")}">✗ {html.escape(str(exc))}</span>')
            return
        self._set_busy(True, f"{done}; reconnecting the providers…")
        await self._reopen()
        self._set_busy(False, f'<span style="color:{state_color("ok")}">✓ {html.escape(done)}.</span>')

    async def _reopen(self) -> None:
        if self.ctx.reopen is not None:
            await self.ctx.reopen()

    def reopen_engine(self, text: str) -> None:
        """Reopen the engine so new providers/keys are used (the app's EngineHost does the work)."""

        async def run() -> None:
            await self._reopen()
            self._set_busy(False, "")

        self._set_busy(True, text)
        self.ctx.spawn(run(), on_error=lambda e: self._set_busy(False, f"Reconnecting failed: {e}"))

    def test_provider(self) -> None:
        name = self._current_name()
        if not name or not self.ctx.ready:
            return
        self._set_busy(True, f"Testing {name}…")
        self.ctx.spawn(
            self.ctx.engine.test_enhanced_orchestration(),
            on_result=lambda report: self._tested(name, report),
            on_error=lambda e: self._set_busy(False, f"✗ {html.escape(str(e))}"),
        )

    def _tested(self, name: str, report: Any) -> None:
        checks = [c for c in report.checks if c.name.startswith(f"{name}:")]
        if not checks:
            text = f"✗ {html.escape(name)} is not in use yet: enable it and Apply, then test again."
            self._set_busy(False, f'<span style="color:{state_color("warning")}">{text}</span>')
            return
        lines = []
        for c in checks:
            mark, color = ("✓", state_color("ok")) if c.ok else ("✗", state_color("error"))
            what = c.name.partition(": ")[2]
            lines.append(f'<span style="color:{color}">{mark}</span> {html.escape(what)}: {html.escape(c.detail)}')
        self._set_busy(False, "<br>".join(lines))
