"""Which heads matter for the next token: ablate each in turn and measure the change.

For a layer, one batched forward pass runs H copies of the prompt, copy h with head h
ablated (zero or mean, on top of whatever the current variant ablates), so ranking a
layer costs one pass of batch H instead of H passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from llamalens.model.ablation import Target, ablated
from llamalens.model.llama import Llama
from llamalens.model.variants import ABLATION_MODES


@dataclass(frozen=True)
class HeadRanking:
    """The effect of ablating each head on the next-token distribution.

    Attributes:
        effect: (L, H) float64 log p_ablated(target) − log p(target); negative where the
            head helped predict ``target``; NaN for heads not ranked.
        kl: (L, H) float64 KL(p ‖ p_ablated) of the whole next-token distribution.
        target: the token id measured.
        base_logprob: log p(target) without the extra ablation.
        mode: ``zero`` or ``mean``.
        layers: the layers ranked.
        variant: the variant the ranking was made on (``{}``: the model).
        token_ids: the prompt's token ids.
    """

    effect: np.ndarray
    kl: np.ndarray
    target: int
    base_logprob: float
    mode: str
    layers: tuple[int, ...]
    variant: dict[str, Any] = field(default_factory=dict)
    token_ids: tuple[int, ...] = ()

    def order(self) -> list[tuple[int, int]]:
        """The ranked (layer, head) pairs, largest drop of log p(target) first."""
        layer, head = np.nonzero(~np.isnan(self.effect))
        values = self.effect[layer, head]
        idx = np.lexsort((head, layer, values))  # ties: by layer, then head
        return [(int(layer[i]), int(head[i])) for i in idx]


def _logprobs(model: Llama, tokens: torch.Tensor) -> torch.Tensor:
    """(B, V) float64 next-token log-probabilities of each batch row."""
    logits = model(tokens, last_only=True)[:, -1]  # (B, V)
    return torch.log_softmax(logits.double(), dim=-1)


def _check(cfg, layers: Sequence[int] | None, mode: str) -> list[int]:
    """The layers to rank (all for None), checked with the mode."""
    if mode not in ABLATION_MODES:
        raise ValueError(f"ablation mode is {mode!r}, expected one of {ABLATION_MODES}")
    chosen = list(range(cfg.n_layers)) if layers is None else sorted(set(layers))
    if not chosen or not all(0 <= i < cfg.n_layers for i in chosen):
        raise ValueError(f"layers {list(chosen)} must be in 0..{cfg.n_layers - 1}")
    return chosen


def _rank_layer(model: Llama, batch, layer: int, mode: str, base, target: int):
    """(H,) Δ log p(target) and (H,) KL of one layer: batch row h ablates head h."""
    n_heads = batch.shape[0]
    with ablated(model, [Target(layer, h, mode, row=h) for h in range(n_heads)]):
        lp = _logprobs(model, batch)  # (H, V)
    effect = (lp[:, target] - base[target]).cpu().numpy()
    return effect, (base.exp() * (base - lp)).sum(-1).cpu().numpy()


def rank_heads(
    model: Llama,
    ids: Sequence[int],
    layers: Sequence[int] | None = None,
    mode: str = "zero",
    target: int | None = None,
    on_layer: Callable[[int, int], None] | None = None,
) -> HeadRanking:
    """Ablate every head of ``layers`` one at a time and measure the next-token change.

    Args:
        model: the Llama (with the current variant's hooks, if any).
        ids: the prompt's token ids.
        layers: the layers to rank (default all).
        mode: ``zero`` or ``mean``.
        target: the token whose log-probability is measured (default the most likely).
        on_layer: called with (layers done, layers in all) after each layer; an exception
            raised there stops the ranking.

    Raises:
        ValueError: an unknown mode, a layer out of range or a target outside the vocabulary.
    """
    cfg = model.config
    chosen = _check(cfg, layers, mode)
    device = model.tok_embeddings.weight.device
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=device)  # (1, T)
    base = _logprobs(model, tokens)[0]  # (V,)
    target = int(base.argmax()) if target is None else int(target)
    if not 0 <= target < base.shape[0]:
        raise ValueError(f"target token {target} is outside the vocabulary 0..{base.shape[0] - 1}")
    effect = np.full((cfg.n_layers, cfg.n_heads), np.nan)
    kl = np.full((cfg.n_layers, cfg.n_heads), np.nan)
    batch = tokens.expand(cfg.n_heads, -1)  # (H, T): row h ablates head h
    for done, layer in enumerate(chosen, 1):
        effect[layer], kl[layer] = _rank_layer(model, batch, layer, mode, base, target)
        if on_layer is not None:
            on_layer(done, len(chosen))
    return HeadRanking(
        effect,
        kl,
        target,
        float(base[target]),
        mode,
        tuple(chosen),
        token_ids=tuple(int(i) for i in ids),
    )
