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

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
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

from autodevai.engine.errors import ConfigError, EngineError
from autodevai.engine.types import Preference
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.configure_providers import ProvidersSection, key_text
from autodevai.gui.theme import state_color
from autodevai.gui.widgets import Card, muted

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
        if "routing.chains" in changed:
            # A None entry in a patch deletes it: chains removed from the table are removed from the settings.
            removed = set(self._loaded.get("routing.chains", {})) - set(changed["routing.chains"])
            changed["routing.chains"] = {**changed["routing.chains"], **dict.fromkeys(removed)}
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
