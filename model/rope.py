"""Rotary position embeddings as complex multiplication of adjacent pairs.

A head vector x of width hd is read as hd/2 complex numbers
z_i = x[2i] + j·x[2i+1]; position m rotates z_i by the angle m·θ_i with
θ_i = base^(-2i/hd). This is Meta's convention (and the seeds'); Hugging Face
checkpoints store q/k rows permuted into two halves, which the HF loader undoes.
"""

from __future__ import annotations

import math

import torch

from llamalens.model.config import RopeScaling


def rope_frequencies(
    head_dim: int,
    theta: float,
    scaling: RopeScaling | None = None,
    divisors: torch.Tensor | None = None,
) -> torch.Tensor:
    """The per-pair angular frequencies θ_i.

    Args:
        head_dim: per-head width hd (even).
        theta: the RoPE base.
        scaling: optional Llama 3.1 scaling.
        divisors: optional (hd/2,) factors that divide θ_i (GGUF ``rope_freqs``).

    Returns:
        (hd/2,) float64 tensor θ_i.
    """
    exponents = torch.arange(0, head_dim, 2, dtype=torch.float64)[: head_dim // 2] / head_dim
    freqs = 1.0 / (theta**exponents)  # (hd/2,)
    if scaling is not None:
        freqs = _llama3_scale(freqs, scaling)
    if divisors is not None:
        freqs = freqs / divisors.to(torch.float64)
    return freqs


def _llama3_scale(freqs: torch.Tensor, s: RopeScaling) -> torch.Tensor:
    """Llama 3.1: slow down low frequencies by ``factor``, keep high ones, blend between."""
    low_wavelen = s.original_max_position / s.low_freq_factor
    high_wavelen = s.original_max_position / s.high_freq_factor
    wavelen = 2 * math.pi / freqs
    smooth = (s.original_max_position / wavelen - s.low_freq_factor) / (
        s.high_freq_factor - s.low_freq_factor
    )
    blended = (1 - smooth) * freqs / s.factor + smooth * freqs
    out = torch.where(wavelen > low_wavelen, freqs / s.factor, freqs)
    middle = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(middle, blended, out)


def precompute_freqs_cis(freqs: torch.Tensor, length: int, start: int = 0) -> torch.Tensor:
    """Unit complex numbers e^{j·m·θ_i} for positions m in [start, start+length).

    Args:
        freqs: (hd/2,) θ_i from :func:`rope_frequencies`.
        length: number of positions.
        start: first position.

    Returns:
        (length, hd/2) complex64.
    """
    m = torch.arange(start, start + length, dtype=torch.float64)
    angles = torch.outer(m, freqs.to(torch.float64))  # (T, hd/2) m·θ_i
    # float32 angles, like the reference implementations, so results match bit for bit
    angles = angles.to(torch.float32)
    return torch.polar(torch.ones_like(angles), angles)  # (T, hd/2)


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
