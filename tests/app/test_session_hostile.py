"""Hostile sessions in the window: one dialog, nothing changed, the window still works.

pytest-qt turns any exception raised in a slot (a panel drawing a broken trace) into a
test failure, so these tests also prove that no panel raises.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from llamalens.app import create_main_window
from llamalens.app.session import open_session
from tests.model.test_hostile_sessions import BAD
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.sessions import PROMPT, changed_arrays, tiny_session, write_npz
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("hostile-gui") / "hf", tiny_tensors(cfg, 3), cfg, vocab)


@pytest.fixture(scope="module")
def session(tiny_hf):
    from llamalens.model.engine import Engine

    return tiny_session(Engine.load(tiny_hf, device="cpu"))


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.prompt.edit.setPlainText(PROMPT)
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        pass
    yield win
    win.close()


def _snapshot(win):
    s = win.state
    return (
        s.trace,
        s.vocab,
        s.analysis,
        (s.layer, s.head, s.stage, s.token, s.key),
        s.sampling,
        s.history,
        win.prompt.text(),
        win.model_label.text(),
        win.attention.map.displayed_matrix().tobytes(),
    )


def test_every_hostile_session_changes_nothing(qtbot, window, session, tmp_path):
    fifo = tmp_path / "fifo.llamalens"
    os.mkfifo(fifo)
    paths = [fifo]
    for case, (change, _) in sorted(BAD.items()):
        arrays = changed_arrays(session, **change(session))
        paths.append(write_npz(tmp_path / f"{case}.llamalens", arrays))
    before = _snapshot(window)
    for path in paths:
        with qtbot.waitSignal(window.error_shown, timeout=10_000) as blocker:
            open_session(window, path)
        assert blocker.args[0].startswith(f"{path}: ") and "\n" not in blocker.args[0]
        assert window.error_box.windowTitle() == "Could not open the session"
        window.error_box.close()
        assert _snapshot(window) == before
    # the window still runs the model
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        window.run_prompt()
    assert window.state.trace.n_tokens == session.trace.n_tokens


def test_a_session_with_non_finite_values_opens_and_draws(qtbot, window, session, tmp_path):
    """NaN and infinities are values a run can produce (fp16 overflow): they are shown."""
    q_rot = session.trace.q_rot.copy()
    q_rot[0, 0, 3, :] = np.nan
    q_rot[1, 2, 4, 0] = np.inf
    logits = session.trace.last_logits.copy()
    logits[:5] = [np.nan, np.inf, -np.inf, 1e38, -1e38]
    arrays = changed_arrays(
        session,
        trace_q_rot=q_rot,
        trace_last_logits=logits,
        stats_entropy=np.full_like(session.analysis.stats["entropy"], np.nan),
    )
    meta = json.loads(str(arrays["session"]))
    meta["view"] = {"layer": 0, "head": 0, "stage": "probs", "token": 3, "key": 0}
    arrays["session"] = np.array(json.dumps(meta))
    path = write_npz(tmp_path / "nan.llamalens", arrays)
    open_session(window, path)
    s = window.state
    assert s.trace.n_tokens == session.trace.n_tokens and (s.layer, s.token) == (0, 3)
    for stage in ("scores", "masked", "probs"):
        s.set_stage(stage)
        for layer in range(s.n_layers):
            s.set_layer(layer)
            for head in range(s.n_heads):
                s.set_head(head)
                qtbot.wait(1)
    shown = window.attention.map.displayed_matrix()
    assert shown.shape == (session.trace.n_tokens,) * 2
    window.sampling.choose_greedy()
    assert window.sampling.chosen == 1  # the +inf logit
    window.sampling.choose_sample()
    assert window.sampling.chosen == 1  # it holds all the probability
    assert window.error_box is None or not window.error_box.isVisible()


def test_logits_with_nothing_to_choose_are_said_so(qtbot, window, session, tmp_path):
    arrays = changed_arrays(
        session, trace_last_logits=np.full_like(session.trace.last_logits, np.nan)
    )
    open_session(window, write_npz(tmp_path / "allnan.llamalens", arrays))
    panel = window.sampling
    assert panel.kept_count == 0 and "nothing to choose" in panel.chosen_label.text()
    panel.choose_greedy()
    panel.choose_sample()
    assert panel.chosen is None and "nothing to choose" in panel.chosen_label.text()


def test_top_token_outside_the_saved_vocabulary_is_labelled(qtbot, window, session, tmp_path):
    """A padded embedding row (no token) can top the logits; it is shown, not a crash."""
    logits = session.trace.last_logits.copy()
    top = session.vocab.n_vocab - 1
    logits[top] = logits.max() + 10
    valid = session.vocab.to_arrays()["vocab_valid"].copy()
    valid[top] = False
    arrays = changed_arrays(session, trace_last_logits=logits, vocab_valid=valid)
    open_session(window, write_npz(tmp_path / "hole.llamalens", arrays))
    assert window.sampling.bars.labels[0] == f"<id {top}: no token>"
    window.sampling.choose_greedy()
    assert window.sampling.chosen == top and f"id {top}" in window.sampling.chosen_label.text()
