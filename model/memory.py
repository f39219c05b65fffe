"""What a model needs in memory, what the machine has free, and a clear refusal before
an out-of-memory kill.

The estimate comes from the checkpoint's shapes and dtypes, before any weight is read:
the weights in the dtype they will be kept in, the largest matrix upcast at a time for
the compute dtype, and the working memory of a forward pass over a context of
``tokens`` (KV cache, activations, the float32 attention of one layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from llamalens.model.config import LlamaConfig
from llamalens.model.device import dtype_name, weight_dtype
from llamalens.model.stored import Weight

GIB = 2**30
RESERVE = 0.5 * GIB  # Python, torch, Qt and the tokenizer besides the model


@dataclass(frozen=True)
class MemoryNeed:
    """Bytes a model needs, by part.

    Attributes:
        weights: the weights as kept (stored dtype, or the compute dtype when narrower).
        upcast: the largest single matrix converted to the compute dtype at a time.
        working: KV cache and activations of one forward pass over ``tokens`` positions.
        tokens: the context the working memory was estimated for.
    """

    weights: int
    upcast: int
    working: int
    tokens: int

    @property
    def total(self) -> int:
        return self.weights + self.upcast + self.working + int(RESERVE)


def estimate(
    tensors: Mapping[str, Weight], cfg: LlamaConfig, compute: torch.dtype, tokens: int = 2048
) -> MemoryNeed:
    """The memory a model of these tensors needs for ``compute`` over ``tokens`` positions."""
    seen: set[int] = set()
    weights = upcast = 0
    for name, t in tensors.items():
        if name == "rope_freqs" or id(t) in seen:
            continue
        seen.add(id(t))  # a tied embedding counts once
        kept = weight_dtype(t.dtype, compute)
        weights += t.numel() * kept.itemsize
        if kept != compute:
            upcast = max(upcast, t.numel() * compute.itemsize)
    return MemoryNeed(weights, upcast, working_bytes(cfg, compute, tokens), tokens)


def working_bytes(cfg: LlamaConfig, compute: torch.dtype, tokens: int) -> int:
    """KV cache, one block's activations and one layer's float32 attention over ``tokens``."""
    t, size = tokens, compute.itemsize
    kv_cache = 2 * cfg.n_layers * t * cfg.n_kv_heads * cfg.head_dim * size
    block = t * (4 * cfg.dim + 3 * cfg.hidden_dim + 2 * cfg.n_heads * cfg.head_dim) * size
    attention = t * cfg.n_heads * cfg.head_dim * 4 * 4  # float32 q, k, v, out (SDPA)
    logits = cfg.vocab_size * 4
    return kv_cache + block + attention + logits


def available_bytes(device: torch.device) -> int:
    """Memory free for a new model on ``device`` (the OS's available memory on the CPU)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def check_fits(
    need: MemoryNeed, free: int, device: torch.device, compute: torch.dtype
) -> str | None:
    """None when the model fits, else one sentence: what it needs, what is free, what to do."""
    if need.total <= free:
        return None
    advice = []
    if compute == torch.float32 and need.upcast == 0 and need.weights > 0:
        advice.append("--dtype bf16 keeps the weights in half the memory")
    advice.append(
        f"--max-memory {device.type if device.type != 'cuda' else 'cuda:0'}=<size> with "
        "--offload-dir DIR puts what does not fit on disk"
    )
    return (
        f"the model needs about {gib(need.total)} ({gib(need.weights)} of weights, "
        f"{gib(need.upcast + need.working)} to compute {dtype_name(compute)} over "
        f"{need.tokens} tokens) but only {gib(free)} is free on {device}; " + "; ".join(advice)
    )
