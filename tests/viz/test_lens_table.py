"""LogitLensTable: cells show the top token, tooltips the top 5, clicks name (layer, position)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from llamalens.viz.lens_table import LogitLensTable, probability_color, text_color

VOCAB = np.array(
    [" Paris", " the", " France", "\n", " Lyon", ",", " of", " a", "", "\t"], dtype=object
)
L, P, K = 30, 8, 5
POSITIONS = list(range(12, 20))
LABELS = ["The", " capital", " of", " France", " is", "\n", " Paris", "."]


def lens_case(seed: int = 0):
    rng = np.random.default_rng(seed)
    probs = -np.sort(-rng.dirichlet(np.full(20, 0.5), size=(L, P))[..., :K], axis=-1)  # (L, P, K)
    text = VOCAB[rng.integers(0, len(VOCAB), size=(L, P, K))]  # (L, P, K)
    return text, probs


@pytest.fixture
def table(qtbot):
    widget = LogitLensTable()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    return widget


def test_cells_show_top_token_and_headers(table):
    text, probs = lens_case()
    table.set_lens(text, probs, POSITIONS, LABELS)
    assert table.objectName() == "logitLensTable"
    assert (table.rowCount(), table.columnCount()) == (L, P)
    assert table.verticalHeaderItem(0).text() == "L0"
    assert table.verticalHeaderItem(L - 1).text() == f"L{L - 1}"
    assert table.horizontalHeaderItem(1).text() == "13 ' capital'"
    assert table.horizontalHeaderItem(5).text() == "17 '↵'"
    shown = {" Paris": "·Paris", "\n": "↵", "": "∅", "\t": "⇥"}
    for layer in (0, 7, L - 1):
        for col in range(P):
            item = table.item(layer, col)
            top = text[layer, col, 0]
            p = probs[layer, col, 0]
            share = "<1%" if p < 0.005 else f"{p:.0%}"
            assert item.text() == f"{shown.get(top, top.replace(' ', '·'))} {share}"
            assert item.data(Qt.ItemDataRole.UserRole) == pytest.approx(probs[layer, col, 0])


def test_tooltip_lists_the_top_five(table):
    text, probs = lens_case(1)
    table.set_lens(text.tolist(), probs, POSITIONS, LABELS)  # nested lists work too
    tip = table.item(3, 2).toolTip().splitlines()
    assert tip[0].startswith("layer 3, position 14")
    assert len(tip) == 1 + 5
    for rank in range(5):
        assert tip[1 + rank].startswith(f"{rank + 1}. ")
        assert tip[1 + rank].endswith(f"{probs[3, 2, rank]:.1%}")


def test_background_darkens_with_probability_and_text_adapts(table):
    text, probs = lens_case()
    probs[0, 0, 0], probs[1, 0, 0] = 0.02, 0.97
    table.set_lens(text, probs, POSITIONS, LABELS)
    light = table.item(0, 0).background().color()
    dark = table.item(1, 0).background().color()
    assert light.lightness() > 200 and dark.lightness() < 90
    assert dark.blue() > dark.red()
    assert table.item(0, 0).foreground().color() == QColor("#000000")
    assert table.item(1, 0).foreground().color() == QColor("#ffffff")
    shades = [probability_color(p).lightness() for p in np.linspace(0, 1, 11)]
    assert all(a >= b for a, b in zip(shades, shades[1:]))
    assert text_color(probability_color(0.0)) == QColor("#000000")


def test_click_emits_layer_and_position(table, qtbot):
    text, probs = lens_case()
    table.set_lens(text, probs, POSITIONS, LABELS)
    rect = table.visualItemRect(table.item(4, 3))
    with qtbot.waitSignal(table.cell_chosen) as blocker:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [4, POSITIONS[3]]


def test_new_lens_replaces_the_old(table):
    text, probs = lens_case()
    table.set_lens(text, probs, POSITIONS, LABELS)
    table.set_lens(text[:2, :3], probs[:2, :3], [0, 1, 2], ["a", "b", "c"])
    assert (table.rowCount(), table.columnCount()) == (2, 3)
    assert table.positions() == [0, 1, 2]


def test_shapes_are_validated(table):
    text, probs = lens_case()
    with pytest.raises(ValueError, match=r"ids_text has shape \(30, 7, 5\), expected \(30, 8, 5\)"):
        table.set_lens(text[:, :7], probs, POSITIONS, LABELS)
    with pytest.raises(ValueError, match=r"probs has shape \(30, 8\)"):
        table.set_lens(text[..., 0], probs[..., 0], POSITIONS, LABELS)
    with pytest.raises(ValueError, match="got 7 positions and 8 position labels, expected 8"):
        table.set_lens(text, probs, POSITIONS[:7], LABELS)


def test_cells_and_headers_are_never_cut(table):
    text, probs = lens_case(2)
    table.set_lens(text, probs, POSITIONS, LABELS)
    font = table.font()
    font.setPointSizeF(font.pointSizeF() * 2)  # presentation mode's fonts
    table.setFont(font)
    for header in (table.horizontalHeader(), table.verticalHeader()):
        header.setFont(font)
    table.resize(400, 300)  # narrower than the columns: a scroll bar, not cut cells
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    for col in range(P):
        assert header.sectionSize(col) >= header.sectionSizeHint(col)
        for layer in (0, L - 1):
            need = metrics.horizontalAdvance(table.item(layer, col).text())
            assert header.sectionSize(col) >= need
    assert table.verticalHeader().sectionSize(0) >= metrics.height()
