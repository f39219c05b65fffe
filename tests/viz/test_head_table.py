"""HeadStatsTable: numeric sorting with NaN last, choosing a head, selecting without signals."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from llamalens.viz.head_table import HeadStatsTable

NAN = float("nan")
COLUMNS = ("layer", "head", "entropy", "sink", "previous", "self", "induction")


def stats() -> dict[str, np.ndarray]:
    """Two layers of two heads; entropy mixes 9.0 and 10.0 (lexicographically misordered)."""
    return {
        "entropy": np.array([[9.0, 10.0], [2.5, NAN]]),
        "sink": np.array([[0.9, 0.1], [0.5, 0.25]]),
        "previous": np.array([[0.0, 0.7], [0.2, 0.1]]),
        "self": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "induction": np.full((2, 2), NAN),
    }


@pytest.fixture
def table(qtbot):
    widget = HeadStatsTable()
    qtbot.addWidget(widget)
    widget.resize(700, 300)
    widget.set_stats(stats())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def column_texts(table: HeadStatsTable, name: str) -> list[str]:
    column = COLUMNS.index(name)
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_rows_columns_and_formatting(table):
    assert table.objectName() == "headStatsTable"
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == [
        "layer",
        "head",
        "entropy",
        "sink",
        "previous",
        "self",
        "induction",
    ]
    assert table.rowCount() == 4
    assert column_texts(table, "layer") == ["0", "0", "1", "1"]
    assert column_texts(table, "entropy") == ["9.000", "10.000", "2.500", "–"]
    assert column_texts(table, "self") == ["0.100", "0.200", "0.300", "0.400"]
    assert column_texts(table, "induction") == ["–"] * 4  # not measured
    tips = {"entropy": "mean row entropy"}
    table.set_stats({"sink": stats()["sink"], "entropy": stats()["entropy"]}, tips)
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["layer", "head", "sink", "entropy"]  # the columns given, in order
    assert table.horizontalHeaderItem(3).toolTip() == "mean row entropy"


def test_sorting_is_numeric_with_nan_last_both_ways(table):
    table.sortByColumn(COLUMNS.index("entropy"), Qt.SortOrder.AscendingOrder)
    assert column_texts(table, "entropy") == ["2.500", "9.000", "10.000", "–"]
    table.sortByColumn(COLUMNS.index("entropy"), Qt.SortOrder.DescendingOrder)
    assert column_texts(table, "entropy") == ["10.000", "9.000", "2.500", "–"]
    table.sortItems(COLUMNS.index("sink"), Qt.SortOrder.AscendingOrder)
    values = table.column_values("sink")
    assert values == sorted(values)


def test_header_click_sorts(table, qtbot):
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(COLUMNS.index("entropy")) + 5
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )
    assert header.sortIndicatorSection() == COLUMNS.index("entropy")
    expected = ["2.500", "9.000", "10.000", "–"]
    if header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
        expected = ["10.000", "9.000", "2.500", "–"]
    assert column_texts(table, "entropy") == expected


def test_double_click_and_enter_choose_the_head_of_that_row(table, qtbot):
    table.sortByColumn(COLUMNS.index("entropy"), Qt.SortOrder.AscendingOrder)  # 2.5 first
    rect = table.visualItemRect(table.item(0, COLUMNS.index("sink")))
    with qtbot.waitSignal(table.head_chosen) as blocker:  # a real double-click: press first
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [1, 0]
    table.setCurrentCell(1, 0)  # entropy 9.0: layer 0, head 0
    with qtbot.waitSignal(table.head_chosen) as blocker:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert blocker.args == [0, 0]


def test_select_head_selects_without_emitting(table, qtbot):
    table.sortByColumn(COLUMNS.index("sink"), Qt.SortOrder.DescendingOrder)
    with qtbot.assertNotEmitted(table.head_chosen):
        table.select_head(1, 1)
    rows = {index.row() for index in table.selectionModel().selectedRows()}
    assert rows == {table.row_of(1, 1)}
    assert table.item(table.row_of(1, 1), COLUMNS.index("sink")).text() == "0.250"
    with pytest.raises(ValueError, match="no row for layer 5, head 0"):
        table.select_head(5, 0)


def test_new_stats_keep_the_sort_order(table):
    table.sortByColumn(COLUMNS.index("previous"), Qt.SortOrder.DescendingOrder)
    table.set_stats({"previous": np.array([[0.3, 0.9, 0.1]]), "induction": np.ones((1, 3))})
    assert table.column_values("previous") == [0.9, 0.3, 0.1]  # sorted by name, not index
    assert table.column_values("induction") == [1.0, 1.0, 1.0]


def test_invalid_stats_are_rejected(table):
    with pytest.raises(ValueError, match="clash with the index columns"):
        table.set_stats({"layer": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="no statistics"):
        table.set_stats({})
    with pytest.raises(ValueError, match="expected one \\(L, H\\) shape"):
        table.set_stats({"sink": np.zeros((2, 2)), "entropy": np.zeros((2, 3))})
    assert table.rowCount() == 4  # unchanged


def test_headers_are_never_cut_in_a_narrow_panel_or_with_large_fonts(table, qtbot):
    font = table.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    table.setFont(font)
    table.horizontalHeader().setFont(font)
    table.resize(200, 200)  # far narrower than seven columns: it scrolls instead
    qtbot.wait(10)
    header = table.horizontalHeader()
    for column, name in enumerate(COLUMNS):
        assert header.sectionSize(column) >= header.sectionSizeHint(column), name
        assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance(name)
    assert table.horizontalScrollBar().maximum() > 0
