"""All heads of the current layer as thumbnails, and the sortable per-head statistics."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.model.analysis import STAT_HELP, STAT_NAMES
from llamalens.viz.head_grid import HeadGrid
from llamalens.viz.head_table import HeadStatsTable


class HeadGridPanel(QWidget):
    """Thumbnails of every head of the selected layer (GQA groups coloured alike)."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.grid = HeadGrid()
        self.caption = QLabel("")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.grid, 1)
        self.grid.head_selected.connect(state.set_head)
        # redrawn from the event loop, not inside the signal: a new trace or layer shows
        # the heatmap first and the nine thumbnails right after, in separate events
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        state.trace_changed.connect(lambda *_: self._timer.start())
        state.layer_changed.connect(lambda *_: self._timer.start())  # not start(msec)
        state.head_changed.connect(self._select)

    def _select(self, head: int) -> None:
        if head < len(self.grid.thumbnails()):  # a new model's grid may not be drawn yet
            self.grid.set_selected(head)

    def refresh(self, *_args) -> None:
        s = self.state
        if s.trace is None or not self.isVisible():
            return
        maps = s.trace.layer_maps(s.layer, "probs")
        mask = s.trace.map_mask("probs")
        self.grid.set_maps(maps, s.trace.n_kv_heads, selected=s.head, layer=s.layer, mask=mask)
        self.caption.setText(
            self.tr(
                "Layer {layer}: {heads} heads, {kv} KV heads (same colour = same keys and values)"
            ).format(layer=s.layer, heads=s.n_heads, kv=s.trace.n_kv_heads)
        )

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)


class HeadStatsPanel(QWidget):
    """Entropy, sink, previous-token, self and induction scores; double-click jumps."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.table = HeadStatsTable()
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.note)
        self.table.head_chosen.connect(self._jump)
        state.analysis_changed.connect(self.refresh)
        self.retranslate()

    def retranslate(self) -> None:
        self.note.setText(
            self.tr(
                "Induction is measured on a repeated random-token sequence. "
                "Double-click a row to show that head."
            )
        )

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh()
        super().changeEvent(event)

    def _jump(self, layer: int, head: int) -> None:
        self.state.set_layer(layer)
        self.state.set_head(head)

    def refresh(self) -> None:
        """Show the state's head statistics (cleared when there are none for this trace)."""
        analysis = self.state.current_analysis()
        if analysis is None or not analysis.stats:
            self.table.setRowCount(0)
            return
        stats = {name: analysis.stats[name] for name in STAT_NAMES if name in analysis.stats}
        self.table.set_stats(stats, STAT_HELP, self.state.layers)
        self.table.select_head(self.state.layer, self.state.head)
