"""The BertViz-style head view of the selected layer, and the prompt tinted by attention."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QVBoxLayout, QWidget

from llamalens.app.state import InspectorState
from llamalens.viz.attention_text import AttentionText
from llamalens.viz.head_view import HeadView

EXPORT = QT_TRANSLATE_NOOP("AttentionViews", "Export Figure…")
HEAD_VIEW_HELP = QT_TRANSLATE_NOOP(
    "AttentionViews",
    "Layer {layer}: a line from each query (left) to each key (right), as opaque as its "
    "attention weight; one colour per head, shades of one hue share a KV head. Hover a token "
    "to see only its lines; click a head to hide it.",
)
MODE_QUERY = QT_TRANSLATE_NOOP("AttentionViews", "Selected query")
MODE_AVERAGE = QT_TRANSLATE_NOOP("AttentionViews", "Head average")
WHAT_QUERY = QT_TRANSLATE_NOOP("AttentionViews", "attention of token {pos}")
WHAT_AVERAGE = QT_TRANSLATE_NOOP("AttentionViews", "mean attention each token receives")
TEXT_CAPTION = QT_TRANSLATE_NOOP("AttentionViews", "Layer {layer}, head {head}: {what}")


def _tr(text: str) -> str:
    return QCoreApplication.translate("AttentionViews", text)


class _Panel(QWidget):
    """Redrawn from the event loop when shown; a right click offers the export."""

    export_requested = Signal(object)  # the widget to export as a figure

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)

    def _later(self, *_args) -> None:
        self._timer.start()

    def _menu(self, widget: QWidget, figure) -> None:
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        def show(pos) -> None:
            menu = QMenu(widget)
            menu.addAction(_tr(EXPORT), lambda: self.export_requested.emit(figure()))
            menu.popup(widget.mapToGlobal(pos))
            self.context_menu = menu  # for tests

        widget.customContextMenuRequested.connect(show)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._later()

    def retranslate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError


class HeadViewPanel(_Panel):
    """Every head of the selected layer as lines between query and key tokens."""

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(state, parent)
        self.view = HeadView()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.view, 1)
        self.view.query_clicked.connect(state.set_token)
        for signal in (state.trace_changed, state.layer_changed):
            signal.connect(self._later)
        state.token_changed.connect(self.view.set_selected_query)
        self._menu(self.view, self.view.figure_widget)

    def refresh(self) -> None:
        s = self.state
        self.caption.setText(_tr(HEAD_VIEW_HELP).format(layer=s.layer))
        if s.trace is None or not self.isVisible():
            return
        t = s.trace
        probs = np.stack(t.layer_maps(s.layer, "probs"))  # (H, T, T)
        self.view.set_layer(probs, t.token_strs, [t.kv_head(h) for h in range(t.n_heads)])
        self.view.set_selected_query(s.token)


class AttentionTextPanel(_Panel):
    """The prompt as text, each token tinted by the attention it receives."""

    MODES = ("query", "average")

    def __init__(self, state: InspectorState, parent=None) -> None:
        super().__init__(state, parent)
        self.text = AttentionText()
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("attentionTextMode")
        self.mode_combo.addItems(["", ""])
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.mode_combo)
        row.addWidget(self.caption, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.text, 1)
        self.text.token_clicked.connect(state.set_token)
        self.mode_combo.currentIndexChanged.connect(self._later)
        for signal in (
            state.trace_changed,
            state.layer_changed,
            state.head_changed,
            state.token_changed,
            state.display_changed,
        ):
            signal.connect(self._later)
        self._menu(self.text, lambda: self.text)
        self.retranslate()

    @property
    def mode(self) -> str:
        return self.MODES[max(0, self.mode_combo.currentIndex())]

    def retranslate(self) -> None:
        self.mode_combo.setItemText(0, _tr(MODE_QUERY))
        self.mode_combo.setItemText(1, _tr(MODE_AVERAGE))
        self.refresh()

    def weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(T,) the tints' weights and (T,) the hidden tokens (None: none)."""
        s = self.state
        probs = s.trace.probs(s.layer, s.head)  # (T, T)
        n = probs.shape[0]
        if self.mode == "query":
            return probs[s.token], np.arange(n) > s.token
        # attention each key receives, averaged over the queries that can see it
        return probs.sum(axis=0) / (n - np.arange(n)), None

    def refresh(self) -> None:
        s = self.state
        if s.trace is None or not self.isVisible():
            return
        weights, hidden = self.weights()
        what = _tr(WHAT_QUERY).format(pos=s.token) if self.mode == "query" else _tr(WHAT_AVERAGE)
        self.caption.setText(_tr(TEXT_CAPTION).format(layer=s.layer, head=s.head, what=what))
        gamma = s.display.gamma if s.display.scale == "gamma" else 1.0
        selected = s.token if self.mode == "query" else None
        self.text.set_tokens(
            s.trace.token_strs, weights, hidden=hidden, selected=selected, gamma=gamma
        )
