"""The attention heatmap's plot: cells, a masked-cell overlay, outlines and token axes."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem, QGraphicsRectItem

from llamalens.viz.colormaps import alpha_ramp

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


class HeatmapPlot(pg.PlotItem):
    """A square grid of cells: values, masked-cell overlay, outlines and token axes.

    Cell (row, col) spans x in [col, col + 1] and y in [row, row + 1] in view coordinates,
    row 0 at the top. A linked ColorBarItem colours the values image; the overlay paints
    masked cells in one flat colour on top of it.
    """

    def __init__(self, font: QFont, color: QColor) -> None:
        self.token_axes = {side: TokenAxis(side, font, color) for side in ("left", "bottom")}
        super().__init__(axisItems=self.token_axes)
        self.hideButtons()
        self.setMenuEnabled(False)
        view = self.getViewBox()
        view.invertY(True)  # row 0 (the first query) at the top
        view.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.mask = pg.ImageItem(axisOrder="row-major")  # any mask, cell by cell
        self.future = QGraphicsPolygonItem()  # a row-prefix mask (causal): one polygon
        self.future.setPen(QPen(Qt.PenStyle.NoPen))
        for item in (self.mask, self.future):
            item.setZValue(1)
        self.row_box = CellOutline(QUERY_COLOR)
        self.col_box = CellOutline(KEY_COLOR, Qt.PenStyle.DashLine)
        for item in (self.image, self.mask, self.future, self.row_box, self.col_box):
            self.addItem(item)
        for item in (self.image, self.mask):
            item.setAutoDownsample(True)  # 2048² maps stay smooth when zoomed out
        self.n_cells = 0
        self._outlined: np.ndarray | None = None  # the mask the polygon was built for
        view.sigRangeChanged.connect(self._refresh_ticks)
        view.sigResized.connect(self._refresh_ticks)

    def show_cells(self, values: np.ndarray, masked: np.ndarray | None) -> None:
        """Show (T, T) finite values and a (T, T) bool overlay (None: nothing masked).

        The view zooms out to the whole grid when T changes and keeps its zoom otherwise
        (switching heads over the same tokens).
        """
        resized = values.shape[0] != self.n_cells
        self.n_cells = values.shape[0]
        self.image.setImage(values, autoLevels=False)
        outlined = masked is not None and self._outline(masked)
        if masked is not None and not outlined:
            self.mask.setImage(masked.view(np.uint8), autoLevels=False, levels=(0, 1))
        self.future.setVisible(outlined)
        self.mask.setVisible(masked is not None and not outlined)
        if resized:
            n = max(self.n_cells, 1)
            self.getViewBox().setLimits(
                xMin=-n,
                xMax=2 * n,
                yMin=-n,
                yMax=2 * n,
                minXRange=min(n, 3),
                minYRange=min(n, 3),
                maxXRange=3 * n,
                maxYRange=3 * n,
            )
            self.reset_view()

    def _outline(self, masked: np.ndarray) -> bool:
        """Draw a row-prefix mask as one polygon; False for any other mask.

        The polygon is kept for the same mask array (a trace hands out one per size).
        """
        if masked is self._outlined:
            return True
        counts = row_prefixes(masked)
        if counts is None:
            return False
        self.future.setPolygon(suffix_outline(counts, masked.shape[1]))
        self._outlined = masked if not masked.flags.writeable else None
        return True

    def set_labels(self, labels: list[str]) -> None:
        """Token labels of both axes: queries on the left, keys at the bottom."""
        for axis in self.token_axes.values():
            axis.set_labels(labels)

    def set_font(self, font: QFont) -> None:
        """Font of the token labels."""
        for axis in self.token_axes.values():
            axis.set_font(font)

    def set_masked_color(self, color: QColor) -> None:
        """Colour of the masked-cell overlay."""
        self.mask.setLookupTable(alpha_ramp(color))
        self.future.setBrush(QBrush(color))

    def place_outlines(self, row: int | None, col: int | None) -> None:
        """Outline query row ``row`` and key column ``col``; None hides an outline."""
        n = self.n_cells
        self.row_box.place(None if row is None else QRectF(0, row, n, 1))
        self.col_box.place(None if col is None else QRectF(col, 0, 1, n))

    def reset_view(self) -> None:
        """Zoom out to the whole grid."""
        n = max(self.n_cells, 1)
        self.getViewBox().setRange(QRectF(0, 0, n, n), padding=0.0)

    def _refresh_ticks(self, *_args) -> None:
        for axis in self.token_axes.values():
            axis.refresh()

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, col) under a scene position, or None outside the grid."""
        view = self.getViewBox()
        if not self.n_cells or not view.sceneBoundingRect().contains(scene_pos):
            return None
        point = view.mapSceneToView(scene_pos)
        row, col = math.floor(point.y()), math.floor(point.x())
        if 0 <= row < self.n_cells and 0 <= col < self.n_cells:
            return row, col
        return None

    def scene_pos_of(self, row: int, col: int) -> QPointF:
        """Scene position of the centre of cell (row, col)."""
        return self.getViewBox().mapViewToScene(QPointF(col + 0.5, row + 0.5))
