"""Render the README screenshots with the default model (python docs/make_screenshots.py).

Runs the real app offscreen (or on a virtual display), loads the default model,
runs a prompt, selects a head and token, and saves the window and each panel.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
PROMPT = "The quick brown fox jumps over the lazy dog. The quick brown fox"


def wait_for(app, signal, timeout_ms: int = 300_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(app, seconds: float = 0.5) -> None:
    """Let deferred redraws (debounced panels) run."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()


def main() -> None:
    import tempfile

    from PySide6.QtWidgets import QApplication

    os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "s.ini")
    from llamalens.app import create_main_window

    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    win.resize(1700, 1050)
    win.show()
    wait_for(app, win.analysis_shown)
    win.prompt.edit.setPlainText(PROMPT)
    win.run_prompt()
    wait_for(app, win.analysis_shown)
    s = win.state
    s.set_layer(4)
    s.set_head(1)
    s.set_token(s.n_tokens - 1)
    s.set_key(2)
    win.sampling.temperature_slider.setValue(80)
    win.sampling.top_p_slider.setValue(90)
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(OUT / "main_window.png"))
    win.docks["samplingDock"].raise_()
    settle(app)
    win.grab().save(str(OUT / "main_window_sampling.png"))
    win.docks["ropeDock"].raise_()
    for name, widget in (
        ("attention", win.attention),
        ("tokens", win.tokens),
        ("rope", win.rope),
        ("sampling", win.sampling),
        ("heads", win.heads),
        ("stats", win.stats),
        ("lens", win.lens),
    ):
        dock = widget.parentWidget()
        if hasattr(dock, "raise_"):
            dock.raise_()
        settle(app)
        widget.grab().save(str(OUT / f"{name}.png"))
    win.exports.export(win.attention.map, OUT / "exported_map.png", width=1200)
    win.exports.export_built("grid", OUT / "exported_grid.png")
    win.resize(1920, 1080)
    for theme in ("light", "dark"):
        win.appearance.set_theme(theme)
        win.appearance.set_scale(1.5)
        settle(app)
        win.grab().save(str(OUT / f"presentation_{theme}.png"))
    win.appearance.set_theme("light")
    win.appearance.set_scale(1.0)
    print(f"saved screenshots to {OUT}")
    from llamalens.app.main_window import dispose

    dispose(win)


if __name__ == "__main__":
    main()
