"""Before the first run every plot and table says what will appear there, not empty axes."""

from __future__ import annotations

import pytest

from llamalens.app import create_main_window
from llamalens.app.state import PromptSettings
from llamalens.viz.placeholder import Placeholder
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("empty") / "hf", tiny_tensors(cfg, 4), cfg, vocab)


def test_placeholders_until_a_run_then_the_plots(qtbot, tiny_hf):
    win = create_main_window(str(tiny_hf), "cpu")
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.model_loaded, timeout=60_000):
        pass
    views = {
        p.content.objectName() or type(p.content).__name__: p for p in win.findChildren(Placeholder)
    }
    # the map, tokens, heads, statistics, lens, RoPE and next-token panels
    assert len(views) >= 7, sorted(views)
    for name, view in views.items():
        assert not view.showing_content(), name
        assert len(view.note.text().split()) >= 6, f"{name}: {view.note.text()!r}"
    assert not win.attention.map.isVisible()  # no axes reading "query (x0.001)"
    assert not win.rope.plane.isVisible()  # no "5e-155"
    win.state.set_prompt(PromptSettings("hello world, the cat sat"))
    with qtbot.waitSignal(win.analysis_shown, timeout=60_000):
        win.run_prompt()
    for panel in (win.attention, win.tokens, win.stats, win.lens):
        assert panel.view.showing_content(), type(panel).__name__
    assert win.attention.map.isVisible()
    win.close()
