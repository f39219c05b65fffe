"""Menus and window-level actions of the main window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from llamalens.app import session
from llamalens.app import settings as app_settings

SHORTCUTS = [
    ("Ctrl+Enter", "run the prompt"),
    ("← / →", "previous / next head"),
    ("↑ / ↓", "previous / next layer"),
    ("Tab / Shift+Tab", "next / previous stage (raw, masked, softmax)"),
    ("Home / End", "first / last head"),
    ("Ctrl+Home / Ctrl+End", "first / last layer"),
    ("click a map cell", "select query (row) and key (column) tokens"),
    ("Ctrl+O / Ctrl+Shift+O", "open a checkpoint file / folder"),
    ("Ctrl+S / Ctrl+Alt+O", "save / open a session (trace, view, analysis)"),
    ("Esc", "cancel loading or running"),
    ("Ctrl+E", "export the attention map as PNG, SVG or PDF"),
    ("Ctrl+Shift+C", "copy the attention map figure"),
    ("Ctrl+Shift+E", "export the map's numbers (CSV, NPY)"),
    ("Ctrl+Alt+G / Ctrl+Alt+L", "export all heads of the layer / all layers × heads"),
    ("F11", "presentation mode (fullscreen, large fonts)"),
    ("F1", "this sheet"),
    ("Ctrl+Q", "quit"),
]
DEVICES = (("Automatic", None), ("CPU", "cpu"), ("CUDA", "cuda"), ("Apple MPS", "mps"))
PRECISIONS = (
    ("Automatic (fp32)", None),
    ("fp32: exact", "fp32"),
    ("bf16: half the memory", "bf16"),
    ("fp16", "fp16"),
)


def add_action(owner, container, text: str, keys, slot) -> QAction:
    """A QAction with an optional shortcut, added to a menu or toolbar."""
    act = QAction(text, owner)
    if keys is not None:
        act.setShortcut(keys)
    act.triggered.connect(slot)
    container.addAction(act)
    return act


class Menus:
    """Builds the menu bar; keeps the recent-models menu up to date."""

    def __init__(self, win) -> None:
        self.win = win
        bar = win.menuBar()
        self.file = bar.addMenu("&File")
        self._action(
            self.file, "&Open Checkpoint File…", QKeySequence.StandardKey.Open, self.choose_file
        )
        self._action(self.file, "Open Checkpoint &Folder…", "Ctrl+Shift+O", self.choose_folder)
        self._action(self.file, "Open &Default Model", None, lambda: win.open_model(None))
        self.recent = self.file.addMenu("&Recent Models")
        self.file.addSeparator()
        self._action(self.file, "Open &Session…", "Ctrl+Alt+O", lambda: session.choose_open(win))
        self._action(
            self.file,
            "&Save Session…",
            QKeySequence.StandardKey.Save,
            lambda: session.choose_save(win),
        )
        self.file.addSeparator()
        self._action(self.file, "&Quit", QKeySequence.StandardKey.Quit, win.close)
        run = bar.addMenu("&Run")
        self._action(run, "&Run Prompt", "Ctrl+Return", win.run_prompt)
        self._action(run, "&Cancel", "Esc", win.cancel)
        self._action(run, "Capture &Layers…", None, self.choose_layers)
        self._device_menu(bar.addMenu("&Model"))
        view = bar.addMenu("&View")
        for dock in win.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._appearance_menu(view)
        view.addSeparator()
        self._action(view, "&Reset Layout", None, win.reset_layout)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", "F1", self.show_shortcuts)
        self.set_recent(app_settings.recent_models())

    def _action(self, menu, text, keys, slot) -> QAction:
        return add_action(self.win, menu, text, keys, slot)

    def _device_menu(self, menu) -> None:
        self._choices(menu.addMenu("&Device"), DEVICES, "device")
        self._choices(menu.addMenu("&Precision"), PRECISIONS, "dtype")

    def _choices(self, sub, choices, option: str) -> None:
        """Exclusive actions that reload the model with another ``option`` value."""
        group = QActionGroup(self.win)
        current = getattr(self.win.options, option)
        for label, value in choices:
            act = QAction(label, self.win, checkable=True)
            act.setChecked(value == current)
            act.triggered.connect(
                lambda _c=False, v=value: self.win.set_load_options(**{option: v})
            )
            group.addAction(act)
            sub.addAction(act)

    def _appearance_menu(self, view) -> None:
        from llamalens.app.appearance import SCALES, THEMES

        look = self.win.appearance
        self.presentation = self._action(
            view, "&Presentation Mode", "F11", lambda on: look.set_presentation(on)
        )
        self.presentation.setCheckable(True)
        themes = view.addMenu("&Theme")
        group = QActionGroup(self.win)
        for name in THEMES:
            act = QAction(name.capitalize(), self.win, checkable=True)
            act.setChecked(name == look.theme)
            act.triggered.connect(lambda _c=False, n=name: look.set_theme(n))
            group.addAction(act)
            themes.addAction(act)
        scales = view.addMenu("UI &Scale")
        group = QActionGroup(self.win)
        for scale in SCALES:
            act = QAction(f"{scale:.0%}", self.win, checkable=True)
            act.setChecked(abs(scale - look.scale) < 1e-6)
            act.triggered.connect(lambda _c=False, s=scale: look.set_scale(s))
            group.addAction(act)
            scales.addAction(act)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            act = self.recent.addAction(path)
            act.triggered.connect(lambda _c=False, p=path: self.win.open_model(p))
        self.recent.setEnabled(bool(paths))

    def choose_layers(self) -> None:
        """Ask which layers to capture (a long prompt's trace grows with every layer)."""
        from PySide6.QtWidgets import QInputDialog

        from llamalens.model.trace_io import parse_layers

        model = self.win.state.model
        if model is None:
            self.win.show_error("No model", "Open a model first.")
            return
        current = self.win.capture_layers
        shown = "all" if current is None else ",".join(map(str, current))
        spec, ok = QInputDialog.getText(
            self.win,
            "Capture layers",
            f"Layers to capture (0..{model.n_layers - 1}), e.g. 0-3,10 or all:",
            text=shown,
        )
        if not ok:
            return
        try:
            layers = parse_layers(spec, model.n_layers)
        except ValueError as exc:
            self.win.show_error("Capture layers", str(exc))
            return
        full = len(layers) == model.n_layers
        self.win.set_capture_layers(None if full else tuple(layers))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.win,
            "Open checkpoint",
            "",
            "Checkpoints (*.gguf *.safetensors *.pth *.json);;All files (*)",
        )
        if path:
            self.win.open_model(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.win, "Open checkpoint folder")
        if path:
            self.win.open_model(path)

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Keyboard shortcuts",
            f"<table>{rows}</table>",
            parent=self.win,
        )
        box.setObjectName("shortcutsBox")
        box.open()
        self.win.shortcuts_box = box


def build_menus(win) -> Menus:
    return Menus(win)
