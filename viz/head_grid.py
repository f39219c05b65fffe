"""HeadGrid: a thumbnail of every head of one layer, grouped by the KV head they share."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from llamalens.viz.colormaps import (
    DEFAULT_COLORMAP,
    color_levels,
    default_masked_color,
    get_colormap,
    lookup_table,
    to_rgba,
    visible_cells,
)
from llamalens.viz.downsample import block_mask, block_max

THUMB_PIXELS = 96  # thumbnails are shrunk to at most this many cells a side
# Tableau 10: distinct hues that stay apart for most colour-vision deficiencies.
KV_COLORS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)


def thumbnail_rgba(
    matrix: np.ndarray,
    mask: np.ndarray | None,
    colormap: str,
    masked_color: QColor,
    kind: str = "probability",
    size: int = THUMB_PIXELS,
) -> np.ndarray:
    """(B, B, 4) uint8 picture of a (T, T) map by block maximum, B <= ``size``.

    Blocks whose cells are all masked (``mask`` True) get ``masked_color``; the rest is
    coloured on 0..max (probabilities) or min..max (scores) of the visible blocks.
    """
    small, _starts = block_max(matrix, size)
    hidden = block_mask(mask, size)
    visible = visible_cells(small, hidden)
    levels = color_levels(small, visible, kind)
    return to_rgba(small, levels, lookup_table(colormap), ~visible, masked_color)


class HeadThumbnail(QWidget):
    """One head: its title, its KV group badge and its map; click to select it."""

    clicked = Signal(int)

    def __init__(self, head: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.head, self.kv_head, self.selected = head, 0, False
        self.group_color = QColor(KV_COLORS[0])
        self._image = QImage()
        self.setObjectName(f"headThumb{head}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumSize(64, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_content(self, rgba: np.ndarray, kv_head: int, color: QColor) -> None:
        """Show a (B, B, 4) uint8 RGBA image, in the colours of KV group ``kv_head``."""
        height, width = rgba.shape[:2]
        self._image = QImage(
            rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888
        ).copy()  # own the pixels
        self.kv_head, self.group_color = kv_head, QColor(color)
        tip = QCoreApplication.translate(
            "HeadGrid", "head {head} · KV head {kv}\nclick to inspect this head"
        )
        self.setToolTip(tip.format(head=self.head, kv=kv_head))
        self.setAccessibleName(f"head {self.head}, KV head {kv_head}")
        self.update()

    def set_selected(self, selected: bool) -> None:
        """Draw (or drop) the thick selection border."""
        self.selected = selected
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit(self.head)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        border = 5 if self.selected else 2
        outer = self.rect().adjusted(
            border // 2, border // 2, -(border + 1) // 2, -(border + 1) // 2
        )
        tint = QColor(self.group_color)
        tint.setAlpha(50 if self.selected else 0)
        p.fillRect(self.rect(), self.palette().base())
        p.fillRect(outer, tint)
        p.setPen(QPen(self.group_color, border))
        p.drawRect(outer)
        title = QRect(
            border + 4,
            border + 2,
            self.width() - 2 * border - 8,
            QFontMetrics(self.font()).height() + 4,
        )
        self._paint_title(p, title)
        free = QRect(
            border + 4,
            title.bottom() + 3,
            self.width() - 2 * border - 8,
            self.height() - title.bottom() - border - 7,
        )
        side = max(0, min(free.width(), free.height()))
        target = QRect(free.left() + (free.width() - side) // 2, free.top(), side, side)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp cells
        if not self._image.isNull():
            p.drawImage(target, self._image)
        p.end()

    def _paint_title(self, p: QPainter, rect: QRect) -> None:
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(self.palette().text().color())
        p.drawText(
            rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"h{self.head}"
        )
        badge_text = f"kv{self.kv_head}"
        badge = QRect(
            0, rect.top(), QFontMetrics(bold).horizontalAdvance(badge_text) + 10, rect.height()
        )
        badge.moveRight(rect.right())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.group_color)
        p.drawRoundedRect(badge, 5, 5)
        p.setPen(QColor("white") if self.group_color.lightnessF() < 0.7 else QColor("#222"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, badge_text)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(140, 160)


class HeadGrid(QWidget):
    """Thumbnails of all heads of one layer, about square (3 columns for 9 heads).

    Heads that share a KV head (grouped-query attention: consecutive groups of H / KV
    heads) share a border colour and a "kvN" badge. Click a thumbnail, or use the arrow
    keys, to select a head.

    Signals:
        head_selected(int): the head the user picked.
    """

    head_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, colormap: str = DEFAULT_COLORMAP) -> None:
        super().__init__(parent)
        self.setObjectName("headGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        get_colormap(colormap)  # validates the name
        self._colormap = colormap
        self._maps: list[np.ndarray] = []
        self._layer: int | None = None
        self._mask: np.ndarray | None = None
        self._n_kv, self._selected = 1, 0
        self._thumbs: list[HeadThumbnail] = []
        self._header = QLabel(self)
        self._header.setObjectName("headGridHeader")
        header_font = QFont(self.font())
        header_font.setPointSizeF(header_font.pointSizeF() + 2)
        self._header.setFont(header_font)
        self._grid = QGridLayout()
        self._grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.addWidget(self._header)
        layout.addLayout(self._grid, stretch=1)

    def set_maps(
        self,
        maps: Sequence[np.ndarray],
        n_kv_heads: int,
        selected: int = 0,
        layer: int | None = None,
        *,
        mask: np.ndarray | None = None,
    ) -> None:
        """Show one layer's heads.

        Args:
            maps: H probability maps, each (T, T), queries as rows.
            n_kv_heads: KV heads; H must be a multiple (head h uses KV head h // (H / KV)).
            mask: (T, T) bool cells every map hides (True = masked), or None.
            selected: the head drawn as selected (no signal is emitted).
            layer: shown in the header when given.

        Raises:
            ValueError: for no maps, maps of different or non-square shapes, a KV count
                that does not divide H, or ``selected`` out of range.
        """
        arrays = [np.asarray(m, dtype=np.float32) for m in maps]
        _check_maps(arrays, n_kv_heads, selected)
        if mask is not None and mask.shape != arrays[0].shape:
            raise ValueError(f"mask has shape {mask.shape}; expected {arrays[0].shape}")
        self._maps, self._n_kv, self._mask = arrays, n_kv_heads, mask
        self._ensure_thumbnails(len(arrays))
        self._recolor()
        self._layer = layer
        self._set_header()
        self.set_selected(selected)

    def _set_header(self) -> None:
        if not self._maps:
            return
        translate = QCoreApplication.translate
        where = (
            ""
            if self._layer is None
            else translate("HeadGrid", "layer {layer} · ").format(layer=self._layer)
        )
        heads = translate("HeadGrid", "{n} heads").format(n=len(self._maps))
        rest = translate("HeadGrid", "{kv} KV heads · {tokens} tokens").format(
            kv=self._n_kv, tokens=self._maps[0].shape[0]
        )
        self._header.setText(f"<b>{html.escape(where + heads)}</b> · {html.escape(rest)}")

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._set_header()
        super().changeEvent(event)

    def _recolor(self) -> None:
        masked = default_masked_color(self._colormap)
        for head, (thumb, matrix) in enumerate(zip(self._thumbs, self._maps)):
            kv = self.kv_head(head)
            thumb.set_content(
                thumbnail_rgba(matrix, self._mask, self._colormap, masked),
                kv,
                QColor(KV_COLORS[kv % len(KV_COLORS)]),
            )

    def _ensure_thumbnails(self, n_heads: int) -> None:
        if len(self._thumbs) == n_heads:
            return
        for thumb in self._thumbs:
            self._grid.removeWidget(thumb)
            thumb.deleteLater()
        columns = math.ceil(math.sqrt(n_heads))
        self._thumbs = [HeadThumbnail(head, self) for head in range(n_heads)]
        for head, thumb in enumerate(self._thumbs):
            thumb.clicked.connect(self._on_clicked)
            self._grid.addWidget(thumb, head // columns, head % columns)

    def set_selected(self, head: int) -> None:
        """Draw ``head`` as selected (no signal is emitted)."""
        if not 0 <= head < max(len(self._thumbs), 1):
            raise ValueError(f"head is {head}; expected 0..{len(self._thumbs) - 1}")
        self._selected = head
        for thumb in self._thumbs:
            thumb.set_selected(thumb.head == head)

    @property
    def selected(self) -> int:
        """The selected head."""
        return self._selected

    @property
    def colormap_name(self) -> str:
        """Name of the thumbnails' colormap."""
        return self._colormap

    def set_colormap(self, name: str) -> None:
        """Recolour the thumbnails with one of the names in ``viz.colormaps``."""
        get_colormap(name)
        self._colormap = name
        self._recolor()

    def thumbnails(self) -> list[HeadThumbnail]:
        """The thumbnail widgets, in head order."""
        return list(self._thumbs)

    def kv_head(self, head: int) -> int:
        """The KV head that ``head`` reads its keys and values from."""
        if not 0 <= head < len(self._maps):
            raise ValueError(f"head is {head}; expected 0..{len(self._maps) - 1}")
        return head // (len(self._maps) // self._n_kv)

    def _on_clicked(self, head: int) -> None:
        self.set_selected(head)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.head_selected.emit(head)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        columns = math.ceil(math.sqrt(len(self._thumbs))) if self._thumbs else 1
        moves = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -columns,
            Qt.Key.Key_Down: columns,
        }
        step = moves.get(Qt.Key(event.key()))
        if step is None or not self._thumbs:
            super().keyPressEvent(event)
            return
        head = self._selected + step
        if 0 <= head < len(self._thumbs) and head != self._selected:
            self._on_clicked(head)


def _check_maps(maps: list[np.ndarray], n_kv_heads: int, selected: int) -> None:
    if not maps:
        raise ValueError("set_maps got no maps; expected one (T, T) map per head")
    expected = maps[0].shape
    for head, matrix in enumerate(maps):
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape != expected:
            raise ValueError(
                f"map of head {head} has shape {matrix.shape}; expected "
                f"{expected if maps[0].ndim == 2 else '(T, T)'}, square, "
                "the same for every head"
            )
    if n_kv_heads < 1 or len(maps) % n_kv_heads:
        raise ValueError(f"n_kv_heads is {n_kv_heads}; expected a divisor of the {len(maps)} heads")
    if not 0 <= selected < len(maps):
        raise ValueError(f"selected head is {selected}; expected 0..{len(maps) - 1}")
