"""The first LlamaLens window: load a model, type a prompt, see tokens and next tokens."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.worker import LoadRequest, ModelInfo, RunRequest, RunResult, start_worker
from viz.logit_bars import LogitBars
from viz.token_strip import TokenStrip

DEFAULT_PROMPT = "The capital of France is"


class MainWindow(QMainWindow):
    """Prompt editor, token chips and the top next tokens; all model work on the worker."""

    submitted = Signal(object)
    model_loaded = Signal(object)  # ModelInfo, after the window has shown it
    run_shown = Signal(object)  # RunResult, after the panels have been updated
    error_shown = Signal(str)  # the message of the dialog just opened

    def __init__(self, model: str | None = None, device: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("LlamaLens")
        self.resize(1100, 750)
        self.device = device
        self.info: ModelInfo | None = None
        self.last_result: RunResult | None = None
        self.error_box: QMessageBox | None = None
        self._next_id = 0
        self._load_id = self._run_id = -1
        self._build_widgets()
        self._build_menus()
        self.worker, self.thread = start_worker(self)
        self.submitted.connect(self.worker.handle)
        self.worker.progress.connect(self._on_progress)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.ran.connect(self._on_ran)
        self.worker.failed.connect(self._on_failed)
        self.open_model(model)

    # ---- layout -------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.prompt_edit = QPlainTextEdit(DEFAULT_PROMPT)
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("Type a prompt, then press Ctrl+Enter")
        self.prompt_edit.installEventFilter(self)
        self.chat_check = QCheckBox("Chat template")
        self.chat_check.setObjectName("chatCheck")
        self.chat_check.setToolTip("Wrap the prompt as a user message in the model's chat format")
        self.run_button = QPushButton("Run  (Ctrl+Enter)")
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.run_prompt)
        row = QHBoxLayout()
        row.addWidget(self.chat_check)
        row.addStretch(1)
        row.addWidget(self.run_button)
        top = QWidget()
        lay = QVBoxLayout(top)
        lay.addWidget(QLabel("Prompt"))
        lay.addWidget(self.prompt_edit)
        lay.addLayout(row)
        self.token_strip = TokenStrip()
        self.token_label = QLabel("Tokens")
        tokens = QWidget()
        tl = QVBoxLayout(tokens)
        tl.addWidget(self.token_label)
        tl.addWidget(self.token_strip)
        self.logit_bars = LogitBars()
        bars = QWidget()
        bl = QVBoxLayout(bars)
        bl.addWidget(QLabel("Most likely next tokens"))
        bl.addWidget(self.logit_bars)
        split = QSplitter(Qt.Orientation.Vertical)
        for w in (top, tokens, bars):
            split.addWidget(w)
        split.setSizes([180, 200, 370])
        self.setCentralWidget(split)
        self._build_status()

    def _build_status(self) -> None:
        self.model_label = QLabel("No model")
        self.count_label = QLabel("")
        self.time_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel_load)
        bar = self.statusBar()
        for w in (self.model_label, self.count_label, self.time_label):
            bar.addWidget(w)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self._set_busy(False)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open Checkpoint File…", QKeySequence.StandardKey.Open,
                     self.choose_file)
        self._action(file_menu, "Open Checkpoint &Folder…", "Ctrl+Shift+O", self.choose_folder)
        self._action(file_menu, "Open &Default Model", None, lambda: self.open_model(None))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        run_menu = self.menuBar().addMenu("&Run")
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            act = QAction(self)
            act.setShortcut(keys)
            act.triggered.connect(self.run_prompt)
            self.addAction(act)
        self._action(run_menu, "&Run Prompt\tCtrl+Enter", None, self.run_prompt)

    def _action(self, menu, text, keys, slot) -> QAction:
        act = QAction(text, self)
        if keys is not None:
            act.setShortcut(keys)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    # ---- requests -----------------------------------------------------------------------
    def _submit(self, request) -> None:
        self.worker.note_submitted(request)
        self.submitted.emit(request)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def open_model(self, path: str | None) -> None:
        """Load a checkpoint (None: the default model) on the worker; keeps the old on error."""
        self._load_id = self._new_id()
        self._set_busy(True, "Loading the default model…" if path is None else f"Loading {path}…")
        self._submit(LoadRequest(self._load_id, path, self.device))

    def run_prompt(self) -> None:
        """Tokenize the prompt and predict the next token (on the worker)."""
        self._run_id = self._new_id()
        self.time_label.setText("running…")
        self._submit(RunRequest(self._run_id, self.prompt_edit.toPlainText(),
                                self.chat_check.isChecked()))

    def cancel_load(self) -> None:
        self.worker.cancel(self._load_id)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open checkpoint", "", "Checkpoints (*.gguf *.safetensors *.pth *.json);;"
            "All files (*)")
        if path:
            self.open_model(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open checkpoint folder")
        if path:
            self.open_model(path)

    # ---- answers ------------------------------------------------------------------------
    def _on_progress(self, request_id: int, fraction: float, message: str) -> None:
        if request_id == self._load_id:
            self.progress_bar.setValue(int(fraction * 1000))
            self.progress_bar.setFormat(f"{message}  %p%")
            self.statusBar().showMessage(message)

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._load_id:
            return
        self.info = info
        self._set_busy(False)
        self.statusBar().clearMessage()
        self.model_label.setText(f"{info.name} · {info.format} · {info.device} {info.dtype} · "
                                 f"loaded in {info.load_seconds:.1f} s")
        self.chat_check.setEnabled(info.has_chat)
        self.model_loaded.emit(info)
        if self.prompt_edit.toPlainText().strip():
            self.run_prompt()

    def _on_ran(self, request_id: int, result: RunResult) -> None:
        if request_id != self._run_id:
            return  # stale: a newer run was requested
        self.last_result = result
        self.token_strip.set_tokens(result.texts, result.ids, result.byte_hex, result.special)
        dropped = (f" · {len(result.dropped)} byte(s) without a token dropped"
                   if result.dropped else "")
        self.token_label.setText(f"Tokens ({len(result.ids)}){dropped}")
        self.count_label.setText(f"{len(result.ids)} tokens")
        self.time_label.setText(f"run {result.seconds * 1000:.0f} ms")
        self.logit_bars.set_bars(result.top_texts, result.top_probs)
        self.run_shown.emit(result)

    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._load_id:
            self._set_busy(False)
            kept = f" Still using {self.info.name}." if self.info else ""
            self.show_error("Could not load the model", message + kept)
        elif request_id == self._run_id:
            self.time_label.setText("")
            self.show_error("Could not run the prompt", message)

    def show_error(self, title: str, message: str) -> None:
        """A non-blocking message box (kept in ``error_box`` for tests)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setObjectName("errorBox")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.error_box = box
        box.open()
        self.error_shown.emit(message)

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress_bar.setValue(0)
            self.statusBar().showMessage(message)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """Ctrl+Enter in the prompt runs it (the editor would otherwise take the key)."""
        if (watched is self.prompt_edit and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.run_prompt()
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.worker.cancel(self._load_id)
        self.thread.quit()
        self.thread.wait(10_000)
        super().closeEvent(event)


def create_main_window(model: str | None = None, device: str | None = None) -> MainWindow:
    """Build the main window and start loading ``model`` (a path, or None for the default)."""
    return MainWindow(model, device)


def run_app(model: str | None = None, device: str | None = None) -> int:
    """Start Qt, show the window, run the event loop."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LlamaLens")
    app.setOrganizationName("LlamaLens")
    window = create_main_window(model, None if device == "auto" else device)
    window.show()
    return app.exec()
