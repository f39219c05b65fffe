"""The LlamaLens inspector window: docks around one InspectorState, one worker thread."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
)

from llamalens.app import i18n
from llamalens.app import settings as app_settings
from llamalens.app.appearance import Appearance
from llamalens.app.export_actions import ExportActions
from llamalens.app.layouts import WindowLayouts
from llamalens.app.map_preparer import MapPreparer
from llamalens.app.menus import build_menus
from llamalens.app.panels.attention_panel import AttentionPanel
from llamalens.app.panels.head_view_panel import AttentionTextPanel, HeadViewPanel
from llamalens.app.panels.heads_panel import HeadGridPanel, HeadStatsPanel
from llamalens.app.panels.lens_panel import LensPanel
from llamalens.app.panels.prompt_panel import PromptPanel
from llamalens.app.panels.rope_panel import RopePanel
from llamalens.app.panels.sampling_panel import SamplingPanel
from llamalens.app.panels.tokens_panel import TokensPanel
from llamalens.app.requests import (
    AdoptRequest,
    AppendRequest,
    GenerateRequest,
    LoadOptions,
    LoadRequest,
    ModelLoaded,
    TraceRequest,
    TraceResult,
)
from llamalens.app.state import InspectorState, PromptSettings
from llamalens.app.walkthrough.mode import WalkthroughMode
from llamalens.app.whatif_actions import WhatIfActions
from llamalens.app.worker import start_worker
from llamalens.model.analysis import Analysis

LAYOUT_VERSION = 1
RUN_KINDS = {
    "run": QT_TRANSLATE_NOOP("MainWindow", "run"),
    "append": QT_TRANSLATE_NOOP("MainWindow", "append"),
    "generate": QT_TRANSLATE_NOOP("MainWindow", "generate"),
}


class MainWindow(QMainWindow):
    """Prompt, tokens, attention, heads, RoPE, sampling and lens panels; model on a worker."""

    submitted = Signal(object)
    model_loaded = Signal(object)  # ModelInfo, after the window has shown it
    run_shown = Signal(object)  # TraceResult, after the panels have been updated
    analysis_shown = Signal(object)  # Analysis, after the panels have been updated
    error_shown = Signal(str)  # the message of the dialog just opened
    cancelled_shown = Signal(int)  # a request stopped at the user's Cancel (Esc)

    def __init__(
        self,
        model: str | None = None,
        device: str | None = None,
        *,
        options: LoadOptions | None = None,
        session: str | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("LlamaLens")
        self.options = options or LoadOptions(device=device)
        self.capture_layers: tuple[int, ...] | None = None  # None: every layer
        self.error_box: QMessageBox | None = None
        self.state = InspectorState(self)
        self.state.language = i18n.default_language()
        i18n.install(self.state.language)
        self.state.language_changed.connect(i18n.install)
        self._next_id = 0
        self._load_id = self._trace_id = -1
        self.texts = i18n.TextBinder("MainWindow")
        self._build_panels()
        self._build_status()
        self.appearance = Appearance(self)
        self.menus = build_menus(self)
        self.exports = ExportActions(self)
        self.layouts = WindowLayouts(self)
        self.resize(self.layouts.open_size())
        self._start_worker()
        self.walkthrough = WalkthroughMode(self)
        self.menus.add_walkthrough(self.walkthrough.action)
        self.menus.add_walkthrough(self.whatif.open_action)  # top of the View menu too
        self._restored = self._restore_layout()
        self.appearance.apply()
        self._present_on_show = app_settings.settings().value(
            "appearance/presentation", False, type=bool
        )
        self._shown_once = False
        self._autorun = session is None  # a session shows its own trace, not a new run
        self.open_model(model)
        if session is not None:
            from llamalens.app.session import open_session

            open_session(self, session)

    # ---- construction ---------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(self)
        self.texts.bind(dock.setWindowTitle, title)
        self.dock_titles[name] = title  # the source: what-if labels translate it again
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_panels(self) -> None:
        s, left, right = (
            self.state,
            Qt.DockWidgetArea.LeftDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self.docks: dict[str, QDockWidget] = {}
        self.dock_titles: dict[str, str] = {}
        self.maps = MapPreparer(self)
        self.attention = AttentionPanel(s, self.maps)
        self.setCentralWidget(self.attention)
        self.prompt = PromptPanel(s)
        self.prompt.run_requested.connect(self.run_prompt)
        self.tokens = TokensPanel(s)
        self.heads = HeadGridPanel(s, self.maps)
        self.stats = HeadStatsPanel(s)
        self.rope = RopePanel(s)
        self.sampling = SamplingPanel(s)
        self.sampling.append_requested.connect(self.append_token)
        self.sampling.generate_requested.connect(self.generate)
        self.lens = LensPanel(s)
        self.head_view = HeadViewPanel(s)
        self.attention_text = AttentionTextPanel(s)
        for panel in (self.head_view, self.attention_text):
            panel.export_requested.connect(lambda w: self.exports.export_dialog(w))
        self._dock(
            QT_TRANSLATE_NOOP("MainWindow", "Prompt"),
            "promptDock",
            self.prompt,
            Qt.DockWidgetArea.TopDockWidgetArea,
        )
        self._dock(
            QT_TRANSLATE_NOOP("MainWindow", "Tokens"),
            "tokensDock",
            self.tokens,
            Qt.DockWidgetArea.TopDockWidgetArea,
        )
        # short titles: tabbed side by side, they fit a 1024-pixel projector in full
        self._dock(QT_TRANSLATE_NOOP("MainWindow", "Heads"), "headsDock", self.heads, left)
        self._dock(QT_TRANSLATE_NOOP("MainWindow", "Statistics"), "statsDock", self.stats, left)
        self._dock(QT_TRANSLATE_NOOP("MainWindow", "Logit lens"), "lensDock", self.lens, left)
        self._dock(QT_TRANSLATE_NOOP("MainWindow", "RoPE"), "ropeDock", self.rope, right)
        self._dock(
            QT_TRANSLATE_NOOP("MainWindow", "Next token"), "samplingDock", self.sampling, right
        )
        self._dock(
            QT_TRANSLATE_NOOP("MainWindow", "Head view"), "headViewDock", self.head_view, right
        )
        self._dock(
            QT_TRANSLATE_NOOP("MainWindow", "Attention as text"),
            "attentionTextDock",
            self.attention_text,
            right,
        )
        self.tabifyDockWidget(self.docks["headsDock"], self.docks["statsDock"])
        self.tabifyDockWidget(self.docks["statsDock"], self.docks["lensDock"])
        self.tabifyDockWidget(self.docks["ropeDock"], self.docks["samplingDock"])
        self.tabifyDockWidget(self.docks["samplingDock"], self.docks["headViewDock"])
        self.tabifyDockWidget(self.docks["headViewDock"], self.docks["attentionTextDock"])
        self.whatif = WhatIfActions(self)
        self.docks["headsDock"].raise_()
        self.docks["ropeDock"].raise_()
        self.splitDockWidget(
            self.docks["promptDock"], self.docks["tokensDock"], Qt.Orientation.Horizontal
        )
        self._default_state = self.saveState(LAYOUT_VERSION)

    def _build_status(self) -> None:
        self.model_label, self.count_label, self.time_label = QLabel(), QLabel(), QLabel()
        self.model_label.setText(self.tr("No model"))
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedWidth(320)
        self.cancel_button = QPushButton()
        self.texts.bind(self.cancel_button.setText, QT_TRANSLATE_NOOP("MainWindow", "Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        bar = self.statusBar()
        for w in (self.model_label, self.count_label, self.time_label):
            bar.addWidget(w)
        self.state.model_changed.connect(self._show_model)
        self.state.trace_changed.connect(self._show_run)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self._set_busy(False)

    def _start_worker(self) -> None:
        self.worker, self.thread = start_worker(self)
        self.submitted.connect(self.worker.handle)
        self.worker.progress.connect(self._on_progress)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.traced.connect(self._on_traced)
        self.worker.analysed.connect(self._on_analysed)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.whatif.connect_worker(self.worker)

    def _restore_layout(self) -> bool:
        """The prompt, geometry and dock layout of the last session; True if there was one."""
        st = app_settings.settings()
        if str(st.value("prompt") or "").strip():
            chat = st.value("chat", False, type=bool)
            self.state.set_prompt(PromptSettings(str(st.value("prompt")), chat))
        if st.value("geometry") is not None:
            self.restoreGeometry(st.value("geometry"))
        if st.value("windowState") is not None:
            return bool(self.restoreState(st.value("windowState"), LAYOUT_VERSION))
        return False

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.layouts.share_docks()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._shown_once:
            return
        self._shown_once = True
        if not self._restored:  # the screen is known now: size the window for it
            self.layouts.place_first()
        self.layouts.fit_to_screen()  # a remembered size from a larger screen shrinks
        if not self._restored:
            self.layouts.share_docks()
        self.layouts.keep_tabs_whole()
        if self._present_on_show:
            self.menus.presentation.setChecked(True)
            self.layouts.set_presentation(True)

    # ---- requests -------------------------------------------------------------------------
    def _submit(self, request) -> None:
        self.worker.note_submitted(request)
        self.submitted.emit(request)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def open_model(self, path: str | None) -> None:
        """Load a checkpoint (None: the default model); the current one stays on error."""
        self._load_id = self._new_id()
        self._pending_path = path
        self._set_busy(
            True,
            self.tr("Loading the default model…")
            if path is None
            else self.tr("Loading {path}…").format(path=path),
        )
        self._submit(LoadRequest(self._load_id, path, self.options))

    @property
    def device(self) -> str | None:
        return self.options.device

    def set_load_options(self, **changes) -> None:
        """Reload the current model with other options (``device=``, ``dtype=``)."""
        self.options = replace(self.options, **changes)
        self.open_model(self.state.model.path if self.state.model else None)

    def set_capture_layers(self, layers: tuple[int, ...] | None) -> None:
        """Capture only these layers from the next run on (None: all); runs again."""
        self.capture_layers = None if layers is None else tuple(sorted(set(layers)))
        if self.state.model is not None and self.state.prompt.text.strip():
            self.run_prompt()

    def set_device(self, device: str | None) -> None:
        self.set_load_options(device=device)

    def run_prompt(self) -> None:
        p = self.state.prompt
        self._trace_id = self._new_id()
        self._set_busy(True, self.tr("Running…"))
        layers, variant = self.capture_layers, self.state.variant
        self._submit(TraceRequest(self._trace_id, p.text, p.chat, p.plain, layers, variant))

    def append_token(self, token: int) -> None:
        self._trace_id = self._new_id()
        self._submit(AppendRequest(self._trace_id, (int(token),)))

    def generate(self, n: int) -> None:
        """Generate up to n tokens with the state's sampling settings."""
        self._trace_id = self._new_id()
        self._set_busy(True, self.tr("Generating {n} tokens…").format(n=n))
        self._submit(GenerateRequest(self._trace_id, n, self.state.sampling))

    def adopt_trace(self, trace) -> None:
        """Appending and generating continue ``trace`` (an opened session) from now on.

        Answers to earlier requests become stale.
        """
        self._trace_id = self._new_id()
        self._submit(AdoptRequest(self._trace_id, trace))

    def cancel(self) -> None:
        """Stop loading, running or generating (the worker stops within one layer)."""
        self.worker.cancel(self._load_id)
        self.worker.cancel(self._trace_id)
        self.whatif.cancel()
        if self.progress_bar.isVisible():
            self.progress_bar.setFormat(self.tr("Cancelling…"))

    # ---- answers --------------------------------------------------------------------------
    def _on_progress(self, request_id: int, fraction: float, message: str) -> None:
        if request_id in (self._load_id, self._trace_id, *self.whatif.request_ids):
            self.progress_bar.setValue(int(fraction * 1000))
            self._progress_text(message)

    def _on_loaded(self, request_id: int, result: ModelLoaded) -> None:
        if request_id != self._load_id:
            return
        info = result.info
        self._set_busy(False)
        if self._pending_path is not None:
            self.menus.set_recent(app_settings.remember_model(self._pending_path))
        source = {
            "name": info.name,
            "path": info.path,
            "format": info.format,
            "device": info.device,
            "quantization": info.quantization,
        }
        self.state.set_model(info, result.tokenizer, source)
        self.model_loaded.emit(info)
        if self.state.prompt.text.strip() and self._autorun:
            self.run_prompt()
        self._autorun = True

    def _on_traced(self, request_id: int, result: TraceResult) -> None:
        if request_id != self._trace_id:
            return  # stale: a newer run was requested
        self.state.set_trace(result.trace, result.run, keep_token=False)
        self.state.set_baseline(result.baseline)
        if result.run.kind != "generate":
            self._set_busy(False)
        self.run_shown.emit(result)

    def _on_analysed(self, request_id: int, analysis: Analysis) -> None:
        if request_id != self._trace_id:
            return
        self._set_busy(False)
        self.state.set_analysis(analysis)
        self.analysis_shown.emit(analysis)

    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._load_id:
            self._set_busy(False)
            model = self.state.model
            kept = self.tr(" Still using {name}.").format(name=model.name) if model else ""
            self.show_error(self.tr("Could not load the model"), message + kept)
        elif request_id == self._trace_id:
            self._set_busy(False)
            self.show_error(self.tr("Could not run"), message)
        elif request_id in self.whatif.request_ids:
            self._set_busy(False)
            self.show_error(self.whatif.failure(request_id), message)

    def _on_cancelled(self, request_id: int) -> None:
        if request_id in (self._load_id, self._trace_id, *self.whatif.request_ids):
            self._set_busy(False)
            what = self.tr("Loading") if request_id == self._load_id else self.tr("The run")
            self.statusBar().showMessage(self.tr("{what} was cancelled.").format(what=what), 5000)
            self.cancelled_shown.emit(request_id)

    # ---- status bar -----------------------------------------------------------------------
    def _show_model(self) -> None:
        s = self.state
        if "session" not in s.source:
            # the name only: the whole line (stored type, device, load time) would widen
            # the status bar past a small screen; it is the tooltip
            self.model_label.setText(s.model.name if s.model else self.tr("No model"))
            self.model_label.setToolTip(s.model.summary() if s.model else "")
            return
        name = s.source["session"]
        loaded = (
            self.tr("no model loaded")
            if s.model is None
            else self.tr("model: {name}").format(name=s.model.name)
        )
        self.model_label.setText(
            self.tr("session: {name} ({loaded})").format(name=name, loaded=loaded)
        )

    def show_status_details(self, on: bool) -> None:
        """The model, token count and run time in the status bar (hidden when presenting)."""
        for label in (self.model_label, self.count_label, self.time_label):
            label.setVisible(on)
        self.statusBar().setVisible(on or self.progress_bar.isVisible())

    def _show_run(self) -> None:
        s = self.state
        self.count_label.setText(self.tr("{n} tokens").format(n=s.trace.n_tokens))
        kind, seconds = s.run.kind, s.run.seconds
        word = self.tr(RUN_KINDS[kind]) if kind in RUN_KINDS else kind
        self.time_label.setText("" if kind == "session" else f"{word} {seconds * 1000:.0f} ms")

    # ---- language -------------------------------------------------------------------------
    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "walkthrough"):
            self.retranslate()  # (a switch during construction is shown once it is built)
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Dock titles, menus, toolbars and the status bar in the current language."""
        self.texts.retranslate()
        self.menus.retranslate()
        self.exports.retranslate()
        self.whatif.show_labels()  # dock titles again with their variant mark
        self._show_model()
        if self.state.trace is not None:
            self._show_run()

    def show_error(self, title: str, message: str) -> None:
        """A non-blocking message box (kept in ``error_box`` for tests)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setObjectName("errorBox")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.error_box = box
        box.open()
        self.error_shown.emit(message)

    def show_bug(self, exc: BaseException, title: str) -> None:
        """An unexpected exception: its traceback to the error log, one short dialog."""
        from llamalens.app.bug_report import user_message

        self.show_error(title, user_message(exc))

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if getattr(self, "layouts", None) is not None and self.layouts.presenting:
            self.statusBar().setVisible(busy)  # presenting: a status bar only for progress
        if busy:
            self.progress_bar.setValue(0)
            self._progress_text(message, percent=False)

    def _progress_text(self, message: str, percent: bool = True) -> None:
        """The message inside the progress bar, shortened in the middle to fit it (the
        whole message is the bar's tooltip)."""
        bar = self.progress_bar
        suffix = "  %p%" if percent else ""
        room = bar.width() - bar.fontMetrics().horizontalAdvance("  100%") - 12
        fitted = bar.fontMetrics().elidedText(message, Qt.TextElideMode.ElideMiddle, room)
        bar.setFormat(fitted.replace("%", "%%") + suffix)
        bar.setToolTip(message)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        st = app_settings.settings()
        presenting = self.layouts.presenting
        if presenting:  # remember the normal layout; presentation returns on the next start
            self.layouts.set_presentation(False)
        st.setValue("geometry", self.saveGeometry())
        st.setValue("windowState", self.saveState(LAYOUT_VERSION))
        st.setValue("appearance/presentation", presenting)
        if self.state.prompt.text.strip():  # the user's text survives a restart
            st.setValue("prompt", self.state.prompt.text)
            st.setValue("chat", self.state.prompt.chat)
        self.cancel()
        self.thread.quit()
        self.thread.wait(30_000)
        self.maps.stop()
        super().closeEvent(event)
