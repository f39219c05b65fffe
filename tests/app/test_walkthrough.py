"""The walkthrough mode in the window: toggle, keys, every step named and shaped, export."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QLabel

from llamalens.app import create_main_window
from llamalens.app.state import RunInfo
from llamalens.app.walkthrough.steps import STEP_IDS
from llamalens.app.walkthrough.tensors import step_tensors
from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.logit_bars import LogitBars
from llamalens.viz.tensor_map import TensorMap
from llamalens.viz.token_strip import TokenStrip
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("walkwin") / "hf", tiny_tensors(cfg, 9), cfg, vocab)


@pytest.fixture
def window(qtbot, tiny_hf):
    from llamalens.app.state import PromptSettings

    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.model_loaded, timeout=60_000):
        pass
    win.state.set_prompt(PromptSettings(PROMPT))
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        win.run_prompt()
    yield win
    win.state.set_walkthrough(False)
    win.close()


def walk_on(qtbot, win) -> None:
    """Turn the walkthrough on and wait for the selected position's values."""
    with qtbot.waitSignal(win.state.detail_changed, timeout=60_000):
        win.findChild(QAction, "walkthroughAction").trigger()
    qtbot.waitUntil(lambda: win.walkthrough.status() == "ready", timeout=10_000)
    win.walkthrough.refresh()


def shown_shape(widget) -> tuple[int, ...]:
    """The shape of what a tensor widget draws."""
    if isinstance(widget, TensorMap):
        return widget.displayed().shape
    if isinstance(widget, AttentionMap):
        return widget.displayed_matrix().shape
    if isinstance(widget, TokenStrip):
        return (widget.count(),)
    if isinstance(widget, LogitBars):
        return (len(widget.labels),)
    return ()


def test_toggle_shows_the_walkthrough_and_restores_the_layout(qtbot, window):
    docks = {name: d.isVisible() for name, d in window.docks.items()}
    action = window.findChild(QAction, "walkthroughAction")
    assert action.isCheckable() and action.shortcut().toString() == "F5"
    walk_on(qtbot, window)
    view = window.walkthrough.view
    assert window.walkthrough.stack.currentWidget() is view and view.isVisible()
    assert not any(d.isVisible() for d in window.docks.values())
    action.trigger()
    assert not window.state.walkthrough
    assert window.walkthrough.stack.currentWidget() is window.attention
    assert {name: d.isVisible() for name, d in window.docks.items()} == docks


def test_keyboard_walks_every_step_naming_tensor_and_shape(qtbot, window):
    walk_on(qtbot, window)
    view = window.walkthrough.view
    state = window.state
    assert state.walk_step == STEP_IDS[0]
    title = window.findChild(QLabel, "walkthroughTitle")
    formula = window.findChild(QLabel, "walkthroughFormula")
    seen_titles = []
    for i, step in enumerate(STEP_IDS):
        assert state.walk_step == step
        window.walkthrough.refresh()
        assert title.text() and formula.text() and title.isVisible()
        seen_titles.append(title.text())
        tensors = step_tensors(step, window.walkthrough.context())
        assert tensors, step
        captions = view.tensors.captions()
        assert len(captions) == len(tensors) == len(view.tensors.shown)
        for caption, tensor, (_, widget) in zip(captions, tensors, view.tensors.shown):
            assert tensor.name in caption and tensor.shape_text() in caption, (step, caption)
            drawn = tensor.value if tensor.display is None else tensor.display
            if tensor.kind in ("matrix", "rows", "vector", "attention"):
                assert shown_shape(widget) == np.atleast_2d(drawn).shape, (step, tensor.name)
            elif tensor.kind == "tokens":
                assert shown_shape(widget) == tensor.shape
            elif tensor.kind == "bars":
                assert shown_shape(widget) == (len(tensor.bars.labels),)
            elif tensor.kind in ("ids", "token"):
                assert widget.text()
        key = (Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_PageDown)[i % 3]
        qtbot.keyClick(view, key)
    assert state.walk_step == STEP_IDS[-1]  # → at the last step stays there
    assert len(set(seen_titles)) == len(STEP_IDS)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert state.walk_step == STEP_IDS[-3]
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert state.walk_step == STEP_IDS[0]
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert state.walk_step == STEP_IDS[-1]


