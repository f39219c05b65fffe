"""How LlamaLens's pyqtgraph plots look: projector-sized axes, labels and pair shades."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# Per head: (darkest = highest frequency, lightest = lowest frequency, pen for lines).
HUES = {
    "q": ((8, 48, 107), (140, 185, 230), (31, 105, 180)),
    "k": ((110, 35, 0), (253, 174, 107), (230, 110, 20)),
}
POSITIVE, NEGATIVE = (76, 120, 168), (214, 70, 70)
THETA_COLOR = "#555555"


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


def set_plot_font(plot: pg.PlotWidget, points: float) -> None:
    """Tick labels and axis titles of ``plot`` at ``points``."""
    font = QFont()
    font.setPointSizeF(points)
    for side in ("bottom", "left"):
        axis = plot.getAxis(side)
        axis.setTickFont(font)
        axis.setLabel(axis.labelText, color="#222", **{"font-size": f"{points:g}pt"})


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


def _rgb(color) -> str:
    if isinstance(color, str):
        return color
    red, green, blue = color[:3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def spectrum_caption(q_pos: int, k_pos: int | None) -> str:
    """The spectrum's legend as text: θᵢ, m·θᵢ (query), n·θᵢ (key) in their line colours."""

    def swatch(color, text: str) -> str:
        return f"<span style='color:{_rgb(color)}'>━</span>&nbsp;{text}"

    parts = [swatch(THETA_COLOR, "θᵢ"), swatch(HUES["q"][2], f"{q_pos}·θᵢ")]
    if k_pos is not None:
        parts.append(swatch(HUES["k"][2], f"{k_pos}·θᵢ"))
    parts.append("┄&nbsp;2π")
    return QCoreApplication.translate("RopePlane", "Angles:") + " " + " ".join(parts)


def caption(text: str, name: str) -> QLabel:
    """A wrapped caption above a plot."""
    label = text_label(text, 11, False, name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if "<" in text else Qt.TextFormat.AutoText)
    return label


def card(title: QLabel, plot: QWidget) -> QWidget:
    """A caption over its plot, as one splitter pane."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(title)
    layout.addWidget(plot, 1)
    return box
