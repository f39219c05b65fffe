"""Figures for export, built from a frozen FigureSpec and a trace: the one path shared by the
window's export actions and ``llamalens export``.

A figure has no screen furniture: no hover hints, no live controls, selection outlines
only when asked for. Its size is in figure pixels of 1/96 inch (``--size 3.5x3.2in``
is 336 × 307) with the title inside it, and its labels have the font size asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llamalens.app.appearance import THEMES
from llamalens.app.stage_view import map_style, sheet_style
from llamalens.model.attention import STAGE_LABELS, check_stage
from llamalens.model.sampling import softmax
from llamalens.model.variants import variant_title
from llamalens.viz.colormaps import COLORMAP_NAMES, SCALES

WHATS = ("map", "grid", "sheet", "rope", "logits")
STAGE_ALIASES = {"raw": "scores", "masked": "masked", "softmax": "probs"}  # CLI names
DEFAULT_SIZES = {"map": (900, 820), "rope": (1100, 650), "logits": (900, 600)}
GRID_CELL, SHEET_CELL = 260, 72  # figure pixels per map in a layer grid / a sheet
TITLE_GROWTH = 1.15  # title font relative to the figure's font


def figure_title(model_name: str, variant: str, prompt: str, details: list[str]) -> str:
    """Every figure's title: model [variant] · “prompt excerpt” · details."""
    excerpt = " ".join(prompt.split())
    excerpt = excerpt if len(excerpt) <= 40 else excerpt[:39] + "…"
    return " · ".join([variant_title(model_name, variant), f"“{excerpt}”", *details])


@dataclass(frozen=True)
class FigureSpec:
    """What to draw and how.

    Attributes:
        what: ``map`` (one head), ``grid`` (every head of a layer), ``sheet`` (every
            layer × head), ``rope`` (a query/key pair in the complex plane) or ``logits``
            (the next-token bars).
        layer, head, stage: the attention map (stage: scores, masked or probs).
        query, key: positions for ``rope`` (query None: the last token).
        theme: ``light`` or ``dark``.
        colormap, scale, gamma: colouring of maps.
        model_name, prompt: for the title.
        title_text: the title: None for the automatic one (:meth:`title`), "" for none.
        size: (width, height) of the whole figure in figure pixels (1/96 in), or None
            for a size that suits the figure.
        font_points: size of its labels (None: each figure's own default).
        outline: outline the selected query row and key column on a map.
        token_labels: label a grid's or sheet's maps with the tokens (None: a grid yes,
            a sheet no).
        layers, heads: the subset a sheet (layers and heads) or grid (heads) shows;
            None for all.
        variant: the what-if variant's label ("" for the model itself), in the title.
    """

    what: str = "map"
    layer: int = 0
    head: int = 0
    stage: str = "probs"
    query: int | None = None
    key: int = 0
    theme: str = "light"
    colormap: str = "viridis"
    scale: str = "linear"
    gamma: float = 0.5
    model_name: str = "LlamaLens"
    prompt: str = ""
    title_text: str | None = None
    size: tuple[int, int] | None = None
    font_points: float | None = None
    outline: bool = False
    token_labels: bool | None = None
    layers: tuple[int, ...] | None = None
    heads: tuple[int, ...] | None = None
    variant: str = ""

    def __post_init__(self) -> None:
        if self.what not in WHATS:
            raise ValueError(f"figure is {self.what!r}, expected one of {', '.join(WHATS)}")
        check_stage(self.stage)
        if self.theme not in THEMES:
            raise ValueError(f"theme is {self.theme!r}, expected one of {', '.join(THEMES)}")
        if self.colormap not in COLORMAP_NAMES:
            raise ValueError(
                f"colormap is {self.colormap!r}, expected one of {', '.join(COLORMAP_NAMES)}"
            )
        if self.scale not in SCALES:
            raise ValueError(f"colour scale is {self.scale!r}, expected one of {SCALES}")
        if not self.gamma > 0:
            raise ValueError(f"gamma is {self.gamma}, expected a positive number")
        if self.size is not None and not all(16 <= v <= 20000 for v in self.size):
            raise ValueError(f"figure size is {self.size} pixels, expected 16..20000 each")
        if self.font_points is not None and not 3 <= self.font_points <= 72:
            raise ValueError(f"font size is {self.font_points} pt, expected 3..72")

    def figure_title(self) -> str:
        """The title drawn above the figure ("" for none)."""
        return self.title() if self.title_text is None else self.title_text

    def title_points(self) -> float | None:
        """The title's font size: a little larger than the labels'."""
        return None if self.font_points is None else self.font_points * TITLE_GROWTH

    def title(self) -> str:
        """ "SmolLM2 · “The capital of…” · layer 3 · head 5 · softmax" for a figure."""
        parts = []
        if self.what in ("map", "rope"):
            parts += [f"layer {self.layer}", f"head {self.head}"]
        elif self.what == "grid":
            parts.append(f"layer {self.layer}, all heads")
        elif self.what == "sheet":
            parts.append("all layers × heads")
        if self.what in ("map", "grid", "sheet"):
            parts.append(STAGE_LABELS[self.stage])
        return figure_title(self.model_name, self.variant, self.prompt, parts)

    def file_stem(self) -> str:
        """A file name suggestion, e.g. ``llamalens-map-L3-H5-probs``."""
        return f"llamalens-{self.what}-L{self.layer}-H{self.head}-{self.stage}"


