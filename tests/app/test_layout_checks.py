"""The fit checks of test_screen_fit find what they are meant to find."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTabBar, QWidget

from tests.app import layout_checks as lc

LONG = "Head statistics of every layer and head"


def boxed(qtbot, *widgets: QWidget, width: int = 600) -> QWidget:
    window = QWidget()
    row = QHBoxLayout(window)
    for w in widgets:
        row.addWidget(w)
    qtbot.addWidget(window)
    window.resize(width, 200)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_label_button_and_combo_that_fit_pass(qtbot):
    combo = QComboBox()
    combo.addItems(["softmax", "raw"])
    window = boxed(qtbot, QLabel(LONG), QPushButton("Run  (Ctrl+Enter)"), combo, width=900)
    assert lc.text_problems(window) == []


def test_cut_label_button_and_combo_are_reported(qtbot):
    label, button, combo = QLabel(LONG), QPushButton("Run  (Ctrl+Enter)"), QComboBox()
    combo.addItems(["a colormap with a long name"])
    for w in (label, button, combo):
        w.setFixedWidth(40)
    problems = lc.text_problems(boxed(qtbot, label, button, combo))
    assert len(problems) == 3
    assert any("QLabel" in p for p in problems) and any("QComboBox" in p for p in problems)


def test_a_wrapped_label_without_its_height_is_reported(qtbot):
    label = QLabel(LONG * 4)
    label.setWordWrap(True)
    label.setFixedSize(120, 20)
    problems = lc.text_problems(boxed(qtbot, label))
    assert len(problems) == 1 and "wrapped text needs" in problems[0]


def test_an_elided_tab_is_reported(qtbot):
    bar = QTabBar()
    bar.setElideMode(Qt.TextElideMode.ElideRight)
    for title in ("Heads of this layer", "Head statistics", "Logit lens"):
        bar.addTab(title)
    bar.setFixedWidth(150)
    problems = lc.text_problems(boxed(qtbot, bar))
    assert any("Head statistics" in p for p in problems)


def test_a_plot_title_wider_than_its_plot_is_reported(qtbot):
    plot = pg.PlotWidget(title="dashed: before RoPE · solid: after RoPE, all 32 pairs")
    plot.setObjectName("narrowPlot")
    plot.setFixedSize(160, 160)
    window = boxed(qtbot, plot, width=200)
    window.grab()
    problems = lc.graphics_problems(window)
    assert any(p.startswith("narrowPlot: 'dashed") for p in problems), problems


def test_a_widget_past_the_screen_edge_is_reported(qtbot):
    label = QLabel("map")
    window = boxed(qtbot, label)
    assert (
        lc.on_screen_problem(
            label, QRect(window.mapToGlobal(window.rect().topLeft()), window.size())
        )
        is None
    )
    assert "is not inside the screen" in lc.on_screen_problem(label, QRect(0, 0, 10, 10))
