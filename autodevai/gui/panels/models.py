"""The Models panel: the catalog in a searchable, sortable table with a details pane and "Use in Execute".

The catalog is fetched once per show (or when the engine is replaced or refreshes its catalog) into a
``ModelTableModel``; every filter runs in a ``ModelFilterProxy`` so typing never goes back to the engine.
Sorting uses raw numbers (``SORT_ROLE``), so prices and context windows sort numerically, not as text; what the
server did not state (``context_known`` / ``price_known`` False) reads "unknown" and sorts last. The id column is
sized to the longest id (up to ``ID_MAX_WIDTH``) so an id is never cut; the name takes what is left and elides.
A model routing never picks on its own (``route_exclusion``) is drawn muted and says why in a tooltip and in
the details pane.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QWidget,
)

from autodevai.engine.types import ModelInfo
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.panels.model_table import (
    COLUMNS,
    MODEL_ROLE,
    SORT_ROLE,
    UNKNOWN,
    ModelFilterProxy,
    ModelTableModel,
    exclusion_text,
    prices_text,
)
from autodevai.gui.widgets import Card, KeyValueGrid, muted

__all__ = ["COLUMNS", "SORT_ROLE", "UNKNOWN", "ModelFilterProxy", "ModelTableModel", "ModelsPanel"]

ID_MAX_WIDTH = 440  # the id column fits the longest id up to this; past it the name column would vanish
CONTEXT_CHOICES = [("any context", 0), ("≥ 8K", 8_000), ("≥ 32K", 32_000), ("≥ 128K", 128_000), ("≥ 1M", 1_000_000)]


class ModelsPanel(Panel):
    title = "Models"
    subtitle = "Every model your providers serve: search, compare prices and context windows, pick one to use."

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._loaded_key: tuple[int, int] | None = None
        self._loading = False
        self._bulk = False

        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search id, name or description…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setToolTip("Matches anywhere in the model id, name or description (case-insensitive)")
        filters.addWidget(self.search_edit, 3)
        self.vendor_combo = QComboBox()
        self.vendor_combo.setToolTip("Only models from this vendor")
        self.vendor_combo.setMinimumWidth(150)
        self.vendor_combo.addItem("All vendors", "")
        filters.addWidget(self.vendor_combo, 1)
        self.max_price_spin = QDoubleSpinBox()
        self.max_price_spin.setRange(0.0, 1000.0)
        self.max_price_spin.setSingleStep(0.5)
        self.max_price_spin.setPrefix("out ≤ $")
        self.max_price_spin.setSuffix("/M")
        self.max_price_spin.setSpecialValueText("any output price")
        self.max_price_spin.setToolTip("Maximum price per million output tokens (0 = no limit)")
        self.max_price_spin.setMinimumWidth(140)
        filters.addWidget(self.max_price_spin)
        self.min_context_combo = QComboBox()
        self.min_context_combo.setToolTip("Minimum context window")
        for label, value in CONTEXT_CHOICES:
            self.min_context_combo.addItem(label, value)
        filters.addWidget(self.min_context_combo)
        self.free_check = QCheckBox("Free only")
        self.free_check.setToolTip("Only ':free' models and models with every price at zero")
        filters.addWidget(self.free_check)
        self.body.addLayout(filters)

        self.source = ModelTableModel(self)
        self.proxy = ModelFilterProxy(self)
        self.proxy.setSourceModel(self.source)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setWordWrap(False)
        head = self.view.horizontalHeader()
        head.setHighlightSections(False)
        for col, (_h, _tip, width) in enumerate(COLUMNS):
            self.view.setColumnWidth(col, width)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the name absorbs the window's width
        head.setMinimumSectionSize(48)

        self.empty_label = muted("")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        details = Card()
        top = QHBoxLayout()
        self.detail_title = QLabel("Select a model to see its details")
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.detail_title, 1)
        self.use_button = QPushButton("Use in Execute")
        self.use_button.setProperty("role", "primary")
        self.use_button.setToolTip("Open Execute with this model selected (or double-click a row)")
        self.use_button.setEnabled(False)
        top.addWidget(self.use_button)
        details.body.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(18)
        self.detail_desc = QLabel("")
        self.detail_desc.setWordWrap(True)
        self.detail_desc.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail_desc.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.detail_desc, 3)
        self.detail_grid = KeyValueGrid(["Context", "Max output", "Prices", "Routing", "Modalities", "Parameters"])
        for value_label in self.detail_grid.values.values():
            value_label.setWordWrap(True)
        row.addWidget(self.detail_grid, 4)
        details.body.addLayout(row)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(details)
        details.setMinimumHeight(215)  # six detail rows, the parameters wrapping to two lines
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setChildrenCollapsible(False)
        self.body.addWidget(split, 1)
        self.body.addWidget(self.empty_label)

        bottom = QHBoxLayout()
        self.count_label = muted("Waiting for the engine…")
        bottom.addWidget(self.count_label, 1)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setToolTip("Show every model again")
        bottom.addWidget(self.clear_button)
        self.body.addLayout(bottom)

        self.search_edit.textChanged.connect(self._apply_filters)
        self.vendor_combo.currentIndexChanged.connect(self._apply_filters)
        self.max_price_spin.valueChanged.connect(self._apply_filters)
        self.min_context_combo.currentIndexChanged.connect(self._apply_filters)
        self.free_check.toggled.connect(self._apply_filters)
        self.clear_button.clicked.connect(self.clear_filters)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_details(self.selected_model()))
        self.view.doubleClicked.connect(lambda _i: self.use_selected())
        self.use_button.clicked.connect(self.use_selected)

    # ---- data ---------------------------------------------------------------------------------------------

    def on_engine_ready(self) -> None:
        self._loaded_key = None
        super().on_engine_ready()

    def on_shown(self) -> None:
        if not self.ctx.ready or self._loading:
            return
        key = (id(self.ctx.engine), self.ctx.engine.catalog_version)
        if key == self._loaded_key:
            return
        self._loading = True
        self.count_label.setText("Loading the catalog…")
        self.ctx.spawn(
            self.ctx.engine.get_openrouter_models(),
            on_result=lambda models: self._loaded(models, key),
            on_error=self._failed,
            name="models.load",
        )

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.count_label.setText(f"Could not load the catalog: {exc}")

    def _loaded(self, models: list[ModelInfo], key: tuple[int, int]) -> None:
        self._loading = False
        self._loaded_key = key
        selected = self.selected_model()
        vendor = self.vendor_combo.currentData() or ""
        self._bulk = True
        self.vendor_combo.clear()
        self.vendor_combo.addItem("All vendors", "")
        for v in sorted({m.vendor for m in models if m.vendor}, key=str.lower):
            self.vendor_combo.addItem(v, v)
        self.vendor_combo.setCurrentIndex(max(self.vendor_combo.findData(vendor), 0))
        self._bulk = False
        self.source.set_models(models)
        self.fit_id_column()
        self._apply_filters()
        if selected is not None:
            self.select_model(selected.id)

    def fit_id_column(self) -> int:
        """Size the id column to the widest id of the whole catalog (not just the rows shown), so filtering
        never makes it jump and no id is cut; at most ``ID_MAX_WIDTH``. Returns the width set."""
        metrics = self.view.fontMetrics()
        widest = max((metrics.horizontalAdvance(m.id) for m in self.source.models), default=0)
        header = self.view.horizontalHeader()
        title = header.fontMetrics().horizontalAdvance(COLUMNS[0][0]) + 32  # room for the sort arrow
        # The cell's margins: the style's focus frame and item text margins on each side, plus a little air.
        margin = 2 * (self.view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + 14
        width = min(ID_MAX_WIDTH, max(widest + margin, title, COLUMNS[0][2]))
        self.view.setColumnWidth(0, width)
        return width

    # ---- filters ------------------------------------------------------------------------------------------

    def _apply_filters(self) -> None:
        if self._bulk:
            return
        price = self.max_price_spin.value()
        self.proxy.set_filters(
            text=self.search_edit.text(),
            vendor=self.vendor_combo.currentData() or "",
            max_price_out=price / 1_000_000 if price > 0 else None,
            min_context=int(self.min_context_combo.currentData() or 0),
            free_only=self.free_check.isChecked(),
        )
        self._update_count()

    def clear_filters(self) -> None:
        self._bulk = True  # one filter pass, not five
        self.search_edit.clear()
        self.vendor_combo.setCurrentIndex(0)
        self.max_price_spin.setValue(0.0)
        self.min_context_combo.setCurrentIndex(0)
        self.free_check.setChecked(False)
        self._bulk = False
        self._apply_filters()

    def _update_count(self) -> None:
        if self._loaded_key is None:
            return
        total = self.source.rowCount()
        shown = self.proxy.rowCount()
        excluded = sum(1 for r in range(shown) if self.proxy.index(r, 0).data(MODEL_ROLE).route_exclusion)
        note = f" · {excluded:,} shown muted: routing does not pick them by itself (hover for why)" if excluded else ""
        self.count_label.setText(f"{shown:,} of {total:,} models{note}")
        if not total:
            self.empty_label.setText("The catalog is empty: add a provider in Configure, then check Status.")
        elif not shown:
            self.empty_label.setText("No model matches these filters: shorten the search or click Clear filters.")
        self.empty_label.setVisible(shown == 0)
        self.clear_button.setEnabled(shown < total)
        if self.selected_model() is None:
            self._show_details(None)

    # ---- selection ----------------------------------------------------------------------------------------

    def visible_ids(self) -> list[str]:
        """The ids of the rows the table shows, in display order."""
        return [self.proxy.index(r, 0).data(MODEL_ROLE).id for r in range(self.proxy.rowCount())]

    def selected_model(self) -> ModelInfo | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        m = rows[0].data(MODEL_ROLE)
        return m if isinstance(m, ModelInfo) else None

    def select_model(self, model_id: str) -> bool:
        """Select (and scroll to) ``model_id`` if the filters show it; return whether it was found."""
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(MODEL_ROLE).id == model_id:
                self.view.selectRow(r)
                self.view.scrollTo(index)
                return True
        return False

    def use_selected(self) -> None:
        m = self.selected_model()
        if m is not None:
            self.ctx.events.use_model.emit(m.id)

    def _show_details(self, m: ModelInfo | None) -> None:
        self.use_button.setEnabled(m is not None)
        if m is None:
            self.detail_title.setText("Select a model to see its details")
            self.detail_desc.setText("")
            for key in self.detail_grid.values:
                self.detail_grid.set(key, "–")
            return
        self.detail_title.setText(
            f"<b>{html.escape(m.name or m.id)}</b>&nbsp;&nbsp;<code>{html.escape(m.id)}</code>"
            f"&nbsp;&nbsp;<span style='color:gray'>{html.escape(m.provider)} · quality {m.quality:.2f}</span>"
        )
        self.detail_desc.setText(html.escape(m.description or "No description."))
        self.detail_grid.set(
            "Context",
            f"{m.context_length:,} tokens" if m.context_known else "unknown (the provider did not state it)",
        )
        self.detail_grid.set("Max output", f"{m.max_output:,} tokens" if m.max_output else "not stated")
        self.detail_grid.set("Prices", prices_text(m))
        note = exclusion_text(m)
        self.detail_grid.set(
            "Routing",
            f"<span style='color:gray'>{html.escape(note)}</span>" if note else "may be picked automatically",
        )
        self.detail_grid.set("Modalities", f"{', '.join(m.input_modalities)} → {', '.join(m.output_modalities)}")
        self.detail_grid.set("Parameters", ", ".join(m.supported_parameters) or "not stated")
