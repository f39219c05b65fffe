"""How LlamaLens's pyqtgraph plots look: projector-sized axes, labels and pair shades."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

# Per head: (darkest = highest frequency, lightest = lowest frequency, pen for lines).
HUES = {
    "q": ((8, 48, 107), (140, 185, 230), (31, 105, 180)),
    "k": ((110, 35, 0), (253, 174, 107), (230, 110, 20)),
}
POSITIVE, NEGATIVE = (76, 120, 168), (214, 70, 70)


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


def text_label(text: str = "", size: int = 11, bold: bool = False, name: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(size)
    font.setBold(bold)
    label.setFont(font)
    label.setObjectName(name)
    return label
