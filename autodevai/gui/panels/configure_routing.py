"""The Routing card of Configure: the default preference, the balanced score's weights (with each one's share of
the score), minimum quality, free models, the number of fallbacks, and the fallback chains table (a model id and
the ids to try after it, in order). Its fields are registered on the ``FormPage`` that builds it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from autodevai.engine.types import Preference
from autodevai.gui.panels.configure_form import Field, FormPage
from autodevai.gui.widgets import Card, muted

__all__ = ["PREF_TIPS", "RoutingCard"]

PREF_TIPS = {
    "balanced": "weighted score of price, quality, latency and success (the weights below)",
    "cost": "the cheapest model that fits",
    "quality": "the highest quality prior that fits",
    "speed": "the lowest measured latency",
}
WEIGHT_TIPS = {
    "price": "Weight of a low price (input + output per token)",
    "quality": "Weight of the model's quality prior (public benchmarks, overridable)",
    "latency": "Weight of low measured latency",
    "success": "Weight of the measured success rate",
}


class RoutingCard(Card):
    """How a model is chosen; registers ``routing.*`` fields on ``page``."""

    def __init__(self, page: FormPage) -> None:
        super().__init__("Routing")
        self.page = page
        self.body.addWidget(muted("How a model is chosen when a request does not name one."))
        form = page._form(self)
        pref = QComboBox()
        pref_tip = muted("")
        for p in Preference:
            pref.addItem(p.value, p.value)
            pref.setItemData(pref.count() - 1, PREF_TIPS.get(p.value, ""), Qt.ItemDataRole.ToolTipRole)
        pref.currentIndexChanged.connect(lambda _i: pref_tip.setText(PREF_TIPS.get(pref.currentData(), "")))
        page._row(
            form,
            "Default preference",
            "routing.default_preference",
            Field(pref, pref.currentData, lambda v: pref.setCurrentIndex(max(0, pref.findData(str(v))))),
            "What routing optimizes for when the request gives no preference",
            pref_tip,
        )
        self.shares: dict[str, QLabel] = {}
        for name, tip in WEIGHT_TIPS.items():
            spin = page._dspin(0, 10, 0.05, 2)
            share = muted("")
            share.setMinimumWidth(70)
            self.shares[name] = share
            spin.valueChanged.connect(lambda _v: self.update_shares())
            page._row(form, f"Weight: {name}", f"routing.weights.{name}", page._spin_field(spin), tip, share)
        form.addRow("", page._add_field_error("routing.weights"))
        page._row(
            form,
            "Minimum quality",
            "routing.min_quality",
            page._spin_field(page._dspin(0, 1, 0.05, 2)),
            "Never route to a model whose quality prior is below this (0 = any)",
        )
        free = QCheckBox("Route to :free models")
        page._row(
            form,
            "Free models",
            "routing.allow_free",
            page._check_field(free),
            ":free models allow 20 requests/min and their providers may log prompts; an explicit id always works",
        )
        page._row(
            form,
            "Fallbacks",
            "routing.fallbacks",
            page._spin_field(page._ispin(0, 10)),
            "How many other models to try after the first choice fails",
        )
        self._chains()

    def _chains(self) -> None:
        self.body.addSpacing(4)
        self.body.addWidget(QLabel("<b>Fallback chains</b>"))
        self.body.addWidget(muted("Models to try, in order, when a model fails (instead of the automatic choice)."))
        t = self.chains_table = QTableWidget(0, 2)
        t.setHorizontalHeaderLabels(["Model id", "Fallbacks (comma-separated ids)"])
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        t.horizontalHeader().setStretchLastSection(True)
        t.setColumnWidth(0, 220)
        t.verticalHeader().hide()
        t.setMinimumHeight(100)
        t.setMaximumHeight(180)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setToolTip("Double-click a cell to edit it")
        t.itemChanged.connect(lambda _i: self.page._on_edit("routing.chains"))
        self.page.add_field("routing.chains", Field(t, self.chains_value, self.set_chains))
        self.chains_empty = muted("No chains: fallbacks follow the routing preference. Add one to fix the order.")
        self.body.addWidget(self.chains_empty)
        self.body.addWidget(t, 1)
        t.model().rowsInserted.connect(lambda *_: self._chains_shown())
        t.model().rowsRemoved.connect(lambda *_: self._chains_shown())
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
        self.body.addLayout(buttons)
        self.body.addWidget(self.page._add_field_error("routing.chains"))

    def update_shares(self) -> None:
        """Each weight's share of the balanced score, next to it."""
        values = {n: self.page.fields[f"routing.weights.{n}"].get() for n in self.shares}
        total = sum(values.values())
        for name, label in self.shares.items():
            label.setText(f"{values[name] / total:.0%} of the score" if total > 0 else "")

    # ---- chains table ---------------------------------------------------------------------------------------

    def _chains_shown(self) -> None:
        self.chains_empty.setVisible(self.chains_table.rowCount() == 0)

    def chains_value(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in range(self.chains_table.rowCount()):
            cells = [self.chains_table.item(r, c) for c in (0, 1)]
            model = cells[0].text().strip() if cells[0] else ""
            if model:
                rest = cells[1].text() if cells[1] else ""
                out[model] = [m.strip() for m in rest.split(",") if m.strip()]
        return out

    def set_chains(self, chains: dict[str, list[str]]) -> None:
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
        item = self.chains_table.item(row, 0)
        if item is None:
            item = QTableWidgetItem("")
            self.chains_table.setItem(row, 0, item)
        self.chains_table.editItem(item)

    def _remove_chain(self) -> None:
        rows = sorted({i.row() for i in self.chains_table.selectedIndexes()}, reverse=True)
        for r in rows or [self.chains_table.currentRow()]:
            if r >= 0:
                self.chains_table.removeRow(r)
        self.page._on_edit("routing.chains")
