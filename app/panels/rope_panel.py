"""RoPE in the complex plane for the selected layer, head, query and key tokens."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.viz.rope_plane import RopePlane

DEBOUNCE_MS = 150


class RopePanel(QWidget):
    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.plane = RopePlane()
        self.caption = QLabel(self._hint())
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.plane, 1)
        # stepping through heads with a held arrow key redraws the heatmap at once and
        # this (heavier) plot when the keys pause
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        for sig in (
            state.trace_changed,
            state.layer_changed,
            state.head_changed,
            state.token_changed,
            state.key_changed,
        ):
            sig.connect(lambda *_: self._timer.start())

    def refresh(self, *_args) -> None:
        s = self.state
        t = s.trace
        if t is None or not self.isVisible():
            return  # drawn when shown: a hidden plot has no size to fit its range to
        q = t.rope_query(s.layer, s.head, s.token)
        k = t.rope_key(s.layer, s.head, s.key)
        parts = t.pair_contributions(s.layer, s.head, s.token, s.key)
        title = self.tr(
            "layer {layer} · head {head} · query {q} {q_text} · key {k} {k_text}"
        ).format(
            layer=s.layer,
            head=s.head,
            q=s.token,
            q_text=repr(t.token_strs[s.token]),
            k=s.key,
            k_text=repr(t.token_strs[s.key]),
        )
        self.plane.set_view(
            q.before,
            q.after,
            q.theta,
            s.token,
            k_before=k.before,
            k_after=k.after,
            k_pos=s.key,
            contributions=parts,
            title=title,
        )
        score = float(t.scores(s.layer, s.head)[s.token, s.key])
        self.caption.setText(
            self.tr(
                "Raw score at (query {q}, key {k}) = {score}: "
                "the sum of the per-pair contributions below."
            ).format(q=s.token, k=s.key, score=f"{score:.4f}")
        )

    def _hint(self) -> str:
        return self.tr(
            "Click a cell of the attention map to choose the query (row) and key (column) tokens."
        )

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.caption.setText(self._hint())
            self.refresh()
        super().changeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()
