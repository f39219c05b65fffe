"""Render the README's "What if" screenshots with the default model
(python docs/make_whatif_screenshots.py).

Ranks the heads for "The capital of France is", ablates the three that matter most,
changes RoPE, and compares two prompts, in the real app (offscreen), saving the window
and the what-if panels.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
PROMPT = "The capital of France is"
OTHER = "The capital of Italy is"

from docs.make_screenshots import screen_of, settle, use_screens, wait_for  # noqa: E402


def run_variant(app, win, variant) -> None:
    win.state.set_variant(variant)
    win.run_prompt()
    wait_for(app, win.analysis_shown)
    settle(app, 1.0)


def grab(app, win, dock: str, widget, name: str) -> None:
    win.docks[dock].show()  # what-if docks start closed (View menu)
    win.docks[dock].raise_()
    settle(app, 1.0)
    widget.grab().save(str(OUT / name))


def rank_and_ablate(app, win) -> list:
    """Rank every head for the prompt, then run the three that matter most, ablated."""
    from llamalens.model.variants import HeadAblation, Variant

    w, s = win.whatif, win.state
    w.open_action.trigger()  # View ▸ What if…
    settle(app, 0.5)
    w.panel.scope_combo.setCurrentText("all layers")
    w.panel.rank()
    wait_for(app, s.ranking_changed)
    top = [HeadAblation(layer, head) for layer, head in s.ranking.order()[:3]]
    s.set_layer(top[0].layer)
    s.set_head(top[0].head)
    grab(app, win, "rankingDock", w.ranking, "whatif_ranking.png")
    run_variant(app, win, Variant(tuple(top)))
    s.set_token(s.n_tokens - 1)
    win.docks["rankingDock"].raise_()
    grab(app, win, "beforeAfterDock", win, "whatif_ablation.png")
    grab(app, win, "whatifDock", w.panel, "whatif_panel.png")
    return top


def rope_variant(app, win) -> None:
    """θ 10000 and YaRN ×4; the RoPE what-if panel for layer 3, head 2's q and k."""
    from llamalens.model.variants import variant_from_options

    config = win.whatif.panel.config()
    run_variant(app, win, variant_from_options(config, rope_theta=10000.0, rope_scaling="yarn:4"))
    win.state.set_layer(3)
    win.state.set_head(2)
    win.whatif.rope.source_combo.setCurrentIndex(1)  # this head's q, k
    grab(app, win, "ropeWhatIfDock", win.whatif.rope, "whatif_rope.png")


def compare_prompts(app, win, head) -> None:
    """The model on two prompts, in a floating Compare dock wide enough for three maps."""
    from llamalens.model.variants import Variant

    run_variant(app, win, Variant())
    dock, panel = win.docks["compareDock"], win.whatif.compare
    dock.show()
    dock.setFloating(True)
    dock.resize(2100, 760)
    panel.mode_combo.setCurrentText("two prompts")
    panel.prompt_b.setText(OTHER)
    win.state.set_layer(head.layer)
    win.state.set_head(head.head)
    panel.compare()
    wait_for(app, win.state.comparison_changed)
    settle(app, 1.0)
    dock.grab().save(str(OUT / "whatif_compare.png"))


def main() -> None:
    from PySide6.QtWidgets import QApplication

    os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "s.ini")
    from llamalens.app import create_main_window

    use_screens(Path(tempfile.mkdtemp()))  # a 1920×1080 screen: what-if tabs beside the map
    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    screen = screen_of(app, 1920)
    win.setScreen(screen)
    win.move(screen.geometry().topLeft())
    win.resize(1700, 1050)
    win.show()
    wait_for(app, win.analysis_shown)
    win.prompt.edit.setPlainText(PROMPT)
    win.run_prompt()
    wait_for(app, win.analysis_shown)
    OUT.mkdir(parents=True, exist_ok=True)
    top = rank_and_ablate(app, win)
    rope_variant(app, win)
    compare_prompts(app, win, top[0])
    print(f"saved what-if screenshots to {OUT}")
    from llamalens.app.launch import dispose

    dispose(win)


if __name__ == "__main__":
    main()
