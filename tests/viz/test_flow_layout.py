"""FlowLayout wraps a row of controls instead of widening its panel."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from llamalens.viz.flow_layout import FlowLayout, labelled


def panel(qtbot, n: int = 6) -> tuple[QWidget, list[QPushButton]]:
    box = QWidget()
    flow = FlowLayout(box)
    buttons = [QPushButton(f"button number {i}") for i in range(n)]
    for b in buttons:
        flow.addWidget(b)
    qtbot.addWidget(box)
    return box, buttons


def test_wide_panel_keeps_one_line_narrow_panel_wraps(qtbot):
    box, buttons = panel(qtbot)
    widest = max(b.sizeHint().width() for b in buttons)
    assert box.minimumSizeHint().width() == widest  # never wider than one control
    one_line = box.layout().sizeHint()
    box.resize(one_line.width(), one_line.height())
    box.show()
    qtbot.waitExposed(box)
    assert len({b.y() for b in buttons}) == 1
    box.resize(widest + 10, box.layout().heightForWidth(widest + 10))
    qtbot.wait(10)
    assert len({b.y() for b in buttons}) == len(buttons)  # one per line
    assert box.layout().heightForWidth(widest + 10) >= len(buttons) * buttons[0].height()
    for b in buttons:
        assert b.width() == b.sizeHint().width() and b.geometry().right() < box.width()


def test_labelled_keeps_its_label_with_its_control(qtbot):
    button = QPushButton("x")
    pair = labelled("Layer", button, "layerPair")
    qtbot.addWidget(pair)
    assert pair.objectName() == "layerPair"
    assert pair.layout().itemAt(0).widget().text() == "Layer"
    assert pair.layout().itemAt(0).widget().buddy() is button
