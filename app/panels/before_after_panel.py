"""Next token, before and after: the unchanged model's distribution beside the variant's."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.app.whatif_figures import draw_next_token
from llamalens.viz.paired_bars import PairedBars

IDLE = QT_TRANSLATE_NOOP(
    "BeforeAfterPanel",
    "Run a variant (What if) to see the next token before and after the change.",
)


class BeforeAfterPanel(QWidget):
    """Paired bars of the model (before) and the shown variant (after), with Δ log p."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.bars = PairedBars()
        self.caption = QLabel()
        self.caption.setObjectName("beforeAfterCaption")
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.bars, 1)
        state.baseline_changed.connect(self.refresh)
        state.trace_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args) -> None:
        s = self.state
        base, trace = s.baseline, s.trace
        shown = trace is not None and base is not None and trace.variant_label != ""
        self.bars.setVisible(shown)
        if not shown:
            self.caption.setText(self.tr(IDLE))
            return
        try:
            draw_next_token(
                self.bars, base.last_logits, trace.last_logits, s.vocab, ("model", "variant")
            )
        except ValueError as exc:  # no usable logit (a broken run or file)
            self.bars.setVisible(False)
            self.caption.setText(str(exc))
            return
        text = self.tr(
            "Before: {model}. After: variant · {label}. Δ log p = log p(after) − log p(before)."
        )
        self.caption.setText(text.format(model=s.model_name, label=trace.variant_label))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)
