"""Uncaught exceptions in the running app: a bug report and one dialog, never a traceback.

Qt calls ``sys.excepthook`` for an exception that escapes a slot or an event handler and
then carries on. Installed by :func:`~llamalens.app.launch.run_app`, the hook here
writes the traceback to the error log and shows one dialog at a time, so the window stays
usable and the terminal stays clean.
"""

from __future__ import annotations

import sys
import threading

from llamalens.app.bug_report import user_message, write_report

TITLE = "Internal error"


def install_excepthook(window) -> None:
    """Report uncaught exceptions of the event loop in ``window`` (and of other threads in
    the log only: a dialog belongs to the GUI thread)."""

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            window.close()
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        message = user_message(exc)
        box = getattr(window, "error_box", None)
        if box is not None and box.isVisible() and box.windowTitle() == TITLE:
            return  # one dialog at a time; every report is in the log
        try:
            window.show_error(TITLE, message)
        except Exception as err:  # the window itself is broken: the log has it all
            write_report(err)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            write_report(args.exc_value)

    sys.excepthook = hook
    threading.excepthook = thread_hook
