"""A plain Q4_K quantizer for test checkpoints (gguf-py decodes K-quants but cannot make them).

Each 256-weight block has eight 32-weight sub-blocks; sub-block j stores 4-bit q with
``w ≈ d·s_j·q - dmin·m_j``: s_j and m_j are 6-bit, d and dmin half floats. This uses the
plain min/max rule rather than llama.cpp's search for the best scales: the tests compare
the dequantized weights, so any valid encoding serves, and gguf's reference decoder is the
judge of validity.
"""

from __future__ import annotations

import numpy as np

BLOCK, SUB = 256, 32


def quantize_q4_k(weights: np.ndarray) -> np.ndarray:
    """(rows, cols) float32 with cols % 256 == 0 -> (rows, cols / 256 · 144) uint8 blocks."""
    rows, cols = weights.shape
    if cols % BLOCK:
        raise ValueError(f"Q4_K rows need a multiple of {BLOCK} weights, got {cols}")
    x = weights.astype(np.float32).reshape(-1, 8, SUB)  # (n, 8, 32)
    low = np.minimum(x.min(axis=2), 0.0)  # (n, 8): a sub-block's offset is never positive
    span = np.maximum(x.max(axis=2) - low, 1e-12)
    scale, offset = span / 15.0, -low  # w = scale·q - offset
    d = (scale.max(axis=1) / 63.0).astype(np.float16)  # (n,)
    dmin = (offset.max(axis=1) / 63.0).astype(np.float16)
    d32, dmin32 = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.rint(np.divide(scale, d32, out=np.zeros_like(scale), where=d32 > 0)), 0, 63)
    mn = np.clip(
        np.rint(np.divide(offset, dmin32, out=np.zeros_like(offset), where=dmin32 > 0)), 0, 63
    )
    step = (d32 * sc)[:, :, None]
    shift = (dmin32 * mn)[:, :, None]
    q = np.divide(x + shift, step, out=np.zeros_like(x), where=step > 0)
    q = np.clip(np.rint(q), 0, 15).astype(np.uint8)  # (n, 8, 32)
    return _pack(d, dmin, sc.astype(np.uint8), mn.astype(np.uint8), q).reshape(rows, -1)


def _pack(
    d: np.ndarray, dmin: np.ndarray, sc: np.ndarray, mn: np.ndarray, q: np.ndarray
) -> np.ndarray:
    n = len(d)
    scales = np.zeros((n, 12), np.uint8)
    scales[:, 0:4] = sc[:, :4] | ((sc[:, 4:] >> 4) << 6)
    scales[:, 4:8] = mn[:, :4] | ((mn[:, 4:] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:] & 0x0F) | ((mn[:, 4:] & 0x0F) << 4)
    nibbles = (q[:, 0::2] | (q[:, 1::2] << 4)).reshape(n, 128)  # chunk c: sub-blocks 2c, 2c+1
    halves = np.stack([d, dmin], axis=1).view(np.uint8).reshape(n, 4)
    return np.concatenate([halves, scales, nibbles], axis=1)
