"""LogitLensTable: the token each layer would predict at each position, shaded by probability.

The logit lens applies the final norm and the output matrix to every layer's residual
stream. Rows are layers (L0 at the top), columns are the chosen positions; each cell
shows the top token and is shaded light → dark blue by its probability.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from llamalens.viz.token_text import visible_text

# Light → dark blue; probability p picks a colour along these stops.
_STOPS = np.array(
    [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]],
    dtype=np.float64,
)
TOOLTIP_TOP = 5


def probability_color(p: float) -> QColor:
    """The cell colour for probability p in [0, 1] (clipped): near white → dark blue."""
    t = float(np.clip(p, 0.0, 1.0)) * (len(_STOPS) - 1)
    i = min(int(t), len(_STOPS) - 2)
    rgb = _STOPS[i] + (_STOPS[i + 1] - _STOPS[i]) * (t - i)
    return QColor(*(int(round(c)) for c in rgb))


def text_color(background: QColor) -> QColor:
    """Black on light cells, white on dark ones (by relative luminance)."""
    luminance = (
        0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF()
    )
    return QColor("#000000") if luminance > 0.45 else QColor("#ffffff")


def _header_label(position: int, label: str) -> str:
    # spaces stay spaces inside the quotes; newlines and control bytes become visible
    shown = "".join(" " if ch == " " else visible_text(ch) for ch in label)
    return f"{position} '{shown}'"


class LogitLensTable(QTableWidget):
    """Layer × position table of logit-lens top tokens; click a cell to choose it.

    Signals:
        cell_chosen(int, int): (layer, position) of the clicked cell; position is the
            token position from set_lens(positions), not the column index.
    """

    cell_chosen = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("logitLensTable")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setWordWrap(False)
        self.setStyleSheet("QTableWidget::item { padding: 0px 8px; }")
        font = QFont(self.font())
        font.setPointSize(max(font.pointSize(), 11))
        self.setFont(font)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setFont(font)
        self._positions: list[int] = []
        self._layers: list[int] = []
        self.cellClicked.connect(self._on_clicked)

    def set_lens(
        self,
        ids_text: Sequence[Sequence[Sequence[str]]] | np.ndarray,
        probs: np.ndarray,
        positions: Sequence[int],
        position_labels: Sequence[str],
        layers: Sequence[int] | None = None,
    ) -> None:
        """Show the logit lens.

        Args:
            ids_text: (L, P, k) token texts, best first along k (nested lists or a str /
                object array).
            probs: (L, P, k) their probabilities.
            positions: the P token positions the columns stand for.
            position_labels: the P input tokens' texts at those positions (for headers).
            layers: the L layer numbers the rows stand for (default 0..L-1).

        Raises:
            ValueError: shapes disagree (the message gives both).
        """
        text = np.asarray(ids_text, dtype=object)
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 3 or probs.shape[2] < 1:
            raise ValueError(f"probs has shape {probs.shape}, expected (L, P, k) with k >= 1")
        if text.shape != probs.shape:
            raise ValueError(f"ids_text has shape {text.shape}, expected {probs.shape} like probs")
        n_layers, n_pos, _ = probs.shape
        if len(positions) != n_pos or len(position_labels) != n_pos:
            raise ValueError(
                f"got {len(positions)} positions and {len(position_labels)} "
                f"position labels, expected {n_pos} (probs.shape[1])"
            )
        self._positions = [int(p) for p in positions]
        self._layers = list(range(n_layers)) if layers is None else [int(i) for i in layers]
        if len(self._layers) != n_layers:
            raise ValueError(f"got {len(self._layers)} layer numbers for {n_layers} rows")
        self.setUpdatesEnabled(False)
        self.clearContents()
        self.setRowCount(n_layers)
        self.setColumnCount(n_pos)
        self.setVerticalHeaderLabels([f"L{layer}" for layer in self._layers])
        self.setHorizontalHeaderLabels(
            [_header_label(p, str(lab)) for p, lab in zip(self._positions, position_labels)]
        )
        for layer in range(n_layers):
            for col in range(n_pos):
                self.setItem(
                    layer, col, self._cell(layer, col, text[layer, col], probs[layer, col])
                )
        self.resizeColumnsToContents()  # once, not per cell
        self.setUpdatesEnabled(True)

    def _cell(
        self, layer: int, col: int, tokens: np.ndarray, probs: np.ndarray
    ) -> QTableWidgetItem:
        item = QTableWidgetItem(visible_text(str(tokens[0])))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        background = probability_color(float(probs[0]))
        item.setBackground(QBrush(background))
        item.setForeground(QBrush(text_color(background)))
        item.setData(Qt.ItemDataRole.UserRole, float(probs[0]))
        lines = [
            f"layer {layer}, position {self._positions[col]}: logit lens top "
            f"{min(TOOLTIP_TOP, len(tokens))}"
        ]
        lines += [
            f"{rank + 1}. {visible_text(str(tok))}  {p:.1%}"
            for rank, (tok, p) in enumerate(zip(tokens[:TOOLTIP_TOP], probs))
        ]
        item.setToolTip("\n".join(lines))
        return item

    def positions(self) -> list[int]:
        """The token positions of the columns, left to right."""
        return list(self._positions)

    def _on_clicked(self, row: int, col: int) -> None:
        if 0 <= col < len(self._positions):
            self.cell_chosen.emit(self._layers[row], self._positions[col])
