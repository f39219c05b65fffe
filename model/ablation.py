"""Head ablation through the model's taps: a head's attention output zeroed or averaged.

Each attention block's ``out`` tap carries (B, T, H·hd): every head's output before
``wo`` mixes them into the residual stream. Ablating head h of a layer replaces its
slice [h·hd, (h+1)·hd) by zeros, or by its mean over positions: a prompt's forward pass
uses the mean over all its T positions; a token appended with the KV cache gets the
mean over every position up to and including it (the sums restart with each fresh run
at position 0), so generating continues the same rule.

Targets may name one batch row, so :func:`~llamalens.model.head_ranking.rank_heads` can
ablate a different head in each row of one batched forward pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from llamalens.model.llama import Llama
from llamalens.model.variants import Variant


@dataclass(frozen=True)
class Target:
    """Head ``head`` of layer ``layer`` ablated by ``mode`` in batch row ``row`` (None: all)."""

    layer: int
    head: int
    mode: str = "zero"
    row: int | None = None


class _LayerAblation:
    """The forward hook of one layer's ``out`` tap, with the running sums of mean mode."""

    def __init__(self, targets: list[Target], n_heads: int, head_dim: int) -> None:
        self.targets = targets
        self.n_heads, self.head_dim = n_heads, head_dim
        self.sums: dict[int, torch.Tensor] = {}  # head → (B, hd) float64 sum over positions
        self.count = 0  # positions summed so far

    def reset(self) -> None:
        self.sums.clear()
        self.count = 0

    def __call__(self, _module, _inputs, output: torch.Tensor) -> torch.Tensor:
        b, t, _ = output.shape
        heads = output.view(b, t, self.n_heads, self.head_dim)  # (B, T, H, hd)
        means = self._update_means(heads)  # from the values before any change
        out = output.clone()
        view = out.view(b, t, self.n_heads, self.head_dim)
        for target in self.targets:
            rows = slice(None) if target.row is None else slice(target.row, target.row + 1)
            if target.mode == "zero":
                view[rows, :, target.head] = 0
            else:
                view[rows, :, target.head] = means[target.head][rows]
        return out  # (B, T, H·hd)

    def _update_means(self, heads: torch.Tensor) -> dict[int, torch.Tensor]:
        """Per mean-ablated head, (B, T, hd): the mean over every position run so far."""
        wanted = {t.head for t in self.targets if t.mode == "mean"}
        b, t = heads.shape[:2]
        means = {}
        for head in wanted:
            x = heads[:, :, head].double()  # (B, T, hd)
            prior = self.sums.get(head)
            total = x.sum(1) if prior is None else prior + x.sum(1)  # (B, hd)
            self.sums[head] = total
            mean = (total / (self.count + t)).to(heads.dtype)  # (B, hd)
            means[head] = mean[:, None].expand(b, t, -1)  # (B, T, hd)
        self.count += t
        return means


def ablation_targets(variant: Variant) -> list[Target]:
    """The hook targets of a variant's ablated heads (every batch row)."""
    return [Target(a.layer, a.head, a.mode) for a in variant.ablations]


@contextmanager
def ablated(model: Llama, targets: Iterable[Target]) -> Iterator[None]:
    """Ablate ``targets`` for the forward passes inside the ``with`` block."""
    handles = install(model, targets)
    try:
        yield
    finally:
        remove(handles)


def install(model: Llama, targets: Iterable[Target]) -> list:
    """Register the hooks (none for no targets); give the result to :func:`remove`."""
    by_layer: dict[int, list[Target]] = {}
    for t in targets:
        by_layer.setdefault(t.layer, []).append(t)
    if not by_layer:
        return []
    cfg = model.config
    hooks = {i: _LayerAblation(ts, cfg.n_heads, cfg.head_dim) for i, ts in by_layer.items()}
    handles = [model.layers[i].attention.out.register_forward_hook(h) for i, h in hooks.items()]

    def restart(_module, args, kwargs) -> None:
        start = kwargs.get("start_pos", args[1] if len(args) > 1 else 0)
        if start == 0:  # a fresh run: the running means start again
            for hook in hooks.values():
                hook.reset()

    handles.append(model.register_forward_pre_hook(restart, with_kwargs=True))
    return handles


def remove(handles: list) -> None:
    for h in handles:
        h.remove()
