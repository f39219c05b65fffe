"""LogitBars: the most likely next tokens as horizontal probability bars.

With sampling settings the bars show two distributions at once: the model's own
probabilities (T = 1) as dashed outlines, and the distribution actually sampled from
(temperature, then top-p / top-k, renormalised) as solid bars; tokens the cut removed
are grey. The items are created once and updated in place, so a temperature slider can
redraw them live.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen

from llamalens.viz.token_text import visible_text

KEPT_COLOR = "#4c78a8"
CHOSEN_COLOR = "#f58518"
CUT_COLOR = "#c4c4c4"
BAR_HEIGHT, OUTLINE_HEIGHT = 0.6, 0.86
_BRUSHES = {
    "kept": QBrush(QColor(KEPT_COLOR)),
    "chosen": QBrush(QColor(CHOSEN_COLOR)),
    "cut": QBrush(QColor(CUT_COLOR)),
}
_NO_PEN = QPen(Qt.PenStyle.NoPen)
_CHOSEN_PEN = pg.mkPen("#111", width=2.5)
_TEXT_COLORS = {"kept": QColor("#222"), "chosen": QColor("#a0440a"), "cut": QColor("#888")}


PROBABILITY = QT_TRANSLATE_NOOP("LogitBars", "probability")
LEGEND = QT_TRANSLATE_NOOP(
    "LogitBars", "solid: sampled from (T, top-p, top-k) · dashed: model at T = 1 · grey: cut"
)
PLAIN_TITLE = QT_TRANSLATE_NOOP("LogitBars", "next-token probabilities")
CHOSEN = QT_TRANSLATE_NOOP("LogitBars", "{p}  ◀ chosen")
CUT = QT_TRANSLATE_NOOP("LogitBars", "cut ({p})")


def _tr(text: str) -> str:
    return QCoreApplication.translate("LogitBars", text)


def _as_vector(name: str, value: np.ndarray, n: int, dtype: type) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},) = (len(labels),)")
    return arr


class LogitBars(pg.PlotWidget):
    """Horizontal bars, most likely token on top, labelled with token text and %.

    Attributes (read-only for callers):
        labels: the N token texts, top bar first.
        probs: (N,) the solid bar widths (the distribution sampled from).
        kept: (N,) bool, False for tokens cut by top-p / top-k.
        original: (N,) the outlined T = 1 probabilities, or None with set_bars().
        chosen: index of the highlighted token, or None.
        bar_item, outline_item: the two BarGraphItems, reused across updates.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName("logitBars")
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setContentsMargins(8, 4, 12, 4)
        font = QFont()
        font.setPointSize(12)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen("#444")
            axis.setTextPen("#222")
            axis.setTickFont(font)
            axis.enableAutoSIPrefix(False)
        plot.setLabel("bottom", _tr(PROBABILITY), color="#222", **{"font-size": "12pt"})
        self.bar_item = pg.BarGraphItem(
            x0=[0.0], y=[0.0], height=BAR_HEIGHT, width=[0.0], brush=KEPT_COLOR, pen=None
        )
        self.outline_item = pg.BarGraphItem(
            x0=[0.0],
            y=[0.0],
            height=OUTLINE_HEIGHT,
            width=[0.0],
            brush=None,
            pen=pg.mkPen("#333", width=1.5, style=Qt.PenStyle.DashLine),
        )
        self.outline_item.setZValue(1)  # the outline stays visible over a wider solid bar
        plot.addItem(self.bar_item)
        plot.addItem(self.outline_item)
        self._texts: list[pg.TextItem] = []
        self._tick_labels: list[str] | None = None
        self._font = QFont(font)
        self.labels: list[str] = []
        self.probs = np.zeros(0)
        self.kept = np.zeros(0, dtype=bool)
        self.original: np.ndarray | None = None
        self.chosen: int | None = None
        self._fg = QColor("#222")
        self._kinds: list[str] = []

    def set_bars(self, labels: Sequence[str], probs: np.ndarray) -> None:
        """Show plain probability bars (no sampling settings).

        Args:
            labels: N token texts, most likely first.
            probs: (N,) probabilities in [0, 1], same order.
        """
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 1 or len(labels) != probs.shape[0]:
            raise ValueError(
                f"set_bars got {len(labels)} labels and probs of shape "
                f"{probs.shape}; expected (N,) with N = len(labels)"
            )
        self._show(list(labels), None, probs, np.ones(probs.shape[0], dtype=bool), None)

    def set_distribution(
        self,
        labels: Sequence[str],
        probs: np.ndarray,
        tempered: np.ndarray,
        kept: np.ndarray,
        chosen: int | None = None,
    ) -> None:
        """Show the model's distribution and the one sampling draws from.

        Args:
            labels: N token texts, top bar first.
            probs: (N,) the model's probabilities at T = 1 (drawn as dashed outlines).
            tempered: (N,) the sampled-from probabilities: tempered and renormalised over
                the kept tokens (solid bars); for cut tokens, whatever the caller wants
                shown greyed, typically their tempered probability before the cut.
            kept: (N,) bool, False where top-p / top-k cut the token (grey bars).
            chosen: index (0..N-1) of the token just chosen, highlighted; None for none.

        Raises:
            ValueError: a shape differs from (N,) or chosen is out of range.
        """
        n = len(labels)
        probs = _as_vector("probs", probs, n, np.float64)
        tempered = _as_vector("tempered", tempered, n, np.float64)
        kept_arr = np.asarray(kept)
        if kept_arr.dtype != np.bool_:
            raise ValueError(f"kept must be a bool mask, got dtype {kept_arr.dtype}")
        kept_arr = _as_vector("kept", kept_arr, n, bool)
        if chosen is not None and not 0 <= chosen < n:
            raise ValueError(f"chosen is {chosen}, expected None or an index in 0..{n - 1}")
        self._show(list(labels), probs, tempered, kept_arr, chosen)

    # ------------------------------------------------------------------ drawing
    def _show(
        self,
        labels: list[str],
        original: np.ndarray | None,
        solid: np.ndarray,
        kept: np.ndarray,
        chosen: int | None,
    ) -> None:
        self.labels, self.original, self.probs = labels, original, solid
        self.kept, self.chosen = kept, chosen
        n = len(labels)
        y = np.arange(n, dtype=np.float64)[::-1]  # first label at the top
        kinds = ["chosen" if i == chosen else "kept" if kept[i] else "cut" for i in range(n)]
        self.bar_item.setVisible(n > 0)
        self.outline_item.setVisible(n > 0 and original is not None)
        if n:
            self.bar_item.setOpts(
                x0=np.zeros(n),
                y=y,
                width=solid,
                brushes=[_BRUSHES[k] for k in kinds],
                pens=[_CHOSEN_PEN if k == "chosen" else _NO_PEN for k in kinds],
            )
        if n and original is not None:
            self.outline_item.setOpts(x0=np.zeros(n), y=y, width=original)
        self._update_ticks(labels, y)
        self._update_texts(y, kinds)
        self._update_title(original is not None)
        top = max(
            float(solid.max(initial=0.0)),
            0.0 if original is None else float(original.max(initial=0.0)),
        )
        plot = self.getPlotItem()
        plot.setXRange(0, max(0.05, top) * 1.3, padding=0)
        plot.setYRange(-0.6, max(n, 1) - 0.4, padding=0)

    def _update_ticks(self, labels: list[str], y: np.ndarray) -> None:
        if labels == self._tick_labels:
            return  # moving a slider keeps the tokens: skip relaying out the axis
        self._tick_labels = list(labels)
        ticks = [(float(y[i]), visible_text(text)) for i, text in enumerate(labels)]
        self.getPlotItem().getAxis("left").setTicks([ticks])

    def _text_color(self, kind: str) -> QColor:
        return self._fg if kind == "kept" else _TEXT_COLORS[kind]

    def _update_texts(self, y: np.ndarray, kinds: list[str]) -> None:
        self._kinds = list(kinds)
        plot = self.getPlotItem()
        while len(self._texts) < len(kinds):
            item = pg.TextItem(anchor=(0, 0.5))
            item.setFont(self._font)
            plot.addItem(item)
            self._texts.append(item)
        for i, item in enumerate(self._texts):
            if i >= len(kinds):
                item.setVisible(False)
                continue
            p = float(self.probs[i])
            text = {
                "kept": f"{p:.1%}",
                "chosen": _tr(CHOSEN).format(p=f"{p:.1%}"),
                "cut": _tr(CUT).format(p=f"{p:.1%}"),
            }[kinds[i]]
            end = p if self.original is None else max(p, float(self.original[i]))
            item.setText(text, color=self._text_color(kinds[i]))
            item.setPos(end + 0.004, float(y[i]))
            item.setVisible(True)

    def set_colors(self, background: str, foreground: str) -> None:
        """Background, axes, labels and the dashed outline for a light or dark theme."""
        self._fg = QColor(foreground)
        self.setBackground(background)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setPen(foreground)
            plot.getAxis(side).setTextPen(foreground)
        plot.setLabel("bottom", _tr(PROBABILITY), color=foreground, **{"font-size": "12pt"})
        self.outline_item.setOpts(pen=pg.mkPen(foreground, width=1.5, style=Qt.PenStyle.DashLine))
        title, self._title = getattr(self, "_title", None), None
        if title is not None:
            self._update_title(self._with_outline)
        for item, kind in zip(self._texts, self._kinds):
            item.setColor(self._text_color(kind))

    def _update_title(self, with_outline: bool) -> None:
        self._with_outline = with_outline
        title = _tr(LEGEND) if with_outline else _tr(PLAIN_TITLE)
        if getattr(self, "_title", None) != title:
            self._title = title
            self.getPlotItem().setTitle(title, color=self._fg.name(), size="11pt")

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "_with_outline"):
            self.set_colors(self.backgroundBrush().color().name(), self._fg.name())
            if self.labels:
                self._show(self.labels, self.original, self.probs, self.kept, self.chosen)
        super().changeEvent(event)
