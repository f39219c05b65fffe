"""A Qt application for drawing figures without a window (the CLI, scripts, notebooks)."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import qInstallMessageHandler


def offscreen_app():
    """The running QApplication, or a new one on the offscreen platform.

    Figures are laid out with ``show()``; on the offscreen platform that never opens a
    window, whatever display the machine has.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication(["llamalens"])
        qInstallMessageHandler(_quiet)
    return app


def _quiet(_kind, _context, message: str) -> None:
    """Qt's messages on stderr, but for the offscreen platform's note on every shown
    widget (it has no windows to size, which is the point)."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")
