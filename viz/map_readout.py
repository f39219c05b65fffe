"""The hover readout of an AttentionMap: which cell the mouse is on, and its value."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QPointF, Qt

from llamalens.viz.heatmap_items import elide

IDLE_READOUT = QT_TRANSLATE_NOOP(
    "AttentionMap", "hover a cell to read its value; click to pick a query"
)
QUERY = QT_TRANSLATE_NOOP("AttentionMap", "query")
KEY = QT_TRANSLATE_NOOP("AttentionMap", "key")
MASKED_LEGEND = QT_TRANSLATE_NOOP("AttentionMap", "masked (future key)")
MASKED_VALUE = QT_TRANSLATE_NOOP("AttentionMap", "(masked)")
READOUT = QT_TRANSLATE_NOOP("AttentionMap", "query {row} '{query}' → key {col} '{key}' : {value}")


def map_tr(text: str) -> str:
    """``text`` (one of the sources above) in the current language."""
    return QCoreApplication.translate("AttentionMap", text)


class HoverReadout:
    """Mouse handling and the readout line of an AttentionMap (which provides the map,
    its labels, fonts and the readout label item this mixin writes to)."""

    def set_readout_visible(self, visible: bool) -> None:
        """Show or hide the hover readout line (hidden in exported figures)."""
        self._readout_on = bool(visible)
        self._readout.setVisible(visible)
        self._set_readout(self._readout_text)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None and cell != self._hover:
            self.show_cell(*cell)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.double():
            self.reset_view()
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def show_cell(self, row: int, col: int) -> None:
        """Read out cell (row, col) and emit ``cell_hovered`` (what hovering it does)."""
        row, col = self._checked_index(row, "query row"), self._checked_index(col, "key column")
        source = self._source
        value = source.value(row, col)
        masked = (source.mask is not None and bool(source.mask[row, col])) or (
            self._hide_first and col == 0 and source.n > 1
        )
        masked = masked or not np.isfinite(value)
        shown = f"{value:g} {map_tr(MASKED_VALUE)}" if masked else f"{value:.4f}"
        query, key = (elide(self._labels[i], 24) for i in (row, col))
        self._hover = (row, col)
        readout = map_tr(READOUT)
        self._set_readout(readout.format(row=row, query=query, col=col, key=key, value=shown))
        self.cell_hovered.emit(row, col, value)

    def readout_text(self) -> str:
        """The hover readout line as plain text."""
        return self._readout_text

    def _set_readout(self, text: str) -> None:
        self._readout_text = text
        shown = html.escape(text) if self._readout_on else ""
        self._readout.setText(shown, size=f"{self._font.pointSizeF():g}pt", color=self._fg.name())
