"""LogitBars: solid widths are the sampled-from distribution, cuts are grey, items reused."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from llamalens.viz.logit_bars import CHOSEN_COLOR, CUT_COLOR, KEPT_COLOR, LogitBars

LABELS = [" Paris", " the", " France", " a", "\n", " Lyon", " its", " one", ",", " London"]
LOGITS = np.array([5.0, 3.9, 3.5, 3.1, 2.7, 2.5, 2.2, 2.0, 1.8, 1.5])


def softmax(x: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = np.exp((x - x.max()) / t)
    return z / z.sum()


def sampled(t: float, top_p: float):
    """(tempered-and-renormalised probabilities, kept mask) as the sampling panel makes them."""
    tempered = softmax(LOGITS, t)
    kept = np.cumsum(tempered) - tempered < top_p
    return np.where(kept, tempered / tempered[kept].sum(), tempered), kept


@pytest.fixture
def bars(qtbot):
    widget = LogitBars()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    return widget


def brush_colors(item) -> list[str]:
    return [b.color().name() for b in item.opts["brushes"]]


def test_set_bars_widths_labels_and_top_first(bars):
    probs = softmax(LOGITS)
    bars.set_bars(LABELS, probs)
    assert bars.objectName() == "logitBars"
    assert bars.labels == LABELS
    np.testing.assert_array_equal(bars.probs, probs)
    np.testing.assert_array_equal(bars.bar_item.opts["width"], probs)
    y = bars.bar_item.opts["y"]
    assert y[0] == y.max() and np.all(np.diff(y) < 0)  # most likely on top
    ticks = dict(bars.getPlotItem().getAxis("left")._tickLevels[0])
    assert ticks[float(y[0])] == "·Paris" and ticks[float(y[4])] == "↵"
    assert not bars.outline_item.isVisible() and bars.kept.all()
    assert bars._texts[0].toPlainText() == f"{probs[0]:.1%}"


def test_distribution_solid_is_tempered_outline_is_original(bars):
    probs = softmax(LOGITS)
    shown, kept = sampled(0.7, 0.8)
    bars.set_distribution(LABELS, probs, shown, kept)
    np.testing.assert_array_equal(bars.probs, shown)
    np.testing.assert_array_equal(bars.bar_item.opts["width"], shown)
    np.testing.assert_array_equal(bars.outline_item.opts["width"], probs)
    assert bars.outline_item.isVisible()
    np.testing.assert_array_equal(bars.kept, kept)
    assert bars.probs[bars.kept].sum() == pytest.approx(1.0)


def test_cut_tokens_are_grey_and_say_cut(bars):
    shown, kept = sampled(1.5, 0.6)
    assert kept[0] and not kept.all()
    bars.set_distribution(LABELS, softmax(LOGITS), shown, kept)
    colors = brush_colors(bars.bar_item)
    for i, k in enumerate(kept):
        assert colors[i] == QColor(KEPT_COLOR if k else CUT_COLOR).name()
        assert bars._texts[i].toPlainText().startswith("cut") != bool(k)


def test_chosen_token_is_highlighted(bars):
    shown, kept = sampled(1.0, 0.9)
    bars.set_distribution(LABELS, softmax(LOGITS), shown, kept, chosen=2)
    assert bars.chosen == 2
    assert brush_colors(bars.bar_item)[2] == QColor(CHOSEN_COLOR).name()
    assert brush_colors(bars.bar_item).count(QColor(CHOSEN_COLOR).name()) == 1
    pens = bars.bar_item.opts["pens"]
    assert pens[2].widthF() > 1 and all(
        p.style().name == "NoPen" for j, p in enumerate(pens) if j != 2
    )
    assert "chosen" in bars._texts[2].toPlainText()


def test_updates_reuse_items(bars):
    probs = softmax(LOGITS)
    bars.set_distribution(LABELS, probs, *sampled(0.5, 1.0))
    solid, outline, texts = bars.bar_item, bars.outline_item, list(bars._texts)
    n_items = len(bars.getPlotItem().items)
    for t in np.linspace(0.2, 2.0, 25):  # a temperature slider being dragged
        shown, kept = sampled(float(t), 0.9)
        bars.set_distribution(LABELS, probs, shown, kept)
        np.testing.assert_array_equal(bars.bar_item.opts["width"], shown)
    assert bars.bar_item is solid and bars.outline_item is outline
    assert bars._texts == texts and len(bars.getPlotItem().items) == n_items
    bars.set_bars(LABELS[:3], probs[:3])  # fewer bars: extra labels hidden, not leaked
    assert [t.isVisible() for t in bars._texts] == [True] * 3 + [False] * 7
    assert bars.bar_item is solid


def test_validation_names_shapes(bars):
    probs = softmax(LOGITS)
    with pytest.raises(ValueError, match=r"tempered has shape \(9,\), expected \(10,\)"):
        bars.set_distribution(LABELS, probs, probs[:9], np.ones(10, bool))
    with pytest.raises(ValueError, match="bool mask"):
        bars.set_distribution(LABELS, probs, probs, np.ones(10))
    with pytest.raises(ValueError, match="chosen is 10"):
        bars.set_distribution(LABELS, probs, probs, np.ones(10, bool), chosen=10)
    with pytest.raises(ValueError, match=r"shape \(9,\)"):
        bars.set_bars(LABELS, probs[:9])


def test_empty_distribution_hides_bars(bars):
    bars.set_bars(LABELS, softmax(LOGITS))
    bars.set_distribution([], np.zeros(0), np.zeros(0), np.zeros(0, bool))
    assert not bars.bar_item.isVisible() and bars.labels == []


def test_dark_colors_reach_labels_and_title(qtbot):
    from llamalens.viz.logit_bars import LogitBars

    bars = LogitBars()
    qtbot.addWidget(bars)
    bars.set_distribution(
        ["a", "b"], np.array([0.7, 0.3]), np.array([0.8, 0.2]), np.array([True, True])
    )
    bars.set_colors("#1e1f22", "#e8e8e8")
    assert bars.backgroundBrush().color().name() == "#1e1f22"
    texts = [t for t in bars._texts if t.isVisible()]
    assert texts and all(t.color.name() == "#e8e8e8" for t in texts)
