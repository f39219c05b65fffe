"""Sessions saved from a window with a model reopen, identical, in a window without one."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from llamalens.app import create_main_window
from llamalens.app.session import open_session, save_session
from llamalens.model.vocab_table import VocabTable
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("sess") / "hf", tiny_tensors(cfg, 7), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.prompt.edit.setPlainText(PROMPT)
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        pass  # loading finishes, the prompt runs and is analysed
    yield win
    win.close()


@pytest.fixture
def empty(qtbot, tmp_path):
    """A window whose model failed to load: no model, no trace."""
    win = create_main_window(str(tmp_path / "no-such-model"), "cpu")
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.error_shown, timeout=30_000):
        pass
    yield win
    win.close()


def _arrange(win) -> None:
    s, panel = win.state, win.sampling
    s.set_layer(1)
    s.set_head(2)
    s.set_stage("masked")
    s.set_token(5)
    s.set_key(3)
    panel.temperature_slider.setValue(70)
    panel.top_p_slider.setValue(85)
    panel.top_k_spin.setValue(4)
    panel.seed_spin.setValue(11)
    s.add_history("+ cat  (id 9, greedy)")


def test_session_reopens_identically_without_a_model(qtbot, window, empty, tmp_path):
    _arrange(window)
    path = tmp_path / "a.llamalens"
    save_session(window, path)
    assert window.state.analysis is not None
    open_session(empty, path)
    a, b = window.state, empty.state
    assert empty.state.model is None and isinstance(b.vocab, VocabTable)
    assert (b.layer, b.head, b.stage, b.token, b.key) == (1, 2, "masked", 5, 3)
    np.testing.assert_array_equal(
        empty.attention.map.displayed_matrix(), window.attention.map.displayed_matrix()
    )
    for stage in ("scores", "probs"):
        np.testing.assert_array_equal(
            b.trace.attention_map(0, 1, stage), a.trace.attention_map(0, 1, stage)
        )
    assert empty.prompt.text() == PROMPT
    assert [
        empty.sampling.history.item(i).text() for i in range(empty.sampling.history.count())
    ] == [window.sampling.history.item(i).text() for i in range(window.sampling.history.count())]
    assert empty.sampling.bars.labels == window.sampling.bars.labels
    assert empty.sampling.t_label.text() == window.sampling.t_label.text() == "0.70"
    assert empty.sampling.top_k_spin.value() == 4 and empty.sampling.seed_spin.value() == 11
    assert empty.stats.table.rowCount() == window.stats.table.rowCount() > 0
    assert empty.lens.table.rowCount() == window.lens.table.rowCount() > 0
    assert "session: a.llamalens (no model loaded)" in empty.model_label.text()
    # saving again from the model-less window keeps the model description
    save_session(empty, tmp_path / "b.llamalens")
    from llamalens.model.session_io import load_session

    assert load_session(tmp_path / "b.llamalens").meta["model"]["format"] == "hf"


def test_run_without_a_model_shows_an_error(qtbot, window, empty, tmp_path):
    save_session(window, tmp_path / "a.llamalens")
    open_session(empty, tmp_path / "a.llamalens")
    with qtbot.waitSignal(empty.error_shown, timeout=10_000) as blocker:
        qtbot.mouseClick(empty.findChild(QPushButton, "runButton"), Qt.MouseButton.LeftButton)
    assert "no model is loaded" in blocker.args[0]
    empty.sampling.choose_greedy()
    with qtbot.waitSignal(empty.error_shown, timeout=10_000) as blocker:
        empty.sampling.append_chosen()
    assert "no model is loaded" in blocker.args[0]
    assert empty.state.trace is not None  # the session stays shown


@pytest.mark.parametrize("content", [b"not a session at all", None])
def test_corrupt_session_changes_nothing(qtbot, window, empty, tmp_path, content):
    good = tmp_path / "a.llamalens"
    save_session(window, good)
    open_session(empty, good)
    bad = tmp_path / "bad.llamalens"
    data = good.read_bytes()
    bad.write_bytes(content if content is not None else data[: len(data) * 2 // 3])
    s = empty.state
    before = (
        s.trace,
        s.vocab,
        s.layer,
        s.head,
        s.stage,
        s.token,
        s.key,
        empty.prompt.text(),
        empty.sampling.history.count(),
        empty.model_label.text(),
    )
    with qtbot.waitSignal(empty.error_shown, timeout=5_000) as blocker:
        open_session(empty, bad)
    assert "bad.llamalens" in blocker.args[0]
    assert empty.error_box.windowTitle() == "Could not open the session"
    assert (
        s.trace,
        s.vocab,
        s.layer,
        s.head,
        s.stage,
        s.token,
        s.key,
        empty.prompt.text(),
        empty.sampling.history.count(),
        empty.model_label.text(),
    ) == before


def test_save_without_a_trace_is_an_error(qtbot, empty, tmp_path):
    with qtbot.waitSignal(empty.error_shown, timeout=5_000) as blocker:
        save_session(empty, tmp_path / "x.llamalens")
    assert "nothing to save" in blocker.args[0]
    assert not (tmp_path / "x.llamalens").exists()


def test_append_after_opening_a_session_continues_its_trace(qtbot, window, tmp_path):
    path = tmp_path / "s.llamalens"
    before = window.state.trace.token_ids.tolist()
    save_session(window, path)
    window.prompt.edit.setPlainText("something else")
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        window.run_prompt()
    open_session(window, path)
    assert window.state.trace.token_ids.tolist() == before
    window.sampling.choose_greedy()
    token = window.sampling.chosen
    with qtbot.waitSignal(window.run_shown, timeout=30_000):
        window.sampling.append_chosen()
    assert window.state.trace.token_ids.tolist() == before + [token]


def test_a_saved_walkthrough_runs_without_the_model(qtbot, window, empty, tmp_path):
    """The walkthrough's values and step are saved: every step shows without weights."""
    from llamalens.app.walkthrough.steps import STEP_IDS

    with qtbot.waitSignal(window.state.detail_changed, timeout=60_000):
        window.walkthrough.action.trigger()
    window.state.set_walk_step("silu")
    path = tmp_path / "walk.llamalens"
    save_session(window, path)
    window.walkthrough.action.trigger()
    open_session(empty, path)
    empty.walkthrough.action.trigger()
    assert empty.state.walk_step == "silu"
    assert empty.walkthrough.status() == "ready"
    for step in STEP_IDS:
        empty.state.set_walk_step(step)
        empty.walkthrough.refresh()
        assert empty.walkthrough.view.tensors.captions(), step
    np.testing.assert_array_equal(
        empty.state.current_detail().gate, window.state.current_detail().gate
    )
    empty.walkthrough.action.trigger()


