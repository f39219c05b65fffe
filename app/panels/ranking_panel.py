"""Heads ranked by their effect on the next token: a sortable table and a layers × heads map."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.app.whatif_figures import draw_ranking
from llamalens.model.vocab_table import token_label
from llamalens.viz.head_table import HeadStatsTable
from llamalens.viz.layer_head_map import LayerHeadMap

COLUMN_HELP = {
    "Δ log p": QT_TRANSLATE_NOOP(
        "RankingPanel",
        "log p(target) with this head ablated minus without: negative where the head "
        "helped predict the target",
    ),
    "KL": QT_TRANSLATE_NOOP(
        "RankingPanel", "KL divergence of the next-token distribution without ‖ with the ablation"
    ),
}
IDLE = QT_TRANSLATE_NOOP(
    "RankingPanel", "What if ▸ Rank heads ablates each head in turn and measures the next token."
)


class RankingPanel(QWidget):
    """The state's head ranking; double-click a row or click a cell to show that head.

    Signals:
        head_chosen(int, int): the (layer, head) picked in the table or the map.
        export_requested(): export the layers × heads map as a figure.
    """

    head_chosen = Signal(int, int)
    export_requested = Signal()

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.caption = QLabel()
        self.caption.setObjectName("rankingCaption")
        self.caption.setWordWrap(True)
        self.table = HeadStatsTable()
        self.table.setObjectName("rankingTable")
        self.map = LayerHeadMap()
        self.map.setMinimumHeight(160)
        self.export_button = QPushButton()
        self.export_button.setObjectName("exportRankingButton")
        self.export_button.clicked.connect(self.export_requested.emit)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.map)
        split.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)
        lay.addWidget(self.export_button)
        self.table.head_chosen.connect(self.head_chosen.emit)
        self.map.cell_clicked.connect(self.head_chosen.emit)
        state.ranking_changed.connect(self.refresh)
        state.layer_changed.connect(self._select)
        state.head_changed.connect(self._select)
        self.refresh()

    def refresh(self) -> None:
        r, s = self.state.ranking, self.state
        self.export_button.setText(self.tr("Export map…"))
        self.export_button.setEnabled(r is not None)
        self.map.setVisible(r is not None)
        if r is None:
            self.table.setRowCount(0)
            self.caption.setText(self.tr(IDLE))
            return
        draw_ranking(self.map, r, s.vocab, (s.layer, s.head))
        help_ = {k: self.tr(v) for k, v in COLUMN_HELP.items()}
        self.table.set_stats({"Δ log p": r.effect, "KL": r.kl}, help_)
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        token = token_label(s.vocab, r.target)
        label = r.variant.get("label", "")
        on = self.tr(" on the variant ({label})").format(label=label) if label else ""
        text = self.tr(
            "Target {token}: log p = {logprob}{on}. Each head ablated alone ({mode}); "
            "most harmful first."
        )
        self.caption.setText(
            text.format(token=repr(token), logprob=f"{r.base_logprob:.3f}", on=on, mode=r.mode)
        )

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def _select(self, *_args) -> None:
        if self.state.ranking is not None:
            self.map.set_selected((self.state.layer, self.state.head))
