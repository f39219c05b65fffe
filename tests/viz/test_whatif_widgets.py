"""The what-if widgets: the diverging difference map, paired bars, the layer × head map
and the curve plot hold and draw what they are given."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.colormaps import DIVERGING, color_levels, get_colormap
from llamalens.viz.curve_plot import Curve, CurvePlot
from llamalens.viz.layer_head_map import LayerHeadMap
from llamalens.viz.paired_bars import DOWN_COLOR, UP_COLOR, PairedBars
from tests.viz.test_attention_map import close, pixel, snapshot

WORDS = ["<s>", "The", " cat", " sat"]


def shown(widget, qtbot):
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_difference_levels_are_centred_at_zero():
    d = np.array([[0.2, -0.5], [0.1, np.nan]])
    visible = np.isfinite(d)
    assert color_levels(d, visible, "difference") == (-0.5, 0.5)
    assert color_levels(np.zeros((2, 2)), np.ones((2, 2), bool), "difference") == (-1.0, 1.0)
    middle = get_colormap("rdbu").map(0.5, mode="qcolor")
    assert middle.name() == DIVERGING["rdbu"][5]  # white at zero


def test_difference_map_draws_zero_white_and_signs_in_blue_and_red(qtbot):
    amap = shown(AttentionMap(), qtbot)
    amap.set_colormap("rdbu")
    diff = np.zeros((4, 4), np.float32)
    diff[2, 0], diff[3, 1] = 0.3, -0.15
    mask = np.triu(np.ones((4, 4), bool), 1)
    amap.set_map(diff, WORDS, mask=mask, kind="difference", value_label="B − A")
    assert amap.levels() == pytest.approx((-0.3, 0.3))
    image = snapshot(amap)
    assert close(pixel(amap, image, 0.5, 0.5), QColor(DIVERGING["rdbu"][5]))  # 0: white
    red, blue = pixel(amap, image, 0.5, 2.5), pixel(amap, image, 1.5, 3.5)
    assert red.red() > 100 and red.blue() < 60 and blue.blue() > blue.red()
    assert close(pixel(amap, image, 3.5, 0.5), amap.masked_color())  # masked stays grey


def test_paired_bars_hold_both_distributions_and_the_delta(qtbot):
    bars = shown(PairedBars(), qtbot)
    a, b = np.array([0.5, 0.2, 0.0]), np.array([0.25, 0.4, 0.1])
    bars.set_pairs([" Paris", " Rome", " Lyon"], a, b, ("model", "variant"))
    np.testing.assert_array_equal(bars.bars_a.opts["width"], a)
    np.testing.assert_array_equal(bars.bars_b.opts["width"], b)
    np.testing.assert_allclose(bars.delta[:2], np.log(b[:2] / a[:2]))
    texts = [t.textItem.toPlainText() for t in bars._texts[:3]]
    assert texts == ["Δ log p = −0.69", "Δ log p = +0.69", "Δ log p = +∞"]
    assert bars._texts[0].color.name() == DOWN_COLOR and bars._texts[1].color.name() == UP_COLOR
    assert "A: model" in bars.title() and "B: variant" in bars.title()
    assert all(t.pos().x() == bars._texts[0].pos().x() for t in bars._texts[:3])  # a column
    with pytest.raises(ValueError, match="expected \\(3,\\)"):
        bars.set_pairs(["a", "b", "c"], a, b[:2])


def test_layer_head_map_colours_and_clicks(qtbot):
    m = shown(LayerHeadMap(), qtbot)
    values = np.array([[-2.0, 0.0, 1.0], [np.nan, np.nan, np.nan]])
    m.set_values(values, title="Δ log p", value_label="Δ log p", selected=(0, 2))
    assert m.levels() == (-2.0, 2.0)
    rgba = m._image.image
    assert rgba.shape == (2, 3, 4)
    white = QColor(DIVERGING["rdbu"][5]).getRgb()[:3]  # zero, within one step of 256
    assert np.abs(rgba[0, 1, :3].astype(int) - white).max() <= 2
    assert rgba[0, 0, 2] > rgba[0, 0, 0]  # negative: blue
    assert tuple(rgba[1, 0, :3]) == QColor("#9e9e9e").getRgb()[:3]  # not ranked
    with qtbot.waitSignal(m.cell_clicked) as sig:
        pos = m.mapFromScene(m.scene_pos_of(0, 2))
        qtbot.mouseClick(m.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [0, 2]


def test_curve_plot_keeps_the_curves_and_drops_zero_on_log_axes(qtbot):
    plot = shown(CurvePlot(), qtbot)
    x = np.arange(5.0)
    plot.set_curves(
        x,
        [Curve("before", x**2, "before"), Curve("after", x + 1.0)],
        x_label="distance",
        y_label="score",
        log_x=True,
    )
    data = plot.curve_data()
    assert list(data) == ["before", "after"]
    np.testing.assert_array_equal(data["after"][0], x[1:])
    np.testing.assert_array_equal(data["after"][1], x[1:] + 1.0)
    with pytest.raises(ValueError, match="curve 'x'"):
        plot.set_curves(x, [Curve("x", x[:2])], x_label="", y_label="")


def test_layer_labels_never_overlap_and_all_show_when_they_fit(qtbot):
    from llamalens.viz.layer_head_map import TICK_SPACING_PX

    m = shown(LayerHeadMap(), qtbot)
    values = np.linspace(-1, 1, 30 * 9).reshape(30, 9)
    m.resize(500, 220)  # a short dock: 30 layers in ~120 px
    m.set_values(values)
    qtbot.wait(50)
    ticks = m.layer_ticks()
    row_px = m._plot.vb.height() / 30
    assert ticks[0] == 0 and len(ticks) < 30
    assert (ticks[1] - ticks[0]) * row_px >= TICK_SPACING_PX
    m.resize(500, 900)  # tall: every layer labelled
    qtbot.wait(50)
    assert m.layer_ticks() == list(range(30))
