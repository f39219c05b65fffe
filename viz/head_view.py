"""HeadView: BertViz's head view of one layer, drawn with Qt.

Two columns of the same tokens, queries on the left and keys on the right; a line from
query i to key j for every head, its opacity the attention weight p[h, i, j]. Each head
has a colour; the heads that share a key/value head (GQA) share a hue, in shades.
Hovering a token keeps only its lines (a query's outgoing or a key's incoming); clicking
a head's swatch shows or hides it. Hundreds of tokens scroll; only the lines that cross
the visible part are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from llamalens.viz.head_grid import KV_COLORS
from llamalens.viz.token_text import visible_text

MIN_WEIGHT = 0.01  # lighter lines are invisible (opacity < 1 %); they are not drawn
ALPHA_LEVELS = 32  # lines are batched by opacity into this many pens
LINE_WIDTH = 2.0


def head_colors(kv_heads: Sequence[int]) -> list[QColor]:
    """One colour per query head: its KV group's hue, darker for later heads of the group."""
    colors, seen = [], {}
    for kv in kv_heads:
        rank = seen.get(kv, 0)
        seen[kv] = rank + 1
        base = QColor(KV_COLORS[kv % len(KV_COLORS)])
        colors.append(base.darker(100 + 45 * rank))
    return colors


class _Layer:
    """The data of the shown layer, shared by the canvas and the legend."""

    def __init__(self) -> None:
        self.probs = np.zeros((0, 0, 0), dtype=np.float32)  # (H, T, T)
        self.labels: list[str] = []
        self.kv_heads: list[int] = []
        self.colors: list[QColor] = []
        self.visible: set[int] = set()
        self.hover: tuple[str, int] | None = None  # ("query" | "key", position)
        self.selected: int | None = None  # the selected query position


class HeadLegend(QWidget):
    """Clickable swatches, one per head, grouped by KV head."""

    toggled = Signal(int)

    def __init__(self, layer: _Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(300, int(QFontMetricsF(self.font()).height() * 1.8))

    def swatch_rects(self) -> list[QRectF]:
        m = QFontMetricsF(self.font())
        size = m.height() * 1.4
        width = m.horizontalAdvance("h00") + 10
        rects, x, previous = [], 4.0, None
        for kv in self.layer.kv_heads:
            if previous is not None and kv != previous:
                x += width * 0.4  # a gap between KV groups
            rects.append(QRectF(x, 2, width, size))
            x += width + 3
            previous = kv
        return rects

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(self.font())
        for head, rect in enumerate(self.swatch_rects()):
            color = QColor(self.layer.colors[head])
            shown = head in self.layer.visible
            p.setPen(QPen(color.darker(140), 1.5))
            p.setBrush(color if shown else QColor("#ffffff"))
            p.drawRoundedRect(rect, 4, 4)
            p.setPen(QColor("#ffffff") if shown else color.darker(130))
            p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), f"h{head}")
        p.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        for head, rect in enumerate(self.swatch_rects()):
            if rect.contains(event.position()):
                self.toggled.emit(head)
                return


