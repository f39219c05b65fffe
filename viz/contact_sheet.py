"""ContactSheet: many attention maps at a glance, e.g. every head of every layer.

All maps share one colour range and one colour bar, so a brighter cell means a larger
value whichever map it is in. Token labels run down the left of the first column and
along the bottom of the last row when asked for (and when they fit).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont

from llamalens.viz.cells_item import VECTOR_CELLS, CellsItem
from llamalens.viz.colormaps import (
    check_kind,
    color_levels,
    default_masked_color,
    get_colormap,
    lookup_table,
    to_rgba,
    visible_cells,
)
from llamalens.viz.downsample import block_mask, block_max
from llamalens.viz.heatmap_items import TokenAxis
from llamalens.viz.token_text import visible_text

SHEET_PIXELS = 64  # each map is shrunk to at most this many cells a side


class ContactSheet(pg.GraphicsLayoutWidget):
    """A grid of small heatmaps, one per (row, column), with labels and one colour bar.

    Labels are pyqtgraph LabelItems (text), so they stay text in an SVG or PDF export.
    """

    def __init__(
        self,
        parent=None,
        *,
        background: str = "w",
        foreground: str = "#222222",
        font_size: float = 9.0,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("contactSheet")
        self.setBackground(background)
        self._fg = QColor(foreground)
        self._font_size = font_size
        self._images: list[pg.ImageItem] = []
        self._views: list[pg.ViewBox] = []
        self._labels: list[str] = []
        self._shape = (0, 0)
        self._key: tuple | None = None  # what the current layout shows, but for the values
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.colorbar: pg.ColorBarItem | None = None
        self.token_axes: list[TokenAxis] = []
        self.ci.setSpacing(2)
        self.ci.setContentsMargins(6, 6, 6, 6)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the current grid."""
        return self._shape

    def image_items(self) -> list[pg.ImageItem]:
        """One ImageItem per map shown, row by row."""
        return list(self._images)

    def label_texts(self) -> list[str]:
        """Every label shown (title, column, row and cell labels) as plain text."""
        return list(self._labels)

    def set_font_size(self, points: float) -> None:
        """Point size of the labels (applies to the next set_maps / set_layer_maps)."""
        self._font_size = float(points)
        self._key = None

    def set_maps(
        self,
        maps: Sequence[Sequence[np.ndarray]],
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        *,
        mask: np.ndarray | None = None,
        kind: str = "probability",
        colormap: str = "viridis",
        title: str = "",
        value_label: str = "",
        tokens: Sequence[str] | None = None,
        pixels: int = SHEET_PIXELS,
    ) -> None:
        """Show a rows × columns grid of maps.

        Args:
            maps: rows of (T, T) arrays, each row with one map per column label; e.g.
                L rows of H probability maps for all layers × heads.
            row_labels: one label per row ("L0", ...), drawn left of the row.
            col_labels: one label per column ("H0", ...), drawn above the grid.
            mask: (T, T) bool cells every map hides (True = masked), or None.
            kind: "probability" (coloured from 0) or "score".
            colormap: one of viz.colormaps.COLORMAP_NAMES.
            title: text above the grid.
            value_label: the colour bar's title (e.g. "softmax"); "" for none.
            tokens: T token texts to label the first column's rows and the last row's
                columns with, or None.
            pixels: each map is shrunk by block maximum to at most this many blocks.

        Raises:
            ValueError: when the label counts do not match the grid, a row has the wrong
                number of maps, a map is not square, or the colormap is unknown.
        """
        if len(maps) != len(row_labels):
            raise ValueError(f"got {len(row_labels)} row labels for {len(maps)} rows of maps")
        for r, row in enumerate(maps):
            if len(row) != len(col_labels):
                raise ValueError(
                    f"row {r} has {len(row)} maps; expected {len(col_labels)} "
                    "(one per column label)"
                )
        style = (mask, kind, colormap, value_label, tokens, pixels)
        self._show(maps, list(row_labels), list(col_labels), None, style, title)

    def set_layer_maps(
        self,
        maps: Sequence[np.ndarray],
        layer: int,
        n_kv_heads: int,
        columns: int | None = None,
        *,
        mask: np.ndarray | None = None,
        kind: str = "probability",
        colormap: str = "viridis",
        value_label: str = "",
        tokens: Sequence[str] | None = None,
        pixels: int = SHEET_PIXELS,
        heads: Sequence[int] | None = None,
    ) -> None:
        """Show the heads of one layer, wrapped into a near-square grid.

        Args:
            maps: H (T, T) maps, one per query head of the layer.
            layer: the layer's index, for the title.
            n_kv_heads: KV heads; head h shares KV head ``h // (H / n_kv_heads)``.
            columns: maps per row; default ceil(sqrt(shown heads)).
            heads: the heads to show (default all); others as in :meth:`set_maps`.

        Raises:
            ValueError: when H is not a positive multiple of ``n_kv_heads``, ``columns``
                < 1 or a head is out of range.
        """
        n_heads = len(maps)
        if n_kv_heads < 1 or n_heads < 1 or n_heads % n_kv_heads:
            raise ValueError(
                f"{n_heads} heads cannot share {n_kv_heads} KV heads; expected "
                "a positive multiple of n_kv_heads"
            )
        heads = list(range(n_heads)) if heads is None else [int(h) for h in heads]
        if not heads or any(not 0 <= h < n_heads for h in heads):
            raise ValueError(f"heads {heads} are not among 0..{n_heads - 1}")
        columns = math.ceil(math.sqrt(len(heads))) if columns is None else int(columns)
        if columns < 1:
            raise ValueError(f"columns is {columns}; expected >= 1")
        group = n_heads // n_kv_heads
        shown = [maps[h] for h in heads]
        grid = [shown[i : i + columns] for i in range(0, len(shown), columns)]
        cells = [f"H{h} · kv{h // group}" for h in heads]
        title = f"layer {layer} · {n_heads} heads, {n_kv_heads} KV heads"
        style = (mask, kind, colormap, value_label, tokens, pixels)
        self._show(grid, [], [], cells, style, title)

    def _label(
        self, text: str, *, bold: bool = False, size: float | None = None, **kwargs
    ) -> pg.LabelItem:
        shown = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
        self._labels.append(text)
        item = pg.LabelItem(
            shown, color=self._fg.name(), size=f"{size or self._font_size:g}pt", **kwargs
        )
        return item

    def _pictures(self, grid, style) -> list[list[np.ndarray]]:
        """Each map as an RGBA picture on the colour range shared by all of them."""
        mask, kind, colormap, _label, _tokens, pixels = style
        get_colormap(colormap)
        check_kind(kind)
        for row in grid:
            for matrix in row:
                _check_map(matrix, mask)
        hidden = block_mask(mask, pixels) if mask is not None else None
        smalls = [[block_max(np.asarray(m, np.float32), pixels)[0] for m in row] for row in grid]
        self.levels = _shared_levels([s for row in smalls for s in row], hidden, kind)
        color, lut = default_masked_color(colormap), lookup_table(colormap)

        def picture(small: np.ndarray) -> np.ndarray:  # what thumbnail_rgba draws
            visible = visible_cells(small, hidden)
            return to_rgba(small, self.levels, lut, ~visible, color)

        return [[picture(small) for small in row] for row in smalls]

    def _show(self, grid, row_labels, col_labels, cell_labels, style, title: str) -> None:
        """Rebuild the layout: title, column labels, then per row its label and maps, and
        the colour bar; the same grid with new values only recolours the images."""
        pictures = self._pictures(grid, style)
        _mask, _kind, colormap, value_label, tokens, _pixels = style
        n = int(np.asarray(grid[0][0]).shape[0]) if grid and grid[0] else 0
        key = (
            title,
            tuple(row_labels),
            tuple(col_labels),
            tuple(cell_labels or ()),
            tuple(tuple(rgba.shape for rgba in row) for row in pictures),
            colormap,
            value_label,
            None if tokens is None else tuple(tokens),
        )
        if key == self._key:  # same grid, new values (another stage or prompt): fast path
            for image, rgba in zip(self._images, (p for row in pictures for p in row)):
                image.setImage(rgba)
            self.colorbar.setLevels(self.levels)
            return
        self._key = key
        self._layout(pictures, row_labels, col_labels, cell_labels, title, n)
        self._add_colorbar(colormap, value_label, len(pictures), cell_labels is not None)
        if tokens is not None:
            self._add_token_axes(tokens, pictures, row_labels, cell_labels)

    def _layout(self, pictures, row_labels, col_labels, cell_labels, title: str, n: int) -> None:
        self.ci.clear()
        self._images, self._views, self._labels, self.token_axes = [], [], [], []
        n_cols = max((len(row) for row in pictures), default=0)
        self._shape = (len(pictures), n_cols)
        first = 2 if row_labels else 1  # row labels, then the token axis column
        if title:
            self.ci.addItem(
                self._label(title, bold=True, size=self._font_size * 1.3, justify="left"),
                row=0,
                col=0,
                colspan=n_cols + first + 1,
            )
        for c, text in enumerate(col_labels):
            self.ci.addItem(self._label(text), row=1, col=c + first)
        per_row = 2 if cell_labels else 1
        for r, row in enumerate(pictures):
            at = 2 + r * per_row
            if row_labels:
                self.ci.addItem(
                    self._label(row_labels[r], justify="right"), row=at + per_row - 1, col=0
                )
            for c, rgba in enumerate(row):
                if cell_labels:
                    self.ci.addItem(self._label(cell_labels[r * n_cols + c]), row=at, col=c + first)
                self.ci.addItem(self._map_view(rgba, n), row=at + per_row - 1, col=c + first)

    def _add_colorbar(self, colormap: str, value_label: str, n_rows: int, cells: bool) -> None:
        self.colorbar = pg.ColorBarItem(
            values=self.levels,
            colorMap=get_colormap(colormap),
            interactive=False,
            colorMapMenu=False,
            width=12,
        )
        axis = self.colorbar.getAxis("right")
        font = QFont()
        font.setPointSizeF(self._font_size)
        axis.setStyle(tickFont=font)
        axis.setTextPen(self._fg)
        axis.setPen(self._fg)
        if value_label:
            axis.setLabel(
                value_label, color=self._fg.name(), **{"font-size": f"{self._font_size:g}pt"}
            )
        per_row = 2 if cells else 1
        col = self._shape[1] + 2
        self.ci.addItem(self.colorbar, row=2, col=col, rowspan=max(1, n_rows * per_row))

    def _add_token_axes(self, tokens, pictures, row_labels, cell_labels) -> None:
        """Query labels left of the first column, key labels under the last row."""
        labels = [visible_text(str(t)) for t in tokens]
        font = QFont()
        font.setPointSizeF(self._font_size * 0.85)
        per_row = 2 if cell_labels else 1
        first = 2 if row_labels else 1
        n_cols = self._shape[1]
        for r in range(len(pictures)):
            axis = TokenAxis("left", font, self._fg)
            axis.linkToView(self._views[r * n_cols])
            axis.set_labels(labels)
            self.ci.addItem(axis, row=2 + r * per_row + per_row - 1, col=first - 1)
            self.token_axes.append(axis)
        last = len(pictures) - 1
        for c in range(len(pictures[last])):
            axis = TokenAxis("bottom", font, self._fg)
            axis.linkToView(self._views[last * n_cols + c])
            axis.set_labels(labels)
            self.ci.addItem(axis, row=2 + len(pictures) * per_row, col=c + first)
            self.token_axes.append(axis)

    def _map_view(self, rgba: np.ndarray, n: int) -> pg.ViewBox:
        """A fixed, square view of one map picture in cell coordinates: queries downwards."""
        view = pg.ViewBox(
            lockAspect=True, invertY=True, enableMouse=False, enableMenu=False, defaultPadding=0.0
        )
        image = pg.ImageItem(rgba, axisOrder="row-major")
        image.setRect(QRectF(0, 0, n, n))
        view.addItem(image)
        view.setRange(xRange=(0, n), yRange=(0, n), padding=0)
        self._images.append(image)
        self._views.append(view)
        return view

    def prepare_figure(self, vector: bool, density: float) -> None:
        """In a vector figure, small maps become one rectangle per cell (sharp in every
        viewer); larger ones stay one image pixel per block."""
        if not vector:
            return
        for view, image in zip(self._views, self._images):
            rgba = image.image
            if rgba is None or max(rgba.shape[:2]) > VECTOR_CELLS:
                continue
            block = image.mapRectToParent(image.boundingRect()).width() / rgba.shape[1]
            view.addItem(CellsItem(rgba, 0.0, 0.0, block))
            image.hide()


def _check_map(matrix, mask: np.ndarray | None) -> None:
    values = np.asarray(matrix)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise ValueError(f"map has shape {values.shape}; expected (T, T) with T >= 1")
    if mask is not None and mask.shape != values.shape:
        raise ValueError(f"mask has shape {mask.shape}; expected {values.shape}")


def _shared_levels(smalls: list[np.ndarray], hidden: np.ndarray | None, kind: str):
    """One colour range for all the (block-maximum) pictures of a grid."""
    lows, highs = [], []
    for small in smalls:
        low, high = color_levels(small, visible_cells(small, hidden), kind)
        lows.append(low)
        highs.append(high)
    return (min(lows), max(highs)) if lows else (0.0, 1.0)
