"""The logit lens: the top token each layer's residual stream would predict."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.viz.lens_table import LogitLensTable


class LensPanel(QWidget):
    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.table = LogitLensTable()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(QLabel("Final norm + output applied after each layer (last positions)"))
        lay.addWidget(self.table, 1)
        self.table.cell_chosen.connect(self._chosen)

    def _chosen(self, layer: int, position: int) -> None:
        self.state.set_layer(layer)
        self.state.set_token(position)

    def set_lens(self, text, probs, positions) -> None:
        t = self.state.trace
        labels = [t.token_strs[p] if t is not None and p < t.n_tokens else "" for p in positions]
        self.table.set_lens(np.array(text, dtype=object), probs, list(positions), labels)
