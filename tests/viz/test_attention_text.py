"""AttentionText: the prompt as text, tinted by the attention each token receives."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from llamalens.viz.attention_text import AttentionText, tint_alpha

WORDS = ["The", " capital", " of", " France", " is", " Paris", ".\n", "It"]


@pytest.fixture
def text(qtbot):
    widget = AttentionText()
    qtbot.addWidget(widget)
    widget.resize(500, 200)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_text_reads_as_the_prompt(text):
    weights = np.linspace(0, 1, len(WORDS))
    text.set_tokens(WORDS, weights)
    assert text.toPlainText() == "".join(WORDS)


def test_tints_follow_the_weights(text):
    weights = np.array([0.5, 0.1, 0.0, 0.25, 0.15, 0.0, 0.0, 0.0])
    hidden = np.arange(len(WORDS)) > 4
    text.set_tokens(WORDS, weights, hidden=hidden, selected=4)
    np.testing.assert_array_equal(text.weights(), weights)
    alphas = text.alphas()
    np.testing.assert_array_equal(alphas, np.rint(weights / 0.5 * 255) * ~hidden)
    assert text.tint(0).alpha() == 255 and text.tint(2).alpha() == 0
    order = np.argsort(weights[:5])
    assert list(alphas[:5][order]) == sorted(alphas[:5])  # monotone in the weight


def test_gamma_brightens_small_weights():
    w = np.array([1.0, 0.04])
    assert tint_alpha(w, None, 0.5)[1] == round(0.2 * 255)
    assert tint_alpha(np.zeros(3), None).tolist() == [0, 0, 0]


def test_thousands_of_tokens(text):
    n = 5000
    words = [f" w{i}" for i in range(n)]
    weights = np.random.default_rng(0).random(n)
    text.set_tokens(words, weights)
    assert len(text.alphas()) == n
    assert text.toPlainText() == "".join(words)


def test_hover_and_click_name_the_token(text, qtbot):
    text.set_tokens(WORDS, np.full(len(WORDS), 0.125))
    doc = text.document()
    cursor = text.textCursor()
    cursor.setPosition(len("The cap"))  # inside " capital"
    rect = text.cursorRect(cursor)
    point = rect.center()
    point.setX(point.x() + 2)
    assert text.token_at(point) == 1
    assert text.tooltip_text(1) == "1: ' capital'  0.1250"
    with qtbot.waitSignal(text.token_clicked) as blocker:
        qtbot.mouseClick(text.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [1]
    assert doc.characterCount() > 0


def test_bad_lengths_are_refused(text):
    with pytest.raises(ValueError, match="expected \\(8,\\)"):
        text.set_tokens(WORDS, np.zeros(3))
