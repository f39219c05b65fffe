"""ContactSheet: many attention maps at a glance, e.g. every head of every layer."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from llamalens.viz.colormaps import check_kind, default_masked_color, get_colormap
from llamalens.viz.head_grid import thumbnail_rgba

SHEET_PIXELS = 64  # each map is shrunk to at most this many cells a side


class ContactSheet(pg.GraphicsLayoutWidget):
    """A grid of small heatmaps, one per (row, column), with row and column labels.

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
        self._labels: list[str] = []
        self._shape = (0, 0)
        self._key: tuple | None = None  # what the current layout shows, but for the values
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
        self._show(maps, list(row_labels), list(col_labels), None, (mask, kind, colormap), title)

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
    ) -> None:
        """Show every head of one layer, wrapped into a near-square grid.

        Args:
            maps: H (T, T) maps, one per query head.
            layer: the layer's index, for the title.
            n_kv_heads: KV heads; head h shares KV head ``h // (H / n_kv_heads)``.
            columns: maps per row; default ceil(sqrt(H)).
            mask: (T, T) bool cells every map hides (True = masked), or None.
            kind: "probability" (coloured from 0) or "score".
            colormap: one of viz.colormaps.COLORMAP_NAMES.

        Raises:
            ValueError: when H is not a positive multiple of ``n_kv_heads`` or
                ``columns`` < 1.
        """
        n_heads = len(maps)
        if n_kv_heads < 1 or n_heads < 1 or n_heads % n_kv_heads:
            raise ValueError(
                f"{n_heads} heads cannot share {n_kv_heads} KV heads; expected "
                "a positive multiple of n_kv_heads"
            )
        columns = math.ceil(math.sqrt(n_heads)) if columns is None else int(columns)
        if columns < 1:
            raise ValueError(f"columns is {columns}; expected >= 1")
        group = n_heads // n_kv_heads
        grid = [list(maps[i : i + columns]) for i in range(0, n_heads, columns)]
        cells = [f"H{h} · kv{h // group}" for h in range(n_heads)]
        title = f"layer {layer} · {n_heads} heads, {n_kv_heads} KV heads"
        self._show(grid, [], [], cells, (mask, kind, colormap), title)

    def _label(
        self, text: str, *, bold: bool = False, size: float | None = None, **kwargs
    ) -> pg.LabelItem:
        shown = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
        self._labels.append(text)
        item = pg.LabelItem(
            shown, color=self._fg.name(), size=f"{size or self._font_size:g}pt", **kwargs
        )
        return item

    def _show(
        self,
        grid: Sequence[Sequence[np.ndarray]],
        row_labels: list[str],
        col_labels: list[str],
        cell_labels: list[str] | None,
        coloring: tuple[np.ndarray | None, str, str],
        title: str,
    ) -> None:
        """Rebuild the layout: title, column labels, then per row its label and maps.

        ``coloring`` is (mask, kind, colormap), checked before anything changes.
        """
        mask, kind, colormap = coloring
        get_colormap(colormap)
        check_kind(kind)
        pictures = [[self._picture(m, mask, kind, colormap) for m in row] for row in grid]
        key = (
            title,
            tuple(row_labels),
            tuple(col_labels),
            tuple(cell_labels or ()),
            tuple(tuple(rgba.shape for rgba in row) for row in pictures),
        )
        if key == self._key:  # same grid, new values (another stage or prompt): fast path
            for image, rgba in zip(self._images, (p for row in pictures for p in row)):
                image.setImage(rgba)
            return
        self._key = key
        self.ci.clear()
        self._images, self._labels = [], []
        n_cols = max((len(row) for row in grid), default=0)
        self._shape = (len(grid), n_cols)
        first_col = 1 if row_labels else 0
        if title:
            self.ci.addItem(
                self._label(title, bold=True, size=self._font_size * 1.3, justify="left"),
                row=0,
                col=0,
                colspan=n_cols + first_col,
            )
        for c, text in enumerate(col_labels):
            self.ci.addItem(self._label(text), row=1, col=c + first_col)
        rows_per_map = 2 if cell_labels else 1
        for r, row in enumerate(pictures):
            at = 2 + r * rows_per_map
            if row_labels:
                self.ci.addItem(
                    self._label(row_labels[r], justify="right"), row=at + rows_per_map - 1, col=0
                )
            for c, rgba in enumerate(row):
                if cell_labels:
                    text = cell_labels[r * n_cols + c]
                    self.ci.addItem(self._label(text), row=at, col=c + first_col)
                self.ci.addItem(self._map_view(rgba), row=at + rows_per_map - 1, col=c + first_col)

    @staticmethod
    def _picture(matrix, mask: np.ndarray | None, kind: str, colormap: str) -> np.ndarray:
        values = np.asarray(matrix, dtype=np.float32)
        if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
            raise ValueError(f"map has shape {values.shape}; expected (T, T) with T >= 1")
        if mask is not None and mask.shape != values.shape:
            raise ValueError(f"mask has shape {mask.shape}; expected {values.shape}")
        masked_color = default_masked_color(colormap)
        return thumbnail_rgba(values, mask, colormap, masked_color, kind, SHEET_PIXELS)

    def _map_view(self, rgba: np.ndarray) -> pg.ViewBox:
        """A fixed, square view of one map picture: queries top to bottom."""
        view = pg.ViewBox(
            lockAspect=True, invertY=True, enableMouse=False, enableMenu=False, defaultPadding=0.0
        )
        image = pg.ImageItem(rgba, axisOrder="row-major")
        view.addItem(image)
        view.setRange(xRange=(0, rgba.shape[1]), yRange=(0, rgba.shape[0]), padding=0)
        self._images.append(image)
        return view
