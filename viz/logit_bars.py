"""LogitBars: the most likely next tokens as horizontal probability bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from viz.token_text import visible_text


class LogitBars(pg.PlotWidget):
    """Horizontal bars, most likely token on top, labelled with token text and %."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("logitBars")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getPlotItem().setLabel("bottom", "probability")
        self._bars: pg.BarGraphItem | None = None
        self._labels: list[pg.TextItem] = []
        self.probs = np.zeros(0)
        self.labels: list[str] = []

    def set_bars(self, labels: Sequence[str], probs: np.ndarray) -> None:
        """Show bars.

        Args:
            labels: token texts, most likely first.
            probs: (N,) probabilities in [0, 1], same order.
        """
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 1 or len(labels) != probs.shape[0]:
            raise ValueError(f"set_bars got {len(labels)} labels and probs of shape "
                             f"{probs.shape}; expected (N,) with N = len(labels)")
        self.labels, self.probs = list(labels), probs
        plot = self.getPlotItem()
        plot.clear()
        n = len(labels)
        y = np.arange(n)[::-1].astype(float)  # first label at the top
        self._bars = pg.BarGraphItem(x0=0, y=y, height=0.7, width=probs, brush="#4c78a8")
        plot.addItem(self._bars)
        ticks = [(float(y[i]), f"{visible_text(labels[i])}") for i in range(n)]
        plot.getAxis("left").setTicks([ticks])
        for i in range(n):
            text = pg.TextItem(f"{probs[i]:.1%}", color="#222", anchor=(0, 0.5))
            text.setPos(float(probs[i]), float(y[i]))
            plot.addItem(text)
        plot.setXRange(0, max(0.05, float(probs.max(initial=0.0)) * 1.25), padding=0)
        plot.setYRange(-0.6, n - 0.4, padding=0)
