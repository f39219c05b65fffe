"""Shrinking attention maps for display by block maximum, with their mask.

The maximum, not the mean or a stride: a head that puts all its attention on one key
per row (previous token, induction) stays visible at any size, where a block mean
fades it and a stride can skip it altogether.
"""

from __future__ import annotations

import math

import numpy as np


def block_size(n: int, size: int) -> int:
    """Cells per block side so that ``n`` cells fit in at most ``size`` blocks."""
    return max(1, math.ceil(n / max(size, 1)))


def block_max(matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrink a (T, T) map to at most (size, size) cells by the maximum over square blocks.

    Returns:
        ``(small, starts)``: the (B, B) block maxima and the (B,) first index of each block.
    """
    n = matrix.shape[0]
    block = block_size(n, size)
    starts = np.arange(0, n, block)
    return block_reduce(matrix, block, np.maximum), starts  # (B, B)


_last_mask: tuple[np.ndarray, int, np.ndarray] | None = None


def block_mask(mask: np.ndarray | None, size: int) -> np.ndarray | None:
    """A (T, T) mask (True = hidden) shrunk like :func:`block_max`.

    A block is hidden only when every cell in it is hidden, so a block that holds one
    visible cell keeps its colour. The last result for a read-only mask is remembered:
    every head of a layer shares one.
    """
    global _last_mask
    if mask is None:
        return None
    block = block_size(mask.shape[0], size)
    if block == 1:
        return mask
    if _last_mask is not None and _last_mask[0] is mask and _last_mask[1] == size:
        return _last_mask[2]
    visible = (~mask).view(np.uint8)
    any_visible, _ = block_max(visible, size)
    hidden = any_visible == 0
    if not mask.flags.writeable:
        _last_mask = (mask, size, hidden)
    return hidden


def block_reduce(a: np.ndarray, block: int, op: np.ufunc = np.maximum) -> np.ndarray:
    """(R, C) -> (ceil(R / block), ceil(C / block)) by ``op`` over square blocks.

    ``np.maximum`` for values, ``np.maximum`` / ``np.minimum`` on bools for "any" / "all".
    A short last block is reduced over the cells it has. A reshape keeps the reduction
    contiguous (np.maximum.reduceat along axis 0 is ~15x slower on a 2048² map).
    """
    if block == 1:
        return a
    rows = _reduce_rows(a, block, op)  # (B, C)
    return np.ascontiguousarray(_reduce_rows(rows.T, block, op).T)  # (B, B')


def _reduce_rows(a: np.ndarray, block: int, op: np.ufunc) -> np.ndarray:
    """(R, C) -> (ceil(R / block), C) by ``op`` over consecutive rows."""
    full = a.shape[0] // block * block
    out = op.reduce(a[:full].reshape(-1, block, *a.shape[1:]), axis=1)
    if full == a.shape[0]:
        return out
    return np.concatenate([out, op.reduce(a[full:], axis=0, keepdims=True)])
