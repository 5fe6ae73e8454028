"""Reusable live dashboard widgets: ``LiveChart`` (a titled pyqtgraph plot with fixed-size curves, colored from
the application palette, light or dark) and ``StatTile`` (the big-number card shown above charts).

A ``LiveChart`` never grows: ``set_points(n)`` allocates its buffers once per window change, ``set_values``
writes the new values into them and calls ``setData``. Empty intervals are NaN for measured quantities
(latency, error rate) so the curve shows a gap instead of a fake zero; such curves also draw small dots so a
lone point stays visible. The legend sits in the chart's Qt header (colored keys), never over the data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

__all__ = ["Curve", "LiveChart", "StatTile", "tick_text"]

pg.setConfigOptions(antialias=False)
_EMPTY = np.zeros(0)


def tick_text(value: float, spacing: float) -> str:
    """A tick label with as many decimals as the tick spacing needs: 0.0004, 2.5, 150, 12K."""
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}K"
    decimals = max(0, -math.floor(math.log10(spacing))) if spacing > 0 else 0
    return f"{value:,.{min(decimals, 8)}f}"


class _ValueAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [tick_text(v * scale, spacing * scale) for v in values]


class _AgoAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """x is "time before now" (negative): label it as a positive age, and 0 as "now"."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return ["now" if abs(v) < 1e-9 else tick_text(abs(v * scale), spacing * scale) for v in values]


@dataclass(frozen=True, slots=True)
class Curve:
    """One line of a chart: its key, the label in the legend, its color, and how it draws."""

    key: str
    label: str
    color: str
    gaps: bool = False  # NaN means "no data": draw dots and leave gaps between them
    fill: bool = False  # shade the area under the line (rates)
    dashed: bool = False  # tells apart a line that often coincides with another (p99 over p95)


class LiveChart(QWidget):
    """A header (title, legend, unit) over a non-interactive pyqtgraph plot with fixed-size curves."""

    def __init__(
        self,
        title: str,
        unit: str,
        curves: Sequence[Curve],
        *,
        tooltip: str = "",
        y_min_span: float = 0.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.unit = unit
        self.specs = list(curves)
        self.y_min_span = y_min_span  # y axis shows at least [0, this]: a flat zero line sits at the bottom
        self.n = 0
        self.xs = np.zeros(0)
        self.ys: dict[str, np.ndarray] = {}

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        if tooltip:
            self.setToolTip(tooltip)
        lay.addWidget(self.header)

        self.plot = pg.PlotWidget(axisItems={"left": _ValueAxis("left"), "bottom": _AgoAxis("bottom")})
        self.plot.setMinimumHeight(110)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=False, y=True, alpha=0.18)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(54)
        lay.addWidget(self.plot, 1)

        self.items: dict[str, pg.PlotDataItem] = {}
        for spec in self.specs:
            self.items[spec.key] = self._make_item(spec)
        self.apply_palette(self.palette())

    # ---- building ---------------------------------------------------------------------------------------------

    def _make_item(self, spec: Curve) -> pg.PlotDataItem:
        color = QColor(spec.color)
        style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(color, width=2, style=style)
        kw: dict[str, object] = {"pen": pen, "connect": "finite" if spec.gaps else "all"}
        if spec.gaps:
            kw.update(symbol="o", symbolSize=5, symbolPen=None, symbolBrush=pg.mkBrush(color))
        if spec.fill:
            shade = QColor(color)
            shade.setAlpha(50)
            kw.update(fillLevel=0.0, brush=pg.mkBrush(shade))
        item = pg.PlotDataItem([], [], **kw)
        self.plot.addItem(item)
        return item

    def _header_html(self, muted: str) -> str:
        keys = ""
        if len(self.specs) > 1:
            keys = "&nbsp;&nbsp;" + "&nbsp;&nbsp;".join(
                f'<span style="color:{s.color}">{"╍╍" if s.dashed else "━━"}</span>&nbsp;{s.label}' for s in self.specs
            )
        return f'<b>{self.title}</b>{keys}&nbsp;&nbsp;<span style="color:{muted}">{self.unit}</span>'

    # ---- data -------------------------------------------------------------------------------------------------

    def set_points(self, n: int, x_label: str, x_min: float) -> None:
        """Allocate ``n`` points per curve (once per window change) and fix the x axis to ``[x_min, 0]``;
        an empty ``x_label`` hides the axis title (charts stacked in a grid label only the bottom row)."""
        if n != self.n:
            self.n = n
            self.xs = np.zeros(n)
            self.ys = {s.key: np.full(n, np.nan) for s in self.specs}
        item = self.plot.getPlotItem()
        if x_label:
            item.setLabel("bottom", x_label)
        else:
            item.showLabel("bottom", False)
        item.setXRange(x_min, 0.0, padding=0.01)
        item.enableAutoRange(x=False, y=False)  # y is fitted on each redraw (from 0, see _fit_y)

    def set_values(self, x: Sequence[float], values: Mapping[str, Sequence[float | None]]) -> None:
        """Write one redraw's worth of points (``len(x) == n``; None becomes NaN) and repaint."""
        n = min(self.n, len(x))
        self.xs[:n] = x[:n]
        for spec in self.specs:
            buf = self.ys[spec.key]
            src = values.get(spec.key, ())
            for i in range(n):
                v = src[i] if i < len(src) else None
                buf[i] = np.nan if v is None else v
            if np.isfinite(buf).any():
                self.items[spec.key].setData(self.xs, buf)
            else:  # nothing measured: an all-NaN array makes pyqtgraph's scatter warn
                self.items[spec.key].setData(_EMPTY, _EMPTY)
        self._fit_y()

    def _fit_y(self) -> None:
        finite = [buf[np.isfinite(buf)] for buf in self.ys.values()]
        values = np.concatenate(finite) if finite else np.zeros(0)
        top = float(values.max()) if values.size else 0.0
        top = max(top * 1.1, self.y_min_span)
        if top <= 0:
            top = 1.0
        self.plot.getPlotItem().setYRange(0.0, top, padding=0.02)

    # ---- theme ------------------------------------------------------------------------------------------------

    def apply_palette(self, palette: QPalette) -> None:
        """Colors from the palette: the card's base as background, text color for axes, a muted grid."""
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        muted = QColor(text)
        muted.setAlpha(170)
        self.plot.setBackground(base)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(text))
        muted_hex = palette.color(QPalette.ColorRole.PlaceholderText).name()
        self.header.setText(self._header_html(muted_hex))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette(self.palette())
        super().changeEvent(event)


class StatTile(QFrame):
    """A dashboard figure: a caption, a big number (optionally colored) and a detail line."""

    def __init__(self, caption: str, tip: str) -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.setToolTip(tip)
        self.setMinimumWidth(150)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(0)
        cap = QLabel(caption)
        cap.setProperty("role", "muted")
        self.value = QLabel("–")
        self.value.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.detail = QLabel("")
        self.detail.setProperty("role", "muted")
        for w in (cap, self.value, self.detail):
            lay.addWidget(w)

    def set(self, value: str, detail: str = "", color: str | None = None) -> None:
        self.value.setText(value)
        self.value.setStyleSheet(f"font-size: 20px; font-weight: 600;{f' color: {color};' if color else ''}")
        self.detail.setText(detail)
