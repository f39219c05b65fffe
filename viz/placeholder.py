"""Placeholder: a sentence in place of a plot or table that has nothing to show yet.

An empty plot draws whatever its defaults are (axes reading "5e-155", "query (x0.001)");
before the first run a panel says instead what will appear there and how to get it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget


class Placeholder(QStackedWidget):
    """Shows ``content`` once it has data (:meth:`show_content`), a centred note before."""

    def __init__(self, content: QWidget, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel(text)
        self.note.setObjectName(f"{content.objectName() or 'content'}Placeholder")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setMargin(12)
        self.note.setEnabled(False)  # drawn in the theme's muted text colour
        self.content = content
        self.addWidget(self.note)
        self.addWidget(content)
        self.setCurrentWidget(self.note)

    def show_content(self, on: bool = True) -> None:
        """The content (True) or the note (False)."""
        self.setCurrentWidget(self.content if on else self.note)

    def set_text(self, text: str) -> None:
        """What the note says."""
        self.note.setText(text)

    def showing_content(self) -> bool:
        return self.currentWidget() is self.content
