"""How long Cancel (Esc) takes to stop loading, running and generating, on a loaded CPU.

Run: ``python benchmarks/cancel_latency.py [--hogs N]``. The app's own worker thread runs
each request on the default model while N busy processes (default: one per core) load
the machine; the request is cancelled mid-way and the time from the cancel to the worker's
``cancelled`` signal is printed with the target (1 s) and their ratio (<= 1 meets it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TARGET_S = 1.0


def _hog() -> None:
    while True:
        pass


def measure(worker, request, delay: float) -> float:
    """Submit ``request``, cancel it after ``delay`` s, return seconds until acknowledged."""
    from PySide6.QtCore import QCoreApplication

    done: dict[str, float] = {}
    worker.cancelled.connect(lambda _id: done.setdefault("at", time.perf_counter()))
    worker.last_message = ""
    worker.note_submitted(request)
    from PySide6.QtCore import QMetaObject, Qt

    worker._pending = request
    QMetaObject.invokeMethod(worker, "handle_pending", Qt.ConnectionType.QueuedConnection)
    time.sleep(delay)
    asked = time.perf_counter()
    worker.cancel(request.request_id)
    while "at" not in done and time.perf_counter() - asked < 120:
        QCoreApplication.processEvents()
        time.sleep(0.001)
    worker.cancelled.disconnect()
    measure.during = worker.last_message
    return done.get("at", float("inf")) - asked


def run_all(worker, path: str) -> list[tuple[str, float, float, str]]:
    """(what, delay before the cancel, latency, last progress message) for each case."""
    from llamalens.app.requests import GenerateRequest, LoadRequest, TraceRequest
    from llamalens.model.sampling import SamplingParams

    rows = []
    prompt = "The capital of France is Paris. " * 150  # about 1000 tokens
    next_id = iter(range(1, 1000))
    for delay in (0.3, 0.8, 1.5, 2.5):
        request = LoadRequest(next(next_id), path, "cpu")
        rows.append(("load", delay, measure(worker, request, delay), measure.during))
    worker.handle(LoadRequest(next(next_id), path, "cpu"))  # a model for the runs
    for delay in (0.3, 1.0):
        request = TraceRequest(next(next_id), prompt)
        rows.append(("run 1000 tokens", delay, measure(worker, request, delay), measure.during))
    worker.handle(TraceRequest(next(next_id), "The capital of France is"))
    request = GenerateRequest(next(next_id), 500, SamplingParams(temperature=0.0))
    rows.append(("generate", 1.0, measure(worker, request, 1.0), measure.during))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    from PySide6.QtCore import QCoreApplication, QThread, Slot

    from llamalens.app.worker import ModelWorker
    from llamalens.model.default_model import default_model_path

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])

    class Bench(ModelWorker):
        """The app's worker, remembering the last progress message (what was cancelled)."""

        def __init__(self) -> None:
            super().__init__()
            self.progress.connect(self._note)

        def _note(self, _id: int, _fraction: float, message: str) -> None:
            self.last_message = message

        @Slot()
        def handle_pending(self) -> None:
            self.handle(self._pending)

    path = str(default_model_path())
    worker, thread = Bench(), QThread()
    worker.moveToThread(thread)
    thread.start()
    hogs = [multiprocessing.Process(target=_hog, daemon=True) for _ in range(args.hogs)]
    for h in hogs:
        h.start()
    try:
        rows = run_all(worker, path)
        print(f"cancel latency with {args.hogs} busy processes on {os.cpu_count()} cores")
        for name, delay, seconds, during in rows:
            print(f"  {name:<16} after {delay:.1f} s: {seconds:6.3f} s   target {TARGET_S:.1f} s"
                  f"   ratio {seconds / TARGET_S:.2f}   ({during})")  # fmt: skip
    finally:
        for h in hogs:
            h.terminate()
        thread.quit()
        thread.wait()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
