"""Colour scales and the hidden sink column of the AttentionMap."""

from __future__ import annotations

import numpy as np
import pytest

from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.colormaps import LOG_FLOOR
from tests.viz.maps import stage_args


def probs_map(t: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(t, t)).astype(np.float32) * 3
    scores[np.triu_indices(t, 1)] = -np.inf
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


@pytest.fixture
def amap(qtbot):
    w = AttentionMap()
    qtbot.addWidget(w)
    return w


def test_log_scale_colours_log_probabilities(amap):
    p = probs_map()
    labels = [f"t{i}" for i in range(8)]
    amap.set_map(p, labels, **stage_args("probs", p))
    amap.set_color_scale("log")
    held = amap.image_item().image
    lower = np.tril(np.ones((8, 8), bool))
    np.testing.assert_allclose(held[lower], np.log10(np.maximum(p, LOG_FLOOR))[lower], rtol=1e-6)
    assert amap.levels()[1] <= 0.0  # log10 of probabilities
    np.testing.assert_array_equal(amap.displayed_matrix(), p)  # readout keeps true values


def test_gamma_scale_normalises_then_raises(amap):
    p = probs_map(seed=1)
    amap.set_map(p, [str(i) for i in range(8)], **stage_args("probs", p))
    amap.set_color_scale("gamma", 0.5)
    held = amap.image_item().image
    lower = np.tril(np.ones((8, 8), bool))
    expected = np.sqrt(np.clip(p / p[lower].max(), 0, 1))
    np.testing.assert_allclose(held[lower], expected[lower], rtol=1e-5)


def test_hide_first_column_takes_it_out_of_the_range(amap):
    p = np.tril(np.full((8, 8), 0.05, np.float32))
    p[:, 0] = 0.9  # a strong sink
    amap.set_map(p, [str(i) for i in range(8)], **stage_args("probs", p))
    high_with_sink = amap.levels()[1]
    amap.set_hide_first_column(True)
    assert high_with_sink == pytest.approx(0.9)
    assert amap.levels()[1] == pytest.approx(0.05)
    np.testing.assert_array_equal(amap.displayed_matrix(), p)


def test_bad_scale_is_named(amap):
    with pytest.raises(ValueError, match="cubic"):
        amap.set_color_scale("cubic")
    with pytest.raises(ValueError, match="gamma"):
        amap.set_color_scale("gamma", 0)
