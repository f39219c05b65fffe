"""TokenStrip: one chip per token; byte pieces of one character say so."""

from __future__ import annotations

import pytest

from llamalens.viz.token_strip import NORMAL_BG, PIECE_BG, SPECIAL_BG, TokenStrip


@pytest.fixture
def strip(qtbot):
    widget = TokenStrip()
    qtbot.addWidget(widget)
    return widget


def test_chips_show_text_id_and_mark_the_pieces_of_a_character(strip):
    texts = ["<s>", " a", "猫", "猫", "猫"]
    ids = [1, 64, 245, 246, 247]
    hexes = ["3c733e", "2061", "e7", "8c", "ab"]
    special = [True, False, False, False, False]
    strip.set_tokens(texts, ids, hexes, special, [None, None, (1, 3), (2, 3), (3, 3)])
    chips = [strip.item(i) for i in range(strip.count())]
    assert [c.text() for c in chips] == [
        "<s>\n1",
        "·a\n64",
        "猫 1/3\n245",
        "猫 2/3\n246",
        "猫 3/3\n247",
    ]
    assert chips[0].background().color() == SPECIAL_BG
    assert chips[1].background().color() == NORMAL_BG
    assert all(c.background().color() == PIECE_BG for c in chips[2:])
    assert "byte piece 2 of the 3 that make '猫'" in chips[3].toolTip()
    assert "bytes 8c" in chips[3].toolTip()


def test_pieces_are_optional_and_lengths_are_checked(strip):
    strip.set_tokens(["a", "b"], [1, 2], ["61", "62"], [False, False])
    assert [strip.item(i).text() for i in range(2)] == ["a\n1", "b\n2"]
    with pytest.raises(ValueError, match="equal lengths"):
        strip.set_tokens(["a"], [1, 2], ["61"], [False])
