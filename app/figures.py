"""Figures for export, built from a frozen FigureSpec and a trace: the one path shared by the
window's export actions and ``llamalens export``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamalens.app.appearance import THEMES
from llamalens.app.stage_view import map_style, sheet_style
from llamalens.model.attention import STAGE_LABELS, check_stage
from llamalens.model.sampling import softmax
from llamalens.model.variants import variant_title
from llamalens.viz.colormaps import COLORMAP_NAMES, SCALES

WHATS = ("map", "grid", "sheet", "rope", "logits")
STAGE_ALIASES = {"raw": "scores", "masked": "masked", "softmax": "probs"}  # CLI names


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
    """A sized, drawn widget for export.

    Args:
        spec: what to draw.
        trace: the Trace.
        vocab: anything with ``.token(id).text`` (for the next-token labels).

    Raises:
        ValueError: the layer, head or positions are outside the trace.
    """
    trace.slot(spec.layer)  # ValueError naming the captured layers
    if not 0 <= spec.head < trace.n_heads:
        raise ValueError(f"head {spec.head} is out of range 0..{trace.n_heads - 1}")
    bg, fg = THEMES[spec.theme]
    build = {"map": _map, "grid": _grid, "sheet": _sheet, "rope": _rope, "logits": _logits}
    widget = build[spec.what](spec, trace, vocab)
    if hasattr(widget, "set_colors"):
        widget.set_colors(bg, fg)
    elif hasattr(widget, "setBackground"):
        widget.setBackground(bg)
    widget.show()  # lay out (offscreen in the CLI)
    return widget


def _map(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.attention_map import AttentionMap

    w = AttentionMap()
    w.resize(900, 820)
    w.set_colormap(spec.colormap)
    w.set_color_scale(spec.scale, spec.gamma)
    w.set_readout_visible(False)
    title = f"layer {spec.layer} · head {spec.head} (KV {trace.kv_head(spec.head)})"
    values = trace.attention_map(spec.layer, spec.head, spec.stage)
    w.set_map(values, trace.token_strs, title=title, **map_style(trace, spec.stage))
    return w


def _grid(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.contact_sheet import ContactSheet

    w = ContactSheet()
    w.resize(900, 900)
    w.set_layer_maps(
        trace.layer_maps(spec.layer, spec.stage),
        spec.layer,
        trace.n_kv_heads,
        colormap=spec.colormap,
        **sheet_style(trace, spec.stage),
    )
    return w


def _sheet(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.contact_sheet import ContactSheet

    w = ContactSheet()
    w.resize(110 * trace.n_heads + 80, 100 * trace.n_layers + 60)
    maps = [trace.layer_maps(layer, spec.stage) for layer in trace.layers]
    w.set_maps(
        maps,
        [f"L{i}" for i in trace.layers],
        [f"H{h}" for h in range(trace.n_heads)],
        colormap=spec.colormap,
        title=f"all layers × heads · {STAGE_LABELS[spec.stage]}",
        **sheet_style(trace, spec.stage),
    )
    return w


def _rope(spec: FigureSpec, trace, _vocab):
    from llamalens.viz.rope_plane import RopePlane

    w = RopePlane()
    w.resize(1100, 650)
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


def _logits(_spec: FigureSpec, trace, vocab, top: int = 15):
    from llamalens.viz.logit_bars import LogitBars

    w = LogitBars()
    w.resize(900, 600)
    probs = softmax(trace.last_logits)
    order = np.argsort(-probs, kind="stable")[:top]
    w.set_bars([vocab.token(int(i)).text for i in order], probs[order])
    return w
