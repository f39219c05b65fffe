"""HeatmapPlot: the attention map's plot: pictures of its cells, masks, outlines, token axes.

Cell (row, col) spans x in [col, col + 1] and y in [row, row + 1] in view coordinates,
row 0 at the top. Two pictures share the colour bar: the whole map from its overview
(``image``) and, when zoomed in past the overview's resolution, the real cells of the
visible region on top (``detail``). A causal mask is one polygon, crisp at every zoom;
a hidden first column is one rectangle; any other mask is drawn block by block.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsPolygonItem, QGraphicsRectItem

from llamalens.viz.cells_item import CellsItem
from llamalens.viz.colormaps import alpha_ramp
from llamalens.viz.heatmap_items import (
    KEY_COLOR,
    QUERY_COLOR,
    CellOutline,
    TokenAxis,
    row_prefixes,
    suffix_outline,
)
from llamalens.viz.map_source import Picture

UNSIZED_PX = 16  # a view box this small has not been laid out yet


class HeatmapPlot(pg.PlotItem):
    """A square grid of cells with its token axes; see the module docstring."""

    def __init__(self, font: QFont, color: QColor) -> None:
        self.token_axes = {side: TokenAxis(side, font, color) for side in ("left", "bottom")}
        super().__init__(axisItems=self.token_axes)
        self.hideButtons()
        self.setMenuEnabled(False)
        view = self.getViewBox()
        view.invertY(True)  # row 0 (the first query) at the top
        view.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")  # the whole map, block maxima
        self.detail = pg.ImageItem(axisOrder="row-major")  # real cells of a zoomed region
        self.mask = pg.ImageItem(axisOrder="row-major")  # any other mask, by block
        self.detail_mask = pg.ImageItem(axisOrder="row-major")
        self.future = QGraphicsPolygonItem()  # a row-prefix mask (causal): one polygon
        self.future.setPen(QPen(Qt.PenStyle.NoPen))
        self.first_column = QGraphicsRectItem()  # "hide first column": one rectangle
        self.first_column.setPen(QPen(Qt.PenStyle.NoPen))
        for z, items in ((0.5, (self.detail,)), (1, (self.mask, self.future, self.first_column))):
            for item in items:
                item.setZValue(z)
        self.detail_mask.setZValue(1.5)
        self.row_box = CellOutline(QUERY_COLOR)
        self.col_box = CellOutline(KEY_COLOR, Qt.PenStyle.DashLine)
        for item in (
            self.image,
            self.detail,
            self.mask,
            self.detail_mask,
            self.future,
            self.first_column,
            self.row_box,
            self.col_box,
        ):
            self.addItem(item)
        self.n_cells = 0
        self.cells: CellsItem | None = None  # a vector figure's cells, instead of images
        self._outlined: np.ndarray | None = None  # the mask the polygon was built for
        view.sigRangeChanged.connect(self._refresh_ticks)
        view.sigResized.connect(self._refresh_ticks)
        view.sigResized.connect(self._fit_when_sized)
        view.sigRangeChangedManually.connect(self._zoomed)
        self._fit_pending = False

    # ---- geometry --------------------------------------------------------------------------
    def set_size(self, n: int) -> None:
        """A map of n × n cells; the view zooms out to all of it when n changes and keeps
        its zoom otherwise (switching heads over the same tokens)."""
        if n == self.n_cells:
            return
        self.n_cells = n
        n = max(n, 1)
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

    def visible_cells(self) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1): the part of the map in view, in cells, clipped to the map."""
        (x0, x1), (y0, y1) = self.getViewBox().viewRange()
        n = float(self.n_cells)
        clip = lambda v: min(max(v, 0.0), n)  # noqa: E731
        return clip(x0), clip(x1), clip(y0), clip(y1)

    def view_pixels(self) -> tuple[float, float]:
        """The view box's size in screen pixels (device pixels on high-density screens)."""
        view = self.getViewBox()
        ratio = 1.0
        widget = self.scene().views()[0] if self.scene() and self.scene().views() else None
        if widget is not None:
            ratio = widget.devicePixelRatioF()
        return view.width() * ratio, view.height() * ratio

    # ---- pictures --------------------------------------------------------------------------
    def show_picture(self, which: str, picture: Picture | None, shown: np.ndarray | None) -> None:
        """Put coloured-ready ``shown`` values of ``picture`` in the base or detail image.

        Args:
            which: "image" (the whole map) or "detail" (a zoomed region).
            picture: where the blocks go and which are hidden; None hides the image.
            shown: (h, w) finite values to colour (hidden blocks hold the scale minimum).
        """
        item = self.image if which == "image" else self.detail
        overlay = self.mask if which == "image" else self.detail_mask
        if picture is None or self.cells is not None:  # vector cells replace the images
            item.hide()
            overlay.hide()
            return
        h, w = shown.shape
        rect = QRectF(picture.x, picture.y, w * picture.block, h * picture.block)
        item.setImage(shown, autoLevels=False)
        item.setRect(rect)
        item.show()
        draw_hidden = picture.hidden is not None and not self.future.isVisible()
        if draw_hidden:
            overlay.setImage(picture.hidden.view(np.uint8), autoLevels=False, levels=(0, 1))
            overlay.setRect(rect)
        overlay.setVisible(draw_hidden)

    def show_vector_cells(self, rgba: np.ndarray) -> None:
        """Draw the whole map as one rectangle per cell (for SVG and PDF), not as images."""
        if self.cells is not None:
            self.removeItem(self.cells)
        self.cells = CellsItem(rgba)
        self.addItem(self.cells)
        for item in (self.image, self.detail, self.mask, self.detail_mask):
            item.hide()

    def set_mask(self, mask: np.ndarray | None, hide_first: bool) -> None:
        """The caller's (T, T) mask as one polygon when it hides a suffix of every row (a
        causal mask; otherwise the pictures draw it block by block), and the first column."""
        outlined = mask is not None and self._outline(mask)
        self.future.setVisible(outlined)
        n = self.n_cells
        self.first_column.setRect(QRectF(0, 0, 1, n))
        self.first_column.setVisible(hide_first and n > 1)

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

    # ---- labels, colours, outlines ---------------------------------------------------------
    def set_labels(self, labels: list[str]) -> None:
        """Token labels of both axes: queries on the left, keys at the bottom."""
        for axis in self.token_axes.values():
            axis.set_labels(labels)

    def set_font(self, font: QFont) -> None:
        """Font of the token labels."""
        for axis in self.token_axes.values():
            axis.set_font(font)

    def set_masked_color(self, color: QColor) -> None:
        """Colour of every masked-cell overlay."""
        for item in (self.mask, self.detail_mask):
            item.setLookupTable(alpha_ramp(color))
        for item in (self.future, self.first_column):
            item.setBrush(QBrush(color))

    def place_outlines(self, row: int | None, col: int | None) -> None:
        """Outline query row ``row`` and key column ``col``; None hides an outline."""
        n = self.n_cells
        self.row_box.place(None if row is None else QRectF(0, row, n, 1))
        self.col_box.place(None if col is None else QRectF(col, 0, 1, n))

    def reset_view(self) -> None:
        """Zoom out to the whole grid, and again when the view is resized until the whole
        grid fits (a view not laid out yet squeezes the range: locked aspect, limits)."""
        n = max(self.n_cells, 1)
        view = self.getViewBox()
        view.setRange(QRectF(0, 0, n, n), padding=0.0)
        (x0, x1), (y0, y1) = view.viewRange()
        eps = 1e-6 * n
        whole = x0 <= eps and y0 <= eps and x1 >= n - eps and y1 >= n - eps
        self._fit_pending = not whole or min(view.width(), view.height()) < UNSIZED_PX

    def _zoomed(self, *_args) -> None:
        self._fit_pending = False  # the user's zoom stays

    def _fit_when_sized(self, *_args) -> None:
        if self._fit_pending:
            self.reset_view()

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
