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

from docs.make_screenshots import settle, wait_for  # noqa: E402


def run_variant(app, win, variant) -> None:
    win.state.set_variant(variant)
    win.run_prompt()
    wait_for(app, win.analysis_shown)
    settle(app, 1.0)


def grab(app, win, dock: str, widget, name: str) -> None:
    win.docks[dock].raise_()
    settle(app, 1.0)
    widget.grab().save(str(OUT / name))


def main() -> None:
    from PySide6.QtWidgets import QApplication

    os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "s.ini")
    from llamalens.app import create_main_window
    from llamalens.model.variants import HeadAblation, Variant, variant_from_options

    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    win.resize(1700, 1050)
    win.show()
    wait_for(app, win.analysis_shown)
    win.prompt.edit.setPlainText(PROMPT)
    win.run_prompt()
    wait_for(app, win.analysis_shown)
    w = win.whatif
    w.panel.scope_combo.setCurrentText("all layers")
    w.panel.rank()
    wait_for(app, win.state.ranking_changed)
    ranking = win.state.ranking
    top = tuple(HeadAblation(layer, head) for layer, head in ranking.order()[:3])
    s = win.state
    s.set_layer(top[0].layer)
    s.set_head(top[0].head)
    OUT.mkdir(parents=True, exist_ok=True)
    grab(app, win, "rankingDock", w.ranking, "whatif_ranking.png")
    run_variant(app, win, Variant(top))
    s.set_token(s.n_tokens - 1)
    win.docks["rankingDock"].raise_()
    grab(app, win, "beforeAfterDock", win, "whatif_ablation.png")
    grab(app, win, "whatifDock", w.panel, "whatif_panel.png")
    config = win.whatif.panel.config()
    run_variant(app, win, variant_from_options(config, rope_theta=10000.0, rope_scaling="yarn:4"))
    s.set_layer(3)
    s.set_head(2)
    w.rope.source_combo.setCurrentIndex(1)  # this head's q, k
    grab(app, win, "ropeWhatIfDock", w.rope, "whatif_rope.png")
    run_variant(app, win, Variant())
    dock = win.docks["compareDock"]
    dock.setFloating(True)
    dock.resize(2100, 760)
    w.compare.mode_combo.setCurrentText("two prompts")
    w.compare.prompt_b.setText(OTHER)
    s.set_layer(top[0].layer)
    s.set_head(top[0].head)
    w.compare.compare()
    wait_for(app, s.comparison_changed)
    settle(app, 1.0)
    dock.grab().save(str(OUT / "whatif_compare.png"))
    print(f"saved what-if screenshots to {OUT}")
    from llamalens.app.main_window import dispose

    dispose(win)


if __name__ == "__main__":
    main()
