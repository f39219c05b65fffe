"""Starting and ending the app: the main window built, shown, run and disposed of."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from llamalens.app.crash_dialog import install_excepthook
from llamalens.app.main_window import MainWindow
from llamalens.app.requests import LoadOptions

_collector = None


def collect_garbage_on_gui_thread() -> None:
    """Run Python's cycle collector only from the GUI thread's event loop.

    Left automatic, a collection can start on the model's worker thread and free Qt
    objects (pyqtgraph items live in reference cycles) there; Qt then fires a timer of
    an object destroyed in the wrong thread and the process crashes (seen as rare
    segfaults in QTimerInfoList::activateTimers and in unrelated worker code).
    """
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=0.5)


def create_main_window(
    model: str | None = None,
    device: str | None = None,
    *,
    options: LoadOptions | None = None,
    session: str | None = None,
) -> MainWindow:
    """Build the main window and start loading ``model`` (a path, or None for the default);
    with ``session``, show that saved session (a ``.llamalens`` file) at once."""
    collect_garbage_on_gui_thread()
    return MainWindow(model, device, options=options, session=session)


def run_app(
    model: str | None = None, options: LoadOptions | None = None, session: str | None = None
) -> int:
    """Start Qt, show the window (on a saved ``session`` if given), run the event loop.

    Returns 1 after one line on stderr when Qt could not open a window here (no display,
    a missing system library) instead of letting Qt abort.
    """
    from llamalens.app.qt_start import qt_start_problem

    problem = None if QApplication.instance() else qt_start_problem()
    if problem:
        print(f"llamalens: cannot open the window: {problem}", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LlamaLens")
    app.setOrganizationName("LlamaLens")
    window = create_main_window(model, options=options, session=session)
    install_excepthook(window)
    window.show()
    code = app.exec()
    dispose(window)
    return code


def dispose(window: MainWindow) -> None:
    """Delete the window while Qt is still alive: left to interpreter shutdown, the order in
    which Python frees Qt objects can crash the process on exit."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
