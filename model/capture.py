"""Forward hooks on the model's taps, registered for one run and always removed.

``capture(model)`` records, for each captured layer, the per-head vectors that every
attention map and RoPE view can be rebuilt from (O(L·T·d)), plus residual-stream norms
and the residual stream after the block. Each hook copies its tap's value straight
into the run's preallocated float32 arrays (one copy, no per-layer lists to stack
later), so a captured run's peak is the Trace plus one layer's activations.

With ``maps=True`` attention takes the explicit path (QKᵀ/√d → mask → softmax → ·V)
and the full matrices it computed are kept (O(L·H·T²): for tests, small prompts and
``induction_scores``). Without it the forward pass keeps the fused SDPA kernel: the
Trace rebuilds any map from the captured q_rot/k_rot with the forward's own attention
function, so nothing needs the T² matrices during the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from llamalens.model.llama import Llama

PER_HEAD = ("q", "k", "v", "q_rot", "k_rot")
MAPS = ("scores", "masked", "probs")


class Recording:
    """What one forward pass left in the taps (batch 0), as float32 numpy on the CPU.

    Attributes:
        layer_ids: the captured layers, ascending.
        arrays: q, k, v, q_rot, k_rot (L', heads, T, hd); resid_norms (L', 3, T) (L2 norms
            of resid_pre, resid_mid, resid_post); resid_post (L', T, d). Allocated when
            the first value of each arrives.
        layers: per captured layer, with ``maps``: scores/masked/probs (H, T, S) and out
            (T, H·hd) as torch tensors.
        logits: (T, V) float32 torch tensor (or (1, V) for a last-position-only run).
    """

    def __init__(self, layer_ids: Sequence[int]) -> None:
        self.layer_ids = list(layer_ids)
        self.arrays: dict[str, np.ndarray] = {}
        self.layers: list[dict[str, torch.Tensor]] = [{} for _ in self.layer_ids]
        self.logits: torch.Tensor | None = None

    def write(self, name: str, index: tuple[int, ...], value: torch.Tensor) -> None:
        """Copy ``value`` into ``arrays[name][index]`` (converting dtype and device once)."""
        arr = self.arrays.get(name)
        if arr is None:
            lead = (len(self.layer_ids), 3) if name == "resid_norms" else (len(self.layer_ids),)
            arr = self.arrays[name] = np.empty((*lead, *value.shape), dtype=np.float32)
        torch.from_numpy(arr[index]).copy_(value)


def _per_head(rec: Recording, name: str, slot: int):
    def hook(_module, _inputs, output):
        rec.write(name, (slot,), output[0].detach().transpose(0, 1))  # (T, h, hd) → (h, T, hd)

    return hook


def _keep_map(rec: Recording, name: str, slot: int):
    def hook(_module, _inputs, output):
        rec.layers[slot][name] = output[0].detach().float().cpu()

    return hook


def _resid(rec: Recording, which: int, slot: int):
    def hook(_module, _inputs, output):
        x = output[0].detach()
        rec.write("resid_norms", (slot, which), torch.linalg.vector_norm(x.float(), dim=-1))
        if which == 2:
            rec.write("resid_post", (slot,), x)  # (T, d)

    return hook


@contextmanager
def capture(
    model: Llama, *, maps: bool = False, layers: Sequence[int] | None = None
) -> Iterator[Recording]:
    """Record one forward pass of ``model`` (batch size 1).

    Args:
        model: the Llama to observe.
        maps: also keep the full (H, T, S) score, masked and probability matrices.
        layers: the layers to record (default all); the others run unobserved.

    Yields:
        The Recording, filled once the forward pass inside the ``with`` block has run.
    """
    ids = sorted(set(range(len(model.layers)) if layers is None else layers))
    rec = Recording(ids)
    handles = []
    for slot, i in enumerate(ids):
        block = model.layers[i]
        att = block.attention
        handles += [
            getattr(att, n).register_forward_hook(_per_head(rec, n, slot)) for n in PER_HEAD
        ]
        if maps:
            handles += [
                getattr(att, n).register_forward_hook(_keep_map(rec, n, slot))
                for n in (*MAPS, "out")
            ]
        for which, tap in enumerate((block.resid_pre, block.resid_mid, block.resid_post)):
            handles.append(tap.register_forward_hook(_resid(rec, which, slot)))

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
