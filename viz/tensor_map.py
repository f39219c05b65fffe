"""TensorMap: a vector or a matrix of real numbers as a labelled heatmap with hover values.

The walkthrough shows every tensor of a forward pass with it: embedding rows (T, d), one
residual-stream row (d,), the SwiGLU hidden vector (d_ff,), the residual stream through
all layers (L, d). Signed values use a diverging blue–white–red scale centred at zero,
non-negative ones a sequential colormap. Several vectors of different magnitude (x, x/RMS,
g, the normalised result) are stacked as rows, each on its own scale (``row_scaled``);
hovering always reads the true value.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from llamalens.viz.colormaps import lookup_table

NEGATIVE, ZERO, POSITIVE = (33, 102, 172), (247, 247, 247), (178, 24, 43)
HIGHLIGHT = "#0a84ff"


def diverging_lut() -> np.ndarray:
    """(256, 4) uint8 blue (negative) → white (0) → red (positive)."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    neg, zero, pos = (np.array(c, dtype=np.float64) for c in (NEGATIVE, ZERO, POSITIVE))
    rgb = np.where(t < 0, zero + (neg - zero) * -t, zero + (pos - zero) * t)
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = np.rint(rgb)
    lut[:, 3] = 255
    return lut


def color_scale(values: np.ndarray, signed: bool, clip: float) -> float:
    """The value at the end of the colour scale: the ``clip`` quantile of |values| (> 0)."""
    finite = np.abs(values[np.isfinite(values)]) if signed else values[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    top = float(np.quantile(finite, clip)) if clip < 1 else float(finite.max())
    return top if top > 0 else 1.0


def tensor_rgba(
    values: np.ndarray, signed: bool, row_scaled: bool, clip: float, colormap: str
) -> tuple[np.ndarray, np.ndarray]:
    """Colour an (R, C) matrix.

    Returns:
        (R, C, 4) uint8 RGBA and (R,) the value at the top of each row's scale (the same
        for every row unless ``row_scaled``).
    """
    rows = values.shape[0]
    if row_scaled:
        tops = np.array([color_scale(values[r], signed, clip) for r in range(rows)])
    else:
        tops = np.full(rows, color_scale(values, signed, clip))
    scaled = np.nan_to_num(values / tops[:, None], nan=0.0, posinf=1.0, neginf=-1.0)
    if signed:
        index = np.clip((scaled + 1.0) * 127.5, 0, 255)
        lut = diverging_lut()
    else:
        index = np.clip(scaled * 255.0, 0, 255)
        lut = lookup_table(colormap)
    return np.ascontiguousarray(lut[index.astype(np.uint8)]), tops


class _Outline(QGraphicsRectItem):
    def __init__(self, color: str, width: float = 2.5) -> None:
        super().__init__()
        pen = QPen(QColor(color), width)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(10)
        self.hide()


class TensorMap(pg.GraphicsLayoutWidget):
    """One real tensor, (C,) or (R, C), as coloured cells; hover a cell to read it.

    Signals:
        cell_hovered(int, int, float): row, column and true value under the mouse.
        row_clicked(int): the row of a left click.
    """

    cell_hovered = Signal(int, int, float)
    row_clicked = Signal(int)

    def __init__(self, parent=None, *, font_size: float = 11.0) -> None:
        super().__init__(parent)
        self.setObjectName("tensorMap")
        self.setBackground("w")
        self._fg = QColor("#222222")
        self._font = QFont(self.font())
        self._font.setPointSizeF(font_size)
        self._values = np.zeros((0, 0), dtype=np.float32)
        self._row_labels: list[str] = []
        self._title_text = ""
        self._readout_text = ""
        self._tops = np.zeros(0)
        self._signed = True
        self._segments: list[QGraphicsRectItem] = []
        self._build()
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    def _build(self) -> None:
        self._title = self.ci.addLabel("", row=0, col=0, justify="left")
        self._plot = self.ci.addPlot(row=1, col=0)
        self._plot.hideButtons()
        self._plot.setMenuEnabled(False)
        self._plot.setMouseEnabled(x=False, y=False)
        view = self._plot.getViewBox()
        view.invertY(True)
        view.setDefaultPadding(0.0)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setAutoDownsample(True)
        self._plot.addItem(self._image)
        self._row_box = _Outline(HIGHLIGHT)
        self._segment_box = _Outline("#111111", 2.0)
        for item in (self._row_box, self._segment_box):
            self._plot.addItem(item)
        self._readout = self.ci.addLabel("", row=2, col=0, justify="left")
        self._apply_fonts()

    # ---- content ---------------------------------------------------------------------------
    def set_tensor(
        self,
        values: np.ndarray,
        *,
        title: str = "",
        row_labels: Sequence[str] | None = None,
        signed: bool | None = None,
        row_scaled: bool = False,
        clip: float = 1.0,
        colormap: str = "viridis",
        segment: int = 0,
        highlight_segment: int | None = None,
        highlight_row: int | None = None,
    ) -> None:
        """Show a tensor.

        Args:
            values: (C,) or (R, C) real numbers (a vector is one row).
            title: text above the cells, e.g. "resid_pre · layer 3 · (576,)".
            row_labels: R labels (tokens, layers, names); default the row indices
                (none for a single row).
            signed: diverging scale centred at 0; default when any value is negative.
            row_scaled: colour each row on its own scale (rows of unlike magnitude).
            clip: quantile of |values| at the ends of the scale (1 = the maximum; 0.99
                lets a few huge values saturate instead of washing out the rest).
            colormap: the sequential colormap of non-negative values.
            segment: draw a boundary every ``segment`` columns (e.g. heads of hd values).
            highlight_segment: outline this segment (the current head), or None.
            highlight_row: outline this row (the selected token or layer), or None.

        Raises:
            ValueError: for another number of dimensions, a label count != R, a clip
                outside (0, 1] or a highlight out of range.
        """
        arr = np.asarray(values, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError(f"tensor has shape {np.shape(values)}, expected (C,) or (R, C)")
        rows, cols = arr.shape
        default = [""] if rows == 1 else [str(r) for r in range(rows)]
        labels = default if row_labels is None else list(row_labels)
        if len(labels) != rows:
            raise ValueError(f"got {len(labels)} row labels for a tensor of {rows} rows")
        if not 0 < clip <= 1:
            raise ValueError(f"clip is {clip}, expected a quantile in (0, 1]")
        self._signed = bool(np.nanmin(arr) < 0) if signed is None and arr.size else bool(signed)
        self._values, self._row_labels, self._title_text = arr, labels, title
        rgba, self._tops = tensor_rgba(arr, self._signed, row_scaled, clip, colormap)
        # levels for the RGBA bytes: downsampling a long strip averages them into floats
        self._image.setImage(rgba, autoLevels=False, levels=(0, 255))
        self._image.setRect(QRectF(0, 0, cols, rows))
        self._plot.getViewBox().setRange(QRectF(0, 0, max(cols, 1), max(rows, 1)), padding=0.0)
        self._place_segments(segment, highlight_segment)
        self.set_highlight_row(highlight_row)
        self._set_row_ticks()
        self._update_title()
        self._set_readout("")

    def _place_segments(self, segment: int, highlight: int | None) -> None:
        for line in self._segments:
            self._plot.removeItem(line)
        self._segments = []
        rows, cols = self._values.shape
        if segment <= 0:
            self._segment_box.hide()
            return
        for x in range(segment, cols, segment):
            line = QGraphicsRectItem(QRectF(x, 0, 0, rows))
            pen = QPen(QColor(80, 80, 80, 160), 1.0)
            pen.setCosmetic(True)
            line.setPen(pen)
            line.setZValue(5)
            self._plot.addItem(line)
            self._segments.append(line)
        if highlight is not None:
            if not 0 <= highlight * segment < cols:
                raise ValueError(f"segment {highlight} is out of range 0..{cols // segment - 1}")
            self._segment_box.setRect(QRectF(highlight * segment, 0, segment, rows))
        self._segment_box.setVisible(highlight is not None)

    def set_highlight_row(self, row: int | None) -> None:
        """Outline one row (None: no outline)."""
        rows, cols = self._values.shape
        if row is not None and not 0 <= row < rows:
            raise ValueError(f"row {row} is out of range 0..{rows - 1}")
        if row is not None and rows > 1:
            self._row_box.setRect(QRectF(0, row, cols, 1))
        self._row_box.setVisible(row is not None and rows > 1)

    def _set_row_ticks(self) -> None:
        rows = len(self._row_labels)
        step = max(1, math.ceil(rows / 40))  # at most ~40 labels; hover reads the rest
        ticks = [(r + 0.5, self._row_labels[r]) for r in range(0, rows, step)]
        self._plot.getAxis("left").setTicks([ticks])
        cols = self._values.shape[1]
        marks = [(c + 0.5, str(c)) for c in _column_marks(cols)]
        self._plot.getAxis("bottom").setTicks([marks])

    # ---- facts -----------------------------------------------------------------------------
    def displayed(self) -> np.ndarray:
        """(R, C) float32: the values shown (a vector is one row)."""
        return self._values

    def scale_tops(self) -> np.ndarray:
        """(R,) the value at the top end of each row's colour scale."""
        return self._tops

    @property
    def signed(self) -> bool:
        return self._signed

    def title_text(self) -> str:
        return self._title_text

    def readout_text(self) -> str:
        return self._readout_text

    def image_rgba(self) -> np.ndarray:
        """(R, C, 4) uint8: the colours of the cells."""
        return self._image.image

    # ---- appearance ------------------------------------------------------------------------
    def set_colors(self, background: str, foreground: str) -> None:
        self.setBackground(background)
        self._fg = QColor(foreground)
        self._apply_fonts()
        self._update_title()
        self._set_readout(self._readout_text)

    def set_font_size(self, points: float) -> None:
        self._font.setPointSizeF(points)
        self._apply_fonts()
        self._update_title()
        self._set_readout(self._readout_text)

    def _apply_fonts(self) -> None:
        for side in ("left", "bottom"):
            axis = self._plot.getAxis(side)
            axis.setTickFont(self._font)
            axis.setTextPen(self._fg)
            axis.setPen(self._fg)

    def _update_title(self) -> None:
        size = f"{self._font.pointSizeF() * 1.1:g}pt"
        self._title.setText(
            f"<b>{html.escape(self._title_text)}</b>", size=size, color=self._fg.name()
        )
        # no title, no empty line above the cells (a one-row strip needs the height)
        self._title.setVisible(bool(self._title_text))
        self._title.setMaximumHeight(16777215 if self._title_text else 0)

    def _set_readout(self, text: str) -> None:
        self._readout_text = text
        size = f"{self._font.pointSizeF():g}pt"
        self._readout.setText(html.escape(text) or "&nbsp;", size=size, color=self._fg.name())

    # ---- mouse -----------------------------------------------------------------------------
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, column) under a scene position, or None outside the cells."""
        view = self._plot.getViewBox()
        rows, cols = self._values.shape
        if not rows or not view.sceneBoundingRect().contains(scene_pos):
            return None
        point = view.mapSceneToView(scene_pos)
        row, col = math.floor(point.y()), math.floor(point.x())
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def scene_pos_of(self, row: int, col: int) -> QPointF:
        return self._plot.getViewBox().mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def show_cell(self, row: int, col: int) -> None:
        """Read out cell (row, col) and emit ``cell_hovered``."""
        value = float(self._values[row, col])
        label = self._row_labels[row]
        prefix = f"{label} · " if self._values.shape[0] > 1 else ""
        self._set_readout(f"{prefix}[{col}] = {value:.6g}")
        self.cell_hovered.emit(row, col, value)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            self.show_cell(*cell)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.row_clicked.emit(cell[0])


def _column_marks(cols: int) -> list[int]:
    """A few round column indices for the bottom axis (0 and multiples of a nice step)."""
    if cols <= 0:
        return []
    step = 1
    for candidate in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384):
        step = candidate
        if cols / candidate <= 8:
            break
    return list(range(0, cols, step))