def test_a_variants_session_keeps_the_variant_and_the_baseline(qtbot, window, tmp_path):
    from llamalens.model.variants import HeadAblation, RopeChange, Variant

    variant = Variant((HeadAblation(1, 1, "mean"),), RopeChange(theta=999.0))
    window.state.set_variant(variant)
    with qtbot.waitSignal(window.analysis_shown, timeout=60_000):
        window.run_prompt()
    path = tmp_path / "variant.llamalens"
    save_session(window, path)
    # the app opened on that file, as `llamalens --session FILE` (and the API) do
    other = create_main_window(str(tmp_path / "no-such-model"), "cpu", session=str(path))
    qtbot.addWidget(other)
    try:
        s = other.state
        assert s.variant == variant and s.trace.variant == variant.to_dict()
        assert "[variant: ablated L1.H1 mean · RoPE θ 999]" in other.windowTitle()
        np.testing.assert_array_equal(s.baseline.last_logits, window.state.baseline.last_logits)
        np.testing.assert_array_equal(s.baseline.theta, window.state.baseline.theta)
        bars = other.whatif.before_after.bars
        np.testing.assert_array_equal(bars.prob_b, window.whatif.before_after.bars.prob_b)
    finally:
        with qtbot.waitSignal(other.error_shown, timeout=30_000):
            pass  # the model path does not exist: reported, the session stays
        assert other.state.trace.variant == variant.to_dict()
        other.close()
