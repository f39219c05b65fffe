"""The inspector window driven as a user would, on a tiny real checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QPushButton, QSlider, QSpinBox

from llamalens.app import create_main_window
from llamalens.model.engine import Engine
from llamalens.model.sampling import SamplingParams, nucleus, sample, softmax
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("win") / "hf", tiny_tensors(cfg, 7), cfg, vocab)


@pytest.fixture(scope="module")
def reference(tiny_hf):
    return Engine.load(tiny_hf, device="cpu")


@pytest.fixture
def window(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        pass  # loading finishes, the default prompt runs and is analysed
    yield win
    win.close()


def run(qtbot, win, text: str) -> None:
    edit = win.findChild(QPlainTextEdit, "promptEdit")
    edit.setPlainText("")
    qtbot.keyClicks(edit, text)
    with qtbot.waitSignal(win.analysis_shown, timeout=30_000):
        qtbot.mouseClick(win.findChild(QPushButton, "runButton"), Qt.MouseButton.LeftButton)


def shown_map(win) -> np.ndarray:
    return win.attention.map.displayed_matrix()


def test_run_shows_tokens_and_the_selected_map(qtbot, window, reference):
    run(qtbot, window, PROMPT)
    ids = reference.encode(PROMPT).ids
    trace = window.state.trace
    assert trace.token_ids.tolist() == ids
    strip = window.tokens.strip
    assert [int(strip.item(i).text().split("\n")[1]) for i in range(strip.count())] == ids
    np.testing.assert_array_equal(shown_map(window), trace.probs(0, 0))
    assert window.state.token == len(ids) - 1  # the last token is the query


def test_keyboard_steps_heads_layers_and_stages(qtbot, window):
    run(qtbot, window, PROMPT)
    amap = window.attention.map
    trace = window.state.trace
    qtbot.keyClick(amap, Qt.Key.Key_Right)
    qtbot.keyClick(amap, Qt.Key.Key_Right)
    qtbot.keyClick(amap, Qt.Key.Key_Down)
    assert (window.state.layer, window.state.head) == (1, 2)
    assert window.findChild(QSpinBox, "layerSpin").value() == 1
    assert window.findChild(QSpinBox, "headSpin").value() == 2
    np.testing.assert_array_equal(shown_map(window), trace.probs(1, 2))
    qtbot.keyClick(amap, Qt.Key.Key_Tab)  # probs → scores
    assert window.state.stage == "scores"
    np.testing.assert_array_equal(shown_map(window), trace.scores(1, 2))
    qtbot.keyClick(amap, Qt.Key.Key_Tab)  # → masked
    masked = shown_map(window)
    np.testing.assert_array_equal(masked, trace.masked(1, 2))
    assert np.isneginf(masked[0, 1:]).all()
    assert window.findChild(QComboBox, "stageCombo").currentData() == "masked"
    qtbot.keyClick(amap, Qt.Key.Key_End)
    assert window.state.head == trace.n_heads - 1
    qtbot.keyClick(amap, Qt.Key.Key_Home)
    qtbot.keyClick(amap, Qt.Key.Key_Up)
    assert (window.state.layer, window.state.head) == (0, 0)
    qtbot.keyClick(amap, Qt.Key.Key_Left)  # clamps at 0
    assert window.state.head == 0


def test_head_grid_click_selects_head(qtbot, window):
    run(qtbot, window, PROMPT)
    grid = window.heads.grid
    grid.head_selected.emit(3)
    assert window.state.head == 3
    np.testing.assert_array_equal(shown_map(window), window.state.trace.probs(0, 3))


def test_clicking_a_token_updates_rope_panel(qtbot, window):
    run(qtbot, window, PROMPT)
    strip = window.tokens.strip
    rect = strip.visualItemRect(strip.item(4))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.state.token == 4
    window.state.set_key(2)
    trace, s = window.state.trace, window.state
    parts = trace.pair_contributions(s.layer, s.head, 4, 2)
    qtbot.waitUntil(
        lambda: window.rope.plane.contribution_sum() == pytest.approx(float(parts.sum()), abs=1e-6),
        timeout=5_000,
    )  # the RoPE panel redraws debounced
    assert window.rope.plane.contribution_sum() == pytest.approx(
        float(trace.scores(s.layer, s.head)[4, 2]), abs=1e-5
    )
    q = trace.rope_query(s.layer, s.head, 4)
    pts = window.rope.plane.q_after_points()
    np.testing.assert_allclose(
        pts[:, 0] + 1j * pts[:, 1], q.after[window.rope.plane.shown_pairs()], atol=1e-6
    )


def test_attention_cell_click_selects_query_and_key(qtbot, window):
    run(qtbot, window, PROMPT)
    window.attention.map.cell_clicked.emit(6, 1)
    assert (window.state.token, window.state.key) == (6, 1)


def test_temperature_slider_redraws_bars(qtbot, window):
    run(qtbot, window, PROMPT)
    logits = window.state.trace.last_logits
    slider = window.findChild(QSlider, "temperatureSlider")
    slider.setValue(50)  # T = 0.5
    bars = window.sampling.bars
    tempered = softmax(logits, 0.5)
    order = np.argsort(-tempered, kind="stable")[: len(bars.labels)]
    np.testing.assert_allclose(bars.probs, tempered[order], atol=1e-6)  # top-p 1: all kept
    window.findChild(QSlider, "topPSlider").setValue(5)  # top-p 0.05
    kept = nucleus(tempered, 0.05, 0)
    np.testing.assert_array_equal(bars.kept, np.isin(order, kept))
    assert bars.kept[0] and not bars.kept.all()
    renormalised = tempered[order] / tempered[kept].sum()
    np.testing.assert_allclose(bars.probs[bars.kept], renormalised[bars.kept], atol=1e-6)
    np.testing.assert_allclose(bars.probs[~bars.kept], tempered[order][~bars.kept], atol=1e-6)


def test_sample_with_seed_appends_that_token(qtbot, window, reference):
    run(qtbot, window, PROMPT)
    window.findChild(QSlider, "temperatureSlider").setValue(80)
    window.findChild(QSlider, "topPSlider").setValue(90)
    window.findChild(QSpinBox, "seedSpin").setValue(1234)
    before = window.state.trace.token_ids.tolist()
    expected = sample(window.state.trace.last_logits, SamplingParams(0.8, 0.9, 0, 1234)).token
    qtbot.mouseClick(window.findChild(QPushButton, "sampleButton"), Qt.MouseButton.LeftButton)
    assert window.sampling.chosen == expected
    assert window.findChild(QSpinBox, "seedSpin").value() == 1235
    with qtbot.waitSignal(window.run_shown, timeout=30_000):
        qtbot.mouseClick(window.findChild(QPushButton, "appendButton"), Qt.MouseButton.LeftButton)
    after = window.state.trace
    assert after.token_ids.tolist() == before + [expected]
    full = reference.logits(before + [expected])[-1]
    np.testing.assert_allclose(after.last_logits, full, atol=1e-4)
    assert window.sampling.history.count() == 1


def test_generate_appends_n_tokens(qtbot, window, reference):
    run(qtbot, window, PROMPT)
    before = window.state.trace.token_ids.tolist()
    window.findChild(QSlider, "temperatureSlider").setValue(0)
    window.findChild(QSpinBox, "generateSpin").setValue(3)
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        qtbot.mouseClick(window.findChild(QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    ids = window.state.trace.token_ids.tolist()
    assert ids[: len(before)] == before and len(ids) - len(before) >= 1
    assert ids[len(before) :] == reference.generate(before, 3)[: len(ids) - len(before)]


def test_bad_checkpoint_shows_error_and_keeps_model(qtbot, window, reference, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 7)
    with qtbot.waitSignal(window.error_shown, timeout=30_000):
        window.open_model(str(bad))
    assert window.error_box.isVisible()
    assert "broken.gguf" in window.error_box.text() and "Still using" in window.error_box.text()
    run(qtbot, window, "the cat sat")  # the previous model still runs, and it is the same one
    trace = window.state.trace
    assert trace.token_ids.tolist() == reference.encode("the cat sat").ids
    np.testing.assert_allclose(
        trace.last_logits, reference.logits(reference.encode("the cat sat").ids)[-1], atol=1e-4
    )


def test_empty_prompt_is_a_clear_message(qtbot, window):
    window.findChild(QPlainTextEdit, "promptEdit").setPlainText("")
    with qtbot.waitSignal(window.error_shown, timeout=30_000):
        window.run_prompt()
    assert "empty" in window.error_box.text()


def test_object_names_are_in_place(window):
    from PySide6.QtWidgets import QWidget

    for name in (
        "promptEdit",
        "runButton",
        "layerSpin",
        "headSpin",
        "stageCombo",
        "attentionMap",
        "headGrid",
        "ropePlane",
        "logitBars",
        "temperatureSlider",
        "topPSlider",
        "sampleButton",
    ):
        assert window.findChild(QWidget, name) is not None, name


def test_capturing_some_layers_steps_through_them_only(qtbot, window):
    window.set_capture_layers((1,))
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        pass
    s = window.state
    assert s.trace.layers == (1,) and s.layer == 1
    s.step_layer(-1)
    assert s.layer == 1  # no captured layer below
    np.testing.assert_array_equal(shown_map(window), s.trace.probs(1, s.head))
    table = window.stats.table
    assert set(table.column_values("layer")) == {1.0}
    window.set_capture_layers(None)
    with qtbot.waitSignal(window.analysis_shown, timeout=30_000):
        pass
    assert window.state.trace.layers == (0, 1)
