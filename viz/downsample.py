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
    if block == 1:
        return matrix, starts
    rows = _max_over_row_blocks(matrix, block)  # (B, T)
    return _max_over_row_blocks(rows.T, block).T, starts  # (B, B)


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


def _max_over_row_blocks(matrix: np.ndarray, block: int) -> np.ndarray:
    """(R, C) -> (ceil(R / block), C): max over consecutive rows; the last block may be short.

    A reshape keeps the reduction contiguous (np.maximum.reduceat along axis 0 is ~15x
    slower on a 2048² map).
    """
    full = matrix.shape[0] // block * block
    blocks = matrix[:full].reshape(-1, block, matrix.shape[1]).max(axis=1)
    if full == matrix.shape[0]:
        return blocks
    return np.concatenate([blocks, matrix[full:].max(axis=0, keepdims=True)])
