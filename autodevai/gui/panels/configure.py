"""The Configure panel: the engine's settings (routing, budgets, resilience, providers), API keys in the OS
keyring, and the tray preference.

The form is a set of fields keyed by dotted settings paths (``budget.daily_usd``). Apply sends one patch of
what changed through ``engine.configure_enhanced_orchestration``; the engine validates and saves, and a
``ConfigError`` is shown next to the field its ``field`` names (nothing is saved then). Keys go straight to
the keyring through ``engine.set_api_key``: the key field is masked, never pre-filled and cleared after saving.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.constants import OPENROUTER_BASE_URL
from autodevai.engine.errors import ConfigError, EngineError
from autodevai.engine.types import Preference
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, badge_html, muted

__all__ = ["ConfigurePanel", "ProvidersSection", "key_text"]

TRAY_KEY = "tray/keep_running"
PREF_TIPS = {
    "balanced": "weighted score of price, quality, latency and success (the weights below)",
    "cost": "the cheapest model that fits",
    "quality": "the highest quality prior that fits",
    "speed": "the lowest measured latency",
}


@dataclass
class _Field:
    """One form value: how to read it (may raise ValueError with a message for the user) and show it."""

    widget: QWidget
    get: Callable[[], Any]
    set: Callable[[Any], None]


def _error_label() -> QLabel:
    label = QLabel()
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.hide()
    return label


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _nest(patch: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        patch = patch.setdefault(part, {})
    patch[last] = value


def _field_message(exc: ConfigError, field: str) -> str:
    """The line of a ConfigError about ``field`` ("budget.daily_usd: Input should be ..."), else all of it."""
    for line in exc.message.splitlines():
        head, sep, rest = line.strip().partition(": ")
        if sep and head == field:
            return rest[:1].upper() + rest[1:]
    return str(exc)


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
        return set(getattr(self.ctx.app, "ephemeral", None) or ())

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


class ConfigurePanel(Panel):
    title = "Configure"
    subtitle = (
        "Routing, budgets, resilience and providers. The engine checks every change before it is saved; "
        "API keys live in the OS keyring, never in a file."
    )

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.fields: dict[str, _Field] = {}
        self.field_widgets: dict[str, QWidget] = {}
        self.field_errors: dict[str, QLabel] = {}
        self.no_cap: dict[str, QCheckBox] = {}
        self._loaded: dict[str, Any] = {}
        self._loading = False
        self._saving = False

        top = QHBoxLayout()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard unsaved changes and show the saved settings")
        self.revert_button.clicked.connect(self.revert)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setProperty("role", "primary")
        self.apply_button.setToolTip("Validate and save the changed settings (Ctrl+S)")
        self.apply_button.setShortcut("Ctrl+S")
        self.apply_button.clicked.connect(self.apply)
        top.addWidget(self.status_label, 1)
        top.addWidget(self.revert_button)
        top.addWidget(self.apply_button)
        self.body.addLayout(top)

        content = QWidget()
        page = QVBoxLayout(content)
        page.setContentsMargins(0, 0, 6, 0)
        page.setSpacing(12)
        columns = QHBoxLayout()
        columns.setSpacing(12)
        left = QVBoxLayout()
        left.addWidget(self._routing_card())
        left.addStretch(1)
        columns.addLayout(left, 1)
        right = QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self._budget_card())
        right.addWidget(self._resilience_card())
        right.addWidget(self._window_card())
        right.addStretch(1)
        columns.addLayout(right, 1)
        page.addLayout(columns)
        self.providers = ProvidersSection(ctx, self._add_field_error("providers"))
        self.providers.changed.connect(lambda: self._on_edit("providers"))
        self.provider_list = self.providers.table
        self.key_edit = self.providers.key_edit
        self.save_key_button = self.providers.save_key_button
        self.test_button = self.providers.test_button
        self.fields["providers"] = _Field(self.providers.table, self.providers.value, self.providers.load)
        self.field_widgets["providers"] = self.providers.table
        page.addWidget(self.providers)
        page.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(content)
        self.body.addWidget(self.scroll_area, 1)

        for w in content.findChildren(QWidget):
            if isinstance(w, QAbstractSpinBox | QComboBox):
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                w.installEventFilter(self)
        # Inputs use palette(base) too: on a base-colored card they lose their edges in the dark theme.
        self.setStyleSheet('QFrame[role="card"] { background: palette(alternate-base); }')
        ctx.events.settings_changed.connect(self._on_settings_changed)
        self._update_dirty()
        self._set_status("")

    # ---- building -------------------------------------------------------------------------------------------

    def _add_field_error(self, path: str) -> QLabel:
        label = _error_label()
        self.field_errors[path] = label
        return label

    def _row(
        self, form: QFormLayout, label: str, path: str, field: _Field, tip: str, extra: QWidget | None = None
    ) -> None:
        """Add ``field`` to ``form`` with its error label right under it."""
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        line = QHBoxLayout()
        line.addWidget(field.widget)
        if extra is not None:
            line.addWidget(extra, 1)
        else:
            line.addStretch(1)
        col.addLayout(line)
        col.addWidget(self._add_field_error(path))
        field.widget.setToolTip(tip)
        name = QLabel(label)
        name.setToolTip(tip)
        form.addRow(name, box)
        self.fields[path] = field
        self.field_widgets[path] = field.widget
        signal = None
        for attr in ("valueChanged", "currentIndexChanged", "toggled", "textChanged", "itemChanged"):
            signal = getattr(field.widget, attr, None)
            if signal is not None:
                signal.connect(lambda *_: self._on_edit(path))
                break

    @staticmethod
    def _form(card: Card) -> QFormLayout:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(6)
        card.body.addLayout(form)
        return form

    @staticmethod
    def _dspin(lo: float, hi: float, step: float, decimals: int, suffix: str = "") -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        spin.setMinimumWidth(110)
        spin.setMaximumWidth(150)
        return spin

    @staticmethod
    def _ispin(lo: int, hi: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setMinimumWidth(110)
        spin.setMaximumWidth(150)
        return spin

    def _spin_field(self, spin: QDoubleSpinBox | QSpinBox, scale: float = 1.0) -> _Field:
        if isinstance(spin, QSpinBox):
            return _Field(spin, spin.value, lambda v: spin.setValue(int(v)))
        return _Field(spin, lambda: round(spin.value() / scale, 6), lambda v: spin.setValue(float(v) * scale))

    def _routing_card(self) -> Card:
        card = Card("Routing")
        card.body.addWidget(muted("How a model is chosen when a request does not name one."))
        form = self._form(card)
        pref = QComboBox()
        pref_tip = muted("")
        for p in Preference:
            pref.addItem(p.value, p.value)
            pref.setItemData(pref.count() - 1, PREF_TIPS.get(p.value, ""), Qt.ItemDataRole.ToolTipRole)
        pref.currentIndexChanged.connect(lambda _i: pref_tip.setText(PREF_TIPS.get(pref.currentData(), "")))
        self._row(
            form,
            "Default preference",
            "routing.default_preference",
            _Field(pref, pref.currentData, lambda v: pref.setCurrentIndex(max(0, pref.findData(str(v))))),
            "What routing optimizes for when the request gives no preference",
            pref_tip,
        )
        self._shares: dict[str, QLabel] = {}
        tips = {
            "price": "Weight of a low price (input + output per token)",
            "quality": "Weight of the model's quality prior (public benchmarks, overridable)",
            "latency": "Weight of low measured latency",
            "success": "Weight of the measured success rate",
        }
        for name, tip in tips.items():
            spin = self._dspin(0, 10, 0.05, 2)
            share = muted("")
            share.setMinimumWidth(70)
            self._shares[name] = share
            spin.valueChanged.connect(lambda _v: self._update_shares())
            self._row(form, f"Weight: {name}", f"routing.weights.{name}", self._spin_field(spin), tip, share)
        form.addRow("", self._add_field_error("routing.weights"))
        self._row(
            form,
            "Minimum quality",
            "routing.min_quality",
            self._spin_field(self._dspin(0, 1, 0.05, 2)),
            "Never route to a model whose quality prior is below this (0 = any)",
        )
        free = QCheckBox("Route to :free models")
        self._row(
            form,
            "Free models",
            "routing.allow_free",
            _Field(free, free.isChecked, lambda v: free.setChecked(bool(v))),
            ":free models allow 20 requests/min and their providers may log prompts; an explicit id always works",
        )
        self._row(
            form,
            "Fallbacks",
            "routing.fallbacks",
            self._spin_field(self._ispin(0, 10)),
            "How many other models to try after the first choice fails",
        )
        card.body.addSpacing(4)
        card.body.addWidget(QLabel("Fallback chains"))
        card.body.addWidget(muted("Models to try, in order, when a model fails (instead of the automatic choice)."))
        self.chains_table = QTableWidget(0, 2)
        self.chains_table.setHorizontalHeaderLabels(["Model id", "Fallbacks (comma-separated ids)"])
        self.chains_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.chains_table.horizontalHeader().setStretchLastSection(True)
        self.chains_table.setColumnWidth(0, 190)
        self.chains_table.verticalHeader().hide()
        self.chains_table.setMinimumHeight(100)
        self.chains_table.setMaximumHeight(180)
        self.chains_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.chains_table.setToolTip("Double-click a cell to edit it")
        self.chains_table.itemChanged.connect(lambda _i: self._on_edit("routing.chains"))
        self.fields["routing.chains"] = _Field(self.chains_table, self._chains_value, self._set_chains)
        self.field_widgets["routing.chains"] = self.chains_table
        self.chains_empty = muted("No chains: fallbacks follow the routing preference. Add one to fix the order.")
        card.body.addWidget(self.chains_empty)
        card.body.addWidget(self.chains_table, 1)
        self.chains_table.model().rowsInserted.connect(lambda *_: self._chains_shown())
        self.chains_table.model().rowsRemoved.connect(lambda *_: self._chains_shown())
        buttons = QHBoxLayout()
        add = QPushButton("Add chain")
        add.setToolTip("Add a row; type the model id and its fallbacks")
        add.clicked.connect(self._add_chain)
        remove = QPushButton("Remove chain")
        remove.setToolTip("Remove the selected chain")
        remove.clicked.connect(self._remove_chain)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        card.body.addLayout(buttons)
        card.body.addWidget(self._add_field_error("routing.chains"))
        return card

    def _money(self, form: QFormLayout, label: str, path: str, tip: str) -> None:
        edit = QLineEdit()
        edit.setPlaceholderText("no cap")
        edit.setMaximumWidth(130)
        cap = QCheckBox("No cap")
        cap.setToolTip("Unlimited: no budget cap for this period")
        self.no_cap[path] = cap

        def on_cap(checked: bool) -> None:
            edit.setEnabled(not checked)
            if checked:
                edit.clear()
            elif not self._loading:
                edit.setFocus()
            self._on_edit(path)

        cap.toggled.connect(on_cap)

        def get() -> float | None:
            if cap.isChecked():
                return None
            text = edit.text().strip().lstrip("$").replace(",", "").strip()
            try:
                return float(text)
            except ValueError:
                raise ValueError("Enter an amount in USD, such as 5 or 0.50, or tick No cap") from None

        def set_(value: Any) -> None:
            cap.setChecked(value is None)
            edit.setEnabled(value is not None)
            edit.setText("" if value is None else f"{float(value):g}")

        self._row(form, label, path, _Field(edit, get, set_), tip, cap)

    def _budget_card(self) -> Card:
        card = Card("Budgets (USD)")
        card.body.addWidget(muted("A request whose worst-case cost does not fit a cap is refused and costs nothing."))
        form = self._form(card)
        self._money(form, "Daily", "budget.daily_usd", "Spending cap per calendar day (local time)")
        self._money(form, "Monthly", "budget.monthly_usd", "Spending cap per calendar month")
        self._money(form, "Total", "budget.total_usd", "Spending cap over all time")
        self._money(form, "Per request", "budget.per_request_usd", "The most one request may cost")
        return card

    def _resilience_card(self) -> Card:
        card = Card("Resilience")
        form = self._form(card)
        rows: list[tuple[str, str, QDoubleSpinBox | QSpinBox, str, float]] = [
            ("Deadline", "resilience.deadline_s", self._dspin(0, 3600, 5, 1, " s"),
             "Overall time a request may take, retries and fallbacks included", 1.0),
            ("Connect timeout", "resilience.connect_timeout_s", self._dspin(0, 600, 1, 1, " s"),
             "How long to wait for a connection to a provider", 1.0),
            ("Read timeout", "resilience.read_timeout_s", self._dspin(0, 3600, 5, 1, " s"),
             "How long to wait for the next bytes of an answer", 1.0),
            ("Max attempts", "resilience.max_attempts", self._ispin(0, 20),
             "Calls per request at most, over all models", 1.0),
            ("Retries per model", "resilience.retries_per_model", self._ispin(0, 10),
             "Retries of the same model (for retryable errors) before moving to a fallback", 1.0),
            ("Breaker: min calls", "resilience.breaker.min_calls", self._ispin(0, 1000),
             "Calls in the window before a model's breaker may open", 1.0),
            ("Breaker: failure rate", "resilience.breaker.failure_rate", self._dspin(0, 100, 5, 0, " %"),
             "Share of failed calls in the window that opens the breaker", 100.0),
            ("Breaker: open for", "resilience.breaker.open_s", self._dspin(0, 3600, 5, 1, " s"),
             "How long an open breaker skips the model before probing it again", 1.0),
        ]  # fmt: skip
        for label, path, spin, tip, scale in rows:
            self._row(form, label, path, self._spin_field(spin, scale), tip)
        return card

    def _window_card(self) -> Card:
        card = Card("Window")
        self.tray_check = QCheckBox("Keep running in the tray when the window closes")
        self.tray_check.setToolTip("Closing the window hides it; quit from the tray icon's menu")
        self.tray_check.toggled.connect(lambda _c: self._on_edit(TRAY_KEY))
        self.fields[TRAY_KEY] = _Field(
            self.tray_check, self.tray_check.isChecked, lambda v: self.tray_check.setChecked(bool(v))
        )
        self.field_widgets[TRAY_KEY] = self.tray_check
        card.body.addWidget(self.tray_check)
        return card

    # ---- chains table ---------------------------------------------------------------------------------------

    def _chains_shown(self) -> None:
        self.chains_empty.setVisible(self.chains_table.rowCount() == 0)

    def _chains_value(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in range(self.chains_table.rowCount()):
            cells = [self.chains_table.item(r, c) for c in (0, 1)]
            model = cells[0].text().strip() if cells[0] else ""
            if model:
                rest = cells[1].text() if cells[1] else ""
                out[model] = [m.strip() for m in rest.split(",") if m.strip()]
        return out

    def _set_chains(self, chains: dict[str, list[str]]) -> None:
        self.chains_table.blockSignals(True)
        self.chains_table.setRowCount(len(chains))
        for r, (model, rest) in enumerate(sorted(chains.items())):
            self.chains_table.setItem(r, 0, QTableWidgetItem(model))
            self.chains_table.setItem(r, 1, QTableWidgetItem(", ".join(rest)))
        self.chains_table.blockSignals(False)
        self._chains_shown()

    def _add_chain(self) -> None:
        row = self.chains_table.rowCount()
        self.chains_table.insertRow(row)
        self.chains_table.setCurrentCell(row, 0)
        self.chains_table.editItem(self.chains_table.item(row, 0) or self._new_item(row, 0))

    def _new_item(self, row: int, col: int) -> QTableWidgetItem:
        item = QTableWidgetItem("")
        self.chains_table.setItem(row, col, item)
        return item

    def _remove_chain(self) -> None:
        rows = sorted({i.row() for i in self.chains_table.selectedIndexes()}, reverse=True)
        for r in rows or [self.chains_table.currentRow()]:
            if r >= 0:
                self.chains_table.removeRow(r)
        self._on_edit("routing.chains")

    # ---- state ----------------------------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # A wheel over an unfocused spin box or combo scrolls the page instead of changing the value.
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            event.ignore()
            return True
        return super().eventFilter(obj, event)

    def on_shown(self) -> None:
        if self.ctx.ready and not self._dirty():
            self.load()
        self.providers.refresh_keys()

    def on_engine_ready(self) -> None:
        if not self._dirty():
            self.load()
        self.providers.refresh_keys()

    def _on_settings_changed(self, _settings: object) -> None:
        if not self._saving and not self._dirty():
            self.load()

    def load(self) -> None:
        """Show the engine's current settings (and the tray preference); forget unsaved edits."""
        if not self.ctx.ready:
            self._set_status("Waiting for the engine to start…", "muted")
            return
        data = self.ctx.engine.settings.model_dump(mode="json")
        data_tray = self.ctx.qsettings.value(TRAY_KEY, False, type=bool)
        self._loading = True
        try:
            for path, field in self.fields.items():
                field.set(data_tray if path == TRAY_KEY else _lookup(data, path))
        finally:
            self._loading = False
        self._loaded = {path: self._value(path) for path in self.fields}
        self._update_shares()
        self._clear_errors()
        self._update_dirty()

    def _value(self, path: str) -> Any:
        try:
            return self.fields[path].get()
        except ValueError as exc:
            return exc

    def _changed(self) -> dict[str, Any]:
        return {p: v for p in self.fields if (v := self._value(p)) != self._loaded.get(p)}

    def _dirty(self) -> bool:
        return bool(self._loaded) and bool(self._changed())

    def _on_edit(self, path: str = "") -> None:
        """A field was edited: hide its error (and its parents', e.g. routing.weights) and update the buttons."""
        if self._loading:
            return
        while path:
            label = self.field_errors.get(path)
            if label is not None:
                label.hide()
            path = path.rpartition(".")[0]
        changed = self._changed()
        self._update_dirty()
        if changed and not self._saving:
            self._set_status(f"Unsaved changes ({len(changed)}): Apply saves them, Revert discards them.", "muted")
        elif not self._saving:
            self._set_status("", "muted")

    def _update_dirty(self) -> None:
        dirty = self._dirty()
        self.apply_button.setEnabled(dirty and not self._saving and self.ctx.ready)
        self.revert_button.setEnabled(dirty and not self._saving)

    def _update_shares(self) -> None:
        values = {n: self.fields[f"routing.weights.{n}"].get() for n in self._shares}
        total = sum(values.values())
        for name, label in self._shares.items():
            label.setText(f"{values[name] / total:.0%} of the score" if total > 0 else "")

    def _set_status(self, text: str, kind: str = "muted") -> None:
        text = text or "Edit a value, then Apply: the engine checks the change and saves it."
        if kind == "muted":
            self.status_label.setProperty("role", "muted")
            self.status_label.setText(html.escape(text))
        else:
            self.status_label.setProperty("role", "")
            color = state_color(kind)
            self.status_label.setText(f'<span style="color:{color}">{html.escape(text)}</span>')
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)

    def _clear_errors(self) -> None:
        for label in self.field_errors.values():
            label.clear()
            label.hide()

    def show_field_error(self, field: str | None, message: str) -> None:
        """Show ``message`` next to the widget of ``field`` (or its nearest parent path), else at the top."""
        path = field or ""
        while path and path not in self.field_errors:
            path = path.rpartition(".")[0]
        if not path:
            self._set_status(f"Not saved: {message}", "error")
            return
        if path == "providers":
            message = self.providers.describe_error(field or "", message)
        label = self.field_errors[path]
        label.setText(message)
        label.show()
        self.scroll_area.ensureWidgetVisible(self.field_widgets.get(path, label), 50, 80)
        self._set_status("Not saved: fix the field marked in red.", "error")

    # ---- apply / revert -------------------------------------------------------------------------------------

    def revert(self) -> None:
        self.load()
        self._set_status("Showing the saved settings.", "muted")

    def apply(self) -> None:
        """Validate and save what changed: one patch to the engine (and the tray preference to QSettings)."""
        if not self.ctx.ready or self._saving:
            return
        if self.providers.busy:
            self._set_status("Wait a moment: the providers are being reconnected.", "warning")
            return
        self._clear_errors()
        changed = self._changed()
        bad = {p: v for p, v in changed.items() if isinstance(v, ValueError)}
        if bad:
            for path, exc in bad.items():
                self.show_field_error(path, str(exc))
            return
        removed = set(self._loaded.get("routing.chains", {})) - set(changed.get("routing.chains", {}))
        if "routing.chains" in changed and removed:
            # The engine's patches merge dicts, so a saved chain cannot be deleted through one yet.
            self.show_field_error(
                "routing.chains",
                f"Saved chains cannot be removed here yet ({', '.join(sorted(removed))}): "
                "delete them from the config file, then reopen AutoDevAI.",
            )
            return
        patch: dict[str, Any] = {}
        for path, value in changed.items():
            if path != TRAY_KEY:
                _nest(patch, path, value)
        if not patch:  # only the window preference changed; the tray re-reads it on settings_changed
            self._save_tray(changed)
            self.load()
            self._set_status("Saved the window preference.", "ok")
            self.ctx.events.settings_changed.emit(self.ctx.engine.settings)
            return
        self._saving = True
        self._update_dirty()
        self._set_status("Saving…", "muted")
        self.ctx.spawn(
            self.ctx.engine.configure_enhanced_orchestration(patch),
            on_result=lambda new: self._applied(new, changed),
            on_error=self._apply_failed,
            name="configure-apply",
        )

    def _save_tray(self, changed: dict[str, Any]) -> None:
        if TRAY_KEY in changed:
            self.ctx.qsettings.setValue(TRAY_KEY, bool(changed[TRAY_KEY]))
            self.ctx.qsettings.sync()

    def _applied(self, new: Any, changed: dict[str, Any]) -> None:
        self._saving = False
        self._save_tray(changed)
        self.load()
        path = getattr(self.ctx.app, "config_path", None)
        self._set_status(f"Saved to {path}" if path else "Saved.", "ok")
        self.ctx.events.settings_changed.emit(new)
        if "providers" in changed:
            self.providers.reopen_engine("Providers changed: reconnecting…")

    def _apply_failed(self, exc: BaseException) -> None:
        self._saving = False
        self._update_dirty()
        if isinstance(exc, ConfigError):
            self.show_field_error(exc.field, _field_message(exc, exc.field or ""))
        elif isinstance(exc, EngineError):
            self._set_status(f"Not saved: {exc}", "error")
        else:
            self._set_status(f"Not saved: unexpected {type(exc).__name__}: {exc}", "error")
