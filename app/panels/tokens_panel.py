"""Token chips of the current trace; clicking one selects the query row everywhere."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.viz.token_strip import TokenStrip


class TokensPanel(QWidget):
    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.strip = TokenStrip()
        self.label = QLabel(self.tr("Tokens"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.label)
        lay.addWidget(self.strip, 1)
        self.strip.token_selected.connect(state.set_token)
        state.trace_changed.connect(self.refresh)
        state.token_changed.connect(self.strip.select_token)

    def refresh(self) -> None:
        t = self.state.trace
        if t is None:
            return
        self.strip.set_tokens(
            t.token_strs, t.token_ids.tolist(), [b.hex() for b in t.token_bytes], t.token_special
        )
        self.strip.select_token(self.state.token)
        dropped = self.state.run.dropped
        note = (
            self.tr(" · {n} byte(s) without a token were dropped").format(n=len(dropped))
            if dropped
            else ""
        )
        label = self.tr("{n} tokens (click one to select it as the query)")
        self.label.setText(label.format(n=t.n_tokens) + note)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.label.setText(self.tr("Tokens"))
            self.refresh()
        super().changeEvent(event)