class HeadCanvas(QWidget):
    """The two token columns and the lines between them (the full height; it scrolls)."""

    token_hovered = Signal(str, int)  # "query" | "key" | "", position (-1: none)
    query_clicked = Signal(int)

    def __init__(self, layer: _Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    # ---- geometry ------------------------------------------------------------------------
    def row_height(self) -> float:
        return QFontMetricsF(self.font()).height() * 1.35

    def column_width(self) -> float:
        m = QFontMetricsF(self.font())
        widest = max((m.horizontalAdvance(t) for t in self.layer.labels), default=40.0)
        return min(widest, m.horizontalAdvance("M" * 16)) + 12

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        width = 2 * self.column_width() + 180
        return QSize(int(width), int(self.row_height() * (len(self.layer.labels) + 0.5)))

    def anchors(self) -> tuple[float, float]:
        """x of the line ends at the query column and at the key column."""
        col = self.column_width()
        return col + 4, self.width() - col - 4

    def y_of(self, position: int) -> float:
        return self.row_height() * (position + 0.5) + 2

    def token_at(self, point: QPointF) -> tuple[str, int] | None:
        n = len(self.layer.labels)
        row = int((point.y() - 2) // self.row_height())
        if not 0 <= row < n:
            return None
        left, right = self.anchors()
        if point.x() <= left:
            return "query", row
        if point.x() >= right:
            return "key", row
        return None

    # ---- lines ---------------------------------------------------------------------------
    def lines(
        self, top: float = -np.inf, bottom: float = np.inf
    ) -> list[tuple[int, int, int, float]]:
        """(head, query, key, weight) of every line drawn between ``top`` and ``bottom``.

        A line is drawn for each visible head and each p[h, i, j] >= MIN_WEIGHT, limited
        to the hovered token's lines while one is hovered.
        """
        out = []
        probs, hover = self.layer.probs, self.layer.hover
        rh = self.row_height()
        for head in sorted(self.layer.visible):
            weights = probs[head]
            keep = weights >= MIN_WEIGHT
            if hover is not None:
                side, pos = hover
                only = np.zeros_like(keep)
                if side == "query":
                    only[pos, :] = True
                else:
                    only[:, pos] = True
                keep &= only
            q, k = np.nonzero(keep)
            y_q, y_k = rh * (q + 0.5) + 2, rh * (k + 0.5) + 2
            inside = (np.minimum(y_q, y_k) <= bottom) & (np.maximum(y_q, y_k) >= top)
            for i, j in zip(q[inside].tolist(), k[inside].tolist()):
                out.append((head, i, j, float(weights[i, j])))
        return out

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        clip = event.rect()
        self._paint_lines(p, clip.top(), clip.bottom())
        self._paint_tokens(p, clip.top(), clip.bottom())
        p.end()

    def _paint_lines(self, p: QPainter, top: float, bottom: float) -> None:
        left, right = self.anchors()
        batches: dict[tuple[int, int], list[QLineF]] = {}
        for head, i, j, w in self.lines(top, bottom):
            level = min(ALPHA_LEVELS, max(1, round(w * ALPHA_LEVELS)))
            batches.setdefault((head, level), []).append(
                QLineF(left, self.y_of(i), right, self.y_of(j))
            )
        # faint lines first: the strong ones stay on top whatever their head
        for (head, level), segment in sorted(batches.items(), key=lambda b: b[0][1]):
            color = QColor(self.layer.colors[head])
            color.setAlphaF(level / ALPHA_LEVELS)
            pen = QPen(color, LINE_WIDTH)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLines(segment)

    def _paint_tokens(self, p: QPainter, top: float, bottom: float) -> None:
        m = QFontMetricsF(self.font())
        col = self.column_width()
        rh = self.row_height()
        hover = self.layer.hover
        text = self.palette().windowText().color()
        for pos, label in enumerate(self.layer.labels):
            y = self.y_of(pos)
            if y + rh < top or y - rh > bottom:
                continue
            shown = m.elidedText(label, Qt.TextElideMode.ElideRight, col - 10)
            for side, box, align in (
                ("query", QRectF(2, y - rh / 2, col - 6, rh), Qt.AlignmentFlag.AlignRight),
                (
                    "key",
                    QRectF(self.width() - col + 4, y - rh / 2, col - 6, rh),
                    Qt.AlignmentFlag.AlignLeft,
                ),
            ):
                marked = hover == (side, pos) or (side == "query" and self.layer.selected == pos)
                if marked:
                    p.fillRect(box, QColor(255, 200, 80, 140))
                p.setPen(text)
                p.drawText(box, int(align | Qt.AlignmentFlag.AlignVCenter), shown)

    # ---- mouse ---------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.hover_token(self.token_at(event.position()))

    def leaveEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        self.hover_token(None)

    def hover_token(self, token: tuple[str, int] | None) -> None:
        if token != self.layer.hover:
            self.layer.hover = token
            self.token_hovered.emit(*(token or ("", -1)))
            self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        token = self.token_at(event.position())
        if token is not None and token[0] == "query":
            self.query_clicked.emit(token[1])


class HeadView(QWidget):
    """The head view of one layer: a legend of heads above two scrolling token columns.

    Signals:
        query_clicked(int): a query token (left column) was clicked.
        heads_toggled(tuple): the heads now shown.
    """

    query_clicked = Signal(int)
    heads_toggled = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headView")
        self.layer = _Layer()
        self.legend = HeadLegend(self.layer)
        self.canvas = HeadCanvas(self.layer)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.legend)
        lay.addWidget(self.scroll, 1)
        self.legend.toggled.connect(self.toggle_head)
        self.canvas.query_clicked.connect(self.query_clicked)

    def set_layer(self, probs: np.ndarray, labels: Sequence[str], kv_heads: Sequence[int]) -> None:
        """Show one layer.

        Args:
            probs: (H, T, T) attention probabilities (rows: queries, columns: keys).
            labels: T token texts (whitespace made visible).
            kv_heads: H, the key/value head each query head reads (its colour group).

        Raises:
            ValueError: for shapes that do not match.
        """
        arr = np.asarray(probs, dtype=np.float32)
        if arr.ndim != 3 or arr.shape[1] != arr.shape[2]:
            raise ValueError(f"probabilities have shape {arr.shape}, expected (H, T, T)")
        if len(labels) != arr.shape[1] or len(kv_heads) != arr.shape[0]:
            raise ValueError(
                f"got {len(labels)} labels and {len(kv_heads)} KV heads for probabilities "
                f"of shape {arr.shape}"
            )
        same_heads = len(self.layer.kv_heads) == arr.shape[0]
        self.layer.probs = arr
        self.layer.labels = [visible_text(str(t)) for t in labels]
        self.layer.kv_heads = [int(k) for k in kv_heads]
        self.layer.colors = head_colors(self.layer.kv_heads)
        if not same_heads:
            self.layer.visible = set(range(arr.shape[0]))
        self.layer.hover = None
        self._relayout()

    def set_selected_query(self, position: int | None) -> None:
        """Mark the selected query token (the app's selection) in the left column."""
        self.layer.selected = position
        self.canvas.update()

    def set_visible_heads(self, heads: Sequence[int]) -> None:
        n = self.layer.probs.shape[0]
        bad = [h for h in heads if not 0 <= h < n]
        if bad:
            raise ValueError(f"heads {bad} are out of range 0..{n - 1}")
        self.layer.visible = set(int(h) for h in heads)
        self.legend.update()
        self.canvas.update()
        self.heads_toggled.emit(self.visible_heads())

    def toggle_head(self, head: int) -> None:
        """Show a hidden head or hide a shown one."""
        self.set_visible_heads(sorted(set(self.layer.visible) ^ {head}))

    def visible_heads(self) -> tuple[int, ...]:
        return tuple(sorted(self.layer.visible))

    def hover_token(self, side: str | None, position: int | None = None) -> None:
        """Isolate one token's lines (side "query" or "key"), or None for all lines."""
        self.canvas.hover_token(None if side is None else (side, int(position)))

    def lines(self) -> list[tuple[int, int, int, float]]:
        """(head, query, key, weight) of every line drawn (over the whole height)."""
        return self.canvas.lines()

    def head_color(self, head: int) -> QColor:
        return QColor(self.layer.colors[head])

    def _relayout(self) -> None:
        self.canvas.setMinimumHeight(self.canvas.sizeHint().height())
        self.canvas.adjustSize()
        self.legend.update()
        self.canvas.update()

    def figure_widget(self) -> QWidget:
        """A copy for export: the legend above every token row (no scrolling)."""
        figure = QWidget()
        figure.setObjectName("headViewFigure")
        figure.setAutoFillBackground(True)
        legend, canvas = HeadLegend(self.layer, figure), HeadCanvas(self.layer, figure)
        for w in (legend, canvas):
            w.setFont(self.font())
        lay = QVBoxLayout(figure)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(legend)
        lay.addWidget(canvas)
        width = max(self.width(), canvas.sizeHint().width())
        figure.resize(width, legend.sizeHint().height() + canvas.sizeHint().height() + 16)
        return figure
