"""Where a heatmap's pixels come from: an overview for the whole map, real cells when zoomed.

A MapSource is one attention map as a viewer sees it: a block-maximum overview (always
there, cheap to redraw) and, for a zoomed-in view, the map's own rows: from the whole
matrix when the caller gave it, or from a function that computes rows on demand (a
long prompt's map is never held whole). :func:`picture_for_view` picks what a view of
a given size and range shows, so every screen pixel carries the largest value of the
cells under it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from llamalens.viz.downsample import block_reduce
from llamalens.viz.map_overview import MapOverview, make_overview, overview_block

RowsFn = Callable[[int, int], np.ndarray]  # (start, stop) -> (stop - start, T) float32
MARGIN = 0.25  # of the visible range, computed around it so a small pan needs no new rows


@dataclass(frozen=True)
class Picture:
    """What an image item shows: values by block, hidden blocks, and where (in cells).

    Attributes:
        values: (h, w) float32 block maxima of the visible cells (-inf where none).
        hidden: (h, w) bool blocks with no visible cell, or None.
        x, y: the cell column and row of the top-left block.
        block: cells per block side.
    """

    values: np.ndarray
    hidden: np.ndarray | None
    x: int
    y: int
    block: int


class MapSource:
    """One (T, T) map: its overview, and its rows when a view needs real cells.

    Args:
        overview: the block-maximum overview.
        rows: rows of the map on demand, or None (then only the overview can be shown).
        mask: (T, T) bool cells the caller hides (True), or None.
        matrix: the whole (T, T) map when the caller has it (small maps, figures).
    """

    def __init__(
        self,
        overview: MapOverview,
        rows: RowsFn | None,
        mask: np.ndarray | None,
        matrix: np.ndarray | None = None,
    ) -> None:
        n = overview.n
        if mask is not None and mask.shape != (n, n):
            raise ValueError(f"mask has shape {mask.shape}; expected ({n}, {n})")
        self.overview, self.mask, self.matrix = overview, mask, matrix
        self._rows = rows if rows is not None or matrix is None else (lambda a, b: matrix[a:b])

    @classmethod
    def of_matrix(cls, matrix: np.ndarray, mask: np.ndarray | None) -> MapSource:
        """A source holding the whole matrix (overview made here)."""
        return cls(make_overview(matrix, mask, overview_block(matrix.shape[0])), None, mask, matrix)

    @property
    def n(self) -> int:
        return self.overview.n

    @property
    def has_cells(self) -> bool:
        """True when real cells can be shown (rows or the matrix are available)."""
        return self._rows is not None

    def masked_cells(self, hide_first: bool) -> np.ndarray | None:
        """(T, T) bool cells drawn as masked: the given mask, key column 0 when hidden
        and, for a whole matrix, cells that are not finite; None when no cell is."""
        n = self.n
        extra = np.zeros((n, n), dtype=bool)
        if self.matrix is not None:
            extra |= ~np.isfinite(self.matrix)
        if hide_first and n > 1:
            extra[:, 0] = True
        if not extra.any():
            return None if self.mask is None else self.mask.copy()
        return extra if self.mask is None else self.mask | extra

    def value(self, row: int, col: int) -> float:
        """The map's value at (row, col): from the matrix, else one computed row."""
        if self.matrix is not None:
            return float(self.matrix[row, col])
        if self._rows is None:
            raise ValueError("this map has no cells to read, only its overview")
        return float(self._rows(row, row + 1)[0, col])

    def region(self, y0: int, y1: int, x0: int, x1: int, block: int) -> Picture:
        """Cells [y0:y1, x0:x1] reduced by ``block`` (block maxima of visible cells)."""
        values = np.asarray(self._rows(y0, y1), dtype=np.float32)[:, x0:x1]
        visible = np.isfinite(values)
        if self.mask is not None:
            visible &= ~self.mask[y0:y1, x0:x1]
        shown = np.where(visible, values, np.float32(-np.inf))
        hidden = ~block_reduce(visible, block, np.maximum)
        return Picture(
            block_reduce(shown, block, np.maximum),
            hidden if hidden.any() else None,
            x0,
            y0,
            block,
        )


def cells_per_pixel(
    ranges: tuple[float, float, float, float], pixels: tuple[float, float]
) -> float:
    """Map cells per screen pixel for a view of ``ranges`` (x0, x1, y0, y1) and size in pixels."""
    x0, x1, y0, y1 = ranges
    return max((x1 - x0) / max(pixels[0], 1.0), (y1 - y0) / max(pixels[1], 1.0))


def base_picture(source: MapSource, density: float) -> Picture:
    """The whole map from its overview, with blocks no smaller than a screen pixel.

    Args:
        density: cells per screen pixel; blocks of fewer cells would be skipped by the
            painter's sampling, so the overview is merged until each block spans one.
    """
    ov = source.overview
    factor = max(1, math.ceil(density / ov.block - 1e-9))
    small = ov.shrunk(factor)
    return Picture(small.values, small.hidden, 0, 0, small.block)


def detail_picture(
    source: MapSource, ranges: tuple[float, float, float, float], density: float
) -> Picture | None:
    """Real cells of the visible region when the view is finer than the overview, else None.

    The region is the visible one plus a margin, aligned to whole blocks of
    ``ceil(density)`` cells.
    """
    if not source.has_cells or source.overview.block == 1 or density >= source.overview.block:
        return None  # the overview already has a block per cell, or more than the view
    block = max(1, math.ceil(density - 1e-9))
    n = source.n
    x0, x1, y0, y1 = ranges
    pad_x, pad_y = (x1 - x0) * MARGIN, (y1 - y0) * MARGIN
    c0, r0 = (max(0, math.floor(v - p) // block * block) for v, p in ((x0, pad_x), (y0, pad_y)))
    c1, r1 = (min(n, math.ceil(v + p)) for v, p in ((x1, pad_x), (y1, pad_y)))
    if c1 <= c0 or r1 <= r0:
        return None
    return source.region(r0, r1, c0, c1, block)


def check_labels(labels, n: int) -> None:
    """Raise ValueError unless there are n labels for an (n, n) map."""
    if len(labels) != n:
        raise ValueError(
            f"got {len(labels)} labels for a matrix of shape ({n}, {n}); expected {n} labels"
        )


def check_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> None:
    """Raise ValueError unless ``mask`` is None or a bool array of ``shape``."""
    if mask is not None and (mask.shape != shape or mask.dtype != np.bool_):
        raise ValueError(
            f"mask has shape {mask.shape} and dtype {mask.dtype}; expected a bool "
            f"array of shape {shape}"
        )
