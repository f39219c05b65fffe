"""MapOverview: an attention map shrunk by block maximum, with what colouring it needs.

A long prompt's map has more cells than the screen has pixels. Each pixel then shows
the largest visible value of the cells it covers (never a mean, which fades a one-cell
diagonal, nor a stride, which skips it), and the overview keeps the extremes of the
visible cells so the colour range is the full map's, not the shrunken one's. It is
numpy only: a viewer's thread can build it row chunk by row chunk and hand it over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from llamalens.viz.downsample import block_reduce, block_size

OVERVIEW_PIXELS = 1024  # a prepared overview has at most this many blocks a side


@dataclass(frozen=True)
class MapOverview:
    """A (T, T) map as (B, B) blocks of ``block`` × ``block`` cells, B = ceil(T / block).

    Attributes:
        values: (B, B) float32, the largest visible value of each block (-inf where
            every cell of the block is hidden).
        hidden: (B, B) bool, True where every cell of the block is hidden (masked or not
            finite); None when no cell is.
        block: cells per block side (1: the map itself).
        n: T, cells per side of the map.
        low, high: smallest and largest visible value of the whole map (nan if none).
        rest_low, rest_high: the same without key column 0 (the attention sink).
    """

    values: np.ndarray
    hidden: np.ndarray | None
    block: int
    n: int
    low: float
    high: float
    rest_low: float
    rest_high: float

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + (0 if self.hidden is None else self.hidden.nbytes))

    def bounds(self, without_first: bool = False) -> tuple[float, float]:
        """(low, high) of the visible values, optionally without key column 0."""
        return (self.rest_low, self.rest_high) if without_first else (self.low, self.high)

    def shrunk(self, factor: int) -> MapOverview:
        """This overview with ``factor`` × ``factor`` of its blocks merged (same maxima)."""
        if factor <= 1:
            return self
        values = block_reduce(self.values, factor, np.maximum)
        hidden = None if self.hidden is None else block_reduce(self.hidden, factor, np.minimum)
        return MapOverview(
            values, hidden, self.block * factor, self.n, *self.bounds(), *self.bounds(True)
        )


def overview_block(n: int, pixels: int = OVERVIEW_PIXELS) -> int:
    """Cells per block side so that an n-cell map fits in ``pixels`` blocks."""
    return block_size(n, pixels)


class OverviewBuilder:
    """Builds a MapOverview from consecutive row chunks (each a multiple of ``block`` rows).

    Memory stays at one chunk of rows, not T² cells: what a long prompt's map needs.
    """

    def __init__(self, n: int, block: int) -> None:
        if n < 1 or block < 1:
            raise ValueError(f"map of {n} cells in blocks of {block}; expected both >= 1")
        self.n, self.block = n, block
        self._values: list[np.ndarray] = []
        self._hidden: list[np.ndarray] = []
        self._any_hidden = False
        self._next = 0
        self._extremes = [math.inf, -math.inf, math.inf, -math.inf]

    def chunk_rows(self, target: int = 512) -> int:
        """Rows per chunk: a multiple of the block near ``target``."""
        return max(1, target // self.block) * self.block

    def add_rows(self, start: int, rows: np.ndarray, mask: np.ndarray | None) -> None:
        """Rows ``start : start + len(rows)`` of the map and of its mask (True = hidden).

        Raises:
            ValueError: rows out of order, of the wrong width, or not a whole number of
                blocks (except the last chunk).
        """
        rows = np.asarray(rows, dtype=np.float32)
        count = rows.shape[0]
        if start != self._next or rows.ndim != 2 or rows.shape[1] != self.n:
            raise ValueError(
                f"rows {start}:{start + count} of width {rows.shape[1:]} do not continue "
                f"row {self._next} of a map of width {self.n}"
            )
        if count % self.block and start + count != self.n:
            raise ValueError(f"{count} rows are not a whole number of {self.block}-row blocks")
        visible = np.isfinite(rows)
        if mask is not None:
            visible &= ~mask
        self._extend(rows, visible)
        shown = np.where(visible, rows, np.float32(-np.inf))
        self._values.append(block_reduce(shown, self.block, np.maximum))
        hidden = ~block_reduce(visible, self.block, np.maximum)
        self._any_hidden |= bool(hidden.any())
        self._hidden.append(hidden)
        self._next = start + count

    def _extend(self, rows: np.ndarray, visible: np.ndarray) -> None:
        e = self._extremes
        for i, part in enumerate((slice(None), slice(1, None))):
            cells, seen = rows[:, part], visible[:, part]
            if seen.any():
                e[2 * i] = min(e[2 * i], float(np.min(cells, where=seen, initial=np.inf)))
                e[2 * i + 1] = max(e[2 * i + 1], float(np.max(cells, where=seen, initial=-np.inf)))

    def finish(self) -> MapOverview:
        """The overview of all the rows added (which must be all T)."""
        if self._next != self.n:
            raise ValueError(f"got {self._next} of {self.n} rows")
        values = np.concatenate(self._values) if len(self._values) > 1 else self._values[0]
        hidden = np.concatenate(self._hidden) if self._any_hidden else None
        e = [x if math.isfinite(x) else math.nan for x in self._extremes]
        return MapOverview(values, hidden, self.block, self.n, *e)


def make_overview(matrix: np.ndarray, mask: np.ndarray | None, block: int) -> MapOverview:
    """The overview of a whole (T, T) ``matrix`` with its (T, T) ``mask`` (True = hidden)."""
    builder = OverviewBuilder(matrix.shape[0], block)
    builder.add_rows(0, matrix, mask)
    return builder.finish()
