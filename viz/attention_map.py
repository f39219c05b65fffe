"""AttentionMap: one attention matrix as a zoomable, labelled heatmap with its mask."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from llamalens.viz.colormaps import (
    DEFAULT_COLORMAP,
    check_kind,
    color_levels,
    default_masked_color,
    get_colormap,
    scaled_for_color,
    visible_cells,
)
from llamalens.viz.heatmap_items import HeatmapPlot, TokenAxis, elide
from llamalens.viz.token_text import visible_text

IDLE_READOUT = QT_TRANSLATE_NOOP(
    "AttentionMap", "hover a cell to read its value; click to pick a query"
)
QUERY = QT_TRANSLATE_NOOP("AttentionMap", "query")
KEY = QT_TRANSLATE_NOOP("AttentionMap", "key")
MASKED_LEGEND = QT_TRANSLATE_NOOP("AttentionMap", "masked (future key)")
MASKED_VALUE = QT_TRANSLATE_NOOP("AttentionMap", "(masked)")
READOUT = QT_TRANSLATE_NOOP("AttentionMap", "query {row} '{query}' → key {col} '{key}' : {value}")


def _tr(text: str) -> str:
    return QCoreApplication.translate("AttentionMap", text)


class AttentionMap(pg.GraphicsLayoutWidget):
    """Heatmap of one attention matrix: queries as rows (top to bottom), keys as columns.

    The cells of the mask the caller gives (the future keys a causal mask hid) are drawn
    in a flat masked colour, never as the bottom of the colour scale. Zoom with the wheel, pan by
    dragging, double-click to see the whole map again.

    Signals:
        cell_hovered(int, int, float): query row, key column and value under the mouse.
        cell_clicked(int, int): query row and key column of a left click.
    """

    cell_hovered = Signal(int, int, float)
    cell_clicked = Signal(int, int)

    def __init__(
        self,
        parent=None,
        *,
        background: str = "w",
        foreground: str = "#222222",
        font_size: float = 11.0,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("attentionMap")
        self.setBackground(background)
        self._fg = QColor(foreground)
        self._font = QFont(self.font())
        self._font.setPointSizeF(font_size)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._raw_labels: list[str] = []
        self._labels: list[str] = []
        self._kind, self._value_label = "probability", "probability"
        self._title_text, self._readout_text = "", ""
        self._masked: np.ndarray | None = None
        self._given_mask: np.ndarray | None = None  # the caller's mask (True = hidden)
        self._levels = (0.0, 1.0)
        self._fixed_probs = False
        self._scale, self._gamma = "linear", 0.5
        self._hide_first = False
        self._colormap = DEFAULT_COLORMAP
        self._masked_color: QColor | None = None  # None: the colormap's default
        self._row: int | None = None  # outlined query row
        self._col: int | None = None  # outlined key column
        self._hover: tuple[int, int] | None = None
        self._build()
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._apply_fonts()
        self._apply_masked_color()

    def _build(self) -> None:
        self._title = self.ci.addLabel("", row=0, col=0, justify="left")
        self._plot = HeatmapPlot(self._font, self._fg)
        self.ci.addItem(self._plot, row=1, col=0)
        self._bar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=get_colormap(self._colormap),
            interactive=False,
            colorMapMenu=False,
            width=18,
        )
        self._bar.setImageItem(self._plot.image, insert_in=self._plot)  # beside the view box
        self._readout = self.ci.addLabel("", row=2, col=0, justify="left")

    def set_map(
        self,
        matrix: np.ndarray,
        labels: Sequence[str],
        *,
        mask: np.ndarray | None = None,
        kind: str = "probability",
        value_label: str = "",
        title: str = "",
    ) -> None:
        """Show one attention matrix.

        Args:
            matrix: (T, T) float values; row q holds query q's values over keys.
            labels: T token texts (whitespace is made visible on the axes).
            mask: (T, T) bool, True for cells to draw as masked (future keys); None
                when nothing is masked.
            kind: "probability" (coloured from 0) or "score" (from the visible minimum).
            value_label: the colour bar's title, e.g. "softmax".
            title: text above the map, e.g. "layer 3 · head 5".

        Raises:
            ValueError: for an unknown kind, a non-square matrix, a mask of another
                shape or a label count != T.
        """
        check_kind(kind)
        values = np.asarray(matrix, dtype=np.float32)
        if values.ndim != 2 or values.shape[0] != values.shape[1]:
            raise ValueError(f"attention matrix has shape {values.shape}; expected (T, T)")
        if len(labels) != values.shape[0]:
            raise ValueError(
                f"got {len(labels)} labels for a matrix of shape {values.shape}; "
                f"expected {values.shape[0]} labels"
            )
        if mask is not None and (mask.shape != values.shape or mask.dtype != np.bool_):
            raise ValueError(
                f"mask has shape {mask.shape} and dtype {mask.dtype}; expected a bool "
                f"array of shape {values.shape}"
            )
        self._matrix, self._given_mask = values, mask
        self._kind, self._value_label = kind, value_label or kind
        self._title_text = title
        self._recolor()
        if list(labels) != self._raw_labels:  # same tokens, other head: keep the axes
            self._raw_labels = list(labels)
            self._labels = [visible_text(str(text)) for text in labels]
            self._plot.set_labels(self._labels)
        n = self.n_tokens
        self._row, self._col = (None if i is None or i >= n else i for i in (self._row, self._col))
        self._plot.place_outlines(self._row, self._col)
        self._update_title()
        if self._hover is not None and max(self._hover) < n:  # mouse still there: new value
            self.show_cell(*self._hover)
        else:
            self._hover = None
            self._set_readout(_tr(IDLE_READOUT))

    def _recolor(self) -> None:
        """Masked cells, colour range and image of the current matrix."""
        values, kind = self._matrix, self._kind
        self._masked = self._given_mask
        finite = np.isfinite(values)
        if not finite.all():  # a value that cannot be coloured is drawn as masked
            self._masked = ~finite if self._masked is None else self._masked | ~finite
        if self._hide_first and values.shape[0] > 1:
            # the attention sink: drawn as masked so the rest of the map gets the colours
            first = np.zeros(values.shape, dtype=bool)
            first[:, 0] = True
            self._masked = first if self._masked is None else self._masked | first
        visible = visible_cells(values, self._masked)
        colored, suffix = scaled_for_color(values, visible, kind, self._scale, self._gamma)
        fixed = self._fixed_probs and self._scale == "linear"
        self._levels = color_levels(
            colored, visible, "score" if self._scale == "log" else kind, fixed
        )
        # masked cells are covered by the overlay; -inf or NaN would poison downsampling
        shown = np.where(visible, colored, np.float32(self._levels[0]))
        self._plot.show_cells(shown, self._masked)
        self._bar.setLevels(self._levels)
        self._bar.getAxis("left").setLabel(self._value_label + suffix, **self._label_style())

    def set_color_scale(self, scale: str = "linear", gamma: float = 0.5) -> None:
        """Colour by "linear", "log" or "gamma" values (the readout shows the true value)."""
        scaled_for_color(
            np.zeros((1, 1), np.float32), np.ones((1, 1), bool), "probability", scale, gamma
        )  # validates
        self._scale, self._gamma = scale, float(gamma)
        if self.n_tokens:
            self._recolor()

    def set_hide_first_column(self, hide: bool) -> None:
        """Draw the first key's column (usually the attention sink) as masked."""
        self._hide_first = bool(hide)
        if self.n_tokens:
            self._recolor()

    @property
    def color_scale(self) -> tuple[str, float]:
        return self._scale, self._gamma

    @property
    def n_tokens(self) -> int:
        """T, the number of tokens of the current map (0 before the first set_map)."""
        return int(self._matrix.shape[0])

    @property
    def kind(self) -> str:
        """The kind of the current values: "probability" or "score"."""
        return self._kind

    def mask(self) -> np.ndarray | None:
        """(T, T) bool cells drawn as masked (the given mask plus a hidden first column)."""
        return self._masked

    def displayed_matrix(self) -> np.ndarray:
        """(T, T) float32: the matrix currently shown, as given to ``set_map``."""
        return self._matrix

    def levels(self) -> tuple[float, float]:
        """The (low, high) values at the two ends of the colour bar."""
        return self._levels

    @property
    def plot_item(self) -> HeatmapPlot:
        """The plot holding the map (its ViewBox does the zooming)."""
        return self._plot

    def image_item(self) -> pg.ImageItem:
        """The ImageItem holding the shown values (masked cells set to the scale minimum)."""
        return self._plot.image

    def label_axis(self, side: str) -> TokenAxis:
        """The token axis on ``side``: "left" (queries) or "bottom" (keys)."""
        return self._plot.token_axes[side]

    @property
    def colormap_name(self) -> str:
        """Name of the current colormap."""
        return self._colormap

    def set_colormap(self, name: str) -> None:
        """Use one of "viridis", "cividis", "magma", "inferno", "gray"."""
        self._bar.setColorMap(get_colormap(name))
        self._colormap = name
        self._apply_masked_color()

    def masked_color(self) -> QColor:
        """The colour of masked cells."""
        return QColor(self._masked_color or default_masked_color(self._colormap))

    def set_masked_color(self, color: QColor | str | None) -> None:
        """Colour of masked cells; None restores the colormap's default (a light grey)."""
        self._masked_color = None if color is None else QColor(color)
        self._apply_masked_color()

    def _apply_masked_color(self) -> None:
        self._plot.set_masked_color(self.masked_color())
        self._update_title()

    def set_fixed_prob_range(self, fixed: bool) -> None:
        """Colour probabilities on 0..1 (True) or on 0..max of the map (False, default)."""
        self._fixed_probs = bool(fixed)
        if self.n_tokens:
            self._recolor()

    def set_readout_visible(self, visible: bool) -> None:
        """Show or hide the hover readout line (hidden in exported figures)."""
        self._readout.setVisible(visible)
        self._readout.setMaximumHeight(16777215 if visible else 0)

    def set_colors(self, background: str, foreground: str) -> None:
        """Background and text colours (light or dark theme)."""
        self.setBackground(background)
        self._fg = QColor(foreground)
        for axis in self._plot.token_axes.values():
            axis.set_color(self._fg)
        self._apply_fonts()
        self._update_title()
        self._set_readout(self._readout_text or _tr(IDLE_READOUT))

    def set_font_size(self, points: float) -> None:
        """Point size of labels, title and readout (make it big for a projector)."""
        self._font.setPointSizeF(points)
        self._apply_fonts()
        self._update_title()
        self._set_readout(self._readout_text)

    def _label_style(self) -> dict[str, str]:
        return {"color": self._fg.name(), "font-size": f"{self._font.pointSizeF():g}pt"}

    def _apply_fonts(self) -> None:
        style = self._label_style()
        self.label_axis("left").setLabel(_tr(QUERY), **style)
        self.label_axis("bottom").setLabel(_tr(KEY), **style)
        self._bar.getAxis("left").setLabel(self._value_label, **style)
        self._plot.set_font(self._font)
        bar_axis = self._bar.axis
        bar_axis.setTickFont(self._font)
        bar_axis.setTextPen(self._fg)
        bar_axis.setPen(self._fg)
        bar_axis.setWidth(int(QFontMetricsF(self._font).horizontalAdvance("-0.000") + 14))

    def _update_title(self) -> None:
        size = f"{self._font.pointSizeF() * 1.15:g}pt"
        # the colour bar names the values; the title is the caller's (or the values')
        title = f"<b>{html.escape(self._title_text or self._value_label)}</b>"
        if self._masked is not None:
            swatch = self.masked_color().name()
            legend = html.escape(_tr(MASKED_LEGEND))
            title += f"&nbsp;&nbsp;&nbsp;<span style='color:{swatch}'>■</span> {legend}"
        self._title.setText(title, size=size, color=self._fg.name())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._apply_fonts()
            self._update_title()
            if self._hover is None:
                self._set_readout(_tr(IDLE_READOUT))
            elif max(self._hover) < self.n_tokens:
                self.show_cell(*self._hover)
        super().changeEvent(event)

    def set_query_row(self, row: int | None) -> None:
        """Outline query row ``row`` across all keys; None removes the outline."""
        self._row = self._checked_index(row, "query row")
        self._plot.place_outlines(self._row, self._col)

    def set_key_col(self, col: int | None) -> None:
        """Outline key column ``col`` (dashed); None removes the outline."""
        self._col = self._checked_index(col, "key column")
        self._plot.place_outlines(self._row, self._col)

    def outline_rects(self) -> tuple[QRectF | None, QRectF | None]:
        """The (query row, key column) outlines in cell coordinates, None when hidden."""
        return tuple(
            box.rect() if box.isVisible() else None
            for box in (self._plot.row_box, self._plot.col_box)
        )

    def _checked_index(self, index: int | None, what: str) -> int | None:
        if index is None:
            return None
        if not 0 <= int(index) < self.n_tokens:
            raise ValueError(f"{what} is {index}; expected 0..{self.n_tokens - 1} or None")
        return int(index)

    def reset_view(self) -> None:
        """Zoom out to the whole map."""
        self._plot.reset_view()

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (query row, key column) under a scene position, or None outside the map."""
        return self._plot.cell_at(scene_pos)

    def scene_pos_of(self, row: int, col: int) -> QPointF:
        """Scene position of the centre of cell (row, col)."""
        return self._plot.scene_pos_of(row, col)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None and cell != self._hover:
            self.show_cell(*cell)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.double():
            self.reset_view()
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def show_cell(self, row: int, col: int) -> None:
        """Read out cell (row, col) and emit ``cell_hovered`` (what hovering it does)."""
        row, col = self._checked_index(row, "query row"), self._checked_index(col, "key column")
        value = float(self._matrix[row, col])
        masked = self._masked is not None and bool(self._masked[row, col])
        shown = f"{value:g} {_tr(MASKED_VALUE)}" if masked else f"{value:.4f}"
        query, key = (elide(self._labels[i], 24) for i in (row, col))
        self._hover = (row, col)
        readout = _tr(READOUT)
        self._set_readout(readout.format(row=row, query=query, col=col, key=key, value=shown))
        self.cell_hovered.emit(row, col, value)

    def readout_text(self) -> str:
        """The hover readout line as plain text."""
        return self._readout_text

    def _set_readout(self, text: str) -> None:
        self._readout_text = text
        self._readout.setText(
            html.escape(text), size=f"{self._font.pointSizeF():g}pt", color=self._fg.name()
        )
