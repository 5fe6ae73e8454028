"""The app's ``QStyle``: Fusion, with check boxes, radio buttons and item-view checks drawn so they stay visible on
both themes' cards.

Fusion fills an indicator with the palette's base color and outlines it with the window color darkened by 40 %;
on a dark card both are within a few shades of the background, so an unchecked box all but disappears. Here an
indicator always has a border of the text color at ~55 % opacity (an accent border under the mouse), a checked
one is filled with the accent color and carries a white mark, and a disabled one is drawn faint but still
outlined. Everything else is Fusion's.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleFactory, QStyleOption, QStyleOptionComplex, QWidget

__all__ = ["AppStyle", "indicator_colors"]

_FRAMED = (QStyle.ComplexControl.CC_SpinBox, QStyle.ComplexControl.CC_ComboBox)
_CHECKS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
)


def indicator_colors(palette: QPalette, *, enabled: bool, on: bool, hover: bool) -> tuple[QColor, QColor, QColor]:
    """(border, fill, mark) for an indicator in ``palette``'s colors."""
    text = QColor(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text))
    accent = QColor(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight))
    base = QColor(palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Base))
    border = QColor(text)
    border.setAlphaF(0.55)
    fill, mark = base, QColor("#ffffff")
    if on:
        fill = QColor(accent)
        border = QColor(accent)
    elif hover:
        border = QColor(accent)
    if not enabled:
        border.setAlphaF(0.3)
        fill = QColor(text) if on else base
        fill.setAlphaF(0.28 if on else 1.0)
        mark = QColor(base)
    return border, fill, mark


class AppStyle(QProxyStyle):
    """Fusion with visible check and radio indicators (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))
        self.setObjectName("autodevai")

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in _CHECKS:
            self._check(option, painter)
        elif element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            self._radio(option, painter)
        else:
            super().drawPrimitive(element, option, painter, widget)
            if element == QStyle.PrimitiveElement.PE_FrameLineEdit:
                self._edge(option, painter)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        framed = getattr(option, "frame", True)
        if control in _FRAMED and framed:
            self._edge(option, painter)

    @staticmethod
    def _edge(option: QStyleOption, painter: QPainter) -> None:
        """Redraw an input's outline in the palette's ``Mid`` color (Fusion's is invisible on dark cards)."""
        palette: QPalette = option.palette
        state = option.state
        focused = bool(state & QStyle.StateFlag.State_HasFocus) and bool(state & QStyle.StateFlag.State_Enabled)
        color = QColor(palette.color(QPalette.ColorRole.Highlight if focused else QPalette.ColorRole.Mid))
        if not state & QStyle.StateFlag.State_Enabled:
            color.setAlphaF(0.6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5), 2.5, 2.5)
        painter.restore()

    @staticmethod
    def _state(option: QStyleOption) -> tuple[bool, bool, bool, bool]:
        state = option.state
        enabled = bool(state & QStyle.StateFlag.State_Enabled)
        on = bool(state & QStyle.StateFlag.State_On)
        partial = bool(state & QStyle.StateFlag.State_NoChange)
        hover = enabled and bool(state & QStyle.StateFlag.State_MouseOver)
        return enabled, on, partial, hover

    def _check(self, option: QStyleOption, painter: QPainter) -> None:
        enabled, on, partial, hover = self._state(option)
        border, fill, mark = indicator_colors(option.palette, enabled=enabled, on=on or partial, hover=hover)
        rect = QRectF(option.rect)
        side = min(rect.width(), rect.height(), 16.0) - 2
        box = QRectF(0, 0, side, side)
        box.moveCenter(rect.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 1.2))
        painter.setBrush(fill)
        painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        pen = QPen(mark, max(1.6, side / 7), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        x, y, s = box.x(), box.y(), box.width()
        if partial:
            painter.drawLine(QPointF(x + s * 0.27, y + s * 0.5), QPointF(x + s * 0.73, y + s * 0.5))
        elif on:
            path = QPainterPath(QPointF(x + s * 0.24, y + s * 0.52))
            path.lineTo(QPointF(x + s * 0.43, y + s * 0.71))
            path.lineTo(QPointF(x + s * 0.77, y + s * 0.31))
            painter.drawPath(path)
        painter.restore()

    def _radio(self, option: QStyleOption, painter: QPainter) -> None:
        enabled, on, _partial, hover = self._state(option)
        border, fill, mark = indicator_colors(option.palette, enabled=enabled, on=on, hover=hover)
        rect = QRectF(option.rect)
        side = min(rect.width(), rect.height(), 16.0) - 2
        box = QRectF(0, 0, side, side)
        box.moveCenter(rect.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 1.2))
        painter.setBrush(fill)
        painter.drawEllipse(box.adjusted(0.5, 0.5, -0.5, -0.5))
        if on:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(mark)
            dot = box.width() * 0.38
            painter.drawEllipse(box.center(), dot / 2, dot / 2)
        painter.restore()
