"""What if in the window: ablate, change RoPE, rank heads and compare, as a user would;
every panel shows what the engine's variant computes, and the variant is labelled."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QPushButton

from llamalens.model.rope_decay import trace_decay
from llamalens.model.sampling import softmax
from llamalens.model.variants import HeadAblation, RopeChange, Variant
from tests.app.test_inspector import PROMPT, reference, run, tiny_hf, window  # noqa: F401

DOCK_WAIT = 60_000


def click(qtbot, win, name: str) -> None:
    qtbot.mouseClick(win.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def run_variant(qtbot, win) -> None:
    with qtbot.waitSignal(win.analysis_shown, timeout=DOCK_WAIT):
        click(qtbot, win, "runVariantButton")


@pytest.fixture
def shown(qtbot, window):  # noqa: F811
    run(qtbot, window, PROMPT)
    yield window
    window.state.set_variant(Variant())


def test_what_if_docks_start_closed_and_the_view_menu_opens_them(qtbot, shown):
    from PySide6.QtGui import QAction

    from llamalens.app.layouts import WHATIF_DOCKS

    win = shown

    def open_docks() -> set[str]:  # checked in the View menu: shown, or a tab behind another
        return {n for n in WHATIF_DOCKS if win.docks[n].toggleViewAction().isChecked()}

    assert open_docks() == set()
    action = win.findChild(QAction, "whatIfAction")
    assert action in win.menus.view_menu.actions()
    assert action.shortcut().toString() == "Ctrl+Shift+W"
    action.trigger()
    qtbot.waitUntil(lambda: win.whatif.panel.isVisible(), timeout=5_000)
    assert open_docks() == {"whatifDock", "beforeAfterDock"}
    win.reset_layout()
    assert open_docks() == set()


def test_ablating_heads_reruns_every_panel_and_labels_the_variant(qtbot, shown, reference):  # noqa: F811
    win = shown
    ids = reference.encode(PROMPT).ids
    win.state.set_layer(0)
    win.state.set_head(1)
    click(qtbot, win, "ablateButton")
    win.findChild(QComboBox, "ablationModeCombo").setCurrentText("mean")
    win.state.set_layer(1)
    win.state.set_head(3)
    click(qtbot, win, "ablateButton")
    want = Variant((HeadAblation(0, 1), HeadAblation(1, 3, "mean")))
    assert win.state.variant == want
    assert "not run yet" in win.windowTitle()
    run_variant(qtbot, win)
    trace = win.state.trace
    label = "ablated L0.H1, L1.H3 mean"
    assert trace.variant_label == label
    assert win.windowTitle() == f"LlamaLens — {win.state.model_name} [variant: {label}]"
    assert win.docks["headsDock"].windowTitle() == "Heads [variant]"
    assert win.attention.map._title_text.startswith("[variant] layer 1 · head 3")
    with reference.varied(want):
        ref = reference.trace(ids)
    np.testing.assert_array_equal(win.attention.map.displayed_matrix(), ref.probs(1, 3))
    np.testing.assert_array_equal(trace.last_logits, ref.last_logits)
    # before / after: the model's distribution beside the variant's
    bars = win.whatif.before_after.bars
    base = reference.trace(ids).last_logits
    pa, pb = softmax(base), softmax(ref.last_logits)
    top = int(np.argmax(pa))
    assert bars.labels[0] == reference.tokenizer.token(top).text
    assert bars.prob_a[0] == pytest.approx(pa[top], abs=1e-6)
    assert bars.prob_b[0] == pytest.approx(pb[top], abs=1e-6)
    assert bars.delta[0] == pytest.approx(np.log(pb[top] / pa[top]), abs=1e-5)
    # back to the model: nothing is labelled any more
    with qtbot.waitSignal(win.analysis_shown, timeout=DOCK_WAIT):
        click(qtbot, win, "backToModelButton")
    assert win.state.trace.variant == {} and "variant" not in win.windowTitle()
    assert not win.whatif.before_after.bars.isVisible()
    np.testing.assert_array_equal(win.state.trace.last_logits, base)


def test_clicking_heads_with_pick_mode_toggles_them(qtbot, shown):
    win = shown
    win.findChild(QCheckBox, "pickHeadsCheck").setChecked(True)
    win.state.set_layer(1)
    win.heads.grid.head_selected.emit(2)
    win.stats.table.head_chosen.emit(0, 3)
    assert win.state.variant.ablations == (HeadAblation(0, 3), HeadAblation(1, 2))
    win.heads.grid.head_selected.emit(2)  # layer 0 now (the table jumped there)
    win.state.set_layer(1)
    win.heads.grid.head_selected.emit(2)  # again: removed
    assert HeadAblation(1, 2) not in win.state.variant.ablations


def test_rope_variant_from_the_controls(qtbot, shown, reference):  # noqa: F811
    win = shown
    win.findChild(QCheckBox, "thetaCheck").setChecked(True)
    win.findChild(QDoubleSpinBox, "thetaSpin").setValue(500.0)
    win.findChild(QComboBox, "scalingCombo").setCurrentText("YaRN")
    win.findChild(QDoubleSpinBox, "factorSpin").setValue(2.0)
    change = win.state.variant.rope
    assert change.theta == 500.0 and change.scaling.rope_type == "yarn"
    assert change.scaling.original_max_position == reference.config.max_seq_len
    run_variant(qtbot, win)
    ids = reference.encode(PROMPT).ids
    with reference.varied(win.state.variant):
        ref = reference.trace(ids)
    np.testing.assert_array_equal(win.state.trace.theta, ref.theta)
    np.testing.assert_array_equal(win.state.trace.last_logits, ref.last_logits)
    assert win.state.trace.variant_label == "RoPE θ 500, YaRN ×2"
    panel = win.whatif.rope
    win.docks["ropeWhatIfDock"].show()  # View ▸ RoPE what-if
    win.docks["ropeWhatIfDock"].raise_()
    qtbot.waitUntil(lambda: "variant" in panel.decay.curve_data(), timeout=5_000)
    model_theta = reference.rope(Variant())[0]
    angles = panel.angles.curve_data()
    m = win.state.token
    np.testing.assert_allclose(angles["model"][1], m * model_theta[model_theta > 0])
    np.testing.assert_allclose(angles["variant"][1], m * ref.theta)
    curve = trace_decay(ref, reference.rope(Variant()), max_distance=panel.distance_spin.value())
    decay = panel.decay.curve_data()
    np.testing.assert_allclose(decay["model"][1], curve.before[curve.distance > 0])
    np.testing.assert_allclose(decay["variant"][1], curve.after[curve.distance > 0])


def test_rank_heads_table_map_and_export(qtbot, shown, reference, tmp_path):  # noqa: F811
    win = shown
    win.findChild(QComboBox, "rankScopeCombo").setCurrentText("all layers")
    with qtbot.waitSignal(win.state.ranking_changed, timeout=DOCK_WAIT):
        click(qtbot, win, "rankButton")
    ranking = win.state.ranking
    want = reference.rank_heads(reference.encode(PROMPT).ids)
    np.testing.assert_allclose(ranking.effect, want.effect, atol=1e-6)
    panel = win.whatif.ranking
    np.testing.assert_array_equal(panel.map.values(), ranking.effect)
    shown_effects = panel.table.column_values("Δ log p")
    assert shown_effects == sorted(shown_effects)  # most harmful first
    assert len(shown_effects) == ranking.effect.size
    out = win.whatif.export_ranking(tmp_path / "ranking.png")
    assert out.is_file() and out.stat().st_size > 1000
    panel.table.head_chosen.emit(1, 2)
    assert (win.state.layer, win.state.head) == (1, 2)


def test_cancelled_ranking_leaves_nothing(qtbot, shown):
    win = shown
    with qtbot.waitSignal(win.cancelled_shown, timeout=DOCK_WAIT) as sig:
        win.whatif.rank_heads(None, "zero", None)
        win.cancel()
    assert sig.args == [win.whatif.rank_id] and win.state.ranking is None
    assert "cancelled" in win.statusBar().currentMessage()
    assert not win.progress_bar.isVisible()  # no longer busy


def test_compare_model_and_variant_then_two_heads(qtbot, shown, reference):  # noqa: F811
    win = shown
    win.state.set_variant(Variant((HeadAblation(0, 0),), RopeChange(theta=777.0)))
    panel = win.whatif.compare
    panel.mode_combo.setCurrentText("model vs variant")
    with qtbot.waitSignal(win.state.comparison_changed, timeout=DOCK_WAIT):
        click(qtbot, win, "compareButton")
    c = win.state.comparison
    ids = reference.encode(PROMPT).ids
    with reference.varied(win.state.variant):
        b = reference.trace(ids)
    np.testing.assert_array_equal(c.b.last_logits, b.last_logits)
    s = win.state
    diff = panel.figure.diff.displayed_matrix()
    want = b.probs(s.layer, s.head) - reference.trace(ids).probs(s.layer, s.head)
    np.testing.assert_allclose(diff, want, atol=1e-7)
    assert panel.figure.diff.kind == "difference" and panel.figure.diff.colormap_name == "rdbu"
    low, high = panel.figure.diff.levels()
    assert high == -low > 0  # centred at zero
    assert win.state.trace.variant == {}  # comparing did not change what is shown
    # two heads: the same head against itself is all zeros
    panel.mode_combo.setCurrentText("two heads")
    panel.layer_b.setValue(s.layer)
    panel.head_b.setValue(s.head)
    click(qtbot, win, "compareButton")
    assert win.state.comparison.mode == "heads"
    assert not panel.figure.diff.displayed_matrix().any()
    assert not np.any(panel.bars.delta)


def test_a_ranking_stays_for_its_prompt_and_goes_with_another(qtbot, shown):
    win = shown
    with qtbot.waitSignal(win.state.ranking_changed, timeout=DOCK_WAIT):
        click(qtbot, win, "rankButton")
    ranking = win.state.ranking
    assert ranking.token_ids == tuple(win.state.trace.token_ids.tolist())
    win.state.set_variant(Variant((HeadAblation(0, 1),)))
    run_variant(qtbot, win)  # the same prompt, as a variant: the model's ranking stays
    assert win.state.ranking is ranking and win.whatif.ranking.table.rowCount() == 8
    run(qtbot, win, "another prompt")
    assert win.state.ranking is None and win.whatif.ranking.table.rowCount() == 0


def test_what_if_plots_export_titled_figures(qtbot, shown, tmp_path):
    from tests.app.test_export import svg_texts

    win = shown
    win.state.set_variant(Variant((HeadAblation(1, 1),)))
    run_variant(qtbot, win)
    for widget, _detail in win.whatif.figures():
        widget.customContextMenuRequested.emit(widget.rect().center())
        actions = [a.text() for a in win.context_menu.actions()]
        assert actions == ["Export Figure…", "Copy Figure"]
        win.context_menu.close()
    out = win.whatif.export_figure(win.whatif.before_after.bars, "next token", tmp_path / "b.svg")
    texts = "".join(svg_texts(out).split())
    assert "[variant:ablatedL1.H1]" in texts and "A:model" in texts and "B:variant" in texts


def test_what_if_switches_language_and_keeps_the_variant_mark(qtbot, shown):
    """In Chinese the what-if panels are translated, the docks still name the variant."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QLabel

    from llamalens.app.panels.whatif_panel import SCALINGS
    from llamalens.model.variants import METHOD_LABELS

    win = shown
    assert {k for _, k in SCALINGS} >= set(METHOD_LABELS)  # every method offered
    win.state.set_variant(Variant((HeadAblation(0, 1, "mean"),)))
    run_variant(qtbot, win)
    try:
        win.state.set_language("zh_CN")
        QCoreApplication.processEvents()
        assert win.docks["headsDock"].windowTitle() == "注意力头 [variant]"
        assert win.docks["whatifDock"].windowTitle() == "假如"
        status = win.findChild(QLabel, "variantStatus").text()
        assert status == "显示：变体 · ablated L0.H1 mean。"
        mode = win.findChild(QComboBox, "ablationModeCombo")
        assert (mode.currentText(), mode.currentData()) == ("置零", "zero")
        assert win.findChild(QPushButton, "runVariantButton").text() == "运行变体"
    finally:
        win.state.set_language("en")
        QCoreApplication.processEvents()
    assert win.docks["headsDock"].windowTitle() == "Heads [variant]"
    assert win.findChild(QLabel, "variantStatus").text() == "Shown: variant · ablated L0.H1 mean."


def test_compare_puts_the_bars_beside_the_maps_only_when_they_fit(qtbot, shown):
    from llamalens.app.panels.compare_panel import WIDE

    win = shown
    dock, panel = win.docks["compareDock"], win.whatif.compare
    assert panel.minimumSizeHint().width() < 440  # no wider than the docks beside it
    dock.show()  # View ▸ Compare
    dock.setFloating(True)
    dock.resize(480, 700)  # as narrow as a docked tab of a 1024 px window
    dock.raise_()
    qtbot.wait(50)
    assert panel.split.isHidden()  # nothing compared yet: no empty axes
    panel.mode_combo.setCurrentIndex(2)  # two heads of the shown run: no request
    panel.compare()
    qtbot.wait(50)
    assert not panel.split.isHidden()
    assert panel.split.orientation() == Qt.Orientation.Vertical
    assert not panel.figure.one_row  # A and B above B − A
    dock.resize(WIDE + 700, 700)
    qtbot.wait(50)
    assert panel.split.orientation() == Qt.Orientation.Horizontal
    assert panel.figure.one_row
    maps, bars = panel.split.sizes()
    assert 0.6 < maps / (maps + bars) < 0.8
    dock.setFloating(False)
