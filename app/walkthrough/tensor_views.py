"""The widgets that draw a step's tensors, reused from step to step.

Each :class:`~llamalens.app.walkthrough.tensors.StepTensor` becomes a caption (its name,
shape and a few words) above a widget chosen by its kind: token chips, the ids as text,
a :class:`~llamalens.viz.tensor_map.TensorMap` for vectors and matrices, the
:class:`~llamalens.viz.attention_map.AttentionMap` for the (T, T) stages, next-token bars.
Widgets are kept in a pool and reused, so stepping does not rebuild plots.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from llamalens.app.stage_view import map_style
from llamalens.app.walkthrough.tensors import StepTensor, WalkContext
from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.logit_bars import LogitBars
from llamalens.viz.tensor_map import TensorMap
from llamalens.viz.token_strip import TokenStrip

UNBOUNDED = 16777215  # QWIDGETSIZE_MAX
STRETCH = {"matrix": 4, "attention": 6, "rows": 2, "vector": 1, "bars": 4, "tokens": 2}


def _heights(tensor: StepTensor, font_px: float) -> tuple[int, int]:
    """(minimum, maximum) height of a tensor's widget, in pixels."""
    if tensor.kind == "vector":
        return int(font_px * 3), int(font_px * 10)
    if tensor.kind == "rows":
        rows = 1 if tensor.display is None else tensor.display.shape[0]
        return int(font_px * (3 + 0.9 * rows)), int(font_px * (4 + 4 * rows))
    if tensor.kind in ("ids", "token"):
        return int(font_px * 1.5), UNBOUNDED
    return int(font_px * 4), UNBOUNDED


class TensorViews(QWidget):
    """A column of captioned tensor widgets for one step (the exported figure's body).

    Signals:
        token_chosen(int): a click on a token (a chip, a token row, an attention row).
        layer_chosen(int): a click on a layer's row.
    """

    token_chosen = Signal(int)
    layer_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("walkthroughTensors")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._pool: dict[str, list[QWidget]] = {}
        self._captions: list[QLabel] = []
        self._caption_points = 0.0
        self.shown: list[tuple[StepTensor, QWidget]] = []
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit_maps)

    # ---- the pool ------------------------------------------------------------------------
    def _take(self, kind: str, index: int) -> QWidget:
        widgets = self._pool.setdefault(kind, [])
        while len(widgets) <= index:
            widgets.append(self._make(kind))
        return widgets[index]

    def _make(self, kind: str) -> QWidget:
        if kind == "tokens":
            widget = TokenStrip()
            widget.token_selected.connect(self.token_chosen)
        elif kind == "attention":
            widget = AttentionMap()
            widget.cell_clicked.connect(lambda query, _key: self.token_chosen.emit(query))
        elif kind == "bars":
            widget = LogitBars()
        elif kind in ("ids", "token"):
            widget = QLabel()
            widget.setWordWrap(True)
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            font = QFont("monospace")
            font.setStyleHint(QFont.StyleHint.Monospace)
            widget.setFont(font)
        else:
            widget = TensorMap()
            widget.row_clicked.connect(lambda row, w=widget: self._row_clicked(w, row))
        widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        widget.setParent(self)
        widget.hide()
        return widget

    def _caption(self, index: int) -> QLabel:
        while len(self._captions) <= index:
            label = QLabel(self)
            label.setObjectName("walkthroughTensor")
            label.setWordWrap(True)
            label.hide()
            if self._caption_points:
                font = QFont(label.font())
                font.setPointSizeF(self._caption_points)
                label.setFont(font)
            self._captions.append(label)
        return self._captions[index]

    # ---- showing -------------------------------------------------------------------------
    def show_tensors(self, tensors: list[StepTensor], ctx: WalkContext) -> None:
        """Replace the shown tensors by ``tensors`` (drawn from ``ctx``)."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
        self.shown = []
        used: dict[str, int] = {}
        px = float(self.fontMetrics().height())
        for i, tensor in enumerate(tensors):
            kind = "map" if tensor.kind in ("matrix", "rows", "vector") else tensor.kind
            widget = self._take(kind, used.get(kind, 0))
            used[kind] = used.get(kind, 0) + 1
            caption = self._caption(i)
            caption.setText(tensor.label())
            self._fill(widget, tensor, ctx)
            low, high = _heights(tensor, px)
            widget.setMinimumHeight(low)
            widget.setMaximumHeight(high)
            widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self._layout.addWidget(caption)
            self._layout.addWidget(widget, STRETCH.get(tensor.kind, 1))
            caption.show()
            widget.show()
            self.shown.append((tensor, widget))
        if all(w.maximumHeight() < UNBOUNDED for _, w in self.shown):
            self._layout.addStretch(0)  # bounded plots grow first, then sit at the top
        self._refit.start()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._refit.start()

    def _fit_maps(self) -> None:
        """Zoom every shown attention map out to all its cells once the layout settled."""
        for tensor, widget in self.shown:
            if tensor.kind == "attention":
                widget.reset_view()

    def _row_clicked(self, widget: QWidget, row: int) -> None:
        for tensor, shown in self.shown:
            if shown is widget and tensor.rows_are == "tokens":
                self.token_chosen.emit(row)
            elif shown is widget and tensor.rows_are == "layers":
                self.layer_chosen.emit(row)

    def captions(self) -> list[str]:
        return [label.text() for label in self._captions if label.isVisibleTo(self)]

    def _fill(self, widget: QWidget, tensor: StepTensor, ctx: WalkContext) -> None:
        kind, t = tensor.kind, ctx.trace
        if kind == "tokens":
            widget.set_tokens(
                t.token_strs,
                t.token_ids.tolist(),
                [b.hex() for b in t.token_bytes],
                t.token_special,
            )
            widget.select_token(ctx.position)
        elif kind == "ids":
            widget.setText(np.array2string(tensor.value, separator=", ", max_line_width=60))
        elif kind == "token":
            widget.setText(tensor.text)
        elif kind == "attention":
            # the page is wider than tall: cells fill it rather than keep square
            widget.plot_item.getViewBox().setAspectLocked(False)
            widget.set_readout_visible(True)
            widget.set_map(tensor.value, t.token_strs, **map_style(t, tensor.stage))
            widget.set_query_row(ctx.position)
        elif kind == "bars":
            b = tensor.bars
            widget.set_distribution(b.labels, b.probs, b.shown, b.kept, b.chosen)
        else:
            values = tensor.value if tensor.display is None else tensor.display
            widget.set_tensor(
                values,
                row_labels=tensor.row_labels or None,
                row_scaled=tensor.row_scaled,
                clip=tensor.clip,
                segment=tensor.segment,
                highlight_segment=tensor.highlight_segment,
                highlight_row=tensor.highlight_row,
            )

    def set_caption_font(self, points: float) -> None:
        """Point size of the captions (name, shape and a few words above each tensor)."""
        self._caption_points = points
        for label in self._captions:
            font = QFont(label.font())
            font.setPointSizeF(points)
            label.setFont(font)

    def set_font_size(self, points: float) -> None:
        """Fonts of the plots (their own labels, not the Qt widget font)."""
        for widgets in self._pool.values():
            for widget in widgets:
                if hasattr(widget, "set_font_size"):
                    widget.set_font_size(points)
