"""TensorMap: vectors and matrices as cells, diverging around zero, hover values."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from llamalens.viz.tensor_map import TensorMap, diverging_lut, tensor_rgba


@pytest.fixture
def tmap(qtbot):
    widget = TensorMap()
    qtbot.addWidget(widget)
    widget.resize(700, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_signed_values_are_white_at_zero_and_saturate_at_the_ends():
    values = np.array([[-2.0, 0.0, 2.0, 1.0]], dtype=np.float32)
    rgba, tops = tensor_rgba(values, signed=True, row_scaled=False, clip=1.0, colormap="viridis")
    lut = diverging_lut()
    assert tops.tolist() == [2.0]
    np.testing.assert_array_equal(rgba[0, 0], lut[0])  # most negative: the blue end
    np.testing.assert_array_equal(rgba[0, 2], lut[255])  # most positive: the red end
    assert rgba[0, 1, :3].min() > 240  # zero is (nearly) white
    assert rgba[0, 3, 0] > rgba[0, 3, 2]  # positive: red over blue


def test_row_scaling_gives_each_row_its_own_range():
    values = np.array([[1000.0, -500.0], [0.002, -0.001]], dtype=np.float32)
    rgba, tops = tensor_rgba(values, True, row_scaled=True, clip=1.0, colormap="viridis")
    np.testing.assert_allclose(tops, [1000.0, 0.002])
    np.testing.assert_array_equal(rgba[0], rgba[1])  # same shape, same colours
    _, shared = tensor_rgba(values, True, row_scaled=False, clip=1.0, colormap="viridis")
    assert shared.tolist() == [1000.0, 1000.0]


def test_clip_lets_outliers_saturate():
    values = np.concatenate([np.linspace(-1, 1, 999), [500.0]]).astype(np.float32)[None]
    _, tops = tensor_rgba(values, True, False, clip=0.99, colormap="viridis")
    assert tops[0] < 2.0


def test_vector_shown_as_one_row_with_title_and_hover(tmap, qtbot):
    v = np.arange(-8, 8, dtype=np.float32)
    tmap.set_tensor(v, title="x · (16,)")
    assert tmap.displayed().shape == (1, 16)
    assert tmap.title_text() == "x · (16,)"
    assert tmap.signed
    with qtbot.waitSignal(tmap.cell_hovered) as blocker:
        qtbot.mouseMove(tmap, tmap.mapFromScene(tmap.scene_pos_of(0, 11)))
    assert blocker.args == [0, 11, 3.0]
    assert tmap.readout_text() == "[11] = 3"


def test_matrix_rows_are_labelled_and_clickable(tmap, qtbot):
    m = np.abs(np.random.default_rng(0).normal(size=(5, 40))).astype(np.float32)
    tmap.set_tensor(m, row_labels=list("abcde"), highlight_row=2)
    assert not tmap.signed  # non-negative: sequential colours
    tmap.show_cell(3, 7)
    assert tmap.readout_text() == f"d · [7] = {m[3, 7]:.6g}"
    with qtbot.waitSignal(tmap.row_clicked) as blocker:
        point = tmap.mapFromScene(tmap.scene_pos_of(4, 20))
        qtbot.mouseClick(tmap.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [4]


def test_bad_input_is_a_clear_message(tmap):
    with pytest.raises(ValueError, match="expected"):
        tmap.set_tensor(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="3 row labels for a tensor of 2 rows"):
        tmap.set_tensor(np.zeros((2, 4)), row_labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="segment 5 is out of range"):
        tmap.set_tensor(np.zeros((1, 8)), segment=4, highlight_segment=5)
