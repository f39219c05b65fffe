"""LayerHeadMap: one number per (layer, head) as a heatmap, layers as rows.

Used for the effect of ablating each head: a diverging colormap centred at zero, so a
head whose removal lowers the chosen token's probability is blue and one that raises
it is red. Cells without a value (heads not ranked) are drawn in the masked colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont

from llamalens.viz.colormaps import (
    DIVERGING_COLORMAP,
    color_levels,
    default_masked_color,
    get_colormap,
    lookup_table,
    to_rgba,
)

TICK_SPACING_PX = 16  # a layer label's height, so labels never overlap


class LayerHeadMap(pg.GraphicsLayoutWidget):
    """(L, H) values as cells; click one to choose that head.

    Signals:
        cell_clicked(int, int): the (layer, head) clicked.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("layerHeadMap")
        self.setBackground("w")
        self._fg = QColor("#222")
        self._font = QFont()
        self._font.setPointSize(11)
        self._values = np.zeros((0, 0))
        self._layer_ticks: range = range(0)
        self._levels = (-1.0, 1.0)
        self._title = self.ci.addLabel("", row=0, col=0, colspan=2)
        self._plot = self.ci.addPlot(row=1, col=0)
        self._plot.invertY(True)
        self._plot.setMenuEnabled(False)
        self._plot.setMouseEnabled(x=False, y=False)
        self._plot.hideButtons()
        self._image = pg.ImageItem(axisOrder="row-major")
        self._plot.addItem(self._image)
        self._box = pg.QtWidgets.QGraphicsRectItem()
        self._box.setPen(pg.mkPen("#111", width=2))
        self._box.setVisible(False)
        self._plot.addItem(self._box)
        self._bar = pg.ColorBarItem(
            values=self._levels,
            colorMap=get_colormap(DIVERGING_COLORMAP),
            interactive=False,
            colorMapMenu=False,
            width=16,
        )
        self.ci.addItem(self._bar, row=1, col=1)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.set_colors("w", "#222")

    def set_values(
        self, values: np.ndarray, *, title: str = "", value_label: str = "", selected=None
    ) -> None:
        """Show (L, H) values (NaN: no value) on a range centred at zero.

        Args:
            values: (L, H) float.
            title: text above the map.
            value_label: the colour bar's title.
            selected: (layer, head) to outline, or None.
        """
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 2:
            raise ValueError(f"values have shape {v.shape}; expected (layers, heads)")
        self._values = v
        missing = ~np.isfinite(v)
        self._levels = color_levels(v, ~missing, "difference")
        rgba = to_rgba(
            v,
            self._levels,
            lookup_table(DIVERGING_COLORMAP),
            missing,
            default_masked_color(DIVERGING_COLORMAP),
        )
        self._image.setImage(rgba, levels=None)
        self._image.setRect(QRectF(0, 0, v.shape[1], v.shape[0]))
        self._bar.setLevels(self._levels)
        self._bar.getAxis("left").setLabel(value_label, color=self._fg.name())
        self._title.setText(title, color=self._fg.name(), size="12pt")
        self._ticks()
        self._plot.setRange(QRectF(0, 0, v.shape[1], v.shape[0]), padding=0)
        self.set_selected(selected)

    def _ticks(self) -> None:
        """Layer labels at least a label's height apart (every layer when they fit)."""
        n_layers, n_heads = self._values.shape
        if not n_layers:
            return
        row_px = self._plot.vb.height() / n_layers
        step = max(1, int(np.ceil(TICK_SPACING_PX / row_px))) if row_px > 0 else 1
        self._layer_ticks = range(0, n_layers, step)
        self._plot.getAxis("left").setTicks([[(i + 0.5, str(i)) for i in self._layer_ticks]])
        self._plot.getAxis("bottom").setTicks([[(h + 0.5, str(h)) for h in range(n_heads)]])

    def layer_ticks(self) -> list[int]:
        """The layers labelled on the left axis."""
        return list(self._layer_ticks)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if hasattr(self, "_plot"):  # (Qt resizes it while it is being built)
            self._ticks()

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        """Outline the (layer, head) cell; None hides the outline."""
        if cell is None or not self._values.size:
            self._box.setVisible(False)
            return
        layer, head = cell
        self._box.setRect(QRectF(head, layer, 1, 1))
        self._box.setVisible(True)

    def values(self) -> np.ndarray:
        return self._values

    def levels(self) -> tuple[float, float]:
        return self._levels

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (layer, head) under a scene position, or None."""
        p = self._plot.vb.mapSceneToView(scene_pos)
        layer, head = int(np.floor(p.y())), int(np.floor(p.x()))
        n_layers, n_heads = self._values.shape
        return (layer, head) if 0 <= layer < n_layers and 0 <= head < n_heads else None

    def scene_pos_of(self, layer: int, head: int) -> QPointF:
        return self._plot.vb.mapViewToScene(QPointF(head + 0.5, layer + 0.5))

    def _on_click(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def set_colors(self, background: str, foreground: str) -> None:
        """Background and text colours (light or dark theme)."""
        self._fg = QColor(foreground)
        self.setBackground(background)
        for side, text in (("left", "layer"), ("bottom", "head")):
            axis = self._plot.getAxis(side)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
            axis.setTickFont(self._font)
            axis.setLabel(text, color=foreground, **{"font-size": "12pt"})
        bar_axis = self._bar.getAxis("left")
        bar_axis.setPen(foreground)
        bar_axis.setTextPen(foreground)
