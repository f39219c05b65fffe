"""RoPE, before and after a change: each pair's angle at the query position, and the
expected score against relative distance (the long-range decay curve)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.app.whatif_figures import draw_angles, draw_decay
from llamalens.model.rope_decay import trace_decay
from llamalens.viz.curve_plot import CurvePlot

SOURCES = (
    (QT_TRANSLATE_NOOP("RopeWhatIfPanel", "random q = k"), "random"),
    (QT_TRANSLATE_NOOP("RopeWhatIfPanel", "this head's q, k"), "head"),
)


class RopeWhatIfPanel(QWidget):
    """Angles m·θ_i and the decay curve of the model (dashed) and the shown variant."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.angles = CurvePlot(name="anglesPlot")
        self.decay = CurvePlot(name="decayPlot")
        self.caption = QLabel()
        self.caption.setObjectName("ropeWhatIfCaption")
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.angles, 1)
        lay.addLayout(self._controls())
        lay.addWidget(self.decay, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh)
        for sig in (
            state.trace_changed,
            state.baseline_changed,
            state.layer_changed,
            state.head_changed,
            state.token_changed,
        ):
            sig.connect(lambda *_: self._timer.start())
        state.model_changed.connect(self._default_distance)
        self.retranslate()

    def retranslate(self) -> None:
        for i, (label, _source) in enumerate(SOURCES):
            self.source_combo.setItemText(i, self.tr(label))
        self.distance_spin.setPrefix(self.tr("up to Δ = "))
        self.source_label.setText(self.tr("Decay curve of"))
        self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _controls(self) -> QHBoxLayout:
        """Where the decay curve's q, k come from and how far it goes."""
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("decaySourceCombo")
        for _label, source in SOURCES:
            self.source_combo.addItem("", source)
        self.distance_spin = QSpinBox()
        self.distance_spin.setObjectName("decayDistanceSpin")
        self.distance_spin.setRange(16, 1_048_576)
        self.distance_spin.setValue(8192)
        self.source_combo.currentIndexChanged.connect(self.refresh)
        self.distance_spin.valueChanged.connect(lambda *_: self._timer.start())
        row = QHBoxLayout()
        self.source_label = QLabel()
        row.addWidget(self.source_label)
        row.addWidget(self.source_combo)
        row.addWidget(self.distance_spin)
        row.addStretch(1)
        return row

    def _default_distance(self) -> None:
        if self.state.model is not None:
            self.distance_spin.setValue(int(self.state.model.config["max_seq_len"]))

    def before(self):
        """(θ_i, scale) of the unchanged model: the baseline's, or the trace's own."""
        s = self.state
        b = s.baseline
        if b is not None and s.trace is not None and s.trace.variant_label:
            return b.theta, b.rope_scale
        return None

    def refresh(self, *_args) -> None:
        s = self.state
        t = s.trace
        if t is None or not self.isVisible():
            return
        before = self.before()
        theta_before = t.theta if before is None else before[0]
        draw_angles(self.angles, theta_before, t.theta, s.token)
        source = SOURCES[self.source_combo.currentIndex()][1]
        curve = trace_decay(t, before, source, s.layer, s.head, self.distance_spin.value())
        draw_decay(self.decay, curve)
        shown = t.variant_label
        self.caption.setText(
            self.tr("Dashed: the model. Solid: variant · {label}.").format(label=shown)
            if before is not None
            else self.tr("The model's RoPE (change it under What if ▸ Change RoPE, then run).")
        )

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()