def test_diagram_highlights_the_block_and_a_click_jumps(qtbot, window):
    walk_on(qtbot, window)
    view = window.walkthrough.view
    window.state.set_walk_step("softmax")
    window.walkthrough.refresh()
    assert view.diagram.current() == "attention"
    rect = view.diagram.block_rect("feed_forward")
    qtbot.mouseClick(view.diagram, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert window.state.walk_step == "w1_gate"


def test_next_layer_jump_walks_the_following_layer(qtbot, window):
    walk_on(qtbot, window)
    window.state.set_walk_step("next_layer")
    window.walkthrough.refresh()
    view = window.walkthrough.view
    assert view.walk_button.isVisible()
    qtbot.mouseClick(view.walk_button, Qt.MouseButton.LeftButton)
    assert (window.state.layer, window.state.walk_step) == (1, "attention_norm")
    window.walkthrough.refresh()
    caption = view.tensors.captions()[0]
    assert "layer_embedding_norm" in caption


def test_another_token_is_recomputed_on_demand(qtbot, window):
    walk_on(qtbot, window)
    with qtbot.waitSignal(window.state.detail_changed, timeout=60_000):
        window.walkthrough.view.position_spin.setValue(2)
    detail = window.state.current_detail()
    assert window.state.token == 2 and detail.positions == (2,)
    reference = window.worker.engine.walk(window.state.trace.token_ids.tolist(), [2])
    np.testing.assert_array_equal(detail.resid_post, reference.resid_post)
    np.testing.assert_array_equal(detail.logits, reference.logits)


def test_a_trace_from_another_model_is_not_recomputed(qtbot, window):
    walk_on(qtbot, window)
    s = window.state
    # a session's trace of the same tokens, made by another checkpoint of the same shape
    other = copy.copy(s.trace)
    other.resid_post = s.trace.resid_post + 1.0
    s.set_model(s.model, s.vocab, {**s.source, "session": "old.llamalens", "path": "elsewhere"})
    s.set_trace(other, RunInfo("session"), keep_token=True)
    assert s.detail is None  # the loaded model's numbers do not belong to this trace
    s.set_walk_step("wo")
    window.walkthrough.refresh()
    assert window.walkthrough.status() == "needs_model"
    texts = window.walkthrough.view.visible_texts()
    assert "recomputed with the loaded model" in texts["status"]
    assert window.walkthrough.view.tensors.captions() == []
    s.set_walk_step("softmax")  # the trace's own steps still show
    window.walkthrough.refresh()
    assert len(window.walkthrough.view.tensors.captions()) == 1


def test_export_step_writes_a_titled_figure(qtbot, window, tmp_path):
    walk_on(qtbot, window)
    window.state.set_walk_step("softmax")
    window.walkthrough.refresh()
    png = window.walkthrough.export_step(tmp_path / "step.png", width=800)
    image = QImage(str(png))
    assert image.width() == 800 and image.height() > 200
    svg = window.walkthrough.export_step(tmp_path / "step.svg")
    text = svg.read_text(encoding="utf-8")
    assert "Softmax" in text and "qk_per_token_after_masking_after_softmax" in text


def test_clicking_a_row_selects_its_token_or_layer(qtbot, window):
    walk_on(qtbot, window)
    view = window.walkthrough.view
    window.state.set_walk_step("embedding")
    window.walkthrough.refresh()
    [(tensor, tmap)] = view.tensors.shown
    assert tensor.rows_are == "tokens"
    with qtbot.waitSignal(window.state.token_changed) as blocker:
        point = tmap.mapFromScene(tmap.scene_pos_of(1, 3))
        qtbot.mouseClick(tmap.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [1]
    window.state.set_walk_step("next_layer")
    qtbot.waitUntil(lambda: window.walkthrough.status() == "ready", timeout=30_000)
    window.walkthrough.refresh()
    [(tensor, tmap)] = view.tensors.shown
    assert tensor.rows_are == "layers"
    point = tmap.mapFromScene(tmap.scene_pos_of(1, 3))
    qtbot.mouseClick(tmap.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.state.layer == 1


def test_presenter_remote_steps_the_walkthrough_in_presentation_mode(qtbot, window):
    """PageDown / PageUp step the walkthrough while it is on, heads once it is off; the
    presentation's docks come back when the walkthrough ends during presentation."""
    from llamalens.app.walkthrough.steps import step_after

    s = window.state
    window.menus.presentation.trigger()
    walk_on(qtbot, window)
    assert not any(d.isVisible() for d in window.docks.values())
    start, head, layer = s.walk_step, s.head, s.layer
    qtbot.keyClick(window.walkthrough.view, Qt.Key.Key_PageDown)
    assert s.walk_step == step_after(start, 1)
    assert (s.layer, s.head) == (layer, head)
    window.menus.page(1)  # the View menu's Next Head, which a remote's key also reaches
    assert s.walk_step == step_after(start, 2)
    qtbot.keyClick(window.walkthrough.view, Qt.Key.Key_PageUp)
    assert s.walk_step == step_after(start, 1)
    window.findChild(QAction, "walkthroughAction").trigger()
    qtbot.waitUntil(lambda: window.docks["tokensDock"].isVisible(), timeout=5_000)
    assert window.layouts.presenting and window.isFullScreen()
    assert not window.docks["promptDock"].isVisible()
    s.set_head(0)
    qtbot.keyClick(window.attention.map, Qt.Key.Key_PageDown)
    assert s.head == 1 and s.walk_step == step_after(start, 1)
    window.menus.presentation.trigger()
    assert not window.layouts.presenting


def test_a_variants_run_walks_on_the_variant_and_says_so(qtbot, window):
    """The walkthrough of an ablated run shows the ablated values, and its export says so;
    a variant set but not run changes nothing of it."""
    from llamalens.model.variants import HeadAblation, Variant

    window.state.set_variant(Variant((HeadAblation(0, 1, "mean"),)))
    with qtbot.waitSignal(window.analysis_shown, timeout=60_000):
        window.run_prompt()
    window.state.set_variant(Variant((HeadAblation(1, 0),)))  # set, not run
    walk_on(qtbot, window)
    detail, trace = window.state.current_detail(), window.state.trace
    assert trace.variant_label == "ablated L0.H1 mean"
    assert detail.agrees_with(trace.resid_post)
    hd = trace.head_dim
    shown = detail.heads[0, :, hd : 2 * hd]  # (P, hd) layer 0's head 1, as wo receives it
    outputs = trace.probs(0, 1) @ trace.v[0, trace.kv_head(1)]  # (T, hd) before ablation
    np.testing.assert_allclose(shown, np.broadcast_to(outputs.mean(0), shown.shape), atol=1e-5)
    assert "[variant: ablated L0.H1 mean]" in window.walkthrough.figure_title()
    window.state.set_variant(Variant())
