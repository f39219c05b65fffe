"""Context extension: how each scaling method changes RoPE's frequencies θ_i.

Every method maps the plain frequencies θ_i = base^(-2i/d) of the rotated width d to
new ones (and YaRN also scales q and k). The same functions serve a checkpoint's own
``rope_scaling`` (Llama 3.1, or a linear / YaRN entry in a Hugging Face config.json) and
a what-if variant of the loaded model.

- linear (position interpolation, Chen et al. 2023): θ_i / s — position m looks like m/s.
- NTK-aware (bloc97, 2023): the base becomes base·s^(d/(d−2)), so the highest frequency
  is kept and the lowest is divided by s.
- YaRN (Peng et al. 2023): per pair, interpolate (θ_i / s) where a wavelength is long
  compared with the original context, extrapolate (θ_i) where it is short, ramp linearly
  between β_fast and β_slow rotations; attention temperature 0.1·ln(s) + 1 on q and k.
- Llama 3.1: like YaRN's parts, with a ramp in wavelength between
  ``original_max_position / high_freq_factor`` and ``/ low_freq_factor``.
"""

from __future__ import annotations

import math

import torch

from llamalens.model.config import RopeScaling


def scaled_base(theta: float, scaling: RopeScaling | None, dim: int) -> float:
    """The RoPE base after NTK-aware scaling (unchanged for every other method).

    Args:
        theta: the base.
        scaling: the method, or None.
        dim: the rotated width d (even, > 2 for NTK).
    """
    if scaling is None or scaling.rope_type != "ntk":
        return theta
    if dim <= 2:
        raise ValueError(f"NTK-aware scaling needs a rotated width above 2, got {dim}")
    return theta * scaling.factor ** (dim / (dim - 2))


def scale_frequencies(
    freqs: torch.Tensor, scaling: RopeScaling, dim: int, base: float
) -> torch.Tensor:
    """θ_i after ``scaling``.

    Args:
        freqs: (d/2,) float64 θ_i of the base (already NTK-scaled for ``ntk``).
        scaling: the method and its parameters.
        dim: the rotated width d.
        base: the base the θ_i were computed from.

    Returns:
        (d/2,) float64.
    """
    kind = scaling.rope_type
    if kind == "linear":
        return freqs / scaling.factor
    if kind == "ntk":
        return freqs  # the base was scaled already
    if kind == "yarn":
        return _yarn(freqs, scaling, dim, base)
    if kind == "llama3":
        return _llama3(freqs, scaling)
    raise ValueError(f"rope scaling type is {kind!r}, expected linear, ntk, yarn or llama3")


def attention_factor(scaling: RopeScaling | None) -> float:
    """How much RoPE scales q and k (so scores by its square): YaRN's temperature, else 1."""
    if scaling is None or scaling.rope_type != "yarn":
        return 1.0
    if scaling.attention_factor is not None:
        return float(scaling.attention_factor)
    return yarn_mscale(scaling.factor)


def yarn_mscale(factor: float, mscale: float = 1.0) -> float:
    """YaRN's attention temperature 0.1·mscale·ln(s) + 1 (1 for s <= 1)."""
    return 1.0 if factor <= 1 else 0.1 * mscale * math.log(factor) + 1.0


def _yarn(freqs: torch.Tensor, s: RopeScaling, dim: int, base: float) -> torch.Tensor:
    """NTK-by-parts: interpolate long wavelengths, keep short ones, ramp between."""

    def pair_of(rotations: float) -> float:
        # the (fractional) pair index whose wavelength fits `rotations` turns in the context
        return (
            dim
            * math.log(s.original_max_position / (rotations * 2 * math.pi))
            / (2 * math.log(base))
        )

    low, high = pair_of(s.beta_fast), pair_of(s.beta_slow)
    if s.truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # the paper's guard against a zero-width ramp
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    return freqs / s.factor * ramp + freqs * (1 - ramp)


def _llama3(freqs: torch.Tensor, s: RopeScaling) -> torch.Tensor:
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
