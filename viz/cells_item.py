"""CellsItem: a small coloured grid drawn as one rectangle per cell, for vector figures.

An image in an SVG or PDF is a bitmap that viewers smooth when they scale it: a 14×14
map turns into a blur. Drawn as rectangles, every cell stays a sharp square at any
zoom, in any viewer, and can be edited as a shape.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

VECTOR_CELLS = 96  # maps with at most this many cells a side are drawn cell by cell
SEAM = 0.02  # cells: neighbouring rectangles overlap so no viewer draws a hairline between


class CellsItem(QGraphicsItem):
    """RGBA cells at (x + col·block, y + row·block); fully transparent cells are skipped."""

    def __init__(self, rgba: np.ndarray, x: float = 0.0, y: float = 0.0, block: float = 1.0):
        super().__init__()
        if rgba.ndim != 3 or rgba.shape[2] != 4:
            raise ValueError(f"cells have shape {rgba.shape}; expected (rows, cols, 4) RGBA")
        self.rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
        self.x0, self.y0, self.block = float(x), float(y), float(block)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        rows, cols = self.rgba.shape[:2]
        return QRectF(self.x0, self.y0, cols * self.block, rows * self.block)

    def paint(self, painter, option, widget=None) -> None:
        b, pad = self.block, SEAM * self.block
        rows, cols = self.rgba.shape[:2]
        for r in range(rows):
            for c in range(cols):
                red, green, blue, alpha = (int(v) for v in self.rgba[r, c])
                if alpha == 0:
                    continue
                rect = QRectF(self.x0 + c * b, self.y0 + r * b, b + pad, b + pad)
                painter.fillRect(rect, QColor(red, green, blue, alpha))

    def cell_count(self) -> int:
        """The rectangles drawn."""
        return int(np.count_nonzero(self.rgba[..., 3]))
