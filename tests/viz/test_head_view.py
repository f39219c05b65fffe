"""HeadView: lines whose opacity is the attention weight, GQA colours, hover and toggles."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from llamalens.viz.head_view import MIN_WEIGHT, HeadView, head_colors
from tests.viz.maps import causal_probs

WORDS = ["The", " capital", " of", " France", " is", " Paris"]


@pytest.fixture
def view(qtbot):
    widget = HeadView()
    qtbot.addWidget(widget)
    widget.resize(520, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def layer(n_heads: int = 6, n: int = 6) -> np.ndarray:
    return np.stack([causal_probs(n, seed=h) for h in range(n_heads)])


def test_every_line_is_a_probability_and_every_visible_weight_a_line(view):
    probs = layer()
    view.set_layer(probs, WORDS, [0, 0, 1, 1, 2, 2])
    lines = view.lines()
    drawn = {(h, i, j): w for h, i, j, w in lines}
    for (h, i, j), w in drawn.items():
        assert w == float(probs[h, i, j])
        assert j <= i  # a query never looks at a later key
    expected = {tuple(int(x) for x in idx) for idx in np.argwhere(probs >= MIN_WEIGHT)}
    assert set(drawn) == expected


def test_gqa_groups_share_a_hue():
    colors = head_colors([0, 0, 0, 1, 1, 1])
    hues = [c.hslHue() for c in colors]
    assert hues[0] == hues[1] == hues[2] != hues[3] == hues[4] == hues[5]
    assert len({c.name() for c in colors}) == 6  # but each head its own shade


def test_hovering_a_token_isolates_its_lines(view, qtbot):
    probs = layer()
    view.set_layer(probs, WORDS, [0, 0, 1, 1, 2, 2])
    canvas = view.canvas
    left, right = canvas.anchors()
    qtbot.mouseMove(canvas, QPointF(left - 10, canvas.y_of(3)).toPoint())
    assert canvas.layer.hover == ("query", 3)
    assert {i for _, i, _, _ in view.lines()} == {3}
    qtbot.mouseMove(canvas, QPointF(right + 10, canvas.y_of(1)).toPoint())
    assert canvas.layer.hover == ("key", 1)
    assert {j for _, _, j, _ in view.lines()} == {1}
    view.hover_token(None)
    assert len({i for _, i, _, _ in view.lines()}) == len(WORDS)


def test_clicking_a_swatch_hides_and_shows_its_head(view, qtbot):
    view.set_layer(layer(), WORDS, [0, 0, 1, 1, 2, 2])
    swatch = view.legend.swatch_rects()[4].center().toPoint()
    with qtbot.waitSignal(view.heads_toggled) as blocker:
        qtbot.mouseClick(view.legend, Qt.MouseButton.LeftButton, pos=swatch)
    assert blocker.args == [(0, 1, 2, 3, 5)]
    assert 4 not in {h for h, *_ in view.lines()}
    qtbot.mouseClick(view.legend, Qt.MouseButton.LeftButton, pos=swatch)
    assert view.visible_heads() == (0, 1, 2, 3, 4, 5)


def test_lines_are_drawn_in_their_head_colour_with_the_weight_as_opacity(view, qtbot):
    probs = np.zeros((2, 4, 4), dtype=np.float32)
    probs[:, np.arange(4), 0] = 1.0  # everything attends to the first token
    view.set_layer(probs, WORDS[:4], [0, 1])
    view.set_visible_heads([1])
    image = view.canvas.grab().toImage()
    left, right = view.canvas.anchors()
    mid = QPointF((left + right) / 2, (view.canvas.y_of(0) + view.canvas.y_of(0)) / 2)
    color = image.pixelColor(mid.toPoint())
    expected = view.head_color(1)
    assert abs(color.red() - expected.red()) < 25 and abs(color.blue() - expected.blue()) < 25


def test_hundreds_of_tokens_scroll_and_export_whole(view):
    n = 300
    probs = np.stack([causal_probs(n, seed=h) for h in range(3)])
    view.set_layer(probs, [f"t{i}" for i in range(n)], [0, 1, 2])
    assert view.scroll.verticalScrollBar().maximum() > 0
    figure = view.figure_widget()
    assert figure.height() >= view.canvas.row_height() * n
    visible = view.canvas.lines(0, 200)
    assert 0 < len(visible) < len(view.lines())  # only what crosses the view is painted


def test_bad_shapes_are_refused(view):
    with pytest.raises(ValueError, match="expected \\(H, T, T\\)"):
        view.set_layer(np.zeros((4, 4)), WORDS[:4], [0])
    with pytest.raises(ValueError, match="3 labels and 2 KV heads"):
        view.set_layer(np.zeros((2, 4, 4)), WORDS[:3], [0, 1])
