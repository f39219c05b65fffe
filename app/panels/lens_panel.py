"""The logit lens: the top token each layer's residual stream would predict."""

from __future__ import annotations

from PySide6.QtCore import QEvent
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
        self.caption = QLabel()
        lay.addWidget(self.caption)
        lay.addWidget(self.table, 1)
        self.table.cell_chosen.connect(self._chosen)
        state.analysis_changed.connect(self.refresh)
        self.retranslate()

    def retranslate(self) -> None:
        self.caption.setText(
            self.tr("Final norm + output applied after each layer (last positions)")
        )

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _chosen(self, layer: int, position: int) -> None:
        self.state.set_layer(layer)
        self.state.set_token(position)

    def refresh(self) -> None:
        """Show the state's logit lens (cleared when there is none for this trace)."""
        analysis, trace = self.state.current_analysis(), self.state.trace
        if analysis is None or analysis.lens is None:
            self.table.setRowCount(0)
            return
        lens = analysis.lens
        labels = [trace.token_strs[p] for p in lens.positions]
        self.table.set_lens(lens.text, lens.probs, list(lens.positions), labels, trace.layers)
