"""PairedBars: two next-token distributions side by side, with Δ log-probability.

For each token, bar A (before, or the first run) and bar B (after, or the second run)
are drawn as a pair, and the change log p_B − log p_A is written in a column at the
right, green where B made the token more likely and red where less. The title names
A and B in their colours.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from llamalens.viz.token_text import visible_text

A_COLOR, B_COLOR = "#9bb4d1", "#e4761b"
UP_COLOR, DOWN_COLOR = "#2e7d32", "#c62828"
HALF = 0.36  # height of one bar of a pair (pairs are one unit apart)


class PairedBars(pg.PlotWidget):
    """Horizontal pairs of probability bars, first token on top.

    Attributes (read-only for callers):
        labels: the N token texts.
        prob_a, prob_b: (N,) the two probabilities.
        delta: (N,) log p_B − log p_A.
        names: the legend names of A and B.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("pairedBars")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setContentsMargins(8, 4, 12, 4)
        self._font = QFont()
        self._font.setPointSize(11)
        self._fg = QColor("#222")
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTickFont(self._font)
            axis.enableAutoSIPrefix(False)
        plot.setLabel("bottom", "probability", **{"font-size": "12pt"})
        self.bars_a = pg.BarGraphItem(x0=[0.0], y=[0.0], height=HALF, width=[0.0], brush=A_COLOR)
        self.bars_b = pg.BarGraphItem(x0=[0.0], y=[0.0], height=HALF, width=[0.0], brush=B_COLOR)
        plot.addItem(self.bars_a)
        plot.addItem(self.bars_b)
        self._texts: list[pg.TextItem] = []
        self.labels: list[str] = []
        self.prob_a = self.prob_b = self.delta = np.zeros(0)
        self.names = ("A", "B")
        self._right = 1.0
        self.set_colors("w", "#222")

    def set_pairs(
        self,
        labels: Sequence[str],
        prob_a: np.ndarray,
        prob_b: np.ndarray,
        names: tuple[str, str] = ("before", "after"),
    ) -> None:
        """Show N tokens' probabilities under A and B.

        Args:
            labels: N token texts, top pair first.
            prob_a, prob_b: (N,) probabilities in [0, 1].
            names: legend entries of A and B.

        Raises:
            ValueError: the shapes do not match the labels.
        """
        n = len(labels)
        a, b = (np.asarray(p, dtype=np.float64) for p in (prob_a, prob_b))
        if a.shape != (n,) or b.shape != (n,):
            raise ValueError(f"probabilities of shape {a.shape} and {b.shape}; expected ({n},)")
        with np.errstate(divide="ignore"):
            delta = np.log(b) - np.log(a)
        self.labels, self.prob_a, self.prob_b, self.delta = list(labels), a, b, delta
        self.names = names
        y = np.arange(n, dtype=np.float64)[::-1]
        for item, values, offset in ((self.bars_a, a, HALF / 2), (self.bars_b, b, -HALF / 2)):
            item.setVisible(n > 0)
            if n:
                item.setOpts(x0=np.zeros(n), y=y + offset, width=values)
        self.getPlotItem().getAxis("left").setTicks(
            [[(float(y[i]), visible_text(t)) for i, t in enumerate(labels)]]
        )
        top = float(max(a.max(initial=0.0), b.max(initial=0.0)))
        self._right = max(0.05, top) * 1.8  # the bars use the left 55 %, Δ the rest
        self._update_texts(y)
        self._update_title()
        plot = self.getPlotItem()
        plot.setXRange(0, self._right, padding=0)
        plot.setYRange(-0.6, max(n, 1) - 0.4, padding=0)

    def _update_texts(self, y: np.ndarray) -> None:
        plot = self.getPlotItem()
        while len(self._texts) < len(self.labels):
            item = pg.TextItem(anchor=(1, 0.5))  # right-aligned: a column of Δ
            item.setFont(self._font)
            plot.addItem(item)
            self._texts.append(item)
        for i, item in enumerate(self._texts):
            item.setVisible(i < len(self.labels))
            if i >= len(self.labels):
                continue
            d = float(self.delta[i])
            shown = "−∞" if d == -np.inf else "+∞" if d == np.inf else f"{d:+.2f}"
            text = "Δ log p = " + shown.replace("-", "−")  # a real minus sign
            color = UP_COLOR if d > 0 else DOWN_COLOR if d < 0 else self._fg.name()
            item.setText(text, color=color)
            item.setPos(self._right, float(y[i]))

    def title(self) -> str:
        """The plot's title: A and B named in their bar colours (HTML)."""
        a, b = (html.escape(n) for n in self.names)
        return (
            f"<span style='color:{A_COLOR}'>■</span> A: {a} &nbsp;&nbsp; "
            f"<span style='color:{B_COLOR}'>■</span> B: {b}"
        )

    def _update_title(self) -> None:
        self.getPlotItem().setTitle(self.title(), color=self._fg.name(), size="11pt")

    def set_colors(self, background: str, foreground: str) -> None:
        """Background, axes and labels for a light or dark theme."""
        self._fg = QColor(foreground)
        self.setBackground(background)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setPen(foreground)
            plot.getAxis(side).setTextPen(foreground)
        plot.setLabel("bottom", "probability", color=foreground, **{"font-size": "12pt"})
        if self.labels:
            self._update_texts(np.arange(len(self.labels), dtype=np.float64)[::-1])
            self._update_title()
