"""Guard against Qt bindings that corrupt Python's reference counts.

PySide6 6.12.0 on Python < 3.12 drops a reference to None on every Qt call that
returns nothing (and to True on every signal emit), and the process dies with
"Fatal Python error: none_dealloc" after a few seconds of use. pyproject excludes
it; this test catches any binding with the same defect.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Emitter(QObject):
    fired = Signal(int)


def test_qt_calls_keep_none_and_true_alive(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(500):
        widget.setVisible(False)
    assert abs(sys.getrefcount(None) - before) < 50
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(500):
        emitter.fired.emit(1)
    assert abs(sys.getrefcount(True) - before) < 50
