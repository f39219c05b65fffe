"""The walkthrough mode of the main window: its toggle, its layout, its keys, its numbers.

Turning it on (the toolbar's Walkthrough button, F5, View menu) hides the docks and shows
the :class:`~llamalens.app.walkthrough.view.WalkthroughView` in the centre; turning it off
restores the previous layout exactly. While it is on, → / Space / PageDown and
← / PageUp (presenter remotes) step, Home / End go to the first / last step and Ctrl+E
exports the step. The values of the selected position come from the worker
(:meth:`~llamalens.model.engine.Engine.walk`) whenever the trace or the position changes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QTextEdit,
    QToolBar,
    QToolButton,
    QWidget,
)

from llamalens.app.export_actions import FIGURE_FILTER, NOTHING, RUN_FIRST
from llamalens.app.figures import figure_title
from llamalens.app.requests import WalkRequest
from llamalens.app.walkthrough import texts as T
from llamalens.app.walkthrough.steps import FIRST_LAYER_STEP, STEP_IDS, step_after
from llamalens.app.walkthrough.tensors import WalkContext
from llamalens.app.walkthrough.texts import tr
from llamalens.app.walkthrough.view import WalkthroughView
from llamalens.viz.export import export_figure

ACTION_TEXT = QT_TRANSLATE_NOOP("Walkthrough", "Walkthrough")
ACTION_TIP = QT_TRANSLATE_NOOP("Walkthrough", "Walk through one forward pass, step by step (F5)")
TOGGLE_KEY = "F5"
STEP_KEYS = {
    Qt.Key.Key_Right: 1,
    Qt.Key.Key_Space: 1,
    Qt.Key.Key_PageDown: 1,
    Qt.Key.Key_Left: -1,
    Qt.Key.Key_PageUp: -1,
}
TYPING = (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QComboBox)


class PageStack(QStackedWidget):
    """A stack as large as its current page: the hidden inspector does not widen the
    walkthrough (a 1024×768 projector in presentation mode)."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def sizeHint(self):  # noqa: N802 (Qt override)
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()


