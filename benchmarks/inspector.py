"""Inspector responsiveness on the default model (python benchmarks/inspector.py).

1. Median time to step to the next head and repaint (map shown, head grid selection
   and every widget the step touched repainted) at 512, 2048, 4096 and 8192 tokens.
   Targets: <= 30 ms at 512 tokens, <= 100 ms at 2048 and 4096, <= 200 ms at 8192 (the
   default model's context). Prompts longer than 1024 tokens have their maps prepared
   on the map thread; the steps are timed once the selected layer and its neighbours
   are prepared, and the time that took after the run is printed too.
2. The longest stall of the GUI event loop while the worker runs a 1024-token prompt
   (a 5 ms timer records the gaps between its ticks). Target: <= 100 ms.

``--tokens 4096,8192`` picks the lengths; ``--no-stall`` skips part 2; ``--session FILE``
(repeatable) times the head steps on saved sessions (File ▸ Save Session) instead of
running prompts, which on this machine takes minutes at 8192 tokens.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LLAMALENS_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "s.ini")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCE = (
    "the model reads every token and attends to the ones before it while rotary "
    "embeddings turn each pair of numbers by an angle that grows with position"
)
WORDS = SENTENCE.split()


def prompt_of(win, n_tokens: int) -> str:
    """Text that encodes to exactly n_tokens tokens with the loaded tokenizer."""
    tok = win.state.vocab
    text, i = "", 0
    while len(tok.encode(text)) < n_tokens:
        text += " " + WORDS[i % len(WORDS)]
        i += 1
    ids = tok.encode(text)[:n_tokens]
    return tok.decode(ids)


def wait(app, signal, timeout_s: float = 600) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def step_times(app, win, steps: int = 24) -> list[float]:
    times = []
    for i in range(steps):
        start = time.perf_counter()
        win.state.step_head(1 if i % 16 < 8 else -1)
        # Qt paints every widget the step made dirty (map, spin boxes, head grid, ...)
        app.processEvents()
        times.append(time.perf_counter() - start)
    return times


def stall_during_run(app, win, prompt: str) -> float:
    from PySide6.QtCore import QTimer

    gaps, last = [], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    win.prompt.edit.setPlainText(prompt)
    last[0] = time.perf_counter()
    win.run_prompt()
    wait(app, win.run_shown)
    timer.stop()
    return max(gaps) if gaps else float("nan")


TARGETS = {512: 0.030, 2048: 0.100, 4096: 0.100, 8192: 0.200}


def prepared_after(app, win) -> float:
    """Seconds from the run's trace arriving until its maps near the selection are ready."""
    start = time.perf_counter()
    win.run_prompt()
    wait(app, win.run_shown)
    shown = time.perf_counter()
    while (
        win.maps.pending()
        or win.maps.overview(win.state.trace, win.state.layer, win.state.head, win.state.stage)
        is None
    ):
        if not win.maps.wanted(win.state.trace):
            break
        wait(app, win.maps.idle, 600)
    del start
    return time.perf_counter() - shown


def report_session(app, win, path: str) -> None:
    """Head steps on a saved session's trace, once its maps near the selection are ready."""
    from llamalens.app.session import open_session

    start = time.perf_counter()
    open_session(win, path)
    if win.maps.wanted(win.state.trace):
        while (
            win.maps.pending()
            or win.maps.overview(win.state.trace, win.state.layer, win.state.head, win.state.stage)
            is None
        ):
            wait(app, win.maps.idle, 600)
    ready = time.perf_counter() - start
    n = win.state.n_tokens
    target = TARGETS.get(n, 0.200)
    med = statistics.median(step_times(app, win))
    print(
        f"{n:5d} tokens (session): median head step + repaint {med * 1000:6.1f} ms "
        f"(target {target * 1000:.0f} ms, ratio {med / target:.2f}), maps of the layer and "
        f"its neighbours ready {ready:.1f} s after opening"
    )


def main() -> None:
    import argparse

    from PySide6.QtWidgets import QApplication

    from llamalens.app import create_main_window

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="512,2048,4096,8192")
    parser.add_argument("--no-stall", action="store_true")
    parser.add_argument("--session", action="append", default=[], help="a saved session")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    win.resize(1700, 1050)
    win.show()
    wait(app, win.analysis_shown)
    if args.session:
        for path in args.session:
            report_session(app, win, path)
        win.close()
        return
    for n in (int(x) for x in args.tokens.split(",")):
        target = TARGETS.get(n, 0.200)
        win.prompt.edit.setPlainText(prompt_of(win, n))
        ready = prepared_after(app, win)
        wait(app, win.analysis_shown)
        if win.maps.pending():
            wait(app, win.maps.idle, 600)
        med = statistics.median(step_times(app, win))
        prepared = f", maps of the layer and its neighbours ready {ready:.1f} s after the run"
        print(
            f"{win.state.n_tokens:5d} tokens: median head step + repaint {med * 1000:6.1f} ms "
            f"(target {target * 1000:.0f} ms, ratio {med / target:.2f})"
            + (prepared if win.maps.wanted(win.state.trace) else "")
        )
    if args.no_stall:
        win.close()
        return
    stall = stall_during_run(app, win, prompt_of(win, 1024))
    print(
        f"longest event-loop stall while running 1024 tokens: {stall * 1000:.0f} ms "
        f"(target 100 ms, ratio {stall / 0.1:.2f})"
    )
    win.close()


if __name__ == "__main__":
    main()