def build_figure(spec: FigureSpec, trace, vocab):
    """A sized, drawn widget for export (its title is the exporter's, see
    :func:`export_spec`).

    Args:
        spec: what to draw.
        trace: the Trace.
        vocab: anything with ``.token(id).text`` (for the next-token labels).

    Raises:
        ValueError: the layer, head, positions or subsets are outside the trace.
    """
    for layer in (spec.layer, *(spec.layers or ())):
        trace.slot(layer)  # ValueError naming the captured layers
    for head in (spec.head, *(spec.heads or ())):
        if not 0 <= head < trace.n_heads:
            raise ValueError(f"head {head} is out of range 0..{trace.n_heads - 1}")
    bg, fg = THEMES[spec.theme]
    build = {"map": _map, "grid": _grid, "sheet": _sheet, "rope": _rope, "logits": _logits}
    widget = build[spec.what](spec, trace, vocab)
    if hasattr(widget, "set_colors"):
        widget.set_colors(bg, fg)
    elif hasattr(widget, "setBackground"):
        widget.setBackground(bg)
    if spec.size is not None:
        from PySide6.QtCore import QSize

        from llamalens.viz.export import fit_below_title

        fit_below_title(widget, QSize(*spec.size), spec.figure_title(), spec.title_points())
    widget.show()  # lay out (offscreen in the CLI)
    return widget


def export_spec(spec: FigureSpec, trace, vocab, path: str | Path, *, width=None, dpi=None) -> Path:
    """Build the figure of ``spec``, write it to ``path`` (PNG, SVG or PDF), close it."""
    from llamalens.viz.export import export_figure

    bg, fg = THEMES[spec.theme]
    widget = build_figure(spec, trace, vocab)
    if width is None and dpi is None and spec.size is not None and Path(path).suffix != ".png":
        width = spec.size[0]
    try:
        return export_figure(
            widget,
            path,
            title=spec.figure_title(),
            width=width,
            dpi=dpi,
            background=bg,
            foreground=fg,
            title_points=spec.title_points(),
        )
    finally:
        widget.close()


def _size(spec: FigureSpec, default: tuple[int, int]) -> tuple[int, int]:
    return spec.size or default


