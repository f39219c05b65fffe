"""The head view and the coloured text in the window show the trace's own probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from llamalens.app import create_main_window
from llamalens.app.state import PromptSettings
from llamalens.viz.attention_text import tint_alpha
from llamalens.viz.head_view import MIN_WEIGHT
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the cat sat on the mat, the cat sat on the hat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("views") / "hf", tiny_tensors(cfg, 2), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.model_loaded, timeout=60_000):
        pass
    win.state.set_prompt(PromptSettings(PROMPT))
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        win.run_prompt()
    yield win
    win.close()


def show(qtbot, window, dock: str) -> None:
    window.docks[dock].show()
    window.docks[dock].raise_()
    qtbot.wait(50)


def test_head_view_lines_are_the_layer_probabilities(qtbot, window):
    show(qtbot, window, "headViewDock")
    window.state.set_layer(1)
    qtbot.wait(50)
    view = window.findChild(type(window.head_view.view), "headView")
    assert view is window.head_view.view
    trace = window.state.trace
    lines = view.lines()
    assert lines
    for head, query, key, weight in lines:
        assert weight == float(trace.probs(1, head)[query, key])
    drawn = {(h, i, j) for h, i, j, _ in lines}
    for head in range(trace.n_heads):
        probs = trace.probs(1, head)
        for i, j in np.argwhere(probs >= MIN_WEIGHT):
            assert (head, int(i), int(j)) in drawn
    kv = [trace.kv_head(h) for h in range(trace.n_heads)]
    hues = [view.head_color(h).hslHue() for h in range(trace.n_heads)]
    for a in range(trace.n_heads):  # one hue per KV group
        for b in range(trace.n_heads):
            assert (hues[a] == hues[b]) == (kv[a] == kv[b])


def test_clicking_a_query_in_the_head_view_selects_it(qtbot, window):
    show(qtbot, window, "headViewDock")
    view = window.head_view.view
    with qtbot.waitSignal(window.state.token_changed):
        view.query_clicked.emit(3)
    assert window.state.token == 3 and view.layer.selected == 3


def test_coloured_text_tints_are_the_query_row(qtbot, window):
    show(qtbot, window, "attentionTextDock")
    s = window.state
    s.set_layer(1)
    s.set_head(2)
    s.set_token(7)
    qtbot.wait(50)
    text = window.attention_text.text
    assert text.objectName() == "attentionText"
    row = s.trace.probs(1, 2)[7]
    np.testing.assert_array_equal(text.weights(), row)
    hidden = np.arange(s.trace.n_tokens) > 7
    np.testing.assert_array_equal(text.alphas(), tint_alpha(row, hidden))
    assert text.alphas()[np.argmax(row)] == 255
    assert text.toPlainText() == "".join(s.trace.token_strs)


def test_coloured_text_average_mode(qtbot, window):
    show(qtbot, window, "attentionTextDock")
    panel = window.attention_text
    panel.mode_combo.setCurrentIndex(1)
    qtbot.wait(50)
    s = window.state
    probs = s.trace.probs(s.layer, s.head)
    n = probs.shape[0]
    expect = np.array([probs[j:, j].mean() for j in range(n)])
    np.testing.assert_allclose(panel.text.weights(), expect, rtol=1e-6)


def test_both_views_export(qtbot, window, tmp_path):
    show(qtbot, window, "headViewDock")
    figure = window.head_view.view.figure_widget()
    out = window.exports.export(figure, tmp_path / "heads.png")
    assert QImage(str(out)).height() > figure.height()  # twice the widget, plus the title
    show(qtbot, window, "attentionTextDock")
    out = window.exports.export(window.attention_text.text, tmp_path / "text.svg")
    svg = out.read_text(encoding="utf-8")
    # the tokens stay text in a vector figure: one run per differently tinted token
    assert svg.count("<text") > window.state.trace.n_tokens // 2
