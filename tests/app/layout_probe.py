"""Drive the window on virtual screens and report what does not fit, as JSON.

``python -m tests.app.layout_probe MODEL`` with ``QT_QPA_PLATFORM`` set to
``offscreen:configfile=screens.json`` (see :func:`screen_config`): Qt's offscreen
platform then has one screen per size, side by side. A fresh window opens on each
screen in turn; for each the probe prints one line ``PROBE {"screen": [w, h],
"normal": [...], "presentation": [...], "restored": [...], "walkthrough": [...],
"walkthrough presentation": [...]}``: problems, one line each, for the default layout,
for presentation mode (F11), after leaving it, and for the walkthrough page (F5) in
both modes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "The quick brown fox jumps over the lazy dog. The quick brown fox"


def screen_config(sizes: list[tuple[int, int]], folder: Path) -> str:
    """The ``QT_QPA_PLATFORM`` value for offscreen screens of these sizes, left to right."""
    path = folder / "screens.json"
    screens, x = [], 0
    for width, height in sizes:
        screens.append(
            {
                "name": f"screen{width}x{height}",
                "x": x,
                "y": 0,
                "width": width,
                "height": height,
                "logicalDpi": 96,
                "logicalBaseDpi": 96,
                "dpr": 1,
            }
        )
        x += width
    path.write_text(json.dumps({"screens": screens}), encoding="utf-8")
    return f"offscreen:configfile={path}"


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()


def wait(app, signal, timeout_s: float = 120) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def check_view(app, win) -> list[str]:
    """Problems of the current layout, with every tab of every dock raised in turn."""
    from tests.app import layout_checks as lc

    screen = win.screen().availableGeometry()
    out = []
    frame = win.frameGeometry()
    if not screen.contains(frame):
        out.append(f"window frame {frame.getRect()} is larger than the screen {screen.getRect()}")
    docks = [d for d in win.docks.values() if d.isVisible()]
    for dock in docks:
        dock.raise_()
        settle(app, 0.3)
        win.grab()  # paint once: text items place themselves for the view when painted
        out += lc.text_problems(win)
        out += lc.graphics_problems(win)
        plots = {
            "ropeDock": [win.rope.plane.plane, win.rope.plane.spectrum, win.rope.plane.contrib],
            "samplingDock": [win.sampling.bars],
            "tokensDock": [win.tokens.strip],
        }.get(dock.objectName(), [])
        for plot in plots:
            problem = lc.on_screen_problem(plot, screen)
            if problem:
                out.append(problem)
    problem = lc.on_screen_problem(win.attention.map, screen)
    if problem:
        out.append(problem)
    return sorted(set(out))


def check_walkthrough(app, win, steps: tuple[str, ...]) -> list[str]:
    """Problems of the walkthrough page at some of its steps (the window frame, clipped
    text, plots and titles)."""
    from tests.app import layout_checks as lc

    screen = win.screen().availableGeometry()
    out = []
    for step in steps:
        win.state.set_walk_step(step)
        settle(app, 0.5)
        win.grab()
        frame = win.frameGeometry()
        if not screen.contains(frame):
            out.append(f"{step}: window frame {frame.getRect()} is larger than {screen.getRect()}")
        out += [f"{step}: {p}" for p in lc.text_problems(win) + lc.graphics_problems(win)]
    return sorted(set(out))


def probe_walkthrough(app, win, report: dict) -> None:
    """The walkthrough in the normal window and in presentation mode, then back."""
    from llamalens.app.walkthrough.steps import STEP_IDS

    steps = (STEP_IDS[0], "attention_norm", "softmax", STEP_IDS[-1])
    steps = tuple(s for s in steps if s in STEP_IDS)
    before = win.geometry()
    win.state.set_walkthrough(True)
    wait(app, win.worker.walked, 60)  # the selected position's values
    settle(app)
    report["walkthrough"] = check_walkthrough(app, win, steps)
    win.menus.presentation.trigger()
    settle(app)
    report["walkthrough presentation"] = check_walkthrough(app, win, steps)
    win.menus.presentation.trigger()
    settle(app)
    win.state.set_walkthrough(False)
    settle(app)
    if win.geometry() != before:
        report["restored"].append(
            f"geometry {win.geometry().getRect()} after the walkthrough, was {before.getRect()}"
        )


def probe_screen(app, screen, model: str) -> dict:
    """A fresh window (own settings) on ``screen``: its problems in both modes."""
    os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "settings.ini")
    from llamalens.app import create_main_window
    from llamalens.app.launch import dispose

    win = create_main_window(model, "cpu")
    win.setScreen(screen)
    win.move(screen.availableGeometry().topLeft())  # a window is on the screen it lies on
    win.show()
    wait(app, win.analysis_shown)
    win.prompt.edit.setPlainText(PROMPT)
    win.run_prompt()
    wait(app, win.analysis_shown)
    settle(app)
    size = win.screen().geometry().size()
    report = {"screen": [size.width(), size.height()], "normal": check_view(app, win)}
    before = win.geometry()
    win.menus.presentation.trigger()
    settle(app)
    report["presentation"] = check_view(app, win)
    win.menus.presentation.trigger()
    settle(app)
    report["restored"] = (
        []
        if win.geometry() == before
        else [f"geometry {win.geometry().getRect()} after F11 twice, was {before.getRect()}"]
    )
    probe_walkthrough(app, win, report)
    dispose(win)
    return report


def main(model: str) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    for screen in app.screens():
        print("PROBE " + json.dumps(probe_screen(app, screen, model)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
