"""AttentionText: the prompt as prose, each token tinted by the attention it receives.

Where a (T, T) matrix has long become a blur, a text still reads: a query's attention
row (or a head's average over queries) becomes the background of every token, from
white (none) to the tint colour (the most attended token). Tokens after the query
(which it cannot see) are greyed. Hover a token for its position and weight; click it
to select it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit, QToolTip

TINT = (245, 133, 24)  # the most attended token's background
HIDDEN_TEXT = QColor("#9a9a9a")
TEXT = QColor("#111111")


def tint_alpha(weights: np.ndarray, hidden: np.ndarray | None, gamma: float = 1.0) -> np.ndarray:
    """(T,) int 0..255: background opacity of each token, (w / max visible w) ** gamma.

    Hidden tokens get 0; with no visible weight above 0 every token gets 0.
    """
    w = np.asarray(weights, dtype=np.float64)
    visible = np.ones(w.shape, bool) if hidden is None else ~np.asarray(hidden, bool)
    top = float(w[visible].max()) if visible.any() else 0.0
    if top <= 0:
        return np.zeros(w.shape, dtype=np.int64)
    t = np.clip(np.where(visible, w, 0.0) / top, 0.0, 1.0) ** gamma
    return np.rint(t * 255).astype(np.int64)


class AttentionText(QTextEdit):
    """The tokens as wrapped text with attention tints.

    Signals:
        token_clicked(int): the position of a clicked token.
    """

    token_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionText")
        self.setReadOnly(True)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self._texts: list[str] = []
        self._weights = np.zeros(0)
        self._alpha = np.zeros(0, dtype=np.int64)
        self._hidden: np.ndarray | None = None
        self._starts: list[int] = []  # document position where each token begins
        self._selected: int | None = None

    def set_tokens(
        self,
        texts: Sequence[str],
        weights: np.ndarray,
        *,
        hidden: np.ndarray | None = None,
        selected: int | None = None,
        gamma: float = 1.0,
    ) -> None:
        """Show the tokens tinted by ``weights``.

        Args:
            texts: T token texts, in order (their concatenation is the prompt).
            weights: (T,) attention each token receives (a probability row or a mean).
            hidden: (T,) bool, True for tokens the query cannot see (greyed, untinted).
            selected: the query's position (underlined), or None.
            gamma: exponent of the tint scale (< 1 makes small weights visible).

        Raises:
            ValueError: for lengths that differ, or a gamma <= 0.
        """
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(texts),):
            raise ValueError(f"weights have shape {w.shape}, expected ({len(texts)},)")
        if hidden is not None and np.shape(hidden) != w.shape:
            raise ValueError(f"hidden has shape {np.shape(hidden)}, expected {w.shape}")
        if not gamma > 0:
            raise ValueError(f"gamma is {gamma}, expected a positive number")
        self._texts, self._weights = [str(t) for t in texts], w
        self._hidden = None if hidden is None else np.asarray(hidden, bool)
        self._selected = selected
        self._alpha = tint_alpha(w, self._hidden, gamma)
        self._render()

    def _render(self) -> None:
        self.clear()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        self._starts = []
        for i, text in enumerate(self._texts):
            self._starts.append(cursor.position())
            cursor.insertText(text or "∅", self._format(i))
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def _format(self, i: int) -> QTextCharFormat:
        fmt = QTextCharFormat()
        hidden = self._hidden is not None and bool(self._hidden[i])
        fmt.setForeground(HIDDEN_TEXT if hidden else TEXT)
        fmt.setBackground(self.tint(i))
        if i == self._selected:
            fmt.setFontUnderline(True)
            fmt.setFontWeight(QFont.Weight.Bold)
        return fmt

    # ---- facts ---------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """(T,) the weights the tints show."""
        return self._weights

    def alphas(self) -> np.ndarray:
        """(T,) background opacity 0..255 of each token."""
        return self._alpha

    def tint(self, i: int) -> QColor:
        """The background colour of token ``i``."""
        return QColor(*TINT, int(self._alpha[i]))

    def token_at(self, point: QPoint) -> int | None:
        """The token under a viewport position, or None."""
        if not self._starts:
            return None
        cursor = self.cursorForPosition(point)
        position = cursor.position()
        # the cursor sits between characters: left of it is the character under the mouse
        if point.x() < self.cursorRect(cursor).left():
            position -= 1
        index = bisect.bisect_right(self._starts, max(position, 0)) - 1
        return min(max(index, 0), len(self._starts) - 1)

    def tooltip_text(self, i: int) -> str:
        weight = self._weights[i]
        hidden = self._hidden is not None and bool(self._hidden[i])
        shown = "—" if hidden else f"{weight:.4f}"
        return f"{i}: {self._texts[i]!r}  {shown}"

    # ---- events --------------------------------------------------------------------------
    def viewportEvent(self, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == event.Type.ToolTip:
            index = self.token_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_text(index), self)
            return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.token_at(event.position().toPoint())
            if index is not None:
                self.token_clicked.emit(index)
                return
        super().mousePressEvent(event)
