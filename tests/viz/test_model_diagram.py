"""ModelDiagram: blocks top to bottom, the current one highlighted, clicks name a block."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from llamalens.viz.model_diagram import CURRENT, Block, ModelDiagram

BLOCKS = [
    Block("embed", "Embedding"),
    Block("norm1", "RMSNorm", True),
    Block("attn", "Attention", True),
    Block("ffn", "SwiGLU", True),
    Block("out", "Output"),
]


@pytest.fixture
def diagram(qtbot):
    widget = ModelDiagram()
    qtbot.addWidget(widget)
    widget.set_blocks(BLOCKS, "layer 2 · ×30")
    widget.resize(220, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_blocks_are_drawn_in_order_and_the_layer_is_framed(diagram):
    tops = [diagram.block_rect(b.id).top() for b in BLOCKS]
    assert tops == sorted(tops)
    inside = diagram.block_rect("attn")
    outside = diagram.block_rect("embed")
    assert inside.left() > outside.left()  # inside the layer frame


def test_current_block_is_filled_and_annotated(diagram, qtbot):
    diagram.set_current("attn", "softmax")
    assert diagram.current() == "attn"
    assert "softmax" in diagram.labels() and "layer 2 · ×30" in diagram.labels()
    image = diagram.grab().toImage()
    rect = diagram.block_rect("attn")
    color = image.pixelColor(int(rect.left() + 6), int(rect.center().y()))
    assert abs(color.red() - CURRENT.red()) < 12 and abs(color.green() - CURRENT.green()) < 12
    other = diagram.block_rect("ffn")
    assert image.pixelColor(int(other.left() + 6), int(other.center().y())) != color


def test_click_names_the_block(diagram, qtbot):
    with qtbot.waitSignal(diagram.block_clicked) as blocker:
        qtbot.mouseClick(
            diagram, Qt.MouseButton.LeftButton, pos=diagram.block_rect("ffn").center().toPoint()
        )
    assert blocker.args == ["ffn"]


def test_unknown_block_is_refused(diagram):
    with pytest.raises(ValueError, match="no block 'nope'"):
        diagram.set_current("nope")
    with pytest.raises(ValueError, match="repeat"):
        diagram.set_blocks([Block("a", "A"), Block("a", "B")])
