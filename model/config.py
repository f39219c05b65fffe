"""The Llama hyper-parameters, in Meta's naming, validated once at the edge."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

ROPE_TYPES = ("linear", "ntk", "yarn", "llama3")
# Upper bounds of every size a checkpoint, trace or session may declare. The largest
# published Llamas are far below them (405B: dim 16384, 126 layers, 128 heads; vocabularies
# up to 256k tokens); anything above is a corrupt or hostile file, refused before it
# sizes an allocation or a loop.
LIMITS = {
    "dim": 1 << 17,
    "n_layers": 1024,
    "n_heads": 1024,
    "n_kv_heads": 1024,
    "vocab_size": 1 << 22,
    "hidden_dim": 1 << 20,
    "max_seq_len": 1 << 24,
    "head_dim": 4096,
}


@dataclass(frozen=True)
class RopeScaling:
    """How RoPE's frequencies are stretched for a longer context (``rope_type``).

    - ``llama3`` (Llama 3.1): wavelengths longer than ``original_max_position /
      low_freq_factor`` are divided by ``factor``, shorter than ``original_max_position /
      high_freq_factor`` kept, blended smoothly in between.
    - ``linear`` (position interpolation): every θ_i divided by ``factor``.
    - ``ntk`` (NTK-aware): the base becomes θ·factor^(d/(d−2)).
    - ``yarn``: NTK-by-parts between ``beta_fast`` and ``beta_slow`` rotations over
      ``original_max_position``, and q, k scaled by ``attention_factor`` (None:
      0.1·ln(factor) + 1); ``truncate`` rounds the ramp's ends as the paper's code does.

    The formulas are in :mod:`llamalens.model.rope_scaling`.
    """

    factor: float = 8.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_max_position: int = 8192
    rope_type: str = "llama3"
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    attention_factor: float | None = None
    truncate: bool = True

    def problems(self) -> list[str]:
        """Every value that would make the scaled frequencies meaningless, as messages
        with the actual and the expected value."""
        out = []
        if self.rope_type not in ROPE_TYPES:
            out.append(f"rope scaling type is {self.rope_type!r}, expected one of {ROPE_TYPES}")
        numbers = ["factor"]
        if self.rope_type == "llama3":
            numbers += ["low_freq_factor", "high_freq_factor"]
        if self.rope_type == "yarn":
            numbers += ["beta_fast", "beta_slow"]
        for name in numbers:
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (ok and 0 < value < math.inf):
                out.append(f"rope_scaling {name} is {value!r}, expected a finite positive number")
        if out:
            return out
        if self.rope_type == "llama3" and self.high_freq_factor <= self.low_freq_factor:
            out.append(
                f"rope_scaling high_freq_factor ({self.high_freq_factor}) is not above "
                f"low_freq_factor ({self.low_freq_factor})"
            )
        if self.rope_type == "yarn" and not self.beta_fast > self.beta_slow:
            out.append(
                f"YaRN beta_fast ({self.beta_fast}) must exceed beta_slow ({self.beta_slow})"
            )
        n = self.original_max_position
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= LIMITS["max_seq_len"]:
            out.append(
                f"rope_scaling original_max_position is {n!r}, expected an integer in "
                f"1..{LIMITS['max_seq_len']:,}"
            )
        return out


@dataclass(frozen=True)
class LlamaConfig:
    """Shape of a Llama model.

    Attributes:
        dim: model width d.
        n_layers: number of transformer blocks L.
        n_heads: query heads H.
        n_kv_heads: key/value heads (GQA); ``n_heads % n_kv_heads == 0``.
        vocab_size: rows of the embedding and of the output projection.
        hidden_dim: SwiGLU inner width (w1/w3 rows).
        norm_eps: RMSNorm epsilon.
        rope_theta: RoPE base θ.
        rope_scaling: optional scaling of the RoPE frequencies (Llama 3.1, linear, NTK, YaRN).
        rotary_fraction: the share of each head's pairs that RoPE rotates (the first ones;
            the rest pass unrotated); 1 for every Llama, less only as a what-if.
        max_seq_len: longest sequence the RoPE table and KV cache are built for.
        tie_embeddings: the output projection reuses ``tok_embeddings``.
        qkv_bias: q/k/v projections carry a bias (Qwen2).
        head_dim: per-head width; ``dim // n_heads`` unless a checkpoint says otherwise.
    """

    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    hidden_dim: int
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    max_seq_len: int = 8192
    tie_embeddings: bool = False
    qkv_bias: bool = False
    head_dim: int = field(default=0)
    rotary_fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.head_dim == 0 and self.n_heads > 0:
            object.__setattr__(self, "head_dim", self.dim // self.n_heads)

    def problems(self) -> list[str]:
        """Every inconsistency in this config, as messages with actual and expected values."""
        out = []
        for name in (
            "dim",
            "n_layers",
            "n_heads",
            "n_kv_heads",
            "vocab_size",
            "hidden_dim",
            "max_seq_len",
            "head_dim",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                out.append(f"{name} is {value!r}, expected a positive integer")
            elif value > LIMITS[name]:
                out.append(f"{name} is {value:,}, expected at most {LIMITS[name]:,}")
        if out:
            return out
        if self.n_heads % self.n_kv_heads:
            out.append(
                f"n_heads ({self.n_heads}) is not a multiple of n_kv_heads ({self.n_kv_heads})"
            )
        if self.head_dim % 2:
            out.append(f"head_dim is {self.head_dim}, expected an even number for RoPE pairs")
        if not (isinstance(self.rope_theta, (int, float)) and 0 < self.rope_theta < math.inf):
            out.append(f"rope_theta is {self.rope_theta}, expected a finite positive number")
        dims = self.head_dim * self.rotary_fraction
        if not (0 < self.rotary_fraction <= 1 and dims >= 2 and int(dims) % 2 == 0):
            out.append(
                f"rotary_fraction is {self.rotary_fraction}, expected a fraction in (0, 1] "
                f"of head_dim {self.head_dim} that rotates an even number of dimensions"
            )
        if not (isinstance(self.norm_eps, (int, float)) and 0 < self.norm_eps < 1):
            out.append(f"norm_eps is {self.norm_eps}, expected a small positive number")
        if self.rope_scaling is not None:
            out.extend(self.rope_scaling.problems())
        return out

    @property
    def n_rep(self) -> int:
        """How many query heads share one key/value head."""
        return self.n_heads // self.n_kv_heads

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (used by ``llamalens info --json`` and saved traces)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LlamaConfig:
        data = dict(data)
        scaling = data.pop("rope_scaling", None)
        return cls(**data, rope_scaling=RopeScaling(**scaling) if scaling else None)
