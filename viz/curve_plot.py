"""CurvePlot: a few named curves over one x axis, with a legend ("before" and "after").

Used for RoPE's what-if views: the frequencies θ_i and angles m·θ_i per pair, and the
expected score against relative distance. The "before" curve is dashed grey, the
"after" curve solid and coloured, so a variant never looks like the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

STYLES = {
    "before": {"color": "#7f7f7f", "width": 2, "style": Qt.PenStyle.DashLine},
    "after": {"color": "#d62728", "width": 2.5, "style": Qt.PenStyle.SolidLine},
    "a": {"color": "#1f77b4", "width": 2.5, "style": Qt.PenStyle.SolidLine},
}


@dataclass(frozen=True)
class Curve:
    """One line: its legend name, y values (N,) and a style from STYLES."""

    name: str
    y: np.ndarray
    style: str = "after"


class CurvePlot(pg.PlotWidget):
    """Named curves over x; optional log axes; a zero line for signed values."""

    def __init__(self, parent=None, name: str = "curvePlot") -> None:
        super().__init__(parent, background="w")
        self.setObjectName(name)
        self.hideButtons()
        self._font = QFont()
        self._font.setPointSize(11)
        self._fg = QColor("#222")
        plot = self.getPlotItem()
        self.legend = plot.addLegend(offset=(-10, 10))
        self.items: list[pg.PlotDataItem] = []
        self._zero = pg.InfiniteLine(angle=0, pen=pg.mkPen("#bbbbbb", width=1))
        plot.addItem(self._zero)
        self._labels = ("", "")
        self.set_colors("w", "#222")

    def set_curves(
        self,
        x: np.ndarray,
        curves: Sequence[Curve],
        *,
        x_label: str,
        y_label: str,
        title: str = "",
        log_x: bool = False,
        log_y: bool = False,
    ) -> None:
        """Replace the curves.

        Args:
            x: (N,) shared x values.
            curves: the lines; each y of shape (N,).
            x_label, y_label: axis titles.
            title: text above the plot.
            log_x, log_y: logarithmic axes (values <= 0 are left out of a log axis).

        Raises:
            ValueError: a curve's length differs from x.
        """
        x = np.asarray(x, dtype=np.float64)
        for c in curves:
            if np.shape(c.y) != x.shape:
                raise ValueError(f"curve {c.name!r} has shape {np.shape(c.y)}, expected {x.shape}")
        self._replace_items(x, curves, log_x, log_y)
        plot = self.getPlotItem()
        plot.setLogMode(x=log_x, y=log_y)
        self._zero.setVisible(not log_y)
        self._labels = (x_label, y_label)
        self._apply_labels()
        plot.setTitle(title, color=self._fg.name(), size="11pt")
        plot.enableAutoRange()

    def _replace_items(self, x: np.ndarray, curves: Sequence[Curve], log_x, log_y) -> None:
        """New line items (values a log axis cannot show are left out)."""
        plot = self.getPlotItem()
        for item in self.items:
            plot.removeItem(item)
        self.legend.clear()
        self.items = []
        keep = x > 0 if log_x else np.ones_like(x, dtype=bool)
        for c in curves:
            y = np.asarray(c.y, dtype=np.float64)
            ok = keep & (y > 0 if log_y else np.isfinite(y))
            self.items.append(plot.plot(x[ok], y[ok], pen=pg.mkPen(**STYLES[c.style]), name=c.name))

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """name → (x, y) of each drawn curve (as given, not log-transformed)."""
        out = {}
        for item in self.items:
            x, y = item.getOriginalDataset()
            out[item.name()] = (np.asarray(x), np.asarray(y))
        return out

    def _apply_labels(self) -> None:
        plot = self.getPlotItem()
        for side, text in zip(("bottom", "left"), self._labels):
            axis = plot.getAxis(side)
            axis.setLabel(text, color=self._fg.name(), **{"font-size": "12pt"})
            axis.setTickFont(self._font)
            axis.enableAutoSIPrefix(False)

    def set_colors(self, background: str, foreground: str) -> None:
        """Background and text colours (light or dark theme)."""
        self._fg = QColor(foreground)
        self.setBackground(background)
        plot = self.getPlotItem()
        for side in ("bottom", "left"):
            plot.getAxis(side).setPen(foreground)
            plot.getAxis(side).setTextPen(foreground)
        self.legend.setLabelTextColor(foreground)
        self._apply_labels()
