"""Attention heatmap of the selected layer/head/stage, with stepping controls and keys."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.map_preparer import MapPreparer
from llamalens.app.stage_view import map_style, stage_label
from llamalens.app.state import InspectorState
from llamalens.model.attention import STAGES
from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.colormaps import COLORMAP_NAMES, SCALES
from llamalens.viz.flow_layout import FlowLayout, labelled
from llamalens.viz.placeholder import Placeholder

KEY_HELP = QT_TRANSLATE_NOOP(
    "AttentionPanel", "←/→ head · ↑/↓ layer · PgDn/PgUp next/previous head · Tab stage · Home/End"
)
EMPTY = QT_TRANSLATE_NOOP(
    "AttentionPanel",
    "The attention map of the selected layer and head appears here: one row per query "
    "token, one column per key. Type a prompt and press Run (Ctrl+Enter).",
)
SCALE_NAMES = {
    "linear": QT_TRANSLATE_NOOP("AttentionPanel", "linear"),
    "log": QT_TRANSLATE_NOOP("AttentionPanel", "log"),
    "gamma": QT_TRANSLATE_NOOP("AttentionPanel", "gamma"),
}


class AttentionPanel(QWidget):
    """Layer/head spin boxes, stage selector, the heatmap; keyboard stepping."""

    def __init__(self, state: InspectorState, maps: MapPreparer | None = None, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.maps = maps  # long prompts' maps come prepared from here
        self.layer_spin = QSpinBox()
        self.layer_spin.setObjectName("layerSpin")
        self.head_spin = QSpinBox()
        self.head_spin.setObjectName("headSpin")
        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("stageCombo")
        for stage in STAGES:
            self.stage_combo.addItem(stage_label(stage), stage)
        self.stage_combo.setCurrentIndex(STAGES.index(state.stage))
        self.map = AttentionMap()
        self.readout = QLabel()
        self.readout.setObjectName("attentionReadout")
        self.readout.setWordWrap(True)
        self.selection_label = QLabel("")
        self.selection_label.setObjectName("selectionReadout")
        self.selection_label.setWordWrap(True)
        self.selection_label.hide()  # the large layer · head · stage line of presentation mode
        self.row_labels = [QLabel(), QLabel(), QLabel(), QLabel(), QLabel()]
        controls = FlowLayout()
        for label, w in zip(self.row_labels, (self.layer_spin, self.head_spin, self.stage_combo)):
            controls.addWidget(labelled(label, w))
        self.display_controls = self._color_controls()
        controls.addWidget(self.display_controls)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.selection_label)
        lay.addLayout(controls)
        self.view = Placeholder(self.map, "")
        lay.addWidget(self.view, 1)
        lay.addWidget(self.readout)
        self._connect()
        self.retranslate()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for w in (self, self.map, self.layer_spin, self.head_spin, self.stage_combo):
            w.installEventFilter(self)

    def retranslate(self) -> None:
        """Every text of the panel in the current language."""
        for label, text in zip(
            self.row_labels,
            (
                self.tr("Layer"),
                self.tr("Head"),
                self.tr("Stage"),
                self.tr("Colours"),
                self.tr("Scale"),
            ),
        ):
            label.setText(text)
        for i, stage in enumerate(STAGES):
            self.stage_combo.setItemText(i, stage_label(stage))
        for i, scale in enumerate(SCALES):
            self.scale_combo.setItemText(i, self.tr(SCALE_NAMES[scale]))
        self.readout.setText(self.tr(KEY_HELP))
        self.view.set_text(self.tr(EMPTY))
        self.fixed_check.setText(self.tr("0–1 range"))
        self.fixed_check.setToolTip(self.tr("Colour probabilities on a fixed 0..1 range"))
        self.sink_check.setText(self.tr("Hide first column"))
        self.sink_check.setToolTip(
            self.tr(
                "Draw the first key (the attention sink) as masked so the "
                "rest of the map gets the colour range"
            )
        )
        self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _color_controls(self) -> QWidget:
        """Colormap, colour scale (γ), fixed 0–1 range and the hidden sink column."""
        self.cmap_combo = QComboBox()
        self.cmap_combo.setObjectName("colormapCombo")
        self.cmap_combo.addItems(list(COLORMAP_NAMES))
        self.cmap_combo.currentTextChanged.connect(
            lambda name: self.state.set_display(colormap=name)
        )
        self.scale_combo = QComboBox()
        self.scale_combo.setObjectName("scaleCombo")
        for scale in SCALES:
            self.scale_combo.addItem(self.tr(SCALE_NAMES[scale]), scale)
        self.gamma_spin = QDoubleSpinBox()
        self.gamma_spin.setObjectName("gammaSpin")
        self.gamma_spin.setRange(0.1, 3.0)
        self.gamma_spin.setSingleStep(0.1)
        self.gamma_spin.setValue(0.5)
        self.gamma_spin.setPrefix("γ ")
        self.scale_combo.currentIndexChanged.connect(
            lambda i: self.state.set_display(scale=self.scale_combo.itemData(i))
        )
        self.gamma_spin.valueChanged.connect(lambda v: self.state.set_display(gamma=v))
        self.fixed_check = QCheckBox()
        self.fixed_check.setObjectName("fixedRangeCheck")
        self.fixed_check.toggled.connect(lambda on: self.state.set_display(fixed_range=on))
        self.sink_check = QCheckBox()
        self.sink_check.setObjectName("hideSinkCheck")
        self.sink_check.toggled.connect(lambda on: self.state.set_display(hide_first=on))
        box = QWidget()
        box.setObjectName("displayControls")
        flow = FlowLayout(box)
        flow.addWidget(labelled(self.row_labels[3], self.cmap_combo))
        flow.addWidget(labelled(self.row_labels[4], self.scale_combo))
        for w in (self.gamma_spin, self.fixed_check, self.sink_check):
            flow.addWidget(w)
        return box

    def set_presentation(self, on: bool) -> None:
        """Presentation: only the stepping controls and a large layer · head · stage line."""
        self.display_controls.setVisible(not on)
        self.readout.setVisible(not on)
        self.selection_label.setVisible(on)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * (1.5 if on else 1.0))
        font.setBold(on)
        self.selection_label.setFont(font)

    def _connect(self) -> None:
        s = self.state
        self.layer_spin.valueChanged.connect(self._layer_spun)
        self.head_spin.valueChanged.connect(s.set_head)
        self.stage_combo.currentIndexChanged.connect(
            lambda i: s.set_stage(self.stage_combo.itemData(i))
        )
        self.map.cell_clicked.connect(self._clicked)
        for sig in (s.trace_changed, s.layer_changed, s.head_changed, s.stage_changed):
            sig.connect(self.refresh)
        s.display_changed.connect(self._apply_display)
        s.token_changed.connect(lambda row: self.map.set_query_row(row))
        if self.maps is not None:
            self.maps.ready.connect(self._prepared)
        s.key_changed.connect(lambda col: self.map.set_key_col(col))

    def _layer_spun(self, value: int) -> None:
        """A typed layer, or a step past layers the trace did not capture."""
        s = self.state
        if value in s.layers:
            s.set_layer(value)
        else:
            s.step_layer(1 if value > s.layer else -1)
        if self.layer_spin.value() != s.layer:
            self.layer_spin.blockSignals(True)
            self.layer_spin.setValue(s.layer)
            self.layer_spin.blockSignals(False)

    def _apply_display(self) -> None:
        """The state's colour settings onto the map and the controls."""
        d = self.state.display
        self.map.set_colormap(d.colormap)
        self.map.set_color_scale(d.scale, d.gamma)
        self.map.set_fixed_prob_range(d.fixed_range)
        self.map.set_hide_first_column(d.hide_first)
        for widget, setter, value in (
            (self.cmap_combo, self.cmap_combo.setCurrentText, d.colormap),
            (self.scale_combo, self.scale_combo.setCurrentIndex, SCALES.index(d.scale)),
            (self.gamma_spin, self.gamma_spin.setValue, d.gamma),
            (self.fixed_check, self.fixed_check.setChecked, d.fixed_range),
            (self.sink_check, self.sink_check.setChecked, d.hide_first),
        ):
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)

    def _clicked(self, query: int, key: int) -> None:
        self.state.set_token(query)
        self.state.set_key(key)

    def refresh(self, *_args) -> None:
        """Redraw the map and sync the controls with the state."""
        s = self.state
        self.view.show_content(s.trace is not None)
        if s.trace is None:
            return
        for spin, value, top in (
            (self.layer_spin, s.layer, s.layers[-1]),
            (self.head_spin, s.head, s.n_heads - 1),
        ):
            spin.blockSignals(True)
            spin.setRange(0, top)
            spin.setValue(value)
            spin.blockSignals(False)
        self.stage_combo.blockSignals(True)
        self.stage_combo.setCurrentIndex(STAGES.index(s.stage))
        self.stage_combo.blockSignals(False)
        kv = s.trace.kv_head(s.head)
        stage = stage_label(s.stage)
        title = self.tr("layer {layer} · head {head} (KV {kv}) · {stage}").format(
            layer=s.layer, head=s.head, kv=kv, stage=stage
        )
        self.selection_label.setText(
            self.tr("Layer {layer} / {last} · Head {head} / {heads} · {stage}").format(
                layer=s.layer, last=s.layers[-1], head=s.head, heads=s.n_heads - 1, stage=stage
            )
        )
        if s.shown_variant:  # short: the title's width sets the map's; the window names it
            title = f"[variant] {title}"
        if self.maps is not None and self.maps.wanted(s.trace):
            if not self._show_prepared(title):
                return
        else:
            style = map_style(s.trace, s.stage)
            self.map.set_map(s.current_map(), s.trace.token_strs, title=title, **style)
        self.map.set_query_row(s.token)
        self.map.set_key_col(s.key)

    def _show_prepared(self, title: str) -> bool:
        """A long prompt's map from its prepared overview, rows on demand for zooming;
        False when the overview is not ready yet (drawn when it arrives)."""
        s, trace = self.state, self.state.trace
        layer, head, stage = s.layer, s.head, s.stage
        self.maps.request(trace, layer, head, stage)
        overview = self.maps.overview(trace, layer, head, stage)
        if overview is None:  # drawn when it arrives (see _prepared)
            self.map.set_title(self.tr("{title} · preparing…").format(title=title))
            return False
        self.map.set_overview(
            overview,
            trace.token_strs,
            rows=lambda start, stop: trace.attention_rows(layer, head, stage, start, stop),
            title=title,
            **map_style(trace, stage),
        )
        return True

    def _prepared(self, key) -> None:
        s = self.state
        if s.trace is not None and key == self.maps.key(s.trace, s.layer, s.head, s.stage):
            self.refresh()

    def handle_key(self, key: int, modifiers) -> bool:
        """Stepping keys; True when the key was used."""
        s = self.state
        actions = {
            Qt.Key.Key_Left: lambda: s.step_head(-1),
            Qt.Key.Key_Right: lambda: s.step_head(1),
            Qt.Key.Key_Up: lambda: s.step_layer(-1),
            Qt.Key.Key_Down: lambda: s.step_layer(1),
            Qt.Key.Key_Tab: lambda: s.next_stage(1),
            Qt.Key.Key_Backtab: lambda: s.next_stage(-1),
            Qt.Key.Key_PageDown: lambda: s.advance(1),
            Qt.Key.Key_PageUp: lambda: s.advance(-1),
            Qt.Key.Key_Home: lambda: s.set_head(0),
            Qt.Key.Key_End: lambda: s.set_head(s.n_heads - 1),
        }
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            actions[Qt.Key.Key_Home] = lambda: s.set_layer(s.layers[0])
            actions[Qt.Key.Key_End] = lambda: s.set_layer(s.layers[-1])
        action = actions.get(key)
        if action is None:
            return False
        action()
        return True

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.KeyPress and self.handle_key(event.key(), event.modifiers()):
            return True
        return super().eventFilter(watched, event)

    def event(self, event) -> bool:
        # Tab normally moves focus; here it steps the stage
        if event.type() == QEvent.Type.KeyPress and self.handle_key(event.key(), event.modifiers()):
            return True
        return super().event(event)
