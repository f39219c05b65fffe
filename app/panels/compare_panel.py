"""Compare two runs: two prompts, the model and a variant, or two heads; A, B and B − A."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from llamalens.app.requests import RunSpec
from llamalens.app.state import Comparison, InspectorState
from llamalens.app.whatif_figures import CompareFigure, draw_next_token
from llamalens.model.variants import Variant
from llamalens.viz.paired_bars import PairedBars

MODES = (
    (QT_TRANSLATE_NOOP("ComparePanel", "two prompts"), "prompts"),
    (QT_TRANSLATE_NOOP("ComparePanel", "model vs variant"), "variant"),
    (QT_TRANSLATE_NOOP("ComparePanel", "two heads"), "heads"),
)

WIDE = 900  # px: from this width the three maps and the bars fit side by side


def excerpt(text: str, n: int = 24) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= n else text[: n - 1] + '…'}”"


class ComparePanel(QWidget):
    """Choose what to compare; shows the maps of the selected layer, head and stage.

    Signals:
        compare_requested(object, object): the two RunSpecs to trace (A, B).
    """

    compare_requested = Signal(object, object)

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        row = self._controls()
        self.figure = CompareFigure()
        self.bars = PairedBars()
        self.caption = QLabel()
        self.caption.setObjectName("compareCaption")
        self.caption.setWordWrap(True)
        split = self.split = QSplitter()
        split.addWidget(self.figure)
        split.addWidget(self.bars)
        split.setStretchFactor(0, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)
        state.comparison_changed.connect(self.refresh)
        for sig in (state.layer_changed, state.head_changed, state.stage_changed):
            sig.connect(self.refresh)
        state.trace_changed.connect(self._limits)
        state.display_changed.connect(self.refresh)
        self._mode_changed()
        self.retranslate()

    def retranslate(self) -> None:
        for i, (label, _mode) in enumerate(MODES):
            self.mode_combo.setItemText(i, self.tr(label))
        self.prompt_b.setPlaceholderText(self.tr("prompt B (A is the prompt above)"))
        self.button.setText(self.tr("Compare"))
        self.layer_b_label.setText(self.tr("B: layer"))
        self.head_b_label.setText(self.tr("head"))
        if self.state.comparison is None:
            self.caption.setText(self.tr("Choose two runs and press Compare."))
        self.refresh()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Maps beside the bars when there is room for three maps, else above them."""
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self, force: bool = False) -> None:
        """Orient the splitter for the panel's width; share the room when that changes."""
        wide = self.width() >= WIDE
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation == self.split.orientation() and not force:
            return
        self.split.setOrientation(orientation)
        self.figure.set_in_one_row(wide)
        # the old sizes were along the other axis: share the new one afresh
        room = self.split.width() if wide else self.split.height()
        maps = int(room * 0.7)
        self.split.setSizes([maps, room - maps])

    def _controls(self) -> QVBoxLayout:
        """Mode and prompt B; head B and the Compare button below."""
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("compareModeCombo")
        for _label, mode in MODES:
            self.mode_combo.addItem("", mode)
        self.prompt_b = QLineEdit()
        self.prompt_b.setObjectName("comparePromptB")
        self.layer_b, self.head_b = QSpinBox(), QSpinBox()
        self.layer_b.setObjectName("compareLayerB")
        self.head_b.setObjectName("compareHeadB")
        self.button = QPushButton()
        self.button.setObjectName("compareButton")
        self.button.clicked.connect(self.compare)
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)
        for spin in (self.layer_b, self.head_b):
            spin.valueChanged.connect(self._head_b_changed)
        top, row = QHBoxLayout(), QHBoxLayout()  # two rows: the dock fits a 1024 px screen
        top.addWidget(self.mode_combo)
        top.addWidget(self.prompt_b, 1)
        self.layer_b_label, self.head_b_label = QLabel(), QLabel()
        for label, w in ((self.layer_b_label, self.layer_b), (self.head_b_label, self.head_b)):
            row.addWidget(label)
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.button)
        rows = QVBoxLayout()
        rows.addLayout(top)
        rows.addLayout(row)
        return rows

    def mode(self) -> str:
        return MODES[self.mode_combo.currentIndex()][1]

    def _mode_changed(self, *_args) -> None:
        mode = self.mode()
        self.prompt_b.setVisible(mode == "prompts")
        for w in (self.layer_b, self.head_b):
            w.setEnabled(mode == "heads")

    def _limits(self) -> None:
        s = self.state
        self.layer_b.setRange(0, s.n_layers - 1)
        self.head_b.setRange(0, s.n_heads - 1)

    def compare(self) -> None:
        """Trace the chosen runs (two heads need no run: the shown trace has both)."""
        s = self.state
        p = s.prompt
        if s.trace is None:
            return
        mode = self.mode()
        if mode == "heads":
            head_b = (self.layer_b.value(), self.head_b.value())
            names = (f"L{s.layer} H{s.head}", f"L{head_b[0]} H{head_b[1]}")
            s.set_comparison(Comparison(s.trace, s.trace, "heads", names, head_b))
            return
        a = RunSpec(p.text, p.chat, p.plain, s.variant if mode == "prompts" else Variant())
        if mode == "prompts":
            b = RunSpec(self.prompt_b.text(), p.chat, p.plain, s.variant)
        else:
            b = RunSpec(p.text, p.chat, p.plain, s.variant)
        self.compare_requested.emit(a, b)

    def names(self, a: RunSpec, b: RunSpec) -> tuple[str, str]:
        """How the two sides are labelled."""
        if a.prompt != b.prompt:
            return excerpt(a.prompt), excerpt(b.prompt)
        label, model = b.variant.label(), self.tr("model")
        return model, self.tr("variant · {label}").format(label=label) if label else model

    def _head_b_changed(self, *_args) -> None:
        c = self.state.comparison
        if c is not None and c.mode == "heads":
            head_b = (self.layer_b.value(), self.head_b.value())
            self.state.set_comparison(
                replace(c, head_b=head_b, names=(c.names[0], f"L{head_b[0]} H{head_b[1]}"))
            )

    def refresh(self, *_args) -> None:
        s, c = self.state, self.state.comparison
        if self.split.isHidden() == (c is not None):
            self.split.setVisible(c is not None)  # no empty axes before the first compare
            self._arrange(force=True)
        if c is None:
            return
        head_a = (s.layer, s.head)
        head_b = c.head_b if c.mode == "heads" else head_a
        if c.mode == "heads":
            c = Comparison(c.a, c.b, c.mode, (f"L{s.layer} H{s.head}", c.names[1]), c.head_b)
        diff = self.figure.draw(
            c.a, c.b, s.stage, head_a, head_b, c.names, colormap=s.display.colormap
        )
        try:
            draw_next_token(self.bars, c.a.last_logits, c.b.last_logits, s.vocab, c.names)
            self.bars.setVisible(True)
        except ValueError:  # no usable logit (a broken run or file): the maps still compare
            self.bars.setVisible(False)
        n = len(diff.labels)
        common = self.tr(" on the first {n} positions").format(n=n)
        if n == max(c.a.n_tokens, c.b.n_tokens):
            common = ""
        text = self.tr("A: {a} · B: {b} · B − A{common}: largest |Δ| {largest}.")
        largest = f"{abs(diff.values).max():.4f}"
        self.caption.setText(
            text.format(a=c.names[0], b=c.names[1], common=common, largest=largest)
        )
