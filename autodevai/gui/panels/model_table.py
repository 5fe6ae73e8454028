"""The Models panel's table: ``ModelTableModel`` (the catalog as formatted rows with raw sort keys) and
``ModelFilterProxy`` (search, vendor, price, window and free filters), plus the wording of what a catalog does
not know: a window or price the server did not state reads "unknown" (muted, sorted last, never passing a price
or window filter, never "free"), and ``exclusion_text`` says why routing never picks a model on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

from autodevai.engine.types import ModelInfo
from autodevai.text import fmt_per_million, fmt_tokens

__all__ = [
    "COLUMNS",
    "MODEL_ROLE",
    "SORT_ROLE",
    "UNKNOWN",
    "ModelFilterProxy",
    "ModelTableModel",
    "exclusion_text",
    "is_free",
    "prices_text",
]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MODEL_ROLE = Qt.ItemDataRole.UserRole + 2
AnyIndex = QModelIndex | QPersistentModelIndex

# (header, tooltip, default width)
COLUMNS: list[tuple[str, str, int]] = [
    ("Model id", "The id to use in requests and settings", 232),
    ("Name", "The vendor's display name", 200),
    ("Vendor", "Who made the model (the part of the id before '/')", 92),
    ("Provider", "The configured provider that serves it", 76),
    ("Context", "Context window in tokens (prompt + answer)", 66),
    ("$/M in", "USD per million input (prompt) tokens", 66),
    ("$/M out", "USD per million output (completion) tokens", 70),
    ("Quality", "Quality prior from public benchmarks, 0–1 (overridable in Configure)", 60),
    ("Input", "Input modalities", 110),
]
NUMERIC = {4, 5, 6, 7}
UNKNOWN = "unknown"
_LAST = float("inf")  # the sort key of an unknown number: after every known one (ascending)


def is_free(m: ModelInfo) -> bool:
    """Free to call: a ``:free`` id, or every stated price zero (an unknown price is never free)."""
    if not m.price_known:
        return False
    return m.id.endswith(":free") or (m.price_in == 0 and m.price_out == 0 and m.price_request == 0)


def _per_m(price: float) -> str:
    text = fmt_per_million(price)
    return text if text == "free" else f"{text}/M"


def _price_cell(m: ModelInfo, price: float) -> str:
    return fmt_per_million(price) if m.price_known else UNKNOWN


def exclusion_text(m: ModelInfo) -> str:
    """Why routing leaves ``m`` alone, as a sentence ("" when it may pick it)."""
    if not m.route_exclusion:
        return ""
    return f"Routing never picks it on its own: {m.route_exclusion}. Name it in a request to use it."


class ModelTableModel(QAbstractTableModel):
    """The catalog as rows; ``DisplayRole`` is formatted text, ``SORT_ROLE`` the raw value to sort on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models: list[ModelInfo] = []
        self._cells: list[tuple[str, ...]] = []
        self._keys: list[tuple[Any, ...]] = []
        self.haystacks: list[str] = []  # what the search matches: id, name and description, lower-case

    def set_models(self, models: Sequence[ModelInfo]) -> None:
        self.beginResetModel()
        self.models = list(models)
        self._cells = [_cells(m) for m in self.models]  # formatted once, not on every paint
        self._keys = [_sort_keys(m, c) for m, c in zip(self.models, self._cells, strict=True)]
        self.haystacks = [f"{m.id}\n{m.name}\n{m.description}".lower() for m in self.models]
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature (root index)
        return 0 if parent.isValid() else len(self.models)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - as above
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        m = self.models[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][col]
        if role == SORT_ROLE:
            return self._keys[index.row()][col]
        if role == MODEL_ROLE:
            return m
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and (m.route_exclusion or self._cells[index.row()][col] == UNKNOWN):
            return self.muted
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(m, col, self._cells[index.row()][col])
        return None

    @property
    def muted(self) -> QColor:
        """The placeholder gray of the current palette (follows a live theme switch)."""
        return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def _tooltip(m: ModelInfo, col: int, cell: str) -> str | None:
    note = exclusion_text(m)
    if cell == UNKNOWN:
        what = "context window" if col == 4 else "price"
        text = f"The provider did not state this model's {what}."
        return f"{text}\n{note}" if note else text
    if col in (0, 1):
        text = m.description or m.id
        return f"{note}\n\n{text}" if note else text
    return note or None


def _cells(m: ModelInfo) -> tuple[str, ...]:
    """The row as displayed, in ``COLUMNS`` order."""
    return (
        m.id,
        m.name or m.id,
        m.vendor,
        m.provider,
        fmt_tokens(m.context_length) if m.context_known else UNKNOWN,
        _price_cell(m, m.price_in),
        _price_cell(m, m.price_out),
        f"{m.quality:.2f}",
        ", ".join(m.input_modalities),
    )


def _sort_keys(m: ModelInfo, cells: tuple[str, ...]) -> tuple[Any, ...]:
    """What each column sorts on: raw numbers for the numeric columns, lower-case text otherwise."""
    numbers = {
        4: m.context_length if m.context_known else _LAST,
        5: m.price_in if m.price_known else _LAST,
        6: m.price_out if m.price_known else _LAST,
        7: m.quality,
    }
    return tuple(numbers.get(col, text.lower()) for col, text in enumerate(cells))


class ModelFilterProxy(QSortFilterProxyModel):
    """Filters by text (id/name/description), vendor, max output price (USD per token), min context, free.
    A model whose price or window is unknown does not pass a price or window filter (it might not fit)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.vendor = ""
        self.max_price_out: float | None = None
        self.min_context = 0
        self.free_only = False
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filters(
        self, *, text: str, vendor: str, max_price_out: float | None, min_context: int, free_only: bool
    ) -> None:
        self.beginFilterChange()
        self.text = text.strip().lower()
        self.vendor = vendor
        self.max_price_out = max_price_out
        self.min_context = min_context
        self.free_only = free_only
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, ModelTableModel) or source_row >= len(source.models):
            return False
        m = source.models[source_row]
        return (
            (not self.vendor or m.vendor == self.vendor)
            and (self.max_price_out is None or (m.price_known and m.price_out <= self.max_price_out))
            and (not self.min_context or (m.context_known and m.context_length >= self.min_context))
            and (not self.free_only or is_free(m))
            and (not self.text or self.text in source.haystacks[source_row])
        )


def prices_text(m: ModelInfo) -> str:
    """The details pane's prices: "free", "unknown (…)", or in/out per million with tiers and per-request fees."""
    if not m.price_known:
        return "unknown (the provider listed no usable price; it is never counted as free)"
    if is_free(m):
        return "free"
    prices = f"in {_per_m(m.price_in)} · out {_per_m(m.price_out)}"
    for tier in m.price_tiers:
        prices += f" · from {fmt_tokens(tier.min_prompt_tokens)} prompt tokens: in {_per_m(tier.price_in)}"
        prices += f", out {_per_m(tier.price_out)}"
    if m.price_request:
        prices += f" · ${m.price_request:g} per request"
    return prices
