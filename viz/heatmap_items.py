"""The attention heatmap's plot: cells, a masked-cell overlay, outlines and token axes."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsRectItem

QUERY_COLOR = "#0a84ff"  # outline of the selected query row
KEY_COLOR = "#ff8c00"  # outline of the selected key column (dashed)
MAX_LABEL_CHARS = 14  # longer tokens are elided on the axes (the readout shows more)


def label_step(pixels_per_cell: float, label_pixels: float) -> int:
    """Smallest step of 1, 2, 3, 4, 5, 10, 20, 25, 50, 100, ... tokens whose labels fit."""
    need = label_pixels / max(pixels_per_cell, 1e-9)
    for step in (1, 2, 3, 4, 5):
        if step >= need:
            return step
    magnitude = 10
    while True:
        for mantissa in (1, 2, 2.5, 5):
            if mantissa * magnitude >= need:
                return int(mantissa * magnitude)
        magnitude *= 10


class TokenAxis(pg.AxisItem):
    """Token labels at cell centres, thinned to what fits; on the bottom axis they stand upright."""

    def __init__(self, orientation: str, font: QFont, color: QColor) -> None:
        super().__init__(orientation)
        self.setStyle(showValues=False, tickLength=4)  # the labels are drawn in drawPicture
        self.setPen(color)
        self._font, self._color = font, color
        self._raw: list[str] = []
        self._labels: list[str] = []
        self._ticks: list[tuple[float, str]] = []
        self._extent = 0.0

    def set_color(self, color: QColor) -> None:
        """Colour of the axis line and the token labels (for light and dark themes)."""
        self._color = QColor(color)
        self.setPen(self._color)
        self.picture = None
        self.update()

    def set_font(self, font: QFont) -> None:
        """Use ``font`` for the token labels and re-measure the space they need."""
        self._font = font
        self.set_labels(self._raw)

    def set_labels(self, labels: list[str]) -> None:
        """Show ``labels[i]`` at cell centre i + 0.5, elided, every k-th (see ``refresh``)."""
        self._raw = list(labels)
        self._labels = [elide(text, MAX_LABEL_CHARS) for text in labels]
        metrics = QFontMetricsF(self._font)
        longest = heapq.nlargest(12, self._labels, key=len)
        self._extent = max((metrics.horizontalAdvance(s) for s in longest), default=0.0)
        size = int(self._extent + 10 + self.label.boundingRect().height())
        if self.orientation == "left":
            self.setWidth(size)
        else:
            self.setHeight(size)
        self.refresh()

    def refresh(self) -> None:
        """Pick the labels in the visible range, every k-th so that none overlap."""
        view = self.linkedView()
        if view is None or not self._labels:
            self._ticks = []
        else:
            (x0, x1), (y0, y1) = view.viewRange()
            low, high = (y0, y1) if self.orientation == "left" else (x0, x1)
            pixels = view.height() if self.orientation == "left" else view.width()
            step = label_step(pixels / max(high - low, 1e-9), QFontMetricsF(self._font).height())
            first = max(0, math.floor(low)) // step * step
            last = min(len(self._labels), math.ceil(high))
            self._ticks = [(i + 0.5, self._labels[i]) for i in range(first, last, step)]
        self.setTicks([[(value, "") for value, _ in self._ticks]])

    def tick_labels(self) -> list[tuple[float, str]]:
        """The (position, text) labels currently shown."""
        return list(self._ticks)

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 (Qt)
        super().drawPicture(p, axisSpec, tickSpecs, [])
        view = self.linkedView()
        if view is None:
            return
        p.setFont(self._font)
        p.setPen(self._color)
        height = QFontMetricsF(self._font).height()
        bounds = self.mapRectFromParent(self.geometry())
        p.setClipRect(bounds)
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for value, text in self._ticks:
            at = self.mapFromScene(view.mapViewToScene(QPointF(value, value)))
            along, start, end = (
                (at.y(), bounds.top(), bounds.bottom())
                if self.orientation == "left"
                else (at.x(), bounds.left(), bounds.right())
            )
            if not start <= along <= end:
                continue
            # keep a label whole at the ends: half a label reads as another token
            shift = min(max(along, start + height / 2), end - height / 2) - along
            if self.orientation == "left":
                p.drawText(
                    QRectF(0, at.y() + shift - height / 2, bounds.right() - 7, height), align, text
                )
            else:  # upright, reading bottom to top, hanging from the axis line
                p.save()
                p.translate(at.x() + shift, bounds.top() + 7)
                p.rotate(-90)
                p.drawText(
                    QRectF(-self._extent - 2, -height / 2, self._extent + 2, height), align, text
                )
                p.restore()


def elide(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def row_prefixes(mask: np.ndarray) -> np.ndarray | None:
    """Visible keys per row when each row's visible cells are a prefix, else None.

    A causal mask (and any mask that hides a suffix of every row) is then drawn as one
    polygon, crisp at every zoom, instead of a per-cell image.

    Args:
        mask: (T, S) bool, True = hidden.

    Returns:
        (T,) int visible cells per row, or None when some row is not a prefix.
    """
    counts = (~mask).sum(axis=1)  # (T,)
    prefix = np.arange(mask.shape[1])[None, :] >= counts[:, None]  # (T, S) hidden suffixes
    return counts if np.array_equal(prefix, mask) else None


def suffix_outline(counts: np.ndarray, n_cols: int) -> QPolygonF:
    """The outline of the hidden cells right of ``counts[r]`` in every row r."""
    n_rows = len(counts)
    if n_rows == 0 or bool(np.all(counts >= n_cols)):
        return QPolygonF()
    points = [QPointF(float(counts[0]), 0.0), QPointF(n_cols, 0.0), QPointF(n_cols, n_rows)]
    for r in range(n_rows - 1, -1, -1):  # up the left edge of the hidden region
        points += [QPointF(float(counts[r]), r + 1.0), QPointF(float(counts[r]), float(r))]
    return QPolygonF(points)


class CellOutline(QGraphicsRectItem):
    """A rectangle in cell coordinates, drawn as a coloured line in a white casing.

    The casing keeps the line visible on every colormap, dark or bright; both pens are
    cosmetic so the outline keeps its pixel width at every zoom.
    """

    def __init__(self, color: str, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> None:
        super().__init__()
        pen = QPen(QColor(color), 3.0)
        pen.setCosmetic(True)
        pen.setStyle(style)
        self.setPen(pen)
        self._casing = QPen(QColor(255, 255, 255, 235), 6.5)
        self._casing.setCosmetic(True)
        self.setZValue(10)
        self.hide()

    def place(self, rect: QRectF | None) -> None:
        """Outline ``rect`` (cells), or hide when None."""
        if rect is not None:
            self.setRect(rect)
        self.setVisible(rect is not None)

    def paint(self, painter, option, widget=None) -> None:
        painter.setPen(self._casing)
        painter.drawRect(self.rect())
        painter.setPen(self.pen())
        painter.drawRect(self.rect())
