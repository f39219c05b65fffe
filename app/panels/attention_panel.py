"""Attention heatmap of the selected layer/head/stage, with stepping controls and keys."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.state import STAGE_NAMES, STAGES, InspectorState
from viz.attention_map import AttentionMap

KEY_HELP = "←/→ head · ↑/↓ layer · Tab stage · Home/End first/last head"


class AttentionPanel(QWidget):
    """Layer/head spin boxes, stage selector, the heatmap; keyboard stepping."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.layer_spin = QSpinBox()
        self.layer_spin.setObjectName("layerSpin")
        self.head_spin = QSpinBox()
        self.head_spin.setObjectName("headSpin")
        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("stageCombo")
        for stage in STAGES:
            self.stage_combo.addItem(STAGE_NAMES[stage], stage)
        self.stage_combo.setCurrentIndex(STAGES.index(state.stage))
        self.map = AttentionMap()
        self.readout = QLabel(KEY_HELP)
        self.readout.setObjectName("attentionReadout")
        row = QHBoxLayout()
        for label, w in (("Layer", self.layer_spin), ("Head", self.head_spin),
                         ("Stage", self.stage_combo)):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.map, 1)
        lay.addWidget(self.readout)
        self._connect()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for w in (self, self.map, self.layer_spin, self.head_spin, self.stage_combo):
            w.installEventFilter(self)

    def _connect(self) -> None:
        s = self.state
        self.layer_spin.valueChanged.connect(s.set_layer)
        self.head_spin.valueChanged.connect(s.set_head)
        self.stage_combo.currentIndexChanged.connect(
            lambda i: s.set_stage(self.stage_combo.itemData(i)))
        self.map.cell_clicked.connect(self._clicked)
        for sig in (s.trace_changed, s.layer_changed, s.head_changed, s.stage_changed):
            sig.connect(self.refresh)
        s.token_changed.connect(lambda row: self.map.set_query_row(row))
        s.key_changed.connect(lambda col: self.map.set_key_col(col))

    def _clicked(self, query: int, key: int) -> None:
        self.state.set_token(query)
        self.state.set_key(key)

    def refresh(self, *_args) -> None:
        """Redraw the map and sync the controls with the state."""
        s = self.state
        if s.trace is None:
            return
        for spin, value, top in ((self.layer_spin, s.layer, s.n_layers - 1),
                                 (self.head_spin, s.head, s.n_heads - 1)):
            spin.blockSignals(True)
            spin.setRange(0, top)
            spin.setValue(value)
            spin.blockSignals(False)
        self.stage_combo.blockSignals(True)
        self.stage_combo.setCurrentIndex(STAGES.index(s.stage))
        self.stage_combo.blockSignals(False)
        kv = s.trace.kv_head(s.head)
        title = (f"layer {s.layer} · head {s.head} (KV {kv}) · {STAGE_NAMES[s.stage]}")
        self.map.set_map(s.current_map(), s.trace.token_strs, stage=s.stage, title=title)
        self.map.set_query_row(s.token)
        self.map.set_key_col(s.key)

    def handle_key(self, key: int, modifiers) -> bool:
        """Stepping keys; True when the key was used."""
        s = self.state
        actions = {
            Qt.Key.Key_Left: lambda: s.step_head(-1), Qt.Key.Key_Right: lambda: s.step_head(1),
            Qt.Key.Key_Up: lambda: s.step_layer(-1), Qt.Key.Key_Down: lambda: s.step_layer(1),
            Qt.Key.Key_Tab: lambda: s.next_stage(1), Qt.Key.Key_Backtab: lambda: s.next_stage(-1),
            Qt.Key.Key_Home: lambda: s.set_head(0),
            Qt.Key.Key_End: lambda: s.set_head(s.n_heads - 1),
        }
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            actions[Qt.Key.Key_Home] = lambda: s.set_layer(0)
            actions[Qt.Key.Key_End] = lambda: s.set_layer(s.n_layers - 1)
        action = actions.get(key)
        if action is None:
            return False
        action()
        return True

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.KeyPress and self.handle_key(event.key(),
                                                                    event.modifiers()):
            return True
        return super().eventFilter(watched, event)

    def event(self, event) -> bool:
        # Tab normally moves focus; here it steps the stage
        if event.type() == QEvent.Type.KeyPress and self.handle_key(event.key(),
                                                                    event.modifiers()):
            return True
        return super().event(event)
