"""Render the README screenshots with the default model (python docs/make_screenshots.py).

Runs the real app on Qt's offscreen platform with two virtual screens, a 1024×768
projector and a 1920×1080 monitor: the window fills each screen (normal and
presentation mode), each panel is saved from the large one, and paper figures are
exported the way ``llamalens export`` writes them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PROMPT = "The quick brown fox jumps over the lazy dog. The quick brown fox"
SCREENS = ((1920, 1080), (1024, 768))


def use_screens(folder: Path) -> None:
    """Qt's offscreen platform with the SCREENS side by side (before Qt starts)."""
    screens, x = [], 0
    for width, height in SCREENS:
        screens.append(
            {"name": f"{width}x{height}", "x": x, "y": 0, "width": width, "height": height}
        )
        screens[-1].update(logicalDpi=96, logicalBaseDpi=96, dpr=1)
        x += width
    config = folder / "screens.json"
    config.write_text(json.dumps({"screens": screens}), encoding="utf-8")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def screen_of(app, width: int):
    """The virtual screen ``width`` pixels wide (Qt does not keep the configured order)."""
    return next(s for s in app.screens() if s.geometry().width() == width)


def wait_for(app, signal, timeout_ms: int = 300_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(app, seconds: float = 0.6) -> None:
    """Let deferred redraws (debounced panels) run."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()


def window_on(app, screen, folder: Path):
    """A fresh window (own settings) filling ``screen``, the example prompt run."""
    os.environ["LLAMALENS_SETTINGS"] = str(folder / f"{screen.name()}.ini")
    from llamalens.app import create_main_window

    win = create_main_window(None, "cpu")
    win.setScreen(screen)
    win.move(screen.availableGeometry().topLeft())
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
    win.showMaximized()
    settle(app)
    return win


def save(widget, name: str) -> None:
    widget.grab().save(str(OUT / name))
    print(f"saved {name}")


def panels(app, win) -> None:
    save(win, "main_window.png")
    win.docks["samplingDock"].raise_()
    settle(app)
    save(win, "main_window_sampling.png")
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
        save(widget, f"{name}.png")


def figures(win) -> None:
    """Paper figures, as ``llamalens export ... --size 3.5x3.2in --font 8 --dpi 300``."""
    from dataclasses import replace

    from llamalens.app.figures import export_spec

    s = win.state
    spec = replace(win.exports.spec("map"), size=(336, 307), font_points=8.0, title_text="")
    export_spec(spec, s.trace, s.vocab, OUT / "exported_map.png", dpi=300)
    grid = replace(win.exports.spec("grid"), size=(672, 620), font_points=8.0)
    export_spec(grid, s.trace, s.vocab, OUT / "exported_grid.png", dpi=200)
    print("saved exported_map.png, exported_grid.png")


def presentation(app, win, name: str) -> None:
    win.menus.presentation.trigger()
    settle(app)
    save(win, name)
    win.menus.presentation.trigger()
    settle(app)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    use_screens(folder)
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from llamalens.app.launch import dispose

    app = QApplication.instance() or QApplication([])
    OUT.mkdir(parents=True, exist_ok=True)
    win = window_on(app, screen_of(app, 1920), folder)
    panels(app, win)
    figures(win)
    for theme in ("light", "dark"):
        win.appearance.set_theme(theme)
        presentation(app, win, f"presentation_{theme}.png")
    win.appearance.set_theme("light")
    dispose(win)
    # the screens fetched anew: disposing a window can leave older wrappers dangling
    win = window_on(app, screen_of(app, 1024), folder)
    save(win, "window_1024x768.png")
    presentation(app, win, "presentation_1024x768.png")
    dispose(win)
    print(f"saved screenshots to {OUT}")


if __name__ == "__main__":
    main()
