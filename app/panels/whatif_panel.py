"""What if: ablate heads, change RoPE (base θ, rotary fraction, scaling), rank heads.

Every control edits the state's variant (the one the next run uses); **Run variant**
runs it, **Back to the model** runs the unchanged model. The line at the bottom says
what the panels show, so a variant is never mistaken for the model.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.state import InspectorState
from llamalens.model.config import LlamaConfig, RopeScaling
from llamalens.model.sampling import softmax
from llamalens.model.variants import (
    ABLATION_MODES,
    MODEL_SCALING,
    RopeChange,
    Variant,
)
from llamalens.model.vocab_table import token_label

SCALINGS = (
    (QT_TRANSLATE_NOOP("WhatIfPanel", "the model's own"), MODEL_SCALING),
    (QT_TRANSLATE_NOOP("WhatIfPanel", "none"), None),
    (QT_TRANSLATE_NOOP("WhatIfPanel", "linear"), "linear"),
    (QT_TRANSLATE_NOOP("WhatIfPanel", "NTK"), "ntk"),
    (QT_TRANSLATE_NOOP("WhatIfPanel", "YaRN"), "yarn"),
    (QT_TRANSLATE_NOOP("WhatIfPanel", "Llama 3.1"), "llama3"),
)
MODE_NAMES = {
    "zero": QT_TRANSLATE_NOOP("WhatIfPanel", "zero"),
    "mean": QT_TRANSLATE_NOOP("WhatIfPanel", "mean"),
}


class WhatIfPanel(QWidget):
    """Controls of the state's variant, and the "rank heads" action.

    Signals:
        run_requested(): run the prompt with the state's variant.
        rank_requested(object, str, object): layers (tuple, or None for all), ablation
            mode and the target token id (None: the most likely).
    """

    run_requested = Signal()
    rank_requested = Signal(object, str, object)

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self._ablation_box())
        lay.addWidget(self._rope_box())
        buttons = QHBoxLayout()
        self.run_button = self._button("runVariantButton", self.run_requested.emit)
        self.model_button = self._button("backToModelButton", self.reset)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.model_button)
        lay.addLayout(buttons)
        self.status = QLabel()
        self.status.setObjectName("variantStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addWidget(self._rank_box())
        lay.addStretch(1)
        for sig in (state.variant_changed, state.trace_changed, state.model_changed):
            sig.connect(self.refresh)
        state.trace_changed.connect(self._fill_targets)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the panel in the current language."""
        for widget, text in self._texts().items():
            widget.setText(text)
        for box, text in (
            (self.ablation_box, self.tr("Ablate heads")),
            (self.rope_box, self.tr("Change RoPE")),
            (self.rank_box, self.tr("Rank heads")),
        ):
            box.setTitle(text)
        self._tooltips()
        for i, mode in enumerate(ABLATION_MODES):
            self.mode_combo.setItemText(i, self.tr(MODE_NAMES[mode]))
        for i, (label, _kind) in enumerate(SCALINGS):
            self.scaling_combo.setItemText(i, self.tr(label))
        self.scope_combo.setItemText(0, self.tr("this layer"))
        self.scope_combo.setItemText(1, self.tr("all layers"))
        self.factor_spin.setPrefix("× ")
        self.refresh()

    def _texts(self) -> dict:
        """The label, button and check box texts, by widget."""
        return {
            self.run_button: self.tr("Run variant"),
            self.model_button: self.tr("Back to the model"),
            self.ablate_button: self.tr("Ablate selected head"),
            self.remove_button: self.tr("Remove"),
            self.clear_button: self.tr("Clear"),
            self.rank_button: self.tr("Rank heads"),
            self.pick_check: self.tr("Click heads to ablate"),
            self.theta_check: self.tr("Base θ"),
            self.fraction_check: self.tr("Rotary fraction"),
            self.mode_label: self.tr("Mode"),
            self.scaling_label: self.tr("Scaling"),
            self.scope_label: self.tr("Heads of"),
            self.target_label: self.tr("Effect on"),
        }

    def _tooltips(self) -> None:
        self.mode_combo.setToolTip(
            self.tr("zero: the head's output is 0; mean: its mean over positions")
        )
        self.pick_check.setToolTip(
            self.tr(
                "While ticked, a click on a head thumbnail, a double-click in the head "
                "statistics or the ranking adds or removes that head"
            )
        )
        self.target_combo.setToolTip(
            self.tr("the next token whose probability each ablation changes")
        )

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ---- widgets --------------------------------------------------------------------------
    def _button(self, name: str, slot) -> QPushButton:
        b = QPushButton()
        b.setObjectName(name)
        b.clicked.connect(slot)
        return b

    def _ablation_box(self) -> QGroupBox:
        box = self.ablation_box = QGroupBox()
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("ablationModeCombo")
        for mode in ABLATION_MODES:
            self.mode_combo.addItem(mode, mode)
        self.pick_check = QCheckBox()
        self.pick_check.setObjectName("pickHeadsCheck")
        self.ablated_list = QListWidget()
        self.ablated_list.setObjectName("ablatedList")
        self.ablated_list.setMaximumHeight(90)
        row = QHBoxLayout()
        self.ablate_button = self._button("ablateButton", self.ablate_selected)
        self.remove_button = self._button("unablateButton", self._remove_chosen)
        self.clear_button = self._button("clearAblationsButton", self._clear)
        for b in (self.ablate_button, self.remove_button, self.clear_button):
            row.addWidget(b)
        lay = QVBoxLayout(box)
        top = QHBoxLayout()
        self.mode_label = QLabel()
        top.addWidget(self.mode_label)
        top.addWidget(self.mode_combo)
        top.addWidget(self.pick_check)
        top.addStretch(1)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addWidget(self.ablated_list)
        return box

    def _rope_box(self) -> QGroupBox:
        box = self.rope_box = QGroupBox()
        self.theta_check, self.theta_spin = QCheckBox(), QDoubleSpinBox()
        self.theta_spin.setObjectName("thetaSpin")
        self.theta_spin.setRange(1.0, 1e9)
        self.theta_spin.setDecimals(0)
        self.theta_spin.setValue(10000.0)
        self.fraction_check, self.fraction_spin = QCheckBox(), QDoubleSpinBox()
        self.fraction_spin.setObjectName("fractionSpin")
        self.fraction_spin.setRange(0.05, 1.0)
        self.fraction_spin.setSingleStep(0.125)
        self.fraction_spin.setDecimals(3)
        self.fraction_spin.setValue(0.5)
        self.scaling_combo = QComboBox()
        self.scaling_combo.setObjectName("scalingCombo")
        for _label, kind in SCALINGS:
            self.scaling_combo.addItem("", kind)
        self.factor_spin = QDoubleSpinBox()
        self.factor_spin.setObjectName("factorSpin")
        self.factor_spin.setRange(1.0, 64.0)
        self.factor_spin.setValue(4.0)
        self.theta_check.setObjectName("thetaCheck")
        self.fraction_check.setObjectName("fractionCheck")
        form = QFormLayout(box)
        form.addRow(self.theta_check, self.theta_spin)
        form.addRow(self.fraction_check, self.fraction_spin)
        scaling = QHBoxLayout()
        scaling.addWidget(self.scaling_combo, 1)
        scaling.addWidget(self.factor_spin)
        self.scaling_label = QLabel()
        form.addRow(self.scaling_label, scaling)
        for w in (self.theta_check, self.fraction_check):
            w.toggled.connect(self._store_rope)
        for w in (self.theta_spin, self.fraction_spin, self.factor_spin):
            w.valueChanged.connect(self._store_rope)
        self.scaling_combo.currentIndexChanged.connect(self._store_rope)
        return box

    def _rank_box(self) -> QGroupBox:
        box = self.rank_box = QGroupBox()
        self.scope_combo = QComboBox()
        self.scope_combo.setObjectName("rankScopeCombo")
        self.scope_combo.addItems(["", ""])  # this layer, all layers (retranslate)
        self.target_combo = QComboBox()
        self.target_combo.setObjectName("rankTargetCombo")
        form = QFormLayout(box)
        self.scope_label, self.target_label = QLabel(), QLabel()
        form.addRow(self.scope_label, self.scope_combo)
        form.addRow(self.target_label, self.target_combo)
        self.rank_button = self._button("rankButton", self.rank)
        form.addRow(self.rank_button)
        return box

    # ---- the state's variant --------------------------------------------------------------
    def config(self) -> LlamaConfig | None:
        s = self.state
        if s.model is not None:
            return LlamaConfig.from_dict(s.model.config)
        return None

    def _set_variant(self, variant: Variant) -> bool:
        """Store a checked variant; False (with the reason shown) when it is invalid."""
        cfg = self.config()
        try:
            if cfg is not None:
                variant.check(cfg)
        except ValueError as exc:
            self.status.setText(self.tr("Not valid: {reason}").format(reason=exc))
            return False
        self.state.set_variant(variant)
        return True

    def head_clicked(self, layer: int, head: int) -> None:
        """A head was clicked in the grid, the statistics or the ranking."""
        if not self.pick_check.isChecked():
            return
        v = self.state.variant
        ablated = any((a.layer, a.head) == (layer, head) for a in v.ablations)
        mode = None if ablated else self.mode_combo.currentData()
        self._set_variant(v.with_ablation(layer, head, mode))

    def ablate_selected(self) -> None:
        s = self.state
        self._set_variant(s.variant.with_ablation(s.layer, s.head, self.mode_combo.currentData()))

    def _remove_chosen(self) -> None:
        row = self.ablated_list.currentRow()
        v = self.state.variant
        if 0 <= row < len(v.ablations):
            a = v.ablations[row]
            self._set_variant(v.with_ablation(a.layer, a.head, None))

    def _clear(self) -> None:
        self._set_variant(Variant(rope=self.state.variant.rope))

    def reset(self) -> None:
        """Back to the unchanged model (and run it)."""
        self.state.set_variant(Variant())
        self.run_requested.emit()

    def rope_change(self) -> RopeChange:
        """The RoPE controls as a RopeChange."""
        kind = SCALINGS[self.scaling_combo.currentIndex()][1]
        scaling = kind
        if kind not in (MODEL_SCALING, None):
            cfg = self.config()
            context = cfg.max_seq_len if cfg is not None else 8192
            factor = self.factor_spin.value()
            scaling = RopeScaling(factor=factor, original_max_position=context, rope_type=kind)
        return RopeChange(
            theta=self.theta_spin.value() if self.theta_check.isChecked() else None,
            rotary_fraction=(
                self.fraction_spin.value() if self.fraction_check.isChecked() else None
            ),
            scaling=scaling,
        )

    def _store_rope(self, *_args) -> None:
        kind = SCALINGS[self.scaling_combo.currentIndex()][1]
        self.factor_spin.setEnabled(kind not in (MODEL_SCALING, None))
        self._set_variant(self.state.variant.with_rope(self.rope_change()))

    def _show_rope(self, rope: RopeChange | None) -> None:
        """The variant's RoPE change onto the controls (without storing it again)."""
        rope = rope or RopeChange()
        scaling = rope.scaling
        kind = scaling.rope_type if isinstance(scaling, RopeScaling) else scaling
        widgets = (
            self.theta_check, self.theta_spin, self.fraction_check, self.fraction_spin,
            self.scaling_combo, self.factor_spin,
        )  # fmt: skip
        for w in widgets:
            w.blockSignals(True)
        self.theta_check.setChecked(rope.theta is not None)
        if rope.theta is not None:
            self.theta_spin.setValue(rope.theta)
        self.fraction_check.setChecked(rope.rotary_fraction is not None)
        if rope.rotary_fraction is not None:
            self.fraction_spin.setValue(rope.rotary_fraction)
        self.scaling_combo.setCurrentIndex([k for _, k in SCALINGS].index(kind))
        if isinstance(scaling, RopeScaling):
            self.factor_spin.setValue(scaling.factor)
        self.factor_spin.setEnabled(isinstance(scaling, RopeScaling))
        for w in widgets:
            w.blockSignals(False)

    # ---- showing --------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        """The state's variant onto the list and controls; the status line."""
        s = self.state
        self.ablated_list.clear()
        self.ablated_list.addItems([a.label() for a in s.variant.ablations])
        self._show_rope(s.variant.rope)
        cfg = self.config()
        if cfg is not None and not self.theta_check.isChecked():
            self.theta_spin.blockSignals(True)
            self.theta_spin.setValue(cfg.rope_theta)
            self.theta_spin.blockSignals(False)
        pending, shown = s.variant.label(), s.shown_variant
        model = self.tr("the model itself")
        if s.trace is None:
            text = self.tr("Nothing run yet.")
        elif pending == shown:
            what = self.tr("variant · {label}").format(label=shown) if shown else model
            text = self.tr("Shown: {what}.").format(what=what)
        else:
            text = self.tr("Shown: {shown}. Set: {pending} (not run yet: press Run variant).")
            text = text.format(shown=shown or model, pending=pending or self.tr("the model"))
        self.status.setText(text)

    def _fill_targets(self) -> None:
        t = self.state.trace
        if t is None or self.state.vocab is None:
            return
        self.target_combo.clear()
        try:
            probs = softmax(t.last_logits)
        except ValueError:  # no usable logit (a broken run or file): no target to offer
            return
        for i in np.argsort(-probs, kind="stable")[:10]:
            text = token_label(self.state.vocab, i)
            self.target_combo.addItem(f"{text!r}  ({probs[i]:.1%})", int(i))

    def rank(self) -> None:
        s = self.state
        layers = (s.layer,) if self.scope_combo.currentIndex() == 0 else None
        target = self.target_combo.currentData()
        self.rank_requested.emit(layers, self.mode_combo.currentData(), target)
