"""Export from every plot: toolbar, Ctrl+E, right-click menus; figures, data, clipboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QToolBar

from llamalens.app.figures import FigureSpec, build_figure, export_spec
from llamalens.app.i18n import TextBinder
from llamalens.app.menus import add_action
from llamalens.viz.export import (
    copy_figure_to_clipboard,
    export_figure,
    render_image,
    save_matrix,
)

FIGURE_FILTER = QT_TRANSLATE_NOOP(
    "ExportActions", "PNG image (*.png);;SVG vector (*.svg);;PDF document (*.pdf)"
)
DATA_FILTER = QT_TRANSLATE_NOOP("ExportActions", "CSV table (*.csv);;NumPy array (*.npy)")
NOTHING = QT_TRANSLATE_NOOP("ExportActions", "Nothing to export")
RUN_FIRST = QT_TRANSLATE_NOOP("ExportActions", "Run a prompt first.")
EXPORT_FIGURE = QT_TRANSLATE_NOOP("ExportActions", "Export Figure…")
COPY_FIGURE = QT_TRANSLATE_NOOP("ExportActions", "Copy Figure")


class ExportActions:
    """Owns the export toolbar and the context menus of the plots of a MainWindow."""

    def __init__(self, win) -> None:
        self.win = win
        self.last_path: Path | None = None
        self.texts = TextBinder("ExportActions")
        bar = QToolBar(win)
        self.texts.bind(bar.setWindowTitle, QT_TRANSLATE_NOOP("ExportActions", "Export"))
        bar.setObjectName("exportToolbar")
        win.addToolBar(bar)
        self.export_action = self._action(
            bar,
            EXPORT_FIGURE,
            QKeySequence("Ctrl+E"),
            lambda: self.export_dialog(self.win.attention.map),
        )
        self._action(
            bar,
            COPY_FIGURE,
            QKeySequence("Ctrl+Shift+C"),
            lambda: self.copy(self.win.attention.map),
        )
        self._action(
            bar,
            QT_TRANSLATE_NOOP("ExportActions", "Export Map Data…"),
            QKeySequence("Ctrl+Shift+E"),
            self.export_data,
        )
        self._action(
            bar,
            QT_TRANSLATE_NOOP("ExportActions", "Export Layer Grid…"),
            QKeySequence("Ctrl+Alt+G"),
            lambda: self.export_built("grid"),
        )
        self._action(
            bar,
            QT_TRANSLATE_NOOP("ExportActions", "Export All Layers × Heads…"),
            QKeySequence("Ctrl+Alt+L"),
            lambda: self.export_built("sheet"),
        )
        for widget in self.plots():
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(
                lambda pos, w=widget: self._context_menu(w, pos)
            )

    def _action(self, bar, text, keys, slot) -> QAction:
        act = add_action(self.win, bar, "", keys, slot)
        self.texts.bind(act.setText, text)
        return act

    def retranslate(self) -> None:
        """The toolbar's texts in the current language."""
        self.texts.retranslate()

    def tr(self, text: str) -> str:
        """``text`` (a source marked for the ExportActions context) in the current language."""
        return self.texts.tr(text)

    def plots(self) -> list:
        w = self.win
        return [w.attention.map, w.heads.grid, w.rope.plane, w.sampling.bars]

    def _context_menu(self, widget, pos) -> None:
        menu = QMenu(widget)
        menu.addAction(self.tr(EXPORT_FIGURE), lambda: self.export_dialog(widget))
        menu.addAction(self.tr(COPY_FIGURE), lambda: self.copy(widget))
        if widget is self.win.attention.map:
            menu.addAction(
                self.tr(QT_TRANSLATE_NOOP("ExportActions", "Export Map Data (CSV / NPY)…")),
                self.export_data,
            )
        menu.popup(widget.mapToGlobal(pos))
        self.win.context_menu = menu  # for tests

    def spec(self, what: str = "map") -> FigureSpec:
        """The figure of the state's selection, colours and appearance."""
        s = self.win.state
        d = s.display
        return FigureSpec(
            what=what,
            layer=s.layer,
            head=s.head,
            stage=s.stage,
            query=s.token,
            key=s.key,
            theme=self.win.appearance.theme,
            colormap=d.colormap,
            scale=d.scale,
            gamma=d.gamma,
            model_name=s.model_name,
            prompt=s.prompt.text,
            variant=s.shown_variant,
        )

    def _ask(self, caption: str, filters: str, suggested: str) -> Path | None:
        start = str((self.last_path.parent if self.last_path else Path.home()) / suggested)
        path, _ = QFileDialog.getSaveFileName(self.win, caption, start, filters)
        return Path(path) if path else None

    def export_dialog(self, widget) -> None:
        if self.win.state.trace is None:
            return self.win.show_error(self.tr(NOTHING), self.tr(RUN_FIRST))
        caption = self.tr(QT_TRANSLATE_NOOP("ExportActions", "Export figure"))
        path = self._ask(caption, self.tr(FIGURE_FILTER), self._suggest("png"))
        if not path:
            return None
        width = None
        if path.suffix.lower() == ".png":
            width, ok = QInputDialog.getInt(
                self.win,
                self.tr(QT_TRANSLATE_NOOP("ExportActions", "PNG width")),
                self.tr(QT_TRANSLATE_NOOP("ExportActions", "Width in pixels:")),
                2 * widget.width(),
                16,
                20000,
                100,
            )
            if not ok:
                return None
        self.export(widget, path, width)

    def what_of(self, widget) -> str | None:
        """The figure a plot of the window stands for (None: the widget as it is drawn)."""
        return {
            self.win.attention.map: "map",
            self.win.rope.plane: "rope",
            self.win.sampling.bars: "logits",
            self.win.heads.grid: "grid",
        }.get(widget)

    def export(self, widget, path: Path, width: int | None = None) -> Path:
        """Write the figure of a plot of the window (what the File dialog and tests use).

        The figure is built afresh from the state, as ``llamalens export`` builds it: no
        hover hints, no live controls, no selection outlines.
        """
        s = self.win.state
        try:
            what = self.what_of(widget)
            if what is None:  # the head view, the coloured text: figures as they are drawn
                title = self.spec().figure_title()
                out = export_figure(widget, path, title=title, width=width)
            else:
                out = export_spec(self.spec(what), s.trace, s.vocab, path, width=width)
        except (OSError, ValueError) as exc:
            self.win.show_error(
                self.tr(QT_TRANSLATE_NOOP("ExportActions", "Could not export")), str(exc)
            )
            raise
        self.last_path = out
        exported = self.tr(QT_TRANSLATE_NOOP("ExportActions", "Exported {path}"))
        self.win.statusBar().showMessage(exported.format(path=out), 5000)
        return out

    def export_built(self, what: str, path: Path | None = None) -> Path | None:
        """Render a grid (one layer) or sheet (all layers × heads) figure and export it."""
        s = self.win.state
        if s.trace is None:
            self.win.show_error(self.tr(NOTHING), self.tr(RUN_FIRST))
            return None
        caption = self.tr(QT_TRANSLATE_NOOP("ExportActions", "Export figure"))
        path = path or self._ask(caption, self.tr(FIGURE_FILTER), self._suggest("png", what))
        if not path:
            return None
        return export_spec(self.spec(what), s.trace, s.vocab, path)

    def copy(self, widget) -> None:
        """The figure of a plot of the window, on the clipboard (twice its size)."""
        from PySide6.QtWidgets import QApplication

        s = self.win.state
        if s.trace is None:
            return
        what = self.what_of(widget)
        if what is None:
            copy_figure_to_clipboard(widget, title=self.spec().figure_title())
            copied = QT_TRANSLATE_NOOP("ExportActions", "Figure copied to the clipboard")
            self.win.statusBar().showMessage(self.tr(copied), 5000)
            return
        spec = self.spec(what)
        figure = build_figure(spec, s.trace, s.vocab)
        try:
            image = render_image(figure, title=spec.figure_title())
        finally:
            figure.close()
        QApplication.clipboard().setImage(image)
        copied = QT_TRANSLATE_NOOP("ExportActions", "Figure copied to the clipboard")
        self.win.statusBar().showMessage(self.tr(copied), 5000)

    def export_data(self, path: Path | None = None) -> Path | None:
        s = self.win.state
        if s.trace is None:
            self.win.show_error(self.tr(NOTHING), self.tr(RUN_FIRST))
            return None
        caption = self.tr(QT_TRANSLATE_NOOP("ExportActions", "Export map data"))
        path = path or self._ask(caption, self.tr(DATA_FILTER), self._suggest("csv"))
        if not path:
            return None
        labels = s.trace.token_strs
        return save_matrix(s.current_map(), path, row_labels=labels, col_labels=labels)

    def _suggest(self, suffix: str, what: str = "map") -> str:
        return f"{self.spec(what).file_stem()}.{suffix}"
