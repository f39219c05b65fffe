"""WrappingLabel: a pyqtgraph label that wraps its text to the width it is given.

pyqtgraph's LabelItem asks for its whole text on one line; in a narrow plot that line
runs out of the view and is cut. This one asks only for a few characters of width and
for the height its text takes when wrapped at the width the layout gives it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt

MIN_WIDTH = 60.0  # px: below this even single words are cut


class WrappingLabel(pg.LabelItem):
    """A left-justified LabelItem whose text wraps at its width."""

    def __init__(self, text: str = "", **args) -> None:
        self._wrap_width = MIN_WIDTH
        args.setdefault("justify", "left")
        super().__init__(text, **args)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        width = max(self.rect().width(), MIN_WIDTH)
        if abs(width - self._wrap_width) > 0.5:
            self._wrap_width = width
            self.item.setTextWidth(width)
        super().resizeEvent(ev)

    def updateMin(self) -> None:  # noqa: N802 (pyqtgraph override)
        self.item.setTextWidth(self._wrap_width)
        height = self.item.boundingRect().height() if self.text else 0.0
        self.setMinimumWidth(MIN_WIDTH)
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (MIN_WIDTH, height),
            Qt.SizeHint.PreferredSize: (MIN_WIDTH, height),
            Qt.SizeHint.MaximumSize: (-1, height),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()

    def text_size(self) -> QSizeF:
        """The wrapped text's size in scene pixels."""
        return self.item.boundingRect().size()
