"""What-if figures: before/after next-token bars, the head ranking, RoPE's angles and decay
curve, and compare (A, B and B − A maps).

The ``draw_*`` functions fill a widget from model results; the panels call them on their
live widgets, and the ``*_figure`` functions on fresh, sized widgets for export and for
the Python API (``llamalens.app.notebook``), so the window, the files and a notebook show
the same figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QGridLayout, QWidget

from llamalens.app.appearance import THEMES
from llamalens.app.stage_view import map_style
from llamalens.model.attention import STAGE_LABELS
from llamalens.model.compare import MapDifference, map_difference, next_token_difference
from llamalens.model.head_ranking import HeadRanking
from llamalens.model.rope_decay import DecayCurve
from llamalens.model.vocab_table import token_label
from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.colormaps import DIVERGING_COLORMAP
from llamalens.viz.curve_plot import Curve, CurvePlot
from llamalens.viz.layer_head_map import LayerHeadMap
from llamalens.viz.paired_bars import PairedBars


# ---- drawing onto a widget ----------------------------------------------------------------
def draw_next_token(
    widget: PairedBars, logits_a, logits_b, vocab, names: tuple[str, str], top: int = 8
) -> None:
    """The top tokens of A or B as pairs of bars with Δ log p."""
    diff = next_token_difference(np.asarray(logits_a), np.asarray(logits_b), top)
    labels = [token_label(vocab, i) for i in diff.ids]
    widget.set_pairs(labels, diff.prob_a, diff.prob_b, names)


def draw_ranking(
    widget: LayerHeadMap, ranking: HeadRanking, vocab, selected: tuple[int, int] | None = None
) -> None:
    """Δ log p(target) of ablating each head, on a diverging scale centred at zero."""
    token = token_label(vocab, ranking.target)
    widget.set_values(
        ranking.effect,
        title=f"Δ log p({token!r}) when each head is ablated ({ranking.mode})",
        value_label="Δ log p",
        selected=selected,
    )


def draw_decay(widget: CurvePlot, curve: DecayCurve) -> None:
    """Expected raw score against distance, the model dashed, the variant solid."""
    changed = not np.array_equal(curve.before, curve.after)
    curves = [Curve("model", curve.before, "before" if changed else "a")]
    if changed:
        curves.append(Curve("variant", curve.after, "after"))
    widget.set_curves(
        curve.distance,
        curves,
        x_label="relative distance Δ (tokens, log)",
        y_label="expected QKᵀ/√d",
        title=f"RoPE long-range decay · {curve.label}",
        log_x=True,
    )


def draw_angles(widget: CurvePlot, theta_before, theta_after, position: int) -> None:
    """The angle m·θ_i of every pair at position m (log scale), model and variant."""
    m = max(1, int(position))
    pairs = np.arange(len(theta_before))
    changed = not np.array_equal(theta_before, theta_after)
    curves = [Curve("model", m * np.asarray(theta_before), "before" if changed else "a")]
    if changed:
        curves.append(Curve("variant", m * np.asarray(theta_after), "after"))
    widget.set_curves(
        pairs,
        curves,
        x_label="pair i",
        y_label=f"angle {m}·θᵢ (rad, log)",
        title=f"rotation of each pair at position {m}",
        log_y=True,
    )


def draw_difference(widget: AttentionMap, diff: MapDifference, stage: str, title: str) -> None:
    """B − A on the diverging colormap, its range centred at zero."""
    widget.set_colormap(DIVERGING_COLORMAP)
    widget.set_color_scale("linear")
    widget.set_fixed_prob_range(False)
    widget.set_map(
        diff.values,
        diff.labels,
        mask=diff.mask,
        kind="difference",
        value_label=f"B − A ({STAGE_LABELS[stage]})",
        title=title,
    )


def draw_map(widget: AttentionMap, trace, layer: int, head: int, stage: str, title: str) -> None:
    """One side of a compare: a (layer, head) map of ``trace`` as the attention panel shows it."""
    values = trace.attention_map(layer, head, stage)
    widget.set_map(values, trace.token_strs, title=title, **map_style(trace, stage))


# ---- fresh widgets for files and notebooks --------------------------------------------------
def _themed(widget, theme: str, width: int, height: int):
    bg, fg = THEMES[theme]
    widget.resize(width, height)
    widget.set_colors(bg, fg)
    widget.show()
    return widget


def next_token_figure(logits_a, logits_b, vocab, names=("before", "after"), theme="light"):
    w = _themed(PairedBars(), theme, 900, 560)
    draw_next_token(w, logits_a, logits_b, vocab, names)
    return w


def ranking_figure(ranking: HeadRanking, vocab, theme: str = "light"):
    n_layers, n_heads = ranking.effect.shape
    w = _themed(LayerHeadMap(), theme, max(760, 140 + 48 * n_heads), 120 + min(28 * n_layers, 900))
    draw_ranking(w, ranking, vocab)
    return w


def decay_figure(curve: DecayCurve, theme: str = "light"):
    w = _themed(CurvePlot(name="decayPlot"), theme, 900, 520)
    draw_decay(w, curve)
    return w


def angles_figure(theta_before, theta_after, position: int, theme: str = "light"):
    w = _themed(CurvePlot(name="anglesPlot"), theme, 900, 520)
    draw_angles(w, theta_before, theta_after, position)
    return w


class CompareFigure(QWidget):
    """A, B and B − A maps side by side (one widget, so it exports as one figure); the
    names of A and B belong in the figure's title or the panel's caption."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compareFigure")
        self.map_a, self.map_b, self.diff = AttentionMap(), AttentionMap(), AttentionMap()
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        for m in (self.map_a, self.map_b, self.diff):
            m.set_readout_visible(False)
            # square cells in a new shape: show the whole map again
            m.plot_item.getViewBox().sigResized.connect(lambda *_a, m=m: m.reset_view())
        self.set_in_one_row(True)

    def set_in_one_row(self, one_row: bool) -> None:
        """A, B and B − A in one row, or A and B above B − A (for a narrow panel)."""
        grid = self._grid
        for m in (self.map_a, self.map_b, self.diff):
            grid.removeWidget(m)
        for i in range(3):
            grid.setColumnStretch(i, 0)
            grid.setRowStretch(i, 0)
        if one_row:
            for col, (m, stretch) in enumerate(((self.map_a, 5), (self.map_b, 5), (self.diff, 6))):
                grid.addWidget(m, 0, col)
                grid.setColumnStretch(col, stretch)  # the difference's labels and bar are wider
            grid.setRowStretch(0, 1)
        else:
            grid.addWidget(self.map_a, 0, 0)
            grid.addWidget(self.map_b, 0, 1)
            grid.addWidget(self.diff, 1, 0)
            for i in range(2):
                grid.setColumnStretch(i, 1)
                grid.setRowStretch(i, 1)
        self.one_row = one_row

    def set_colors(self, background: str, foreground: str) -> None:
        for m in (self.map_a, self.map_b, self.diff):
            m.set_colors(background, foreground)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(1300, 520)  # three maps need about 400 px each to show whole

    def reset_views(self) -> None:
        for m in (self.map_a, self.map_b, self.diff):
            m.reset_view()

    def draw(
        self,
        a,
        b,
        stage: str,
        head_a: tuple[int, int],
        head_b: tuple[int, int],
        names: Sequence[str] = ("A", "B"),
        colormap: str = "viridis",
    ) -> MapDifference:
        """Draw both sides and their difference; returns the difference."""
        for m in (self.map_a, self.map_b):
            m.set_colormap(colormap)
        # short titles: a map's title sets its layout's width (the names go in the caption)
        draw_map(self.map_a, a, *head_a, stage, f"A · L{head_a[0]} H{head_a[1]}")
        draw_map(self.map_b, b, *head_b, stage, f"B · L{head_b[0]} H{head_b[1]}")
        diff = map_difference(a, b, stage, head_a, head_b)
        draw_difference(self.diff, diff, stage, "B − A")
        return diff


def compare_figure(a, b, stage, head_a, head_b, names=("A", "B"), theme="light"):
    w = _themed(CompareFigure(), theme, 1800, 640)
    w.draw(a, b, stage, head_a, head_b, names)
    return w
