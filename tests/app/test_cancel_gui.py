"""Esc (Run ▸ Cancel) stops loading, running and generating; the window is free at once.

The worker acknowledges a cancel within one layer (tests/model/test_cancel.py counts
that); here the window's side: the busy bar goes away on the worker's answer, no error
dialog opens, the tokens generated so far stay, and the next request runs normally.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QKeySequence

from llamalens.app import create_main_window
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab, max_seq_len=4096)
    return write_hf(tmp_path_factory.mktemp("cancel-gui") / "hf", tiny_tensors(cfg, 4), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.prompt.edit.setPlainText(PROMPT)
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        pass
    yield win
    win.close()


def _cancel_action(win) -> QAction:
    (act,) = [a for a in win.findChildren(QAction) if a.text() == "&Cancel"]
    assert act.shortcut() == QKeySequence("Esc")
    return act


def test_esc_during_generate_stops_it_and_keeps_the_tokens(qtbot, window):
    before = window.state.trace.n_tokens
    analysed = []
    window.analysis_shown.connect(analysed.append)

    def made_three(_id, _fraction, message: str) -> bool:
        return message.startswith("Generated 3/")

    with qtbot.waitSignal(window.worker.progress, timeout=30_000, check_params_cb=made_three):
        window.generate(3000)
    with qtbot.waitSignal(window.cancelled_shown, timeout=30_000):
        _cancel_action(window).trigger()
    assert not window.progress_bar.isVisible() and not window.cancel_button.isVisible()
    assert window.error_box is None
    trace = window.state.trace
    assert before < trace.n_tokens < before + 3000  # the tokens made so far are shown
    assert window.state.run.kind == "generate"
    qtbot.wait(200)
    assert analysed == []  # the analysis of a cancelled generation is skipped
    # the window goes on working: a new run is traced and analysed
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        window.run_prompt()
    assert window.state.trace.n_tokens == before


def test_cancel_during_a_load_keeps_the_current_model(qtbot, window, default_gguf):
    name = window.state.model.name
    with qtbot.waitSignal(window.worker.progress, timeout=60_000):
        window.open_model(str(default_gguf))
    with qtbot.waitSignal(window.cancelled_shown, timeout=30_000):
        window.cancel()
    assert window.error_box is None and not window.progress_bar.isVisible()
    assert window.state.model.name == name
    assert "cancelled" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        window.run_prompt()
