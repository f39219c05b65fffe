"""Render the walkthrough's README screenshots (python docs/make_walkthrough_screenshots.py).

On a virtual 1024×768 display (``xvfb-run -s '-screen 0 1024x768x24' python ...``): the
default model, "The capital of France is", layer 23 head 4 (whose query at " is" looks at
" France"), presentation mode, three steps in English and in Simplified Chinese; then the
head view and the coloured text of a copying head on a longer prompt in the normal window.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PROMPT = "The capital of France is"
LAYER, HEAD = 23, 4
STEPS = ("attention_norm", "softmax", "sampling")
SCREEN = (1024, 768)
PANEL_PROMPT = (
    "The Eiffel Tower stands in Paris, the capital of France. Mount Fuji rises near Tokyo, "
    "the capital of Japan. The Colosseum was built in Rome, the capital of Italy. "
    "The Eiffel Tower stands in"
)


def wait_for(signal, timeout_ms: int = 300_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(app, seconds: float = 0.8) -> None:
    """Let deferred redraws (debounced panels, refits) run."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()


def walkthrough_shots(app, win) -> None:
    s = win.state
    win.walkthrough.action.trigger()
    win.menus.presentation.trigger()  # presentation mode (F11)
    if s.current_detail() is None:
        wait_for(s.detail_changed)
    settle(app)
    win.resize(*SCREEN)  # a projector's screen, with or without a window manager
    for locale in ("en", "zh_CN"):
        s.set_language(locale)
        for step in STEPS:
            s.set_walk_step(step)
            settle(app)
            shot = win.grab()
            if (shot.width(), shot.height()) != SCREEN:
                raise SystemExit(f"the window is {shot.width()}×{shot.height()}, not {SCREEN}")
            shot.save(str(OUT / f"walkthrough_{locale}_{step}.png"))
    s.set_language("en")
    win.walkthrough.action.trigger()
    win.menus.presentation.trigger()


def panel_shots(app, win) -> None:
    """Layer 18 head 6 copies: the second "stands in" looks at the token after the first."""
    from llamalens.app.state import PromptSettings

    win.state.set_prompt(PromptSettings(PANEL_PROMPT))
    win.run_prompt()
    wait_for(win.analysis_shown)
    s = win.state
    s.set_layer(18)
    s.set_head(6)
    win.resize(1500, 900)
    for dock, name, height in (
        ("headViewDock", "head_view", 640),
        ("attentionTextDock", "attention_text", 170),
    ):
        win.docks[dock].show()
        win.docks[dock].setFloating(True)  # a README-sized panel, whatever the window
        win.docks[dock].resize(780, height)
        settle(app)
        panel = win.docks[dock].widget()
        if name == "head_view":
            view = panel.view
            view.hover_token("query", s.n_tokens - 1)
            view.scroll.ensureVisible(0, int(view.canvas.y_of(s.n_tokens - 1)), 0, 40)
            settle(app, 0.3)
        panel.grab().save(str(OUT / f"{name}.png"))


def main() -> None:
    os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "s.ini")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from llamalens.app import create_main_window
    from llamalens.app.launch import dispose
    from llamalens.app.state import PromptSettings

    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    win.show()
    wait_for(win.model_loaded)
    win.state.set_prompt(PromptSettings(PROMPT))
    win.run_prompt()
    wait_for(win.analysis_shown)
    win.state.set_layer(LAYER)
    win.state.set_head(HEAD)
    OUT.mkdir(parents=True, exist_ok=True)
    walkthrough_shots(app, win)
    panel_shots(app, win)
    dispose(win)


if __name__ == "__main__":
    main()