class WalkthroughMode(QObject):
    """Owns the walkthrough page of a MainWindow and keeps it in step with the state."""

    def __init__(self, win) -> None:
        super().__init__(win)
        self.win, self.state = win, win.state
        self.view = WalkthroughView()
        self.stack = PageStack()
        self.stack.setObjectName("centralStack")
        self.stack.addWidget(win.takeCentralWidget())
        self.stack.addWidget(self.view)
        win.setCentralWidget(self.stack)
        self._saved_layout = None
        self._walk_id = -1
        self._pending = None  # (trace, position) asked of the worker
        self._failed = None  # (trace, position) the worker could not compute
        self._build_action()
        self._connect()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        win.installEventFilter(self)  # its language changes and its close

    # ---- construction ----------------------------------------------------------------------
    def _build_action(self) -> None:
        act = QAction(self.win)
        act.setObjectName("walkthroughAction")
        act.setCheckable(True)
        act.setShortcut(QKeySequence(TOGGLE_KEY))
        act.toggled.connect(self.state.set_walkthrough)
        self.action = act
        bar = QToolBar(self.win)
        bar.setObjectName("walkthroughToolbar")
        bar.addAction(act)
        self.win.addToolBar(bar)
        self.toolbar = bar
        self.corner = QToolButton()  # the toggle while the toolbars are hidden
        self.corner.setObjectName("walkthroughCorner")
        self.corner.setDefaultAction(act)
        self.corner.hide()
        self.retranslate()

    def retranslate(self) -> None:
        self.action.setText(QCoreApplication.translate("Walkthrough", ACTION_TEXT))
        self.action.setToolTip(QCoreApplication.translate("Walkthrough", ACTION_TIP))
        self.toolbar.setWindowTitle(QCoreApplication.translate("Walkthrough", ACTION_TEXT))

    def _connect(self) -> None:
        s, v = self.state, self.view
        s.walkthrough_changed.connect(self._apply)
        for signal in (
            s.walk_step_changed,
            s.layer_changed,
            s.head_changed,
            s.sampling_changed,
            s.detail_changed,
        ):
            signal.connect(self._schedule)
        s.trace_changed.connect(self._trace_changed)
        # after the window's translator switch (connected first): redraw in the new language
        s.language_changed.connect(self._language_changed)
        for signal in (s.token_changed, s.model_changed):
            signal.connect(self._position_changed)
        v.step_requested.connect(s.set_walk_step)
        v.delta_requested.connect(self.step)
        v.walk_layer_requested.connect(self.walk_layer)
        v.open_rope_requested.connect(self.open_rope)
        v.export_requested.connect(lambda: self.export_step())
        v.layer_chosen.connect(s.set_layer)
        v.head_chosen.connect(s.set_head)
        v.position_chosen.connect(s.set_token)
        self.win.worker.walked.connect(self._on_walked)
        self.win.worker.failed.connect(self._on_failed)

    def _language_changed(self, _locale: str) -> None:
        self.retranslate()
        self.view.retranslate()

    # ---- the mode --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.state.walkthrough

    def _apply(self, on: bool) -> None:
        win = self.win
        if on:
            # keys anywhere in the window step, whichever widget has the focus
            QApplication.instance().installEventFilter(self)
            self._saved_layout = win.saveState()
            for dock in win.docks.values():
                dock.hide()
            for bar in win.findChildren(QToolBar):
                bar.hide()  # the page has its controls; the toggle moves into the menu bar
            win.menuBar().setCornerWidget(self.corner)
            self.corner.show()
            win.statusBar().hide()
            self.stack.setCurrentWidget(self.view)
            self.view.setFocus()
            self._ensure_detail()
            self.refresh()
        else:
            QApplication.instance().removeEventFilter(self)
            self.stack.setCurrentIndex(0)
            self.corner.hide()
            win.statusBar().show()
            if self._saved_layout is not None:
                win.restoreState(self._saved_layout)  # docks and toolbars as they were
            self._saved_layout = None
        if self.action.isChecked() != on:
            self.action.setChecked(on)

    def step(self, delta: int) -> None:
        """Go ``delta`` steps forward (or back), stopping at the ends."""
        self.state.set_walk_step(step_after(self.state.walk_step, delta))

    def walk_layer(self, layer: int) -> None:
        """Walk ``layer`` from its first step (the "next layer" jump)."""
        self.state.set_layer(layer)
        self.state.set_walk_step(FIRST_LAYER_STEP)

    def open_rope(self) -> None:
        dock = self.win.docks["ropeDock"]
        dock.show()
        dock.raise_()

    # ---- numbers ---------------------------------------------------------------------------
    def _trace_changed(self) -> None:
        """A detail made for other numbers (another model's session) is dropped."""
        s = self.state
        if s.detail is not None and (
            s.trace is None
            or len(s.detail.token_ids) != s.trace.n_tokens
            or not s.detail.agrees_with(s.trace.resid_post)
        ):
            s.set_detail(None)
        self._position_changed()

    def _position_changed(self, *_args) -> None:
        self._ensure_detail()
        self._schedule()

    def _can_compute(self) -> bool:
        """Whether the loaded model made the shown trace (a session's may come from another)."""
        s = self.state
        if s.model is None:
            return False
        return "session" not in s.source or s.source.get("path") == s.model.path

    def _ensure_detail(self) -> None:
        """Ask the worker for the selected position's values unless they are there."""
        s = self.state
        if not s.walkthrough or s.trace is None or s.current_detail() is not None:
            return
        key = (s.trace, s.token)
        if key in (self._pending, self._failed):
            return
        if not self._can_compute():
            self._failed = key
            return
        self._pending = key
        self._walk_id = self.win._new_id()
        self.win._submit(WalkRequest(self._walk_id, s.trace, (s.token,)))

    def _on_walked(self, request_id: int, detail) -> None:
        if request_id != self._walk_id:
            return
        trace, _ = self._pending
        self._pending = None
        if trace is not self.state.trace:
            return self._ensure_detail()  # the run changed meanwhile
        if not detail.agrees_with(trace.resid_post):
            self._failed = (trace, detail.positions[0])
            return self._schedule()
        self.state.set_detail(detail)
        self._ensure_detail()  # the token may have moved meanwhile

    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id != self._walk_id:
            return
        self._failed, self._pending = self._pending, None
        self.win.statusBar().showMessage(message, 8000)
        self._schedule()

    def status(self) -> str:
        """``ready``, ``waiting``, ``needs_model`` or ``no_trace`` for the view."""
        s = self.state
        if s.trace is None:
            return "no_trace"
        if s.current_detail() is not None:
            return "ready"
        return "needs_model" if self._failed == (s.trace, s.token) else "waiting"

    def context(self) -> WalkContext | None:
        s = self.state
        if s.trace is None:
            return None
        return WalkContext(
            s.trace, s.current_detail(), s.layer, s.head, s.token, s.sampling, s.vocab
        )

    def _schedule(self, *_args) -> None:
        if self.active:
            self._refresh_timer.start(0)

    def refresh(self) -> None:
        """Draw the state's step with the state's numbers."""
        if self.active:
            self.view.show_step(self.state.walk_step, self.context(), self.status())

    # ---- export ----------------------------------------------------------------------------
    def figure_title(self) -> str:
        """Like every figure's: the model (and the shown variant), the prompt, layer, step."""
        s = self.state
        step = self.view.title.text()
        n_layers = s.trace.config["n_layers"]
        layer = tr(T.LAYER_CAPTION, layer=s.layer, n_layers=n_layers)
        return figure_title(s.model_name, s.shown_variant, s.prompt.text, [layer, step])

    def export_step(self, path: str | Path | None = None, width: int | None = None) -> Path | None:
        """Save the current step (formula, tensors, code) as a titled PNG, SVG or PDF."""
        if self.state.trace is None:
            self.win.show_error(self.win.exports.tr(NOTHING), self.win.exports.tr(RUN_FIRST))
            return None
        if path is None:
            suggested = f"llamalens-walkthrough-{STEP_IDS.index(self.state.walk_step) + 1:02d}-"
            suggested += f"{self.state.walk_step}.png"
            path, _ = QFileDialog.getSaveFileName(
                self.win,
                tr(T.EXPORT),
                str(Path.home() / suggested),
                self.win.exports.tr(FIGURE_FILTER),
            )
            if not path:
                return None
        out = export_figure(self.view.figure, path, title=self.figure_title(), width=width)
        self.win.statusBar().showMessage(tr(T.EXPORTED, path=out), 5000)
        return out

    # ---- keys and window events ------------------------------------------------------------
    def handle_key(self, key: int, modifiers) -> bool:
        """A walkthrough key: True when it was used."""
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            if key == Qt.Key.Key_E:
                self.export_step()
                return True
            return False
        if key in STEP_KEYS:
            self.step(STEP_KEYS[key])
        elif key == Qt.Key.Key_Home:
            self.state.set_walk_step(STEP_IDS[0])
        elif key == Qt.Key.Key_End:
            self.state.set_walk_step(STEP_IDS[-1])
        else:
            return False
        return True

    def _ours(self, watched) -> bool:
        """A key event for the walkthrough: the mode is on, in this window, not typing."""
        if not self.active or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self.win:
            return False
        if isinstance(watched, QTextEdit):
            return watched.isReadOnly()
        return not isinstance(watched, TYPING)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.LanguageChange and watched is self.win:
            self.retranslate()
        elif kind == QEvent.Type.Close and watched is self.win and self.active:
            self.state.set_walkthrough(False)  # the window saves the normal layout
        elif kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and self._ours(watched):
            known = event.key() in STEP_KEYS or event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End)
            control = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if kind == QEvent.Type.ShortcutOverride:
                if (known and not control) or (control and event.key() == Qt.Key.Key_E):
                    event.accept()  # ours, not a window shortcut
                    return True
                return False
            if self.handle_key(event.key(), event.modifiers()):
                return True
        return super().eventFilter(watched, event)
