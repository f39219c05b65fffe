"""Checkpoint tensors that are not in memory yet, and the one way to bring them in.

A loader may hand out a :class:`StoredTensor` instead of a ``torch.Tensor``: its shape
and the dtype it will become are known from the file's header, so the config can be
checked and the memory a model needs estimated before a single weight is read. The
model is then built one tensor at a time (:func:`materialize`), so the peak is the
model plus one tensor, never two copies of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import prod

import torch


@dataclass(frozen=True)
class StoredTensor:
    """A tensor described by its file, read on demand.

    Attributes:
        shape: PyTorch-order shape.
        dtype: the floating dtype :meth:`materialize` returns.
        stored: how the file stores it (``bf16``, ``Q4_K`` ...), for display.
        read: returns the tensor (dequantized when the file stores it quantized).
    """

    shape: tuple[int, ...]
    dtype: torch.dtype
    stored: str
    read: Callable[[], torch.Tensor]

    def numel(self) -> int:
        return int(prod(self.shape))

    def materialize(self) -> torch.Tensor:
        out = self.read()
        if tuple(out.shape) != self.shape or out.dtype != self.dtype:
            raise ValueError(
                f"a stored tensor read as {tuple(out.shape)} {out.dtype}, its header says "
                f"{self.shape} {self.dtype}"
            )
        return out


Weight = torch.Tensor | StoredTensor


def derived(weight: Weight, fn: Callable[[torch.Tensor], torch.Tensor]) -> StoredTensor:
    """``fn`` of ``weight``, applied when it is read (``fn`` keeps the shape and dtype)."""
    return StoredTensor(
        tuple(weight.shape), weight.dtype, stored_name(weight), lambda: fn(materialize(weight))
    )


def materialize(weight: Weight) -> torch.Tensor:
    """The tensor itself (in memory or memory-mapped)."""
    return weight.materialize() if isinstance(weight, StoredTensor) else weight


def stored_name(weight: Weight) -> str:
    """How a weight is stored: ``Q4_K`` for a quantized GGUF tensor, else ``bf16`` etc."""
    if isinstance(weight, StoredTensor):
        return weight.stored
    from llamalens.model.device import dtype_name

    return dtype_name(weight.dtype)


def describe_storage(weights: Iterable[Weight]) -> str:
    """How a model's matrices are stored, the most common type first (``Q4_K+Q6_K``).

    Norm vectors are left out: files keep them in float32 whatever the matrices are.
    """
    counts: dict[str, int] = {}
    for w in weights:
        if len(w.shape) >= 2:
            counts[stored_name(w)] = counts.get(stored_name(w), 0) + w.numel()
    ranked = sorted(counts, key=lambda k: -counts[k])
    return "+".join(ranked[:2]) + ("+…" if len(ranked) > 2 else "") or "none"
