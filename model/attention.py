"""Causal self-attention's one rule: the mask and q, k → scores → masked → probabilities.

Everything that shows or measures attention goes through this module: the forward
pass's explicit path (each stage through a tap), the Trace's rebuild of any
(layer, head) map, and the head statistics. The causal mask is built once per forward
pass by :func:`causal_mask` and handed down; the viewer receives it explicitly
(:func:`stage_mask`), so nothing downstream works a mask back out of ``-inf`` values or
zeros.

The arithmetic runs in float32 whatever the model's compute dtype: what a panel draws is
then exactly what the forward pass multiplied V by.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

STAGES = ("scores", "masked", "probs")
STAGE_LABELS = {"scores": "raw QKᵀ/√d", "masked": "masked", "probs": "softmax"}


def check_stage(stage: str) -> None:
    """Raise ValueError unless ``stage`` is one of :data:`STAGES`."""
    if stage not in STAGES:
        raise ValueError(f"stage is {stage!r}, expected one of {', '.join(STAGES)}")


def causal_mask(
    n_queries: int, start_pos: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """Which keys each query may see.

    Args:
        n_queries: T, the queries of this call (positions start_pos .. start_pos+T-1).
        start_pos: position of the first query; keys 0 .. start_pos+T-1 exist.
        device: where to build it.

    Returns:
        (T, start_pos + T) bool, True where query i may attend key j (j <= start_pos + i).
    """
    rows = torch.arange(start_pos, start_pos + n_queries, device=device)[:, None]  # (T, 1)
    cols = torch.arange(start_pos + n_queries, device=device)[None, :]  # (1, S)
    return cols <= rows  # (T, S)


def attention_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Raw scores QKᵀ/√hd in float32.

    Args:
        q: (..., T, hd) queries after RoPE.
        k: (..., S, hd) keys after RoPE (already repeated for GQA).

    Returns:
        (..., T, S) float32.
    """
    return q.float() @ k.float().transpose(-2, -1) / math.sqrt(q.shape[-1])


def masked_scores(scores: torch.Tensor, visible: torch.Tensor | None) -> torch.Tensor:
    """Scores with -inf where a query would see a future key.

    Args:
        scores: (..., T, S) float32.
        visible: (T, S) bool from :func:`causal_mask`, or None when every key is visible.
    """
    if visible is None:
        return scores
    return scores.masked_fill(~visible, float("-inf"))


def attention_probs(masked: torch.Tensor) -> torch.Tensor:
    """Softmax over keys of the masked scores (float32); rows sum to 1, masked cells are 0."""
    return F.softmax(masked, dim=-1)


def attention_stage(
    q: torch.Tensor, k: torch.Tensor, visible: torch.Tensor | None, stage: str
) -> torch.Tensor:
    """One stage of attention (what the forward's taps saw), computed as the forward does.

    Args:
        q: (..., T, hd) queries after RoPE.
        k: (..., S, hd) keys after RoPE.
        visible: (T, S) bool mask, or None (all visible).
        stage: ``scores``, ``masked`` or ``probs``.

    Returns:
        (..., T, S) float32.
    """
    check_stage(stage)
    out = attention_scores(q, k)
    if stage == "scores":
        return out
    out = masked_scores(out, visible)
    return out if stage == "masked" else attention_probs(out)


def stage_mask(n_tokens: int, stage: str) -> np.ndarray | None:
    """The cells a viewer must draw as masked for a (T, T) map of ``stage``.

    Returns:
        None for raw scores (nothing is masked yet), else (T, T) bool, True where the
        causal mask hid the key (read-only).
    """
    check_stage(stage)
    if stage == "scores":
        return None
    return future_keys(n_tokens)


_MASKS: dict[int, np.ndarray] = {}


def future_keys(n_tokens: int) -> np.ndarray:
    """(T, T) bool, True above the diagonal: the future keys :func:`causal_mask` hides.

    The same read-only array is returned for the same T, so a viewer can recognise it.
    """
    hidden = _MASKS.get(n_tokens)
    if hidden is None:
        hidden = (~causal_mask(n_tokens)).numpy()
        hidden.flags.writeable = False
        _MASKS.clear()  # one size at a time: a 8192² mask is 64 MB
        _MASKS[n_tokens] = hidden
    return hidden
