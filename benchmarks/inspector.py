"""Inspector responsiveness on the default model (python benchmarks/inspector.py).

1. Median time to step to the next head and repaint (map computed from the Trace,
   heatmap redrawn, head grid and RoPE panel updated) at 512 and 2048 tokens.
   Targets: <= 30 ms at 512 tokens, <= 100 ms at 2048.
2. The longest stall of the GUI event loop while the worker runs a 1024-token prompt
   (a 5 ms timer records the gaps between its ticks). Target: <= 100 ms.
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


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from llamalens.app import create_main_window

    app = QApplication.instance() or QApplication([])
    win = create_main_window(None, "cpu")
    win.resize(1700, 1050)
    win.show()
    wait(app, win.analysis_shown)
    for n, target in ((512, 0.030), (2048, 0.100)):
        win.prompt.edit.setPlainText(prompt_of(win, n))
        win.run_prompt()
        wait(app, win.analysis_shown)
        med = statistics.median(step_times(app, win))
        print(
            f"{win.state.n_tokens:5d} tokens: median head step + repaint {med * 1000:6.1f} ms "
            f"(target {target * 1000:.0f} ms, ratio {med / target:.2f})"
        )
    stall = stall_during_run(app, win, prompt_of(win, 1024))
    print(
        f"longest event-loop stall while running 1024 tokens: {stall * 1000:.0f} ms "
        f"(target 100 ms, ratio {stall / 0.1:.2f})"
    )
    win.close()


if __name__ == "__main__":
    main()
