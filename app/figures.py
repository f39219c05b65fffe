"""Build a figure widget from a Trace: the shared path of in-app and headless export."""

from __future__ import annotations

import numpy as np

from llamalens.app.appearance import THEMES
from llamalens.app.state import STAGE_NAMES
from llamalens.model.sampling import softmax

WHATS = ("map", "grid", "sheet", "rope", "logits")
STAGE_ALIASES = {
    "raw": "scores",
    "scores": "scores",
    "masked": "masked",
    "softmax": "probs",
    "probs": "probs",
}


def figure_title(model_name: str, prompt: str, what: str, layer: int, head: int, stage: str) -> str:
    """ "SmolLM2 · “The capital of…” · layer 3 · head 5 · softmax" for a figure."""
    excerpt = " ".join(prompt.split())
    excerpt = excerpt if len(excerpt) <= 40 else excerpt[:39] + "…"
    parts = [model_name, f"“{excerpt}”"]
    if what in ("map", "rope"):
        parts += [f"layer {layer}", f"head {head}"]
    elif what == "grid":
        parts.append(f"layer {layer}, all heads")
    elif what == "sheet":
        parts.append("all layers × heads")
    if what != "logits" and what != "rope":
        parts.append(STAGE_NAMES[stage])
    return " · ".join(parts)


def build_figure(
    what: str,
    trace,
    tokenizer,
    *,
    layer: int,
    head: int,
    stage: str,
    query: int | None = None,
    key: int = 0,
    theme: str = "light",
    cmap: str = "viridis",
    scale: str = "linear",
    gamma: float = 0.5,
):
    """A sized, drawn widget for export.

    Args:
        what: one of WHATS.
        trace: model.trace.Trace.
        tokenizer: anything with ``.token(id).text`` (for the logits labels).
        layer, head, stage: the attention map to show (stage: scores/masked/probs).
        query, key: positions for the RoPE figure (query defaults to the last token).
        theme, cmap, scale, gamma: appearance.
    """
    if what not in WHATS:
        raise ValueError(f"--what is {what!r}, expected one of {WHATS}")
    if not 0 <= layer < trace.n_layers:
        raise ValueError(f"layer {layer} is out of range 0..{trace.n_layers - 1}")
    if not 0 <= head < trace.n_heads:
        raise ValueError(f"head {head} is out of range 0..{trace.n_heads - 1}")
    bg, fg = THEMES[theme]
    build = {"map": _map, "grid": _grid, "sheet": _sheet, "rope": _rope, "logits": _logits}
    widget = build[what](trace, tokenizer, layer, head, stage, query, key, cmap, scale, gamma)
    if hasattr(widget, "set_colors"):
        widget.set_colors(bg, fg)
    else:
        widget.setBackground(bg) if hasattr(widget, "setBackground") else None
    widget.show()  # lay out (offscreen in the CLI)
    return widget


def _map(trace, _tok, layer, head, stage, _q, _k, cmap, scale, gamma):
    from llamalens.viz.attention_map import AttentionMap

    w = AttentionMap()
    w.resize(900, 820)
    w.set_colormap(cmap)
    w.set_color_scale(scale, gamma)
    w.set_readout_visible(False)
    title = f"layer {layer} · head {head} (KV {trace.kv_head(head)})"
    w.set_map(trace.attention_map(layer, head, stage), trace.token_strs, stage=stage, title=title)
    return w


def _grid(trace, _tok, layer, _head, stage, _q, _k, cmap, _s, _g):
    from llamalens.viz.contact_sheet import ContactSheet

    w = ContactSheet()
    w.resize(900, 900)
    w.set_layer_maps(trace.layer_maps(layer, stage), layer, trace.n_kv_heads, colormap=cmap)
    return w


def _sheet(trace, _tok, _layer, _head, stage, _q, _k, cmap, _s, _g):
    from llamalens.viz.contact_sheet import ContactSheet

    w = ContactSheet()
    w.resize(110 * trace.n_heads + 80, 100 * trace.n_layers + 60)
    maps = [trace.layer_maps(layer, stage) for layer in range(trace.n_layers)]
    w.set_maps(
        maps,
        [f"L{i}" for i in range(trace.n_layers)],
        [f"H{h}" for h in range(trace.n_heads)],
        colormap=cmap,
        title=f"all layers × heads · {STAGE_NAMES[stage]}",
    )
    return w


def _rope(trace, _tok, layer, head, _stage, query, key, _c, _s, _g):
    from llamalens.viz.rope_plane import RopePlane

    w = RopePlane()
    w.resize(1100, 650)
    q_pos = trace.n_tokens - 1 if query is None else query
    if not 0 <= key <= q_pos:
        raise ValueError(f"key position {key} must be between 0 and the query {q_pos}")
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


def _logits(trace, tok, _l, _h, _s, _q, _k, _c, _sc, _g, top: int = 15):
    from llamalens.viz.logit_bars import LogitBars

    w = LogitBars()
    w.resize(900, 600)
    probs = softmax(trace.last_logits)
    order = np.argsort(-probs, kind="stable")[:top]
    w.set_bars([tok.token(int(i)).text for i in order], probs[order])
    return w
