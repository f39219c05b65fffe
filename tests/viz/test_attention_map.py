"""AttentionMap: what it holds, what it draws, and how the mouse maps to cells."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor

from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.colormaps import lookup_table
from llamalens.viz.heatmap_items import QUERY_COLOR, label_step
from tests.viz.maps import stage_args

WORDS = ["<s>", "The", " capital", " of", " France", " is", " Paris", ".", "\n", " It"]


def causal_scores(n: int, seed: int = 0) -> np.ndarray:
    """(T, T) float32 raw scores."""
    return np.random.default_rng(seed).normal(scale=2.0, size=(n, n)).astype(np.float32)


def masked_and_probs(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The masked scores (-inf above the diagonal) and their row softmax."""
    n = scores.shape[0]
    masked = np.where(np.triu(np.ones((n, n), bool), 1), -np.inf, scores).astype(np.float32)
    probs = np.exp(masked - masked.max(axis=1, keepdims=True))
    return masked, (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def amap(qtbot):
    widget = AttentionMap()
    qtbot.addWidget(widget)
    widget.resize(700, 650)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def snapshot(widget: AttentionMap):
    """Render after pending layout and range updates have run (they are deferred)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()
    return widget.grab().toImage()


def pixel(widget: AttentionMap, image, x: float, y: float) -> QColor:
    """Colour of the grabbed ``image`` at view (cell) coordinates (x, y)."""
    scene = widget.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    point = widget.mapFromScene(scene)
    return image.pixelColor(point.x(), point.y())


def close(a: QColor, b: QColor, tol: int = 4) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a.getRgb()[:3], b.getRgb()[:3]))


def test_image_holds_the_matrix_and_levels_use_visible_values(amap):
    masked, probs = masked_and_probs(causal_scores(10))
    lower = ~np.triu(np.ones((10, 10), bool), 1)
    amap.set_map(probs, WORDS, **stage_args("probs", probs), title="layer 0 · head 1")
    held = amap.image_item().image
    assert held.shape == (10, 10)
    np.testing.assert_array_equal(held[lower], probs[lower])
    assert amap.levels() == (0.0, pytest.approx(float(probs.max())))
    assert amap.displayed_matrix() is not None and amap.displayed_matrix().shape == (10, 10)
    np.testing.assert_array_equal(amap.displayed_matrix(), probs)

    amap.set_map(masked, WORDS, **stage_args("masked", masked))
    held = amap.image_item().image
    assert np.isfinite(held).all()  # -inf never reaches the ImageItem
    np.testing.assert_array_equal(held[lower], masked[lower])
    assert amap.levels() == (
        pytest.approx(float(masked[lower].min())),
        pytest.approx(float(masked[lower].max())),
    )


def test_colour_range_follows_the_given_mask(amap):
    scores = causal_scores(10)
    scores[0, 9] = 1000.0  # a future key
    scores[1, 8] = -1000.0
    amap.set_map(scores, WORDS, **stage_args("scores", scores))  # raw: nothing masked yet
    assert amap.levels() == (-1000.0, 1000.0)
    assert amap.mask() is None
    np.testing.assert_array_equal(amap.image_item().image, scores)
    amap.set_map(scores, WORDS, **stage_args("masked", scores))  # future keys hidden
    lower = ~np.triu(np.ones((10, 10), bool), 1)
    assert amap.levels() == (
        pytest.approx(float(scores[lower].min())),
        pytest.approx(float(scores[lower].max())),
    )
    np.testing.assert_array_equal(amap.mask(), ~lower)


def test_fixed_probability_range(amap):
    _, probs = masked_and_probs(causal_scores(10))
    probs[0, 0] = 0.5  # max < 1 so the two ranges differ
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    assert amap.levels()[1] == pytest.approx(float(probs.max()))
    amap.set_fixed_prob_range(True)
    assert amap.levels() == (0.0, 1.0)


def test_masked_cells_are_drawn_in_the_masked_colour_not_the_scale_minimum(amap):
    masked, probs = masked_and_probs(causal_scores(10))
    probs[9, 1] = 1e-7  # a genuine, tiny probability: the colormap's low end
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    image = snapshot(amap)
    grey = amap.masked_color()
    low = QColor(*lookup_table("viridis")[0][:3])
    assert close(pixel(amap, image, 7.5, 2.5), grey)  # query 2, key 7: future
    assert close(pixel(amap, image, 1.5, 9.5), low)
    assert not close(grey, low, tol=40)

    amap.set_map(masked, WORDS, **stage_args("masked", masked))
    amap.set_colormap("gray")  # the gray map gets a masked colour off the grey axis
    image = snapshot(amap)
    tinted = amap.masked_color()
    assert tinted != grey and len({tinted.red(), tinted.green(), tinted.blue()}) > 1
    assert close(pixel(amap, image, 5.5, 0.5), tinted)
    value = masked[6, 2]
    low, high = amap.levels()
    level = round((value - low) / (high - low) * 255)
    assert close(pixel(amap, image, 2.5, 6.5), QColor(level, level, level), tol=6)


def test_any_mask_shape_and_size_changes_are_drawn(amap):
    scores = causal_scores(10)
    scores[6, 2] = np.nan  # not causal: a cell-by-cell overlay, not the staircase
    amap.set_map(scores, WORDS, **stage_args("scores", scores))
    image = snapshot(amap)
    assert close(pixel(amap, image, 2.5, 6.5), amap.masked_color())
    assert not close(pixel(amap, image, 7.5, 2.5), amap.masked_color(), tol=20)  # unmasked
    amap.set_map(
        masked_and_probs(causal_scores(10))[0],
        WORDS,
        **stage_args("masked", masked_and_probs(causal_scores(10))[0]),
    )
    words = [f"w{i}" for i in range(20)]
    amap.set_map(causal_scores(20), words, **stage_args("scores", causal_scores(20)))
    amap.set_map(
        masked_and_probs(causal_scores(20))[0],
        words,
        **stage_args("masked", masked_and_probs(causal_scores(20))[0]),
    )
    image = snapshot(amap)
    assert close(pixel(amap, image, 15.5, 2.5), amap.masked_color())  # beyond the old 10
    assert close(pixel(amap, image, 19.5, 18.5), amap.masked_color())
    assert not close(pixel(amap, image, 18.5, 18.5), amap.masked_color(), tol=20)


def test_custom_masked_colour(amap):
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    amap.set_masked_color("#ff00ff")
    assert close(pixel(amap, snapshot(amap), 9.5, 0.5), QColor("#ff00ff"))
    amap.set_masked_color(None)
    assert amap.masked_color() == QColor("#d9d9d9")


def test_labels_thin_out_and_return_when_zoomed_in(amap):
    n = 2000
    _, probs = masked_and_probs(causal_scores(n))
    amap.set_map(probs, [f"w{i}" for i in range(n)], **stage_args("probs", probs))
    for side in ("left", "bottom"):
        ticks = amap.label_axis(side).tick_labels()
        assert 5 <= len(ticks) <= 80
        steps = {round(b[0] - a[0]) for a, b in zip(ticks, ticks[1:])}
        assert len(steps) == 1 and steps.pop() >= 20
    amap.plot_item.getViewBox().setRange(QRectF(100, 100, 12, 12), padding=0)
    ticks = amap.label_axis("bottom").tick_labels()
    positions = [int(p) for p, _ in ticks]
    assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert ("w105" in [t for _, t in ticks]) and len(ticks) <= 20


def test_label_step_picks_readable_round_steps():
    assert label_step(pixels_per_cell=30, label_pixels=17) == 1
    assert label_step(pixels_per_cell=15, label_pixels=17) == 2
    assert label_step(pixels_per_cell=0.3, label_pixels=17) == 100


def test_labels_show_whitespace_and_are_elided(amap):
    labels = list(WORDS)
    labels[9] = " " + "x" * 40
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, labels, **stage_args("probs", probs))
    texts = [t for _, t in amap.label_axis("left").tick_labels()]
    assert "·capital" in texts and "↵" in texts
    assert any(t.startswith("·xxx") and t.endswith("…") and len(t) <= 14 for t in texts)


def test_hover_reads_out_tokens_and_value(amap, qtbot):
    masked, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    with qtbot.waitSignal(amap.cell_hovered) as blocker:
        amap.scene().sigMouseMoved.emit(amap.scene_pos_of(6, 3))  # what a mouse move sends
    assert blocker.args[:2] == [6, 3]
    assert blocker.args[2] == pytest.approx(float(probs[6, 3]))
    assert amap.readout_text() == f"query 6 '·Paris' → key 3 '·of' : {probs[6, 3]:.4f}"
    amap.scene().sigMouseMoved.emit(amap.scene_pos_of(2, 5))
    assert amap.readout_text() == "query 2 '·capital' → key 5 '·is' : 0 (masked)"
    amap.set_map(masked, WORDS, **stage_args("masked", masked))
    amap.scene().sigMouseMoved.emit(amap.scene_pos_of(2, 5))
    assert amap.readout_text().endswith(": -inf (masked)")
    assert amap.cell_at(amap.scene_pos_of(0, 0)) == (0, 0)
    assert amap.cell_at(QPointF(1, 1)) is None  # the title corner, outside the map


def test_readout_follows_a_new_head_under_a_still_mouse(amap, qtbot):
    _, probs = masked_and_probs(causal_scores(10))
    _, other = masked_and_probs(causal_scores(10, seed=1))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    amap.scene().sigMouseMoved.emit(amap.scene_pos_of(6, 3))
    with qtbot.waitSignal(amap.cell_hovered) as blocker:
        amap.set_map(other, WORDS, **stage_args("probs", other))
    assert blocker.args[2] == pytest.approx(float(other[6, 3]))
    assert amap.readout_text().endswith(f": {other[6, 3]:.4f}")
    amap.set_map(other[:3, :3], WORDS[:3], **stage_args("probs", other[:3, :3]))  # the cell is gone
    assert amap.readout_text().startswith("hover a cell")


def test_click_emits_the_cell_under_the_mouse(amap, qtbot):
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    point = amap.mapFromScene(amap.scene_pos_of(7, 2))
    with qtbot.waitSignal(amap.cell_clicked) as blocker:
        qtbot.mouseClick(amap.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [7, 2]


def test_query_row_and_key_column_outlines(amap):
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    assert amap.outline_rects() == (None, None)
    before = pixel(amap, snapshot(amap), 3.5, 7.0)
    amap.set_query_row(7)
    amap.set_key_col(4)
    assert amap.outline_rects() == (QRectF(0, 7, 10, 1), QRectF(4, 0, 1, 10))
    after = pixel(amap, snapshot(amap), 3.5, 7.0)  # on the row's top edge
    assert close(after, QColor(QUERY_COLOR), tol=30) and not close(before, after, tol=30)
    amap.set_query_row(None)
    assert amap.outline_rects()[0] is None
    with pytest.raises(ValueError, match="query row is 10; expected 0..9"):
        amap.set_query_row(10)


def test_view_is_reset_only_when_the_size_changes(amap):
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    view = amap.plot_item.getViewBox()
    view.setRange(QRectF(2, 2, 4, 4), padding=0)
    zoomed = view.viewRange()
    amap.set_map(
        probs * 0.5, WORDS, **stage_args("probs", probs * 0.5)
    )  # another head, same tokens
    assert view.viewRange() == zoomed
    amap.set_map(probs[:5, :5], WORDS[:5], **stage_args("probs", probs[:5, :5]))
    (x0, x1), (y0, y1) = view.viewRange()
    assert x0 <= 0 and x1 >= 5 and y0 <= 0 and y1 >= 5


def test_invalid_input_is_rejected_with_shapes(amap):
    with pytest.raises(ValueError, match=r"shape \(3, 4\); expected \(T, T\)"):
        amap.set_map(np.zeros((3, 4)), ["a"] * 3)
    with pytest.raises(ValueError, match="got 5 labels .* expected 4 labels"):
        amap.set_map(np.zeros((4, 4)), ["a"] * 5)
    with pytest.raises(ValueError, match="mask has shape"):
        amap.set_map(np.zeros((4, 4)), ["a"] * 4, mask=np.zeros((3, 3), dtype=bool))
    with pytest.raises(ValueError, match="value kind is 'softmax'"):
        amap.set_map(np.zeros((4, 4)), ["a"] * 4, kind="softmax")
    with pytest.raises(ValueError, match="colormap is 'jet'"):
        amap.set_colormap("jet")
    assert amap.colormap_name == "viridis"


def test_big_maps_are_downsampled_and_row_zero_is_on_top(amap):
    assert amap.image_item().autoDownsample
    view = amap.plot_item.getViewBox()
    assert view.yInverted() and view.state["aspectLocked"]
    _, probs = masked_and_probs(causal_scores(10))
    amap.set_map(probs, WORDS, **stage_args("probs", probs))
    assert amap.scene_pos_of(0, 0).y() < amap.scene_pos_of(9, 0).y()
    assert amap.scene_pos_of(0, 0).x() < amap.scene_pos_of(0, 9).x()
