"""HeadGrid: thumbnails per head, KV groups, selection by click and keys."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from llamalens.viz.colormaps import default_masked_color, lookup_table
from llamalens.viz.downsample import block_max
from llamalens.viz.head_grid import THUMB_PIXELS, HeadGrid, thumbnail_rgba
from tests.viz.maps import causal_probs, future_mask


def previous_token_head(n: int) -> np.ndarray:
    """(T, T): every query attends only to the token before it (token 0 to itself)."""
    probs = np.zeros((n, n), dtype=np.float32)
    probs[0, 0] = 1.0
    probs[np.arange(1, n), np.arange(n - 1)] = 1.0
    return probs


@pytest.fixture
def grid(qtbot):
    widget = HeadGrid()
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_clicking_thumbnail_k_selects_head_k(grid, qtbot):
    grid.set_maps([causal_probs(20, seed=h) for h in range(9)], n_kv_heads=3, selected=0)
    thumbs = grid.thumbnails()
    assert [t.objectName() for t in thumbs] == [f"headThumb{h}" for h in range(9)]
    with qtbot.waitSignal(grid.head_selected) as blocker:
        qtbot.mouseClick(thumbs[5], Qt.MouseButton.LeftButton)
    assert blocker.args == [5]
    assert grid.selected == 5
    assert [t.selected for t in thumbs] == [h == 5 for h in range(9)]


def test_set_selected_does_not_emit(grid, qtbot):
    grid.set_maps([causal_probs(8)] * 4, n_kv_heads=2)
    with qtbot.assertNotEmitted(grid.head_selected):
        grid.set_selected(3)
    assert grid.selected == 3 and grid.thumbnails()[3].selected


def test_arrow_keys_move_the_selection(grid, qtbot):
    grid.set_maps([causal_probs(8)] * 9, n_kv_heads=3, selected=4)
    with qtbot.waitSignal(grid.head_selected) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert blocker.args == [7]
    qtbot.keyClick(grid, Qt.Key.Key_Left)
    assert grid.selected == 6
    qtbot.keyClick(grid, Qt.Key.Key_Down)  # no row below: stays
    assert grid.selected == 6


def test_kv_groups_share_a_colour(grid):
    grid.set_maps([causal_probs(12, seed=h) for h in range(9)], n_kv_heads=3)
    thumbs = grid.thumbnails()
    assert [t.kv_head for t in thumbs] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    colors = [t.group_color.name() for t in thumbs]
    assert colors[0] == colors[1] == colors[2]
    assert colors[3] == colors[4] == colors[5]
    assert colors[6] == colors[7] == colors[8]
    assert len({colors[0], colors[3], colors[6]}) == 3
    grid.set_maps([causal_probs(12)] * 8, n_kv_heads=2)
    assert [grid.kv_head(h) for h in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]


def test_layout_is_about_square(grid):
    grid.set_maps([causal_probs(6)] * 9, n_kv_heads=9)
    layout = grid.layout().itemAt(1).layout()
    positions = [layout.getItemPosition(layout.indexOf(t))[:2] for t in grid.thumbnails()]
    assert positions == [(h // 3, h % 3) for h in range(9)]
    grid.set_maps([causal_probs(6)] * 12, n_kv_heads=4)
    assert layout.columnCount() == 4 and len(grid.thumbnails()) == 12


def test_block_max_keeps_sharp_heads_visible():
    small, starts = block_max(previous_token_head(2048), THUMB_PIXELS)
    assert small.shape[0] <= THUMB_PIXELS and small.shape[0] == small.shape[1]
    assert len(starts) == small.shape[0]
    # every block on the diagonal holds a 1 (the previous-token cell): a mean would be 1/22
    assert np.all(np.diag(small) == 1.0)
    probs = causal_probs(250, seed=3)  # 250 = 2 blocks of 3 short of 84 * 3: ragged end
    small, starts = block_max(probs, THUMB_PIXELS)
    edges = list(starts) + [250]
    expected = np.array(
        [
            [probs[a:b, c:d].max() for c, d in zip(edges, edges[1:])]
            for a, b in zip(edges, edges[1:])
        ]
    )
    np.testing.assert_array_equal(small, expected)


def test_thumbnail_colours_masked_blocks_apart():
    masked = default_masked_color("viridis")
    rgba = thumbnail_rgba(previous_token_head(40), future_mask(40), "viridis", masked)
    assert rgba.shape == (40, 40, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[3, 30]) == (masked.red(), masked.green(), masked.blue(), 255)
    lut = lookup_table("viridis")
    assert tuple(rgba[30, 2]) == tuple(lut[0])  # a genuine zero below the diagonal
    assert tuple(rgba[30, 29]) == tuple(lut[255])  # the previous token, probability 1


def test_thumbnail_pixels_reach_the_screen(grid):
    grid.set_maps([previous_token_head(30)] * 3, n_kv_heads=1, mask=future_mask(30))
    thumb = grid.thumbnails()[1]
    image = thumb.grab().toImage()
    masked = default_masked_color("viridis")
    colors = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }
    assert masked.name() in colors
    assert QColor(*lookup_table("viridis")[0][:3]).name() in colors


def test_invalid_maps_are_rejected(grid):
    with pytest.raises(ValueError, match="no maps"):
        grid.set_maps([], n_kv_heads=1)
    with pytest.raises(ValueError, match=r"head 1 has shape \(5, 5\); expected \(6, 6\)"):
        grid.set_maps([causal_probs(6), causal_probs(5)], n_kv_heads=1)
    with pytest.raises(ValueError, match="n_kv_heads is 4; expected a divisor of the 9 heads"):
        grid.set_maps([causal_probs(6)] * 9, n_kv_heads=4)
    with pytest.raises(ValueError, match="selected head is 9"):
        grid.set_maps([causal_probs(6)] * 9, n_kv_heads=3, selected=9)
    assert grid.thumbnails() == []  # nothing half-applied
