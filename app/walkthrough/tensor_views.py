"""The widgets that draw a step's tensors, reused from step to step.

Each :class:`~llamalens.app.walkthrough.tensors.StepTensor` becomes a caption (its name,
shape and a few words) above a widget chosen by its kind: token chips, the ids as text,
a :class:`~llamalens.viz.tensor_map.TensorMap` for vectors and matrices, the
:class:`~llamalens.viz.attention_map.AttentionMap` for the (T, T) stages, next-token bars.
Widgets are kept in a pool and reused, so stepping does not rebuild plots.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
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
        return int(font_px * 6.5), int(font_px * 10)
    if tensor.kind == "rows":
        rows = 1 if tensor.display is None else tensor.display.shape[0]
        return int(font_px * (3.5 + 1.3 * rows)), int(font_px * (4 + 4 * rows))
    return int(font_px * 8), UNBOUNDED


class TensorViews(QWidget):
    """A column of captioned tensor widgets for one step (the exported figure's body)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("walkthroughTensors")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._pool: dict[str, list[QWidget]] = {}
        self._captions: list[QLabel] = []
        self.shown: list[tuple[StepTensor, QWidget]] = []

    # ---- the pool ------------------------------------------------------------------------
    def _take(self, kind: str, index: int) -> QWidget:
        widgets = self._pool.setdefault(kind, [])
        while len(widgets) <= index:
            widgets.append(self._make(kind))
        return widgets[index]

    def _make(self, kind: str) -> QWidget:
        if kind == "tokens":
            widget = TokenStrip()
        elif kind == "attention":
            widget = AttentionMap()
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
            self._layout.addStretch(1)  # bounded plots sit at the top, not in the middle

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

    def set_font_size(self, points: float) -> None:
        """Fonts of the plots (their own labels, not the Qt widget font)."""
        for widgets in self._pool.values():
            for widget in widgets:
                if hasattr(widget, "set_font_size"):
                    widget.set_font_size(points)
