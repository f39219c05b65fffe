"""Menus and window-level actions of the main window."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from llamalens.app import session
from llamalens.app import settings as app_settings
from llamalens.app.i18n import LANGUAGE_NAMES, LANGUAGES, TextBinder

SHORTCUTS = [
    ("Ctrl+Enter", QT_TRANSLATE_NOOP("Menus", "run the prompt")),
    ("← / →", QT_TRANSLATE_NOOP("Menus", "previous / next head")),
    ("↑ / ↓", QT_TRANSLATE_NOOP("Menus", "previous / next layer")),
    ("Tab / Shift+Tab", QT_TRANSLATE_NOOP("Menus", "next / previous stage (raw, masked, softmax)")),
    (
        "PgDn / PgUp",
        QT_TRANSLATE_NOOP(
            "Menus", "next / previous head, on into the next layer (presenter remotes)"
        ),
    ),
    ("Home / End", QT_TRANSLATE_NOOP("Menus", "first / last head")),
    ("Ctrl+Home / Ctrl+End", QT_TRANSLATE_NOOP("Menus", "first / last layer")),
    (
        QT_TRANSLATE_NOOP("Menus", "click a map cell"),
        QT_TRANSLATE_NOOP("Menus", "select query (row) and key (column) tokens"),
    ),
    ("Ctrl+O / Ctrl+Shift+O", QT_TRANSLATE_NOOP("Menus", "open a checkpoint file / folder")),
    (
        "Ctrl+S / Ctrl+Alt+O",
        QT_TRANSLATE_NOOP("Menus", "save / open a session (trace, view, analysis)"),
    ),
    ("Esc", QT_TRANSLATE_NOOP("Menus", "cancel loading or running")),
    ("Ctrl+E", QT_TRANSLATE_NOOP("Menus", "export the attention map as PNG, SVG or PDF")),
    ("Ctrl+Shift+C", QT_TRANSLATE_NOOP("Menus", "copy the attention map figure")),
    ("Ctrl+Shift+E", QT_TRANSLATE_NOOP("Menus", "export the map's numbers (CSV, NPY)")),
    (
        "Ctrl+Alt+G / Ctrl+Alt+L",
        QT_TRANSLATE_NOOP("Menus", "export all heads of the layer / all layers × heads"),
    ),
    ("F11", QT_TRANSLATE_NOOP("Menus", "presentation mode (fullscreen, large fonts)")),
    ("F5", QT_TRANSLATE_NOOP("Menus", "walkthrough of one forward pass")),
    ("Ctrl+Shift+W", QT_TRANSLATE_NOOP("Menus", "open the what-if panels")),
    ("→ Space PgDn / ← PgUp", QT_TRANSLATE_NOOP("Menus", "walkthrough: next / previous step")),
    ("Home / End", QT_TRANSLATE_NOOP("Menus", "walkthrough: first / last step")),
    ("F1", QT_TRANSLATE_NOOP("Menus", "this sheet")),
    ("Ctrl+Q", QT_TRANSLATE_NOOP("Menus", "quit")),
]
DEVICES = (
    (QT_TRANSLATE_NOOP("Menus", "Automatic"), None),
    ("CPU", "cpu"),
    ("CUDA", "cuda"),
    ("Apple MPS", "mps"),
)
PRECISIONS = (
    (QT_TRANSLATE_NOOP("Menus", "Automatic (fp32)"), None),
    (QT_TRANSLATE_NOOP("Menus", "fp32: exact"), "fp32"),
    (QT_TRANSLATE_NOOP("Menus", "bf16: half the memory"), "bf16"),
    ("fp16", "fp16"),
)
THEME_NAMES = {
    "light": QT_TRANSLATE_NOOP("Menus", "Light"),
    "dark": QT_TRANSLATE_NOOP("Menus", "Dark"),
}


def add_action(owner, container, text: str, keys, slot) -> QAction:
    """A QAction with an optional shortcut, added to a menu or toolbar."""
    act = QAction(text, owner)
    if keys is not None:
        act.setShortcut(keys)
    act.triggered.connect(slot)
    container.addAction(act)
    return act


class Menus:
    """Builds the menu bar; keeps the recent-models menu up to date.

    Every text is bound to its translatable source (:class:`~llamalens.app.i18n.TextBinder`)
    and set again by :meth:`retranslate` when the language changes.
    """

    def __init__(self, win) -> None:
        self.win = win
        self.texts = TextBinder("Menus")
        bar = win.menuBar()
        self.file = self._menu(bar, QT_TRANSLATE_NOOP("Menus", "&File"))
        self._action(
            self.file,
            QT_TRANSLATE_NOOP("Menus", "&Open Checkpoint File…"),
            QKeySequence.StandardKey.Open,
            self.choose_file,
        )
        self._action(
            self.file,
            QT_TRANSLATE_NOOP("Menus", "Open Checkpoint &Folder…"),
            "Ctrl+Shift+O",
            self.choose_folder,
        )
        self._action(
            self.file,
            QT_TRANSLATE_NOOP("Menus", "Open &Default Model"),
            None,
            lambda: win.open_model(None),
        )
        self.recent = self._menu(self.file, QT_TRANSLATE_NOOP("Menus", "&Recent Models"))
        self.file.addSeparator()
        self._action(
            self.file,
            QT_TRANSLATE_NOOP("Menus", "Open &Session…"),
            "Ctrl+Alt+O",
            lambda: session.choose_open(win),
        )
        self._action(
            self.file,
            QT_TRANSLATE_NOOP("Menus", "&Save Session…"),
            QKeySequence.StandardKey.Save,
            lambda: session.choose_save(win),
        )
        self.file.addSeparator()
        self._action(
            self.file, QT_TRANSLATE_NOOP("Menus", "&Quit"), QKeySequence.StandardKey.Quit, win.close
        )
        run = self._menu(bar, QT_TRANSLATE_NOOP("Menus", "&Run"))
        self._action(run, QT_TRANSLATE_NOOP("Menus", "&Run Prompt"), "Ctrl+Return", win.run_prompt)
        self._action(run, QT_TRANSLATE_NOOP("Menus", "&Cancel"), "Esc", win.cancel)
        self._action(run, QT_TRANSLATE_NOOP("Menus", "Capture &Layers…"), None, self.choose_layers)
        self._device_menu(self._menu(bar, QT_TRANSLATE_NOOP("Menus", "&Model")))
        view = self._menu(bar, QT_TRANSLATE_NOOP("Menus", "&View"))
        self.view_menu = view
        for dock in win.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._appearance_menu(view)
        self._language_menu(view)
        view.addSeparator()
        self._action(view, QT_TRANSLATE_NOOP("Menus", "&Reset Layout"), None, win.reset_layout)
        help_menu = self._menu(bar, QT_TRANSLATE_NOOP("Menus", "&Help"))
        self._action(
            help_menu, QT_TRANSLATE_NOOP("Menus", "&Keyboard Shortcuts"), "F1", self.show_shortcuts
        )
        self.set_recent(app_settings.recent_models())

    def retranslate(self) -> None:
        """Every menu and action text in the current language."""
        self.texts.retranslate()

    def _menu(self, parent, title: str):
        menu = parent.addMenu("")
        self.texts.bind(menu.setTitle, title)
        return menu

    def page(self, delta: int) -> None:
        """A presenter remote's PageDown / PageUp: the walkthrough's next step while it is
        on, else the next head (on into the next layer)."""
        walkthrough = getattr(self.win, "walkthrough", None)
        if walkthrough is not None and walkthrough.active:
            walkthrough.step(delta)
        else:
            self.win.state.advance(delta)

    def _action(self, menu, text, keys, slot) -> QAction:
        act = add_action(self.win, menu, "", keys, slot)
        self.texts.bind(act.setText, text)
        return act

    def _device_menu(self, menu) -> None:
        self._choices(self._menu(menu, QT_TRANSLATE_NOOP("Menus", "&Device")), DEVICES, "device")
        self._choices(
            self._menu(menu, QT_TRANSLATE_NOOP("Menus", "&Precision")), PRECISIONS, "dtype"
        )

    def _choices(self, sub, choices, option: str) -> None:
        """Exclusive actions that reload the model with another ``option`` value."""
        group = QActionGroup(self.win)
        current = getattr(self.win.options, option)
        for label, value in choices:
            act = QAction(self.win, checkable=True)
            self.texts.bind(act.setText, label)
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
            view,
            QT_TRANSLATE_NOOP("Menus", "&Presentation Mode"),
            "F11",
            lambda on: self.win.layouts.set_presentation(on),
        )
        self.presentation.setCheckable(True)
        self._action(view, QT_TRANSLATE_NOOP("Menus", "&Next Head"), "PgDown", lambda: self.page(1))
        self._action(
            view, QT_TRANSLATE_NOOP("Menus", "Pre&vious Head"), "PgUp", lambda: self.page(-1)
        )
        themes = self._menu(view, QT_TRANSLATE_NOOP("Menus", "&Theme"))
        group = QActionGroup(self.win)
        for name in THEMES:
            act = QAction(self.win, checkable=True)
            self.texts.bind(act.setText, THEME_NAMES.get(name, name))
            act.setChecked(name == look.theme)
            act.triggered.connect(lambda _c=False, n=name: look.set_theme(n))
            group.addAction(act)
            themes.addAction(act)
        scales = self._menu(view, QT_TRANSLATE_NOOP("Menus", "UI &Scale"))
        group = QActionGroup(self.win)
        for scale in SCALES:
            act = QAction(f"{scale:.0%}", self.win, checkable=True)
            act.setChecked(abs(scale - look.scale) < 1e-6)
            act.triggered.connect(lambda _c=False, s=scale: look.set_scale(s))
            group.addAction(act)
            scales.addAction(act)

    def _language_menu(self, view) -> None:
        """View ▸ Language: one checkable action per shipped language (data: its locale)."""
        state = self.win.state
        self.language_menu = self._menu(view, QT_TRANSLATE_NOOP("Menus", "&Language"))
        group = QActionGroup(self.win)
        group.setObjectName("languageGroup")
        for locale in LANGUAGES:
            act = QAction(LANGUAGE_NAMES[locale], self.win, checkable=True)
            act.setData(locale)
            act.setChecked(locale == state.language)
            act.triggered.connect(lambda _c=False, loc=locale: state.set_language(loc))
            group.addAction(act)
            self.language_menu.addAction(act)
        self.language_group = group

        def check(locale: str) -> None:
            for act in group.actions():
                act.setChecked(act.data() == locale)

        state.language_changed.connect(check)

    def add_walkthrough(self, action: QAction) -> None:
        """The walkthrough toggle, at the top of the View menu."""
        first = self.view_menu.actions()[0]
        self.view_menu.insertAction(first, action)
        self.view_menu.insertSeparator(first)

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

        tr = self.texts.tr
        model = self.win.state.model
        if model is None:
            self.win.show_error(
                tr(QT_TRANSLATE_NOOP("Menus", "No model")),
                tr(QT_TRANSLATE_NOOP("Menus", "Open a model first.")),
            )
            return
        current = self.win.capture_layers
        shown = "all" if current is None else ",".join(map(str, current))
        title = tr(QT_TRANSLATE_NOOP("Menus", "Capture layers"))
        prompt = tr(
            QT_TRANSLATE_NOOP("Menus", "Layers to capture (0..{last}), e.g. 0-3,10 or all:")
        )
        spec, ok = QInputDialog.getText(
            self.win, title, prompt.format(last=model.n_layers - 1), text=shown
        )
        if not ok:
            return
        try:
            layers = parse_layers(spec, model.n_layers)
        except ValueError as exc:
            self.win.show_error(title, str(exc))
            return
        full = len(layers) == model.n_layers
        self.win.set_capture_layers(None if full else tuple(layers))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.win,
            self.texts.tr(QT_TRANSLATE_NOOP("Menus", "Open checkpoint")),
            "",
            self.texts.tr(
                QT_TRANSLATE_NOOP(
                    "Menus", "Checkpoints (*.gguf *.safetensors *.pth *.json);;All files (*)"
                )
            ),
        )
        if path:
            self.win.open_model(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.win, self.texts.tr(QT_TRANSLATE_NOOP("Menus", "Open checkpoint folder"))
        )
        if path:
            self.win.open_model(path)

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{self.texts.tr(k)}</b></td><td>&nbsp;&nbsp;{self.texts.tr(v)}</td></tr>"
            for k, v in SHORTCUTS
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.texts.tr(QT_TRANSLATE_NOOP("Menus", "Keyboard shortcuts")),
            f"<table>{rows}</table>",
            parent=self.win,
        )
        box.setObjectName("shortcutsBox")
        box.open()
        self.win.shortcuts_box = box


def build_menus(win) -> Menus:
    return Menus(win)
