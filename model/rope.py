"""Rotary position embeddings as complex multiplication of adjacent pairs.

A head vector x of width hd is read as hd/2 complex numbers
z_i = x[2i] + j·x[2i+1]; position m rotates z_i by the angle m·θ_i with
θ_i = base^(-2i/hd). This is Meta's convention (and the seeds'); Hugging Face
checkpoints store q/k rows permuted into two halves, which the HF loader undoes.
"""

from __future__ import annotations

import torch

from llamalens.model.config import RopeScaling
from llamalens.model.rope_scaling import scale_frequencies, scaled_base


def rotary_dim(head_dim: int, rotary_fraction: float = 1.0) -> int:
    """The width d that RoPE rotates: ``int(head_dim · rotary_fraction)`` (Hugging Face's rule).

    Raises:
        ValueError: the fraction is outside (0, 1] or leaves an odd or empty width.
    """
    dim = int(head_dim * rotary_fraction)
    if not (0 < rotary_fraction <= 1 and dim >= 2 and dim % 2 == 0):
        raise ValueError(
            f"rotary fraction {rotary_fraction} of head_dim {head_dim} rotates {dim} "
            "dimensions; expected an even number >= 2"
        )
    return dim


def rope_frequencies(
    head_dim: int,
    theta: float,
    scaling: RopeScaling | None = None,
    divisors: torch.Tensor | None = None,
    rotary_fraction: float = 1.0,
) -> torch.Tensor:
    """The per-pair angular frequencies θ_i.

    Args:
        head_dim: per-head width hd (even).
        theta: the RoPE base.
        scaling: optional context-extension scaling (:mod:`~llamalens.model.rope_scaling`).
        divisors: optional (hd/2,) factors that divide θ_i (GGUF ``rope_freqs``).
        rotary_fraction: the share of the head that rotates; its first d = hd·fraction
            dimensions get θ_i = base^(-2i/d), the remaining pairs θ_i = 0 (no rotation).

    Returns:
        (hd/2,) float64 tensor θ_i.
    """
    dim = rotary_dim(head_dim, rotary_fraction)
    base = scaled_base(theta, scaling, dim)
    exponents = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    freqs = 1.0 / (base**exponents)  # (d/2,)
    if scaling is not None:
        freqs = scale_frequencies(freqs, scaling, dim, base)
    if divisors is not None:
        freqs = freqs / divisors.to(torch.float64)[: dim // 2]
    return torch.cat([freqs, torch.zeros(head_dim // 2 - dim // 2, dtype=torch.float64)])


def precompute_freqs_cis(
    freqs: torch.Tensor, length: int, start: int = 0, magnitude: float = 1.0
) -> torch.Tensor:
    """Complex numbers a·e^{j·m·θ_i} for positions m in [start, start+length).

    Args:
        freqs: (hd/2,) θ_i from :func:`rope_frequencies`.
        length: number of positions.
        start: first position.
        magnitude: a, 1 except for YaRN's attention temperature
            (:func:`~llamalens.model.rope_scaling.attention_factor`).

    Returns:
        (length, hd/2) complex64.
    """
    m = torch.arange(start, start + length, dtype=torch.float64)
    angles = torch.outer(m, freqs.to(torch.float64))  # (T, hd/2) m·θ_i
    # float32 angles, like the reference implementations, so results match bit for bit
    angles = angles.to(torch.float32)
    return torch.polar(torch.full_like(angles, magnitude), angles)  # (T, hd/2)


def apply_rotary_emb(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """Rotate each adjacent pair of x by its position's angle.

    Args:
        x: (B, T, H, hd) real.
        freqs_cis: (T, hd/2) complex.

    Returns:
        (B, T, H, hd), same dtype as x.
    """
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))  # (B, T, H, hd/2)
    rotated = pairs * freqs_cis[None, :, None, :]  # broadcast over batch and heads
    return torch.view_as_real(rotated).flatten(-2).type_as(x)  # (B, T, H, hd)
