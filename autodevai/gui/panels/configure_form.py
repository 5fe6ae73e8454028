"""The form machinery under the Configure panel: fields keyed by dotted settings paths (``budget.daily_usd``),
each with a reader that may refuse the input (``ValueError`` with a sentence for the user), a writer, and an
error label right under it; plus the spin boxes, money fields and combo boxes the settings use.

``FormPage`` is a ``Panel`` that owns ``fields``, ``field_widgets`` and ``field_errors`` and calls
``_on_edit(path)`` whenever a field changes; the Configure panel decides what an edit means (dirty state,
Apply). A wheel over an unfocused spin box or combo scrolls the page instead of changing the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from autodevai.engine.errors import ConfigError
from autodevai.gui.bridge import GuiContext
from autodevai.gui.panels.base import Panel
from autodevai.gui.widgets import Card

__all__ = ["Field", "FormPage", "field_message", "lookup", "nest"]


@dataclass
class Field:
    """One form value: how to read it (may raise ValueError with a message for the user) and show it."""

    widget: QWidget
    get: Callable[[], Any]
    set: Callable[[Any], None]


def error_label() -> QLabel:
    label = QLabel()
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.hide()
    return label


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def nest(patch: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        patch = patch.setdefault(part, {})
    patch[last] = value


def field_message(exc: ConfigError, field: str) -> str:
    """What a ConfigError says about ``field`` ("Input should be ..."), else all of it."""
    problem = exc.problems.get(field)
    return problem[:1].upper() + problem[1:] if problem else str(exc)


class FormPage(Panel):
    """A panel holding a form of settings fields (see the module docstring)."""

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.fields: dict[str, Field] = {}
        self.field_widgets: dict[str, QWidget] = {}
        self.field_errors: dict[str, QLabel] = {}
        self.no_cap: dict[str, QCheckBox] = {}
        self._loading = False

    def _on_edit(self, path: str = "") -> None:
        """A field changed (the subclass decides what that means)."""

    def add_field(self, path: str, field: Field) -> None:
        self.fields[path] = field
        self.field_widgets[path] = field.widget

    def _add_field_error(self, path: str) -> QLabel:
        label = error_label()
        self.field_errors[path] = label
        return label

    def _row(
        self, form: QFormLayout, label: str, path: str, field: Field, tip: str, extra: QWidget | None = None
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
        self.add_field(path, field)
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

    @staticmethod
    def _spin_field(spin: QDoubleSpinBox | QSpinBox, scale: float = 1.0) -> Field:
        if isinstance(spin, QSpinBox):
            return Field(spin, spin.value, lambda v: spin.setValue(int(v)))
        return Field(spin, lambda: round(spin.value() / scale, 6), lambda v: spin.setValue(float(v) * scale))

    @staticmethod
    def _check_field(check: QCheckBox) -> Field:
        return Field(check, check.isChecked, lambda v: check.setChecked(bool(v)))

    def _money(self, form: QFormLayout, label: str, path: str, tip: str) -> None:
        """A USD amount with a "No cap" box (None when ticked)."""
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

        self._row(form, label, path, Field(edit, get, set_), tip, cap)

    def guard_wheel(self, root: QWidget) -> None:
        """Spin boxes and combos under ``root`` change only when focused (a wheel scrolls the page instead)."""
        for w in root.findChildren(QWidget):
            if isinstance(w, QAbstractSpinBox | QComboBox):
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                w.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            event.ignore()
            return True
        return super().eventFilter(obj, event)
