"""Data and styling helpers of the RoPE plane: the validated view and colour shades."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

SERIES = ("q_before", "q_after", "k_before", "k_after")
# Per head: (darkest = highest frequency, lightest = lowest frequency, pen for lines).
HUES = {
    "q": ((8, 48, 107), (140, 185, 230), (31, 105, 180)),
    "k": ((110, 35, 0), (253, 174, 107), (230, 110, 20)),
}
POSITIVE, NEGATIVE = (76, 120, 168), (214, 70, 70)
TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class _View:
    q_before: np.ndarray
    q_after: np.ndarray
    theta: np.ndarray
    q_pos: int
    k_before: np.ndarray | None
    k_after: np.ndarray | None
    k_pos: int | None
    contributions: np.ndarray | None


def styled_plot(bottom: str, left: str, name: str) -> pg.PlotWidget:
    """A white PlotWidget with dark, projector-sized axes (context menu kept for export)."""
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(name)
    plot.hideButtons()
    font = QFont()
    font.setPointSize(11)
    for side, text in (("bottom", bottom), ("left", left)):
        axis = plot.getAxis(side)
        axis.setPen("#444")
        axis.setTextPen("#222")
        axis.setTickFont(font)
        axis.setLabel(text, color="#222", **{"font-size": "12pt"})
        axis.enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(78)
    return plot


@lru_cache(maxsize=16)
def pair_shades(head: str, n: int, alpha: int = 255) -> tuple:
    """Brushes for pairs 0..n-1: dark (fast-turning, i = 0) to light (slow, i = n-1).

    Cached: the same brush objects let the scatter items reuse their symbol atlas.
    """
    dark, light = np.array(HUES[head][0]), np.array(HUES[head][1])
    t = np.linspace(0.0, 1.0, n)[:, None] if n > 1 else np.zeros((1, 1))
    rgb = np.rint(dark + (light - dark) * t).astype(int)
    return tuple(pg.mkBrush(int(r), int(g), int(b), alpha) for r, g, b in rgb)


def _complex_vector(name: str, value: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(value)
    if not np.iscomplexobj(arr):
        raise ValueError(f"{name} must be complex (one number per pair), got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},) = (hd/2,) like theta")
    return arr.astype(np.complex128)


def _validated(q_before, q_after, theta, q_pos, k_before, k_after, k_pos, contributions) -> _View:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"theta has shape {theta.shape}, expected (hd/2,) with hd/2 >= 1")
    if not np.all(np.isfinite(theta) & (theta > 0)):
        raise ValueError("theta must be finite and positive (radians per position)")
    n = theta.size
    if (k_before is None) != (k_after is None) or (k_after is not None and k_pos is None):
        raise ValueError("k_before, k_after and k_pos must be given together (or all None)")
    k_b = None if k_before is None else _complex_vector("k_before", k_before, n)
    k_a = None if k_after is None else _complex_vector("k_after", k_after, n)
    q_a = _complex_vector("q_after", q_after, n)
    if contributions is not None:
        contributions = np.asarray(contributions, dtype=np.float64)
        if contributions.shape != (n,):
            raise ValueError(f"contributions has shape {contributions.shape}, expected ({n},)")
    elif k_a is not None:  # the same per-pair terms the score is made of
        contributions = (q_a * np.conj(k_a)).real / np.sqrt(2.0 * n)
    return _View(
        _complex_vector("q_before", q_before, n),
        q_a,
        theta,
        int(q_pos),
        k_b,
        k_a,
        None if k_pos is None else int(k_pos),
        contributions,
    )


def _label(text: str = "", size: int = 11, bold: bool = False, name: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(size)
    font.setBold(bold)
    label.setFont(font)
    label.setObjectName(name)
    return label
