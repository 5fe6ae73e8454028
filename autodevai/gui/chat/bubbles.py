"""Painting message bubbles in a list view: one cached ``QTextDocument`` per row (by row key, laid out again only
when the width, the theme or the row's HTML changes), your messages right-aligned on a tinted bubble, answers on
the base color with a border, and hit-testing of the links inside a bubble.

Nothing here is a widget per message: a thread of any length costs one document per row on screen or near it,
and ``MAX_DOCS`` at most.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QPoint, QPointF, QRect, QRectF, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QPainter, QPalette, QTextCursor, QTextDocument
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from autodevai.gui.chat.markdown import stylesheet
from autodevai.gui.chat.thread_model import Bubble, BubbleRole
from autodevai.gui.theme import state_color

__all__ = ["BubbleDelegate", "anchor_rect"]

MAX_DOCS = 400
SIDE = 14  # space between a bubble and the view's edges
PAD_X, PAD_Y = 12, 8  # inside a bubble
GAP = 10  # between rows
USER_SHARE = 0.8  # your bubbles take at most this share of the width
MAX_WIDTH = 980  # answers stop growing wider than this (long lines are hard to read)

Index = QModelIndex | QPersistentModelIndex


@dataclass
class _Doc:
    html: str
    tail: str
    width: int
    doc: QTextDocument
    inner: int  # the text width used (your bubbles shrink to their text)


def _x(value: object) -> float:
    """``QTextLine.cursorToX`` answers (x, position) in PySide6."""
    return float(value[0] if isinstance(value, tuple) else value)  # type: ignore[arg-type]


def anchor_rect(doc: QTextDocument, href: str) -> QRectF | None:
    """Where the link ``href`` is drawn in ``doc`` (document coordinates), or None."""
    doc.size()  # lays the document out
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isAnchor() and fmt.anchorHref() == href:
                layout = block.layout()
                rel = frag.position() - block.position()
                line = layout.lineForTextPosition(rel)
                if not line.isValid():
                    return None
                x1, x2 = _x(line.cursorToX(rel)), _x(line.cursorToX(rel + frag.length()))
                origin = doc.documentLayout().blockBoundingRect(block).topLeft()
                return QRectF(origin.x() + x1, origin.y() + line.y(), max(1.0, x2 - x1), line.height())
            it += 1
        block = block.next()
    return None


class BubbleDelegate(QStyledItemDelegate):
    """Paints the ``Bubble`` of each row (``BubbleRole``); ``width`` follows the view's viewport."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.width = 640
        self.dark = False
        self._docs: OrderedDict[str, _Doc] = OrderedDict()

    def set_width(self, width: int) -> bool:
        """The viewport's width; True when it changed (the view then lays its rows out again)."""
        width = max(200, width)
        if width == self.width:
            return False
        self.width = width
        return True

    def set_dark(self, dark: bool) -> None:
        if dark != self.dark:
            self.dark = dark
            self._docs.clear()

    def forget(self) -> None:
        self._docs.clear()

    # ---- documents -----------------------------------------------------------------------------------------

    def _max_inner(self, bubble: Bubble) -> int:
        avail = min(self.width - 2 * SIDE, MAX_WIDTH)
        if bubble.user:
            avail = int(avail * USER_SHARE)
        return max(80, avail - 2 * PAD_X)

    def document(self, bubble: Bubble) -> QTextDocument:
        return self._entry(bubble).doc

    def _entry(self, bubble: Bubble) -> _Doc:
        entry = self._docs.get(bubble.key)
        if entry is not None and entry.width == self.width and entry.html == bubble.html:
            self._docs.move_to_end(bubble.key)
            if entry.tail != bubble.tail:
                self._append(entry, bubble.tail)
            return entry
        doc = QTextDocument(self)
        doc.setDocumentMargin(0)
        doc.setDefaultStyleSheet(stylesheet(self.dark))
        for n, image in enumerate(bubble.images):
            doc.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(f"att:{bubble.key}/{n}"), image)
        doc.setHtml(bubble.html)
        inner = self._max_inner(bubble)
        doc.setTextWidth(inner)
        if bubble.user:  # a short message gets a small bubble
            inner = min(inner, max(40, int(doc.idealWidth()) + 2))
            doc.setTextWidth(inner)
        entry = _Doc(bubble.html, "", self.width, doc, inner)
        if bubble.tail:
            self._append(entry, bubble.tail)
        if bubble.key in self._docs:
            old = self._docs.pop(bubble.key)
            old.doc.deleteLater()
        self._docs[bubble.key] = entry
        while len(self._docs) > MAX_DOCS:
            _key, dropped = self._docs.popitem(last=False)
            dropped.doc.deleteLater()
        return entry

    @staticmethod
    def _append(entry: _Doc, tail: str) -> None:
        """Plain text that streamed in since the last rendering, appended at the end (no re-rendering)."""
        if tail.startswith(entry.tail):
            cursor = QTextCursor(entry.doc)
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(tail[len(entry.tail) :])
        else:  # cannot happen with a growing text; re-render rather than show it wrong
            entry.doc.setHtml(entry.html)
            QTextCursor(entry.doc).insertText(tail)
        entry.tail = tail

    # ---- geometry --------------------------------------------------------------------------------------------

    def bubble_rect(self, rect: QRect, bubble: Bubble) -> QRect:
        """The bubble's rectangle inside the row's ``rect``."""
        entry = self._entry(bubble)
        height = int(entry.doc.size().height()) + 2 * PAD_Y
        width = entry.inner + 2 * PAD_X
        if bubble.kind in ("earlier", "later"):
            width = min(self.width - 2 * SIDE, MAX_WIDTH)
            return QRect(rect.left() + (rect.width() - width) // 2, rect.top() + GAP // 2, width, height)
        x = rect.right() - SIDE - width + 1 if bubble.user else rect.left() + SIDE
        return QRect(x, rect.top() + GAP // 2, width, height)

    def doc_origin(self, rect: QRect, bubble: Bubble) -> QPoint:
        return self.bubble_rect(rect, bubble).topLeft() + QPoint(PAD_X, PAD_Y)

    def anchor_at(self, rect: QRect, bubble: Bubble, pos: QPoint) -> str:
        """The link under ``pos`` (view coordinates) in the bubble drawn in ``rect``, or ""."""
        local = QPointF(pos - self.doc_origin(rect, bubble))
        return str(self.document(bubble).documentLayout().anchorAt(local) or "")

    def anchor_point(self, rect: QRect, bubble: Bubble, href: str) -> QPoint | None:
        """The center of the link ``href`` in view coordinates (for keyboard access and tests), or None."""
        found = anchor_rect(self.document(bubble), href)
        if found is None:
            return None
        return self.doc_origin(rect, bubble) + found.center().toPoint()

    # ---- QStyledItemDelegate ---------------------------------------------------------------------------------

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        bubble = index.data(BubbleRole)
        if not isinstance(bubble, Bubble):
            return QSize(self.width, 20)
        return QSize(self.width, int(self._entry(bubble).doc.size().height()) + 2 * PAD_Y + GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        bubble = index.data(BubbleRole)
        if not isinstance(bubble, Bubble):
            return
        rect: QRect = option.rect
        box = self.bubble_rect(rect, bubble)
        palette: QPalette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if bubble.kind not in ("earlier", "later"):
            fill, edge = self._colors(bubble, palette)
            painter.setPen(edge)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), 10, 10)
            if bubble.kind == "partial":
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(state_color("warning")))
                painter.drawRoundedRect(QRectF(box.left(), box.top() + 6, 3, box.height() - 12), 1.5, 1.5)
        origin = box.topLeft() + QPoint(PAD_X, PAD_Y)
        painter.translate(origin)
        # Only the part on screen: a long answer's document is far taller than the view.
        clip = QRect(0, 0, box.width() - PAD_X, box.height())
        view = option.widget
        if view is not None and hasattr(view, "viewport"):
            clip = clip.intersected(view.viewport().rect().translated(-origin))
        if not clip.isEmpty():
            self.document(bubble).drawContents(painter, QRectF(clip))
        painter.restore()

    def _colors(self, bubble: Bubble, palette: QPalette) -> tuple[QColor, QColor]:
        if bubble.user:
            return QColor("#26334d" if self.dark else "#e7effd"), QColor("#34456a" if self.dark else "#c9d9f6")
        base = QColor(palette.color(QPalette.ColorRole.Base))
        edge = QColor(palette.color(QPalette.ColorRole.Mid))
        if self.dark:
            base = QColor("#26282c")
            edge = QColor("#3a3c42")
        return base, edge
