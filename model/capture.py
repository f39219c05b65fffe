"""Forward hooks on the model's taps, registered for one run and always removed.

``capture(model)`` records, per layer, the per-head vectors that every attention
map and RoPE view can be rebuilt from (O(L·T·d)), plus residual-stream norms.

With ``maps=True`` attention takes the explicit path (QKᵀ/√d → mask → softmax → ·V)
and the full matrices it computed are kept (O(L·H·T²): for tests, small prompts and
``induction_scores``). Without it the forward pass keeps the fused SDPA kernel: the
Trace rebuilds any map from the captured q_rot/k_rot with the explicit path's
operations, so nothing needs the T² matrices during the run. On SmolLM2 at 4096
tokens that is 62 s → 17 s and no 1.8 GB transient per layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from llamalens.model.llama import Llama

PER_HEAD = ("q", "k", "v", "q_rot", "k_rot")
MAPS = ("scores", "masked", "probs")


@dataclass
class Recording:
    """What one forward pass left in the taps (torch tensors, batch 0, on the CPU).

    Attributes:
        layers: per layer, tap name → tensor. q/q_rot are (T, H, hd), k/k_rot/v (T, KV, hd);
            with maps, scores/masked/probs are (H, T, S) and out is (T, H·hd).
        resid: per layer, (3, T) L2 norms of resid_pre, resid_mid, resid_post.
        resid_post: per layer, (T, d) residual stream after the block (for the logit lens).
        logits: (T, V) float32.
    """

    layers: list[dict[str, torch.Tensor]] = field(default_factory=list)
    resid: list[list[torch.Tensor]] = field(default_factory=list)
    resid_post: list[torch.Tensor] = field(default_factory=list)
    logits: torch.Tensor | None = None


def _keep(store: dict, name: str):
    def hook(_module, _inputs, output):
        store[name] = output[0].detach().float().cpu()

    return hook


def _norm_into(norms: list, slot: int, keep: list | None = None):
    def hook(_module, _inputs, output):
        x = output[0].detach().float()
        norms[slot] = torch.linalg.vector_norm(x, dim=-1).cpu()  # (T,)
        if keep is not None:
            keep.append(x.cpu())

    return hook


@contextmanager
def capture(model: Llama, *, maps: bool = False) -> Iterator[Recording]:
    """Record one forward pass of ``model`` (batch size 1).

    Args:
        model: the Llama to observe.
        maps: also keep the full (H, T, S) score, masked and probability matrices.

    Yields:
        The Recording, filled once the forward pass inside the ``with`` block has run.
    """
    rec = Recording()
    handles = []
    for layer in model.layers:
        store: dict[str, torch.Tensor] = {}
        norms: list = [None, None, None]
        rec.layers.append(store)
        rec.resid.append(norms)
        att = layer.attention
        names = PER_HEAD + (MAPS + ("out",) if maps else ())
        handles += [getattr(att, n).register_forward_hook(_keep(store, n)) for n in names]
        handles.append(layer.resid_pre.register_forward_hook(_norm_into(norms, 0)))
        handles.append(layer.resid_mid.register_forward_hook(_norm_into(norms, 1)))
        handles.append(layer.resid_post.register_forward_hook(_norm_into(norms, 2, rec.resid_post)))

    def on_logits(_module, _inputs, output):
        rec.logits = output[0].detach().float().cpu()

    handles.append(model.logits.register_forward_hook(on_logits))
    model.set_explicit_attention(maps)
    try:
        yield rec
    finally:
        model.set_explicit_attention(False)
        for h in handles:
            h.remove()


@contextmanager
def each_layer(model: Llama, on_layer: Callable[[int], None] | None) -> Iterator[None]:
    """Call ``on_layer(i)`` after block i of every forward pass run inside the block.

    It reports progress and is where a cancel takes effect: an exception raised in it
    stops the forward pass at that layer (the hooks are removed either way).
    """
    handles = []
    if on_layer is not None:
        handles = [
            layer.resid_post.register_forward_hook(lambda *_a, i=i: on_layer(i))
            for i, layer in enumerate(model.layers)
        ]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
