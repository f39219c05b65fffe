"""ModelDiagram: a small block diagram of a Llama with the current block highlighted.

Blocks are drawn top to bottom with arrows between them; the blocks of one transformer
layer sit inside a frame captioned with the layer (``layer 3 · ×30``). The caller names
the blocks and their labels (translated); clicking a block emits its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CURRENT = QColor("#f58518")
BLOCK = QColor("#e8f0fe")
BLOCK_EDGE = QColor("#4c78a8")
LAYER_EDGE = QColor("#7f7f7f")


@dataclass(frozen=True)
class Block:
    """One box of the diagram: an id, its label, and whether it is inside the layer frame."""

    id: str
    label: str
    in_layer: bool = False


class ModelDiagram(QWidget):
    """The blocks of the model, top to bottom; the current one filled and annotated.

    Signals:
        block_clicked(str): the id of a clicked block.
    """

    block_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelDiagram")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._blocks: list[Block] = []
        self._current: str | None = None
        self._note = ""
        self._layer_caption = ""
        self._rects: dict[str, QRectF] = {}

    def set_blocks(self, blocks: Sequence[Block], layer_caption: str = "") -> None:
        """The boxes, top to bottom, and the caption of the layer frame."""
        ids = [b.id for b in blocks]
        if len(set(ids)) != len(ids):
            raise ValueError(f"block ids repeat: {ids}")
        self._blocks = list(blocks)
        self._layer_caption = layer_caption
        if self._current not in ids:
            self._current = None
        self.updateGeometry()
        self.update()

    def set_current(self, block_id: str | None, note: str = "") -> None:
        """Highlight ``block_id`` (None: none) and write ``note`` under its label."""
        if block_id is not None and block_id not in {b.id for b in self._blocks}:
            raise ValueError(f"no block {block_id!r} in the diagram")
        self._current, self._note = block_id, note
        self.update()

    def current(self) -> str | None:
        return self._current

    def labels(self) -> list[str]:
        """Every text the diagram draws (block labels, the note, the layer caption)."""
        texts = [b.label for b in self._blocks] + [self._layer_caption]
        return [t for t in texts + [self._note] if t]

    def block_rect(self, block_id: str) -> QRectF:
        """Where a block was drawn (widget coordinates) in the last layout."""
        self._layout()
        return QRectF(self._rects[block_id])

    # ---- geometry ------------------------------------------------------------------------
    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.font())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        m = self._metrics()
        widest = max((m.horizontalAdvance(b.label) for b in self._blocks), default=80.0)
        widest = max(widest, m.horizontalAdvance(self._layer_caption))
        return QSize(int(widest + 48), int(len(self._blocks) * m.height() * 2.2 + 40))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        m = self._metrics()
        return QSize(int(m.horizontalAdvance("M" * 8)), int(len(self._blocks) * m.height() + 20))

    def _layout(self) -> None:
        """Block rectangles filling the height; the current block is taller (its note)."""
        self._rects = {}
        n = len(self._blocks)
        if not n:
            return
        m = self._metrics()
        caption = m.height() * 1.2 if self._layer_caption else 0.0
        extra = m.height() if self._note else 0.0
        gap_total = self.height() - 8 - caption - extra
        box = min(m.height() * 1.5, max(m.height() * 1.05, gap_total / (n * 1.45)))
        gap = max(4.0, min(box * 0.5, (gap_total - n * box) / max(n, 1)))
        y = 4.0
        inside_started = False
        for block in self._blocks:
            if block.in_layer and not inside_started:
                y += caption
                inside_started = True
            height = box + (extra if block.id == self._current else 0.0)
            indent = 12.0 if block.in_layer else 4.0
            self._rects[block.id] = QRectF(indent, y, self.width() - 2 * indent, height)
            y += height + gap

    # ---- painting ------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        self._layout()
        if not self._rects:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        self._paint_arrows(p, text)
        self._paint_layer_frame(p, text)
        for block in self._blocks:
            self._paint_block(p, block)
        p.end()

    def _paint_layer_frame(self, p: QPainter, text: QColor) -> None:
        inside = [self._rects[b.id] for b in self._blocks if b.in_layer]
        if not inside:
            return
        m = self._metrics()
        top = inside[0].top() - m.height() * 1.15
        frame = QRectF(2, top, self.width() - 4, inside[-1].bottom() - top + 4)
        pen = QPen(LAYER_EDGE, 1.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(frame, 6, 6)
        p.setFont(self.font())
        width = min(frame.width() - 12, m.horizontalAdvance(self._layer_caption) + 8)
        box = QRectF(frame.left() + 4, top + 1, width, m.height() * 1.1)
        p.fillRect(box, self.palette().window())  # the caption is not crossed by the arrow
        p.setPen(text)
        p.drawText(
            box.adjusted(2, 0, 0, 0),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            self._layer_caption,
        )

    def _paint_arrows(self, p: QPainter, text: QColor) -> None:
        p.setPen(QPen(text, 1.2))
        x = self.width() / 2
        rects = [self._rects[b.id] for b in self._blocks]
        for above, below in zip(rects, rects[1:]):
            start, end = above.bottom(), below.top()
            if end - start < 3:
                continue
            p.drawLine(QPointF(x, start), QPointF(x, end))
            p.drawLine(QPointF(x, end), QPointF(x - 3, end - 4))
            p.drawLine(QPointF(x, end), QPointF(x + 3, end - 4))

    def _paint_block(self, p: QPainter, block: Block) -> None:
        rect = self._rects[block.id]
        current = block.id == self._current
        p.setPen(QPen(CURRENT.darker(130) if current else BLOCK_EDGE, 2.0 if current else 1.0))
        p.setBrush(CURRENT if current else BLOCK)
        p.drawRoundedRect(rect, 5, 5)
        font = QFont(self.font())
        font.setBold(current)
        p.setFont(font)
        p.setPen(QColor("#ffffff") if current else QColor("#1a1a1a"))
        m = self._metrics()
        label_box = QRectF(
            rect.left() + 4, rect.top(), rect.width() - 8, min(rect.height(), m.height() * 1.5)
        )
        align = int(Qt.AlignmentFlag.AlignCenter)
        p.drawText(
            label_box,
            align,
            m.elidedText(block.label, Qt.TextElideMode.ElideRight, label_box.width()),
        )
        if current and self._note:
            note_box = QRectF(rect.left() + 4, label_box.bottom() - 2, rect.width() - 8, m.height())
            font.setBold(False)
            p.setFont(font)
            p.drawText(
                note_box,
                align,
                m.elidedText(self._note, Qt.TextElideMode.ElideRight, note_box.width()),
            )

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout()
        for block_id, rect in self._rects.items():
            if rect.contains(event.position()):
                self.block_clicked.emit(block_id)
                return
        super().mousePressEvent(event)
