"""The logit lens: the top token each layer's residual stream would predict."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.viz.lens_table import LogitLensTable
from llamalens.viz.placeholder import Placeholder


class LensPanel(QWidget):
    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.table = LogitLensTable()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.view = Placeholder(self.table, "")
        lay.addWidget(self.view, 1)
        self.table.cell_chosen.connect(self._chosen)
        state.analysis_changed.connect(self.refresh)
        self.retranslate()

    def retranslate(self) -> None:
        self.view.set_text(
            self.tr(
                "The token each layer would predict, for the last positions, "
                "appears here after a run."
            )
        )
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
        self.view.show_content(analysis is not None and analysis.lens is not None)
        if analysis is None or analysis.lens is None:
            self.table.setRowCount(0)
            return
        lens = analysis.lens
        labels = [trace.token_strs[p] for p in lens.positions]
        self.table.set_lens(lens.text, lens.probs, list(lens.positions), labels, trace.layers)
