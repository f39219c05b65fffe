"""AttentionMap: one attention matrix as a zoomable, labelled heatmap with its mask.

Every screen pixel shows the largest visible value of the cells under it (a one-cell
diagonal stays a line at any length); zoomed in past that, the real cells of the
visible region are drawn, from the matrix or from rows computed on demand.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from shiboken6 import isValid

from llamalens.viz.cells_item import VECTOR_CELLS
from llamalens.viz.colormaps import (
    DEFAULT_COLORMAP,
    check_kind,
    color_levels,
    default_masked_color,
    get_colormap,
    lookup_table,
    scaled_for_color,
    to_rgba,
)
from llamalens.viz.heatmap_items import TokenAxis
from llamalens.viz.heatmap_plot import HeatmapPlot
from llamalens.viz.map_overview import MapOverview
from llamalens.viz.map_readout import (
    IDLE_READOUT,
    KEY,
    MASKED_LEGEND,
    QUERY,
    HoverReadout,
    map_tr,
)
from llamalens.viz.map_source import (
    MapSource,
    Picture,
    RowsFn,
    base_picture,
    cells_per_pixel,
    check_labels,
    check_mask,
    detail_picture,
)
from llamalens.viz.token_text import visible_text
from llamalens.viz.wrapping_label import WrappingLabel

UNSIZED = 16  # px: a view this small has not been laid out yet
DETAIL_DELAY_MS = 60  # real cells follow a zoom once the wheel pauses


class AttentionMap(HoverReadout, pg.GraphicsLayoutWidget):
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
        self._source: MapSource | None = None
        self._density = 1.0  # screen pixels per view pixel (figures render finer)
        self._raw_labels: list[str] = []
        self._labels: list[str] = []
        self._kind, self._value_label = "probability", "probability"
        self._title_text, self._readout_text = "", ""
        self._levels = (0.0, 1.0)
        self._fixed_probs = False
        self._scale, self._gamma = "linear", 0.5
        self._hide_first = False
        self._colormap = DEFAULT_COLORMAP
        self._masked_color: QColor | None = None  # None: the colormap's default
        self._row: int | None = None  # outlined query row
        self._col: int | None = None  # outlined key column
        self._hover: tuple[int, int] | None = None
        self._readout_on = True
        self._build()
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._draw_detail)
        view = self._plot.getViewBox()
        view.sigRangeChanged.connect(self._view_changed)
        view.sigResized.connect(self._view_changed)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._apply_fonts()
        self._apply_masked_color()

    def _build(self) -> None:
        self._title = WrappingLabel("")
        self.ci.addItem(self._title, row=0, col=0)
        self._plot = HeatmapPlot(self._font, self._fg)
        self.ci.addItem(self._plot, row=1, col=0)
        self._bar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=get_colormap(self._colormap),
            interactive=False,
            colorMapMenu=False,
            width=18,
        )
        # beside the view box; the bar colours both pictures alike
        self._bar.setImageItem([self._plot.image, self._plot.detail], insert_in=self._plot)
        self._readout = WrappingLabel("")
        self.ci.addItem(self._readout, row=2, col=0)

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
        check_labels(labels, values.shape[0])
        check_mask(mask, values.shape)
        self._show(MapSource.of_matrix(values, mask), labels, kind, value_label, title)

    def set_overview(
        self,
        overview: MapOverview,
        labels: Sequence[str],
        *,
        rows: RowsFn | None,
        mask: np.ndarray | None = None,
        kind: str = "probability",
        value_label: str = "",
        title: str = "",
    ) -> None:
        """Show a map from its block-maximum overview (a long prompt's map, prepared
        elsewhere), with ``rows(start, stop)`` giving real rows for zooming and hovering.

        Other arguments as in :meth:`set_map`; ``mask`` is (T, T) with T = overview.n.
        """
        check_kind(kind)
        n = overview.n
        check_labels(labels, n)
        check_mask(mask, (n, n))
        self._show(MapSource(overview, rows, mask), labels, kind, value_label, title)

    def _show(self, source: MapSource, labels, kind: str, value_label: str, title: str) -> None:
        self._source = source
        self._kind, self._value_label = kind, value_label or kind
        self._title_text = title
        self._plot.set_size(source.n)
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
            self._set_readout(map_tr(IDLE_READOUT))

    def _recolor(self) -> None:
        """Colour range of the visible cells, masks, and the pictures for the view."""
        source = self._source
        if source is None:
            return
        hide_first = self._hide_first and source.n > 1
        bounds = self._bounds()
        ends = np.array([bounds], dtype=np.float32)  # (1, 2): the extremes, as a map
        seen = np.isfinite(ends)
        colored, suffix = scaled_for_color(ends, seen, self._kind, self._scale, self._gamma, bounds)
        fixed = self._fixed_probs and self._scale == "linear"
        kind = "score" if self._scale == "log" else self._kind
        self._levels = color_levels(colored, seen, kind, fixed)
        self._bar.setLevels(self._levels)
        self._bar.getAxis("left").setLabel(self._value_label + suffix, **self._label_style())
        self._plot.set_mask(source.mask, hide_first)
        self._draw_base()
        self._draw_detail()

    def _colored(self, picture: Picture) -> np.ndarray:
        """Finite values to colour: scaled like the colour bar; hidden blocks at its minimum
        (the overlays cover them; -inf or NaN would poison the image)."""
        visible = np.isfinite(picture.values)
        colored, _ = scaled_for_color(
            picture.values, visible, self._kind, self._scale, self._gamma, self._bounds()
        )
        return np.where(visible, colored, np.float32(self._levels[0])).astype(np.float32)

    def _bounds(self) -> tuple[float, float]:
        """(min, max) of the visible values the colour range is taken from."""
        return self._source.overview.bounds(self._hide_first and self._source.n > 1)

    def _density_now(self) -> float:
        """Cells per screen pixel of the current view (0 before it is laid out: a view
        without a size yet draws every cell, and redraws when it gets one)."""
        width, height = self._plot.view_pixels()
        if min(width, height) < UNSIZED:
            return 0.0
        pixels = (width * self._density, height * self._density)
        return cells_per_pixel(self._plot.visible_cells(), pixels)

    def _draw_base(self) -> None:
        picture = base_picture(self._source, self._density_now())
        self._plot.show_picture("image", picture, self._colored(picture))

    def _draw_detail(self) -> None:
        """The real cells of the visible region, when the view is finer than the overview."""
        if self._source is None or not isValid(self._plot):  # closed before the timer fired
            return
        ranges = self._plot.visible_cells()
        picture = detail_picture(self._source, ranges, self._density_now())
        shown = None if picture is None else self._colored(picture)
        self._plot.show_picture("detail", picture, shown)

    def _view_changed(self, *_args) -> None:
        if self._source is None:
            return
        self._draw_base()  # cheap: merges overview blocks
        if self._source.has_cells and self._source.overview.block > 1:
            self._detail_timer.start()  # rows may have to be computed: after the zoom
        else:
            self._draw_detail()

    def prepare_figure(self, vector: bool, density: float) -> None:
        """Draw for a figure: no hover readout, the masked legend for a title (the figure
        has its own), and cells that stay sharp: rectangles for a small map in a vector
        file, one image pixel per cell for a larger one, block maxima at the figure's
        resolution in a raster one."""
        self.set_readout_visible(False)
        self._title_text = " "  # the masked-cell legend stays
        self._update_title()
        self.set_pixel_density(math.inf if vector else density)
        source = self._source
        if vector and source is not None and source.n <= VECTOR_CELLS:
            picture = source.region(0, source.n, 0, source.n, 1)
            lut = lookup_table(self._colormap)
            rgba = to_rgba(self._colored(picture), self._levels, lut, None, self.masked_color())
            rgba[~np.isfinite(picture.values)] = 0  # hidden: the mask overlays draw them
            self._plot.show_vector_cells(rgba)

    def set_pixel_density(self, density: float) -> None:
        """Draw as if each view pixel were ``density`` screen pixels (a figure rendered
        at that scale), or ``inf`` for one image pixel per cell; redraws at once."""
        self._density = float(density)
        if self._source is not None:
            self._draw_base()
            self._draw_detail()

    def set_color_scale(self, scale: str = "linear", gamma: float = 0.5) -> None:
        """Colour by "linear", "log" or "gamma" values (the readout shows the true value)."""
        scaled_for_color(
            np.zeros((1, 1), np.float32), np.ones((1, 1), bool), "probability", scale, gamma
        )  # validates
        self._scale, self._gamma = scale, float(gamma)
        self._recolor()

    def set_hide_first_column(self, hide: bool) -> None:
        """Draw the first key's column (usually the attention sink) as masked."""
        self._hide_first = bool(hide)
        self._recolor()

    @property
    def color_scale(self) -> tuple[str, float]:
        return self._scale, self._gamma

    @property
    def n_tokens(self) -> int:
        """T, the number of tokens of the current map (0 before the first set_map)."""
        return 0 if self._source is None else self._source.n

    @property
    def kind(self) -> str:
        """The kind of the current values: "probability" or "score"."""
        return self._kind

    def mask(self) -> np.ndarray | None:
        """(T, T) bool cells drawn as masked: the given mask, a hidden first column and,
        for a map given whole, cells that are not finite; None when no cell is."""
        return None if self._source is None else self._source.masked_cells(self._hide_first)

    def displayed_matrix(self) -> np.ndarray | None:
        """(T, T) float32: the matrix shown, as given to ``set_map`` (None for an overview)."""
        return None if self._source is None else self._source.matrix

    def source(self) -> MapSource | None:
        """Where the shown map's pixels come from."""
        return self._source

    def levels(self) -> tuple[float, float]:
        """The (low, high) values at the two ends of the colour bar."""
        return self._levels

    @property
    def plot_item(self) -> HeatmapPlot:
        """The plot holding the map (its ViewBox does the zooming)."""
        return self._plot

    def image_item(self) -> pg.ImageItem:
        """The ImageItem holding the whole map's picture (masked blocks at the scale minimum;
        one value per cell when the view has a pixel for every cell)."""
        return self._plot.image

    def detail_item(self) -> pg.ImageItem:
        """The ImageItem holding the real cells of a zoomed-in region (hidden otherwise)."""
        return self._plot.detail

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
        self._recolor()

    def set_colors(self, background: str, foreground: str) -> None:
        """Background and text colours (light or dark theme)."""
        self.setBackground(background)
        self._fg = QColor(foreground)
        for axis in self._plot.token_axes.values():
            axis.set_color(self._fg)
        self._apply_fonts()
        self._update_title()
        self._set_readout(self._readout_text or map_tr(IDLE_READOUT))

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
        self.label_axis("left").setLabel(map_tr(QUERY), **style)
        self.label_axis("bottom").setLabel(map_tr(KEY), **style)
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
        source = self._source
        if source is not None and (source.mask is not None or source.overview.hidden is not None):
            swatch = self.masked_color().name()
            legend = html.escape(map_tr(MASKED_LEGEND))
            title += f"&nbsp;&nbsp;&nbsp;<span style='color:{swatch}'>■</span> {legend}"
        self._title.setText(title, size=size, color=self._fg.name())

    def set_title(self, title: str) -> None:
        """The text above the map."""
        self._title_text = title
        self._update_title()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "_title"):
            self._apply_fonts()
            self._update_title()
            if self._hover is None:
                self._set_readout(map_tr(IDLE_READOUT))
            elif self._source is not None and max(self._hover) < self._source.n:
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
