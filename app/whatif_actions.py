"""The window's what-if docks and requests: variants, head ranking, compare, labels.

Owns the What if, Before / after, Head ranking, RoPE what-if and Compare panels, sends
their requests to the worker and puts the answers into the state. Whatever the panels
show of a variant is labelled: the window title, the dock titles and exported figures
name it (``SmolLM2 [variant: ablated L3.H1]``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QFrame, QMenu, QScrollArea, QWidget

from llamalens.app.export_actions import COPY_FIGURE, EXPORT_FIGURE, FIGURE_FILTER
from llamalens.app.figures import figure_title
from llamalens.app.layouts import WHATIF_DOCKS
from llamalens.app.panels.before_after_panel import BeforeAfterPanel
from llamalens.app.panels.compare_panel import ComparePanel
from llamalens.app.panels.ranking_panel import RankingPanel
from llamalens.app.panels.rope_whatif_panel import RopeWhatIfPanel
from llamalens.app.panels.whatif_panel import WhatIfPanel
from llamalens.app.requests import CompareRequest, RankRequest, RunSpec
from llamalens.app.state import Comparison
from llamalens.model.variants import Variant
from llamalens.viz.export import copy_figure_to_clipboard, export_figure

# docks that show the current trace: their titles say when it is a variant's
TRACE_DOCKS = ("tokensDock", "headsDock", "statsDock", "lensDock", "ropeDock", "samplingDock")


class WhatIfActions:
    """The what-if panels of a MainWindow and their worker requests."""

    def __init__(self, win) -> None:
        self.win = win
        s = win.state
        self.panel = WhatIfPanel(s)
        self.before_after = BeforeAfterPanel(s)
        self.ranking = RankingPanel(s)
        self.rope = RopeWhatIfPanel(s)
        self.compare = ComparePanel(s)
        self._docks()
        self._open_action()
        self.rank_id = self.compare_id = -1
        self._compare_names: tuple[str, str] = ("A", "B")
        self.panel.run_requested.connect(win.run_prompt)
        self.panel.rank_requested.connect(self.rank_heads)
        self.compare.compare_requested.connect(self.run_compare)
        self.ranking.head_chosen.connect(self._jump)
        self.ranking.export_requested.connect(self.export_ranking)
        win.heads.grid.head_selected.connect(lambda h: self.panel.head_clicked(s.layer, h))
        win.stats.table.head_chosen.connect(self.panel.head_clicked)
        for sig in (s.trace_changed, s.model_changed, s.variant_changed):
            sig.connect(self.show_labels)
        for widget, detail in self.figures():
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(
                lambda pos, w=widget, d=detail: self._context_menu(w, d, pos)
            )

    def _docks(self) -> None:
        """The what-if docks, tabbed with the sampling and the logit lens docks; each panel
        scrolls inside its dock, so opening one never makes the window taller than a
        1024×768 screen."""
        win = self.win
        right = Qt.DockWidgetArea.RightDockWidgetArea
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        for title, name, panel, area in (
            (QT_TRANSLATE_NOOP("MainWindow", "What if"), "whatifDock", self.panel, right),
            (
                QT_TRANSLATE_NOOP("MainWindow", "Before / after"),
                "beforeAfterDock",
                self.before_after,
                right,
            ),
            (QT_TRANSLATE_NOOP("MainWindow", "RoPE what-if"), "ropeWhatIfDock", self.rope, right),
            (QT_TRANSLATE_NOOP("MainWindow", "Compare"), "compareDock", self.compare, right),
            (QT_TRANSLATE_NOOP("MainWindow", "Head ranking"), "rankingDock", self.ranking, left),
        ):
            win._dock(title, name, _scrolled(panel), area)
        docks = win.docks
        for name in ("whatifDock", "beforeAfterDock", "ropeWhatIfDock", "compareDock"):
            win.tabifyDockWidget(docks["samplingDock"], docks[name])
        win.tabifyDockWidget(docks["lensDock"], docks["rankingDock"])
        for name in WHATIF_DOCKS:  # closed from the start: never part of the first size
            docks[name].hide()

    def figures(self) -> list[tuple[object, str]]:
        """The what-if plots that export as figures, with what their titles add."""
        return [
            (self.before_after.bars, "next token: model vs variant"),
            (self.ranking.map, "heads ranked by ablation"),
            (self.rope.angles, "RoPE angles per pair"),
            (self.rope.decay, "RoPE long-range decay"),
            (self.compare.figure, "compare: A, B, B − A"),
            (self.compare.bars, "compare: next token"),
        ]

    def connect_worker(self, worker) -> None:
        worker.ranked.connect(self._on_ranked)
        worker.compared.connect(self._on_compared)

    @property
    def request_ids(self) -> tuple[int, int]:
        return self.rank_id, self.compare_id

    # ---- requests -------------------------------------------------------------------------
    def _shown_run(self) -> RunSpec:
        """The prompt and the variant of what the panels show."""
        s = self.win.state
        variant = Variant.from_dict(s.trace.variant) if s.trace is not None else s.variant
        return RunSpec(s.prompt.text, s.prompt.chat, s.prompt.plain, variant)

    def rank_heads(self, layers, mode: str, target) -> None:
        """Rank heads of ``layers`` (None: all) for the shown prompt and variant."""
        if self.win.state.trace is None:
            self.win.show_error(self.tr("Nothing to rank"), self.tr("Run a prompt first."))
            return
        self.rank_id = self.win._new_id()
        self.win._set_busy(True, self.tr("Ranking heads…"))
        self.win._submit(RankRequest(self.rank_id, self._shown_run(), layers, mode, target))

    def run_compare(self, a: RunSpec, b: RunSpec) -> None:
        if not b.prompt.strip():
            self.win.show_error(self.tr("Nothing to compare"), self.tr("Type prompt B first."))
            return
        self.compare_id = self.win._new_id()
        self._compare_names = self.compare.names(a, b)
        self._compare_mode = "prompts" if a.prompt != b.prompt else "variant"
        self.win._set_busy(True, self.tr("Comparing…"))
        self.win._submit(CompareRequest(self.compare_id, a, b))

    def _open_action(self) -> None:
        """View ▸ What if… (Ctrl+Shift+W): the what-if docks start closed in every layout
        (their tabs would widen a small screen's window); this opens the main two."""
        action = QAction(self.win)
        action.setObjectName("whatIfAction")
        action.setShortcut("Ctrl+Shift+W")
        self.win.texts.bind(action.setText, QT_TRANSLATE_NOOP("MainWindow", "What if…"))
        action.triggered.connect(self.open_docks)
        self.win.addAction(action)  # the window adds it to the View menu
        self.open_action = action

    def open_docks(self) -> None:
        """Show the What if and Before / after docks, the What if panel in front."""
        docks = self.win.docks
        for name in ("beforeAfterDock", "whatifDock"):
            docks[name].show()
        docks["whatifDock"].raise_()

    def _on_ranked(self, request_id: int, ranking) -> None:
        if request_id != self.rank_id:
            return
        self.win._set_busy(False)
        self.win.state.set_ranking(ranking)
        self.win.docks["rankingDock"].show()
        self.win.docks["rankingDock"].raise_()

    def _on_compared(self, request_id: int, result) -> None:
        if request_id != self.compare_id:
            return
        self.win._set_busy(False)
        comparison = Comparison(result.a, result.b, self._compare_mode, self._compare_names)
        self.win.state.set_comparison(comparison)

    def _jump(self, layer: int, head: int) -> None:
        self.win.state.set_layer(layer)
        self.win.state.set_head(head)
        self.panel.head_clicked(layer, head)

    # ---- labels ---------------------------------------------------------------------------
    def show_labels(self, *_args) -> None:
        """Window and dock titles name the variant the shown trace came from."""
        s, win = self.win.state, self.win
        shown = s.shown_variant
        pending = "" if s.variant.label() == shown else self.tr(" · variant set, not run yet")
        win.setWindowTitle(f"LlamaLens — {s.shown_title()}{pending}")
        for name in TRACE_DOCKS:
            base = QCoreApplication.translate("MainWindow", win.dock_titles[name])
            win.docks[name].setWindowTitle(f"{base} [variant]" if shown else base)
            win.docks[name].setToolTip(f"variant: {shown}" if shown else "")

    def tr(self, text: str) -> str:
        return QCoreApplication.translate("WhatIfActions", text)

    def failure(self, request_id: int) -> str:
        """The title of the message when a what-if request failed."""
        if request_id == self.rank_id:
            return self.tr("Could not rank the heads")
        return self.tr("Could not compare")

    # ---- export ---------------------------------------------------------------------------
    def title(self, *details: str) -> str:
        s = self.win.state
        return figure_title(s.model_name, s.shown_variant, s.prompt.text, list(details))

    def _context_menu(self, widget, detail: str, pos) -> None:
        menu = QMenu(widget)
        menu.addAction(
            QCoreApplication.translate("ExportActions", EXPORT_FIGURE),
            lambda: self.export_figure(widget, detail),
        )
        menu.addAction(
            QCoreApplication.translate("ExportActions", COPY_FIGURE),
            lambda: copy_figure_to_clipboard(widget, title=self.title(detail)),
        )
        menu.popup(widget.mapToGlobal(pos))
        self.win.context_menu = menu  # for tests

    def export_figure(self, widget, detail: str, path: str | Path | None = None) -> Path | None:
        """A what-if plot as a titled PNG, SVG or PDF (asks for the file without ``path``)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.win,
                QCoreApplication.translate("ExportActions", "Export figure"),
                "llamalens-whatif.png",
                QCoreApplication.translate("ExportActions", FIGURE_FILTER),
            )
            if not path:
                return None
        return export_figure(widget, path, title=self.title(detail))

    def export_ranking(self, path: str | Path | None = None) -> Path | None:
        """The layers × heads map of the ranking as a titled figure."""
        r = self.win.state.ranking
        if r is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.win,
                self.tr("Export head ranking"),
                "llamalens-ranking.png",
                QCoreApplication.translate("ExportActions", FIGURE_FILTER),
            )
            if not path:
                return None
        label = r.variant.get("label", "")
        title = figure_title(
            self.win.state.model_name,
            label,
            self.win.state.prompt.text,
            [f"heads ranked ({r.mode} ablation)"],
        )
        return export_figure(self.ranking.map, path, title=title)

    def cancel(self) -> None:
        self.win.worker.cancel(self.rank_id)
        self.win.worker.cancel(self.compare_id)


def _scrolled(panel: QWidget) -> QScrollArea:
    """``panel`` in a frameless scroll area that gives it the whole width it has."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area
