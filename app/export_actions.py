"""Export from every plot: toolbar, Ctrl+E, right-click menus; figures, data, clipboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QToolBar

from llamalens.app.figures import FigureSpec, build_figure
from llamalens.app.menus import add_action
from llamalens.viz.export import copy_figure_to_clipboard, export_figure, save_matrix

FIGURE_FILTER = "PNG image (*.png);;SVG vector (*.svg);;PDF document (*.pdf)"
DATA_FILTER = "CSV table (*.csv);;NumPy array (*.npy)"


class ExportActions:
    """Owns the export toolbar and the context menus of the plots of a MainWindow."""

    def __init__(self, win) -> None:
        self.win = win
        self.last_path: Path | None = None
        bar = QToolBar("Export", win)
        bar.setObjectName("exportToolbar")
        win.addToolBar(bar)
        self.export_action = self._action(
            bar,
            "Export Figure…",
            QKeySequence("Ctrl+E"),
            lambda: self.export_dialog(self.win.attention.map),
        )
        self._action(
            bar,
            "Copy Figure",
            QKeySequence("Ctrl+Shift+C"),
            lambda: self.copy(self.win.attention.map),
        )
        self._action(bar, "Export Map Data…", QKeySequence("Ctrl+Shift+E"), self.export_data)
        self._action(
            bar, "Export Layer Grid…", QKeySequence("Ctrl+Alt+G"), lambda: self.export_built("grid")
        )
        self._action(
            bar,
            "Export All Layers × Heads…",
            QKeySequence("Ctrl+Alt+L"),
            lambda: self.export_built("sheet"),
        )
        for widget in self.plots():
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(
                lambda pos, w=widget: self._context_menu(w, pos)
            )

    def _action(self, bar, text, keys, slot) -> QAction:
        return add_action(self.win, bar, text, keys, slot)

    def plots(self) -> list:
        w = self.win
        return [w.attention.map, w.heads.grid, w.rope.plane, w.sampling.bars]

    def _context_menu(self, widget, pos) -> None:
        menu = QMenu(widget)
        menu.addAction("Export Figure…", lambda: self.export_dialog(widget))
        menu.addAction("Copy Figure", lambda: self.copy(widget))
        if widget is self.win.attention.map:
            menu.addAction("Export Map Data (CSV / NPY)…", self.export_data)
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
            return self.win.show_error("Nothing to export", "Run a prompt first.")
        path = self._ask("Export figure", FIGURE_FILTER, self._suggest("png"))
        if not path:
            return None
        width = None
        if path.suffix.lower() == ".png":
            width, ok = QInputDialog.getInt(
                self.win, "PNG width", "Width in pixels:", 2 * widget.width(), 16, 20000, 100
            )
            if not ok:
                return None
        self.export(widget, path, width)

    def export(self, widget, path: Path, width: int | None = None) -> Path:
        """Write ``widget`` as a titled figure (what the File dialog and tests use)."""
        what = {
            self.win.rope.plane: "rope",
            self.win.sampling.bars: "logits",
            self.win.heads.grid: "grid",
        }.get(widget, "map")
        try:
            out = export_figure(widget, path, title=self.spec(what).title(), width=width)
        except (OSError, ValueError) as exc:
            self.win.show_error("Could not export", str(exc))
            raise
        self.last_path = out
        self.win.statusBar().showMessage(f"Exported {out}", 5000)
        return out

    def export_built(self, what: str, path: Path | None = None) -> Path | None:
        """Render a grid (one layer) or sheet (all layers × heads) figure and export it."""
        s = self.win.state
        if s.trace is None:
            self.win.show_error("Nothing to export", "Run a prompt first.")
            return None
        path = path or self._ask("Export figure", FIGURE_FILTER, self._suggest("png", what))
        if not path:
            return None
        spec = self.spec(what)
        widget = build_figure(spec, s.trace, s.vocab)
        try:
            return export_figure(widget, path, title=spec.title())
        finally:
            widget.close()

    def copy(self, widget) -> None:
        copy_figure_to_clipboard(widget, title=self.spec().title())
        self.win.statusBar().showMessage("Figure copied to the clipboard", 5000)

    def export_data(self, path: Path | None = None) -> Path | None:
        s = self.win.state
        if s.trace is None:
            self.win.show_error("Nothing to export", "Run a prompt first.")
            return None
        path = path or self._ask("Export map data", DATA_FILTER, self._suggest("csv"))
        if not path:
            return None
        labels = s.trace.token_strs
        return save_matrix(s.current_map(), path, row_labels=labels, col_labels=labels)

    def _suggest(self, suffix: str, what: str = "map") -> str:
        return f"{self.spec(what).file_stem()}.{suffix}"
