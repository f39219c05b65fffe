"""The first window, driven as a user would: type, run, read tokens and next tokens."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

from app import create_main_window
from model.runtime import load_model
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("win") / "hf", tiny_tensors(cfg, 7), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.run_shown, timeout=60_000):
        pass  # loading finishes, then the default prompt runs
    return win


def type_and_run(qtbot, win, text: str) -> None:
    edit = win.findChild(QPlainTextEdit, "promptEdit")
    edit.setPlainText("")
    if text.isprintable():
        qtbot.keyClicks(edit, text)  # typed like a user
    else:
        edit.setPlainText(text)  # QTest cannot type control characters
    with qtbot.waitSignal(win.run_shown, timeout=30_000):
        qtbot.mouseClick(win.findChild(QPushButton, "runButton"), Qt.MouseButton.LeftButton)


def test_run_shows_tokens_and_top_next(qtbot, window, tiny_hf):
    type_and_run(qtbot, window, "hello world, the cat")
    model = load_model(tiny_hf, device="cpu")
    ids = model.encode("hello world, the cat")
    strip = window.token_strip
    assert strip.count() == len(ids)
    assert [int(strip.item(i).text().split("\n")[1]) for i in range(strip.count())] == ids
    assert strip.item(0).text().split("\n")[0] == model.tokenizer.token(ids[0]).text == "he"
    top = model.top_next(ids, 10)
    np.testing.assert_allclose(window.logit_bars.probs, [t.prob for t in top], atol=1e-6)
    assert window.logit_bars.labels == [t.text for t in top]


def test_ctrl_enter_runs(qtbot, window):
    edit = window.findChild(QPlainTextEdit, "promptEdit")
    edit.setPlainText("the dog")
    edit.setFocus()
    with qtbot.waitSignal(window.run_shown, timeout=30_000):
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.last_result.texts[-1] == " dog" or window.last_result.texts


def test_whitespace_is_visible_in_chips(qtbot, window):
    type_and_run(qtbot, window, "a b\n\tc")
    labels = [window.token_strip.item(i).text().split("\n")[0]
              for i in range(window.token_strip.count())]
    joined = "".join(labels)
    assert "·" in joined and "↵" in joined and "⇥" in joined


def test_bad_checkpoint_shows_error_and_keeps_model(qtbot, window, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 7)
    with qtbot.waitSignal(window.error_shown, timeout=30_000):
        window.open_model(str(bad))
    assert window.error_box is not None and window.error_box.isVisible()
    assert "broken.gguf" in window.error_box.text()
    assert "Still using" in window.error_box.text()
    type_and_run(qtbot, window, "the cat sat")
    assert len(window.last_result.ids) > 0


def test_empty_prompt_is_a_clear_message(qtbot, window):
    edit = window.findChild(QPlainTextEdit, "promptEdit")
    edit.setPlainText("")
    with qtbot.waitSignal(window.error_shown, timeout=30_000):
        window.run_prompt()
    assert "empty" in window.error_box.text()
