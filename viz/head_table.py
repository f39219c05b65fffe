"""HeadStatsTable: one row per (layer, head) with its attention statistics, sortable."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

INDEX_COLUMNS = ("layer", "head")
INDEX_TIPS = {"layer": "layer index", "head": "query head index within the layer"}
MISSING = "–"
BAR_COLOR = QColor(76, 120, 168)  # tint behind a value, stronger for larger values


class NumericItem(QTableWidgetItem):
    """A cell that sorts by its number, with NaN after every number in both orders."""

    def __init__(self, value: float, decimals: int = 3) -> None:
        text = (
            MISSING
            if math.isnan(value)
            else (f"{int(value)}" if decimals == 0 else f"{value:.{decimals}f}")
        )
        super().__init__(text)
        self.value = float(value)
        self.setData(Qt.ItemDataRole.UserRole, self.value)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.value
        theirs = other.value if isinstance(other, NumericItem) else math.nan
        if math.isnan(mine) or math.isnan(theirs):
            # Qt sorts descending by asking other < self, so NaN must flip sides with the
            # order to end up last either way.
            table = self.tableWidget()
            descending = (
                table is not None
                and table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
            )
            nan_is_largest = not descending
            if math.isnan(mine) and math.isnan(theirs):
                return False
            return math.isnan(theirs) == nan_is_largest
        return mine < theirs


class HeadStatsTable(QTableWidget):
    """Per-head statistics; click a header to sort, double-click or Enter to open a head.

    Signals:
        head_chosen(int, int): the (layer, head) of the row double-clicked or entered.
    """

    head_chosen = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(INDEX_COLUMNS), parent)
        self.setObjectName("headStatsTable")
        self._columns: tuple[str, ...] = ()
        self._set_headers((), {})
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setAlternatingRowColors(False)  # the value tints carry the eye instead
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.cellDoubleClicked.connect(self._on_double_clicked)

    def _set_headers(self, names: tuple[str, ...], tips: Mapping[str, str]) -> None:
        columns = (*INDEX_COLUMNS, *names)
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        for column, name in enumerate(columns):
            self.horizontalHeaderItem(column).setToolTip(INDEX_TIPS.get(name) or tips.get(name, ""))
        self._columns = names

    def set_stats(
        self,
        stats: Mapping[str, np.ndarray],
        tips: Mapping[str, str] | None = None,
        layers: Sequence[int] | None = None,
    ) -> None:
        """Fill the table, one row per (layer, head), one column per statistic.

        Args:
            stats: column name → (L, H) array, in the order the columns are shown. NaN
                values are shown as "–" and sort last.
            tips: column name → what it measures (the header's tooltip).
            layers: the L layer numbers the rows stand for (default 0..L-1).

        Raises:
            ValueError: no statistics, or arrays of different or non-2-D shapes.
        """
        columns = _columns(stats)
        order = self.horizontalHeader().sortIndicatorOrder()
        names = (*INDEX_COLUMNS, *self._columns)
        section = self.horizontalHeader().sortIndicatorSection()
        sort_name = names[section] if 0 <= section < len(names) else "layer"
        if tuple(columns) != self._columns:
            self._set_headers(tuple(columns), tips or {})
        names = (*INDEX_COLUMNS, *self._columns)
        sort_column = names.index(sort_name) if sort_name in names else 0
        n_layers, n_heads = next(iter(columns.values())).shape
        slot, head = np.divmod(np.arange(n_layers * n_heads), n_heads)
        layer_ids = np.arange(n_layers) if layers is None else np.asarray(layers)
        if layer_ids.shape != (n_layers,):
            raise ValueError(f"got {len(layer_ids)} layer numbers for {n_layers} rows of layers")
        layer = layer_ids[slot]
        self.setSortingEnabled(False)  # inserting into a sorted table reshuffles every row
        self.clearContents()
        self.setRowCount(n_layers * n_heads)
        self._fill(0, layer, 0)
        self._fill(1, head, 0)
        for offset, values in enumerate(columns.values(), start=len(INDEX_COLUMNS)):
            self._fill(offset, values.ravel(), 3, tint=True)
        self.setSortingEnabled(True)
        self.sortByColumn(sort_column, order)

    def _fill(self, column: int, values: np.ndarray, decimals: int, tint: bool = False) -> None:
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        for row, value in enumerate(values.tolist()):
            item = NumericItem(value, decimals)
            if tint and high > low and not math.isnan(value):
                shade = QColor(BAR_COLOR)
                shade.setAlpha(int(15 + 90 * (value - low) / (high - low)))
                item.setBackground(QBrush(shade))
            self.setItem(row, column, item)

    def select_head(self, layer: int, head: int) -> None:
        """Select and scroll to the row of (layer, head) without emitting ``head_chosen``."""
        row = self.row_of(layer, head)
        if row is None:
            raise ValueError(
                f"no row for layer {layer}, head {head} in a table of {self.rowCount()} rows"
            )
        self.blockSignals(True)
        self.selectRow(row)
        self.blockSignals(False)
        self.scrollToItem(self.item(row, 0))

    def row_of(self, layer: int, head: int) -> int | None:
        """The current (sorted) row showing (layer, head), or None."""
        for row in range(self.rowCount()):
            if self._head_at(row) == (layer, head):
                return row
        return None

    def column_values(self, name: str) -> list[float]:
        """The values of column ``name`` in display order (NaN for "–")."""
        column = (*INDEX_COLUMNS, *self._columns).index(name)
        return [self.item(row, column).value for row in range(self.rowCount())]

    def _head_at(self, row: int) -> tuple[int, int]:
        return int(self.item(row, 0).value), int(self.item(row, 1).value)

    def _on_double_clicked(self, row: int, _column: int) -> None:
        self.head_chosen.emit(*self._head_at(row))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        row = self.currentRow()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and row >= 0:
            self.head_chosen.emit(*self._head_at(row))
            return
        super().keyPressEvent(event)

    def sortItems(
        self,
        column: int,
        order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,  # noqa: N802
    ) -> None:
        """Sort like a header click (keeps the indicator, which places NaN last)."""
        self.sortByColumn(column, order)


def _columns(stats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of ``stats`` as float (L, H) arrays, validated."""
    columns = {str(key): np.asarray(values, dtype=np.float64) for key, values in stats.items()}
    if not columns:
        raise ValueError("set_stats got no statistics; expected name → (L, H) arrays")
    clash = sorted(set(columns) & set(INDEX_COLUMNS))
    if clash:
        raise ValueError(f"statistic names {clash} clash with the index columns")
    shapes = {name: a.shape for name, a in columns.items()}
    first = next(iter(shapes.values()))
    if len(first) != 2 or any(shape != first for shape in shapes.values()):
        raise ValueError(f"statistics have shapes {shapes}; expected one (L, H) shape")
    return columns