def _map(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.attention_map import AttentionMap

    w = AttentionMap(font_size=spec.font_points or 11.0)
    w.resize(*_size(spec, DEFAULT_SIZES["map"]))
    w.set_colormap(spec.colormap)
    w.set_color_scale(spec.scale, spec.gamma)
    w.set_readout_visible(False)
    values = trace.attention_map(spec.layer, spec.head, spec.stage, keep=False)
    w.set_map(values, trace.token_strs, **map_style(trace, spec.stage))
    if spec.outline:
        query = trace.n_tokens - 1 if spec.query is None else spec.query
        w.set_query_row(query)
        w.set_key_col(min(spec.key, query))
    return w


def _grid(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.contact_sheet import ContactSheet

    heads = list(spec.heads or range(trace.n_heads))
    columns = math.ceil(math.sqrt(len(heads)))
    rows = math.ceil(len(heads) / columns)
    w = ContactSheet(font_size=spec.font_points or 10.0)
    w.resize(*_size(spec, (columns * GRID_CELL + 160, rows * (GRID_CELL + 24) + 120)))
    maps = [
        trace.attention_map(spec.layer, h, spec.stage, keep=False) if h in heads else None
        for h in range(trace.n_heads)
    ]
    labels = spec.token_labels is not False
    w.set_layer_maps(
        maps,
        spec.layer,
        trace.n_kv_heads,
        colormap=spec.colormap,
        heads=heads,
        value_label=STAGE_LABELS[spec.stage],
        tokens=trace.token_strs if labels else None,
        pixels=GRID_CELL,
        **sheet_style(trace, spec.stage),
    )
    return w


def _sheet(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.contact_sheet import ContactSheet

    layers = list(spec.layers or trace.layers)
    heads = list(spec.heads or range(trace.n_heads))
    w = ContactSheet(font_size=spec.font_points or 9.0)
    w.resize(*_size(spec, (len(heads) * SHEET_CELL + 170, len(layers) * SHEET_CELL + 110)))
    maps = [
        [trace.attention_map(layer, h, spec.stage, keep=False) for h in heads] for layer in layers
    ]
    w.set_maps(
        maps,
        [f"L{i}" for i in layers],
        [f"H{h}" for h in heads],
        colormap=spec.colormap,
        value_label=STAGE_LABELS[spec.stage],
        tokens=trace.token_strs if spec.token_labels else None,
        **sheet_style(trace, spec.stage),
    )
    return w


def _rope(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.rope_plane import RopePlane

    w = RopePlane()
    w.prepare_figure(vector=False, density=1.0)  # no live controls: before it is sized
    w.resize(*_size(spec, DEFAULT_SIZES["rope"]))
    if spec.font_points:
        w.set_font_size(spec.font_points)
    q_pos = trace.n_tokens - 1 if spec.query is None else spec.query
    if not 0 <= q_pos < trace.n_tokens:
        raise ValueError(f"query position {q_pos} is out of range 0..{trace.n_tokens - 1}")
    if not 0 <= spec.key <= q_pos:
        raise ValueError(f"key position {spec.key} must be between 0 and the query {q_pos}")
    layer, head, key = spec.layer, spec.head, spec.key
    q, k = trace.rope_query(layer, head, q_pos), trace.rope_key(layer, head, key)
    w.set_view(
        q.before,
        q.after,
        q.theta,
        q_pos,
        k_before=k.before,
        k_after=k.after,
        k_pos=key,
        contributions=trace.pair_contributions(layer, head, q_pos, key),
        title=f"layer {layer} · head {head} · query {q_pos} "
        f"{trace.token_strs[q_pos]!r} · key {key} {trace.token_strs[key]!r}",
    )
    return w


def _logits(spec: FigureSpec, trace, vocab, top: int = 15):
    from llamalens.viz.logit_bars import LogitBars

    w = LogitBars()
    w.resize(*_size(spec, DEFAULT_SIZES["logits"]))
    if spec.font_points:
        w.set_font_size(spec.font_points)
    probs = softmax(trace.last_logits)
    order = np.argsort(-probs, kind="stable")[:top]
    w.set_bars([vocab.token(int(i)).text for i in order], probs[order])
    return w
