"""The Configure panel, in tabs: Providers & keys (first, so a new user finds it at once), Routing, Budgets &
resilience, and Desktop (theme, tray, alert notifications). One Apply/Revert bar above the tabs covers them all.

The form is a set of fields keyed by dotted settings paths (``budget.daily_usd``, see ``configure_form``). Apply
sends one patch of what changed through ``engine.configure_enhanced_orchestration``; the engine validates and
saves, and a ``ConfigError`` is shown next to the field its ``field`` names, on its tab (nothing is saved then).
Keys go straight to the keyring through ``engine.set_api_key``: the key field is masked, never pre-filled and
cleared after saving. The tray preference lives in the UI state file and is saved with Apply; the theme applies
and is remembered the moment it is picked (as in View → Theme).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.errors import ConfigError, EngineError
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.configure_form import Field, FormPage, field_message, lookup, nest
from autodevai.gui.panels.configure_providers import ProvidersSection, key_text
from autodevai.gui.panels.configure_routing import RoutingCard
from autodevai.gui.theme import THEME_MODES, state_color
from autodevai.gui.widgets import Card, muted

__all__ = ["PROBE_MODES", "TABS", "ConfigurePanel", "ProvidersSection", "key_text"]

TRAY_KEY = "tray/keep_running"
NOTIFY_PATH = "alerts.desktop_notifications"
PROBE_MODES = {  # health.probe: the engine's values, as the combo box says them
    "models": "List the provider's models (free)",
    "chat": "One-token request to the model",
    "off": "Off",
}
TABS = ("Providers && keys", "Routing", "Budgets && resilience", "Desktop")  # "&&" is a literal "&" in a tab


class ConfigurePanel(FormPage):
    title = "Configure"
    subtitle = (
        "Providers and keys, routing, budgets, resilience and the desktop app. The engine checks every change "
        "before it is saved; API keys live in the OS keyring, never in a file."
    )

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._loaded: dict[str, Any] = {}
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
        self.apply_button.setToolTip("Validate and save the changed settings, on every tab (Ctrl+S)")
        self.apply_button.setShortcut("Ctrl+S")
        self.apply_button.clicked.connect(self.apply)
        top.addWidget(self.status_label, 1)
        top.addWidget(self.revert_button)
        top.addWidget(self.apply_button)
        self.body.addLayout(top)

        self.providers = ProvidersSection(ctx, self._add_field_error("providers"))
        self.providers.changed.connect(lambda: self._on_edit("providers"))
        self.provider_list = self.providers.table
        self.key_edit = self.providers.key_edit
        self.save_key_button = self.providers.save_key_button
        self.test_button = self.providers.test_button
        self.add_field("providers", Field(self.providers.table, self.providers.value, self.providers.load))
        self.routing = RoutingCard(self)
        self.chains_table = self.routing.chains_table

        limits = QHBoxLayout()
        limits.setSpacing(12)
        limits.addWidget(self._budget_card(), 1, Qt.AlignmentFlag.AlignTop)
        limits.addWidget(self._resilience_card(), 1, Qt.AlignmentFlag.AlignTop)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        pages: tuple[QWidget | QHBoxLayout, ...] = (self.providers, self.routing, limits, self._desktop_card())
        for title, content in zip(TABS, pages, strict=True):
            self.tabs.addTab(self._page(content), title)
        self.body.addWidget(self.tabs, 1)

        self.guard_wheel(self.tabs)
        # Inputs use palette(base) too: on a base-colored card they lose their edges in the dark theme.
        self.setStyleSheet('QFrame[role="card"] { background: palette(alternate-base); }')
        ctx.events.settings_changed.connect(self._on_settings_changed)
        ctx.theme.changed.connect(self._on_theme_changed)
        self._update_dirty()
        self._set_status("")

    # ---- building -------------------------------------------------------------------------------------------

    @staticmethod
    def _page(content: QWidget | QHBoxLayout) -> QScrollArea:
        """A tab's page: ``content`` at the top of a scroll area (for small windows)."""
        inner = QWidget()
        col = QVBoxLayout(inner)
        col.setContentsMargins(0, 10, 6, 0)
        if isinstance(content, QWidget):
            col.addWidget(content)
        else:
            col.addLayout(content)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        return scroll

    def show_tab(self, title: str) -> None:
        """Show the tab titled ``title`` (as written in ``TABS``, or with a single "&")."""
        names = [t.replace("&&", "&") for t in TABS]
        self.tabs.setCurrentIndex(names.index(title.replace("&&", "&")))

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
        self.hedge_check = QCheckBox("Hedge slow requests")
        self._row(
            form,
            "Hedging",
            "resilience.hedge",
            self._check_field(self.hedge_check),
            "When a model's first token is later than usual (its p95), start the next model too; the first to "
            "answer wins and the other is cancelled. Faster answers on a bad day, sometimes at a little extra "
            "cost. A request can still turn it on or off for itself (autodevai run --hedge/--no-hedge).",
        )
        self.probe_combo = QComboBox()
        for mode, text in PROBE_MODES.items():
            self.probe_combo.addItem(text, mode)
        probe = self.probe_combo
        self._row(
            form,
            "Background probes",
            "health.probe",
            Field(probe, probe.currentData, lambda v: probe.setCurrentIndex(max(0, probe.findData(v)))),
            "How a model whose breaker opened is checked once its open time is up, so it recovers without "
            "waiting for your next request. The last probe shows in Status.",
        )
        return card

    def _desktop_card(self) -> Card:
        card = Card("Desktop app")
        form = self._form(card)
        self.theme_combo = QComboBox()
        for mode, label in THEME_MODES.items():
            self.theme_combo.addItem(label, mode)
        self.theme_combo.setToolTip("System follows the desktop's light or dark setting; applies at once")
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(self.ctx.theme.mode)))
        self.theme_combo.activated.connect(lambda _i: self.ctx.theme.set_mode(str(self.theme_combo.currentData())))
        theme_row = QHBoxLayout()
        theme_row.addWidget(self.theme_combo)
        theme_row.addWidget(muted("applies at once (also in View → Theme)"), 1)
        form.addRow("Theme", theme_row)
        self.notify_check = QCheckBox("Show alerts as desktop notifications")
        self._row(
            form,
            "Alerts",
            NOTIFY_PATH,
            self._check_field(self.notify_check),
            "A breaker opened, a budget cap 80 % or 100 % spent, latency or errors trending up: shown through the "
            "tray (or in the window when there is no tray). Muted alerts are still listed in Status.",
        )
        self.tray_check = QCheckBox("Keep running in the tray when the window closes")
        self._row(
            form,
            "Tray",
            TRAY_KEY,
            self._check_field(self.tray_check),
            "Closing the window hides it; quit from the tray icon's menu, File → Quit or Ctrl+Q",
        )
        return card

    def _on_theme_changed(self, mode: str, _dark: bool) -> None:
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(mode)))

    # ---- state ----------------------------------------------------------------------------------------------

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
                field.set(data_tray if path == TRAY_KEY else lookup(data, path))
        finally:
            self._loading = False
        self._loaded = {path: self._value(path) for path in self.fields}
        self.routing.update_shares()
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
        widget = self.field_widgets.get(path, label)
        for index in range(self.tabs.count()):  # bring the field's tab forward, then scroll the field into view
            page = self.tabs.widget(index)
            if isinstance(page, QScrollArea) and page.isAncestorOf(widget):
                self.tabs.setCurrentIndex(index)
                label.show()
                page.ensureWidgetVisible(widget, 50, 80)
                break
        label.show()
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
                nest(patch, path, value)
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
        path = self.ctx.app.config_path if self.ctx.app is not None else None
        self._set_status(f"Saved to {path}" if path else "Saved.", "ok")
        self.ctx.events.settings_changed.emit(new)
        if "providers" in changed:
            self.providers.reopen_engine("Providers changed: reconnecting…")

    def _apply_failed(self, exc: BaseException) -> None:
        self._saving = False
        self._update_dirty()
        if isinstance(exc, ConfigError):
            self.show_field_error(exc.field, field_message(exc, exc.field or ""))
        elif isinstance(exc, EngineError):
            self._set_status(f"Not saved: {exc}", "error")
        else:
            self._set_status(f"Not saved: unexpected {type(exc).__name__}: {exc}", "error")
