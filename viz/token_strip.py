"""TokenStrip: one chip per token, wrapping like text; click to select a token."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from llamalens.viz.token_text import visible_text

SPECIAL_BG = QColor("#f3e0ff")
NORMAL_BG = QColor("#e8f0fe")
CHIP_TEXT = QColor("#111111")
TOKEN_TIP = QT_TRANSLATE_NOOP(
    "TokenStrip", "position {i}\ntoken id {id}\ntext {text}\nbytes {bytes}"
)
SPECIAL_TIP = QT_TRANSLATE_NOOP(
    "TokenStrip", "position {i}\nspecial token id {id}\ntext {text}\nbytes {bytes}"
)


class TokenStrip(QListWidget):
    """Chips showing each token's visible text over its id; bytes in the tooltip.

    Signals:
        token_selected(int): the index (position) of the clicked token.
    """

    token_selected = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenStrip")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(3)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        # long prompts: lay chips out in batches from the event loop instead of all at once
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.currentRowChanged.connect(self._on_row)
        self._font = QFont(self.font())
        self._font.setFamily("monospace")

    def set_tokens(
        self,
        texts: Sequence[str],
        ids: Sequence[int],
        byte_hex: Sequence[str],
        special: Sequence[bool],
    ) -> None:
        """Show tokens.

        Args:
            texts: decoded text of each token (invalid UTF-8 already escaped).
            ids: token ids, same length.
            byte_hex: each token's bytes as hex, same length.
            special: whether each token is a special/control token, same length.
        """
        n = len(texts)
        if not (len(ids) == len(byte_hex) == len(special) == n):
            raise ValueError(
                f"set_tokens got {n} texts, {len(ids)} ids, {len(byte_hex)} "
                f"byte strings and {len(special)} flags; expected equal lengths"
            )
        self.blockSignals(True)
        self.setUpdatesEnabled(False)
        self.clear()
        for i, (text, tid, hx, sp) in enumerate(zip(texts, ids, byte_hex, special)):
            item = QListWidgetItem(f"{visible_text(text)}\n{tid}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setFont(self._font)
            item.setBackground(QBrush(SPECIAL_BG if sp else NORMAL_BG))
            item.setForeground(QBrush(CHIP_TEXT))  # chips are light in every theme
            spaced = " ".join(hx[j : j + 2] for j in range(0, len(hx), 2))
            tip = SPECIAL_TIP if sp else TOKEN_TIP
            item.setToolTip(
                QCoreApplication.translate("TokenStrip", tip).format(
                    i=i, id=tid, text=repr(text), bytes=spaced
                )
            )
            self.addItem(item)
        self.setUpdatesEnabled(True)
        self.blockSignals(False)

    def select_token(self, index: int) -> None:
        """Select (and scroll to) the token at position index without emitting."""
        self.blockSignals(True)
        self.setCurrentRow(index)
        self.blockSignals(False)
        if 0 <= index < self.count():
            self.scrollToItem(self.item(index))

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.token_selected.emit(row)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(600, 120)
