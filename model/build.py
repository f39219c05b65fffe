"""From a checkpoint to a :class:`Llama` on a device, the weights as stored, never twice.

The module is created on the meta device (no memory), then each checkpoint tensor is
read (memory-mapped files stay mapped; a quantized GGUF tensor is dequantized), given
to the module and dropped from the checkpoint, one at a time. Weights keep their stored
dtype unless the compute dtype is narrower (float32 weights under bf16 compute).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.device import weight_dtype
from llamalens.model.llama import Llama
from llamalens.model.stored import materialize

Progress = Callable[[float, str], None]


def take_weights(
    ckpt: Checkpoint, device: torch.device, compute: torch.dtype, progress: Progress | None = None
) -> dict[str, torch.Tensor]:
    """Every weight of the checkpoint on ``device`` in its kept dtype, emptying the checkpoint.

    ``rope_freqs`` stays in the checkpoint (it is not a parameter). ``progress`` hears of
    each tensor (an exception raised there stops the build).
    """
    state: dict[str, torch.Tensor] = {}
    names = [n for n in ckpt.tensors if n != "rope_freqs"]
    for i, name in enumerate(names):
        if progress is not None:
            progress(i / len(names), f"Reading {name}")
        t = materialize(ckpt.tensors.pop(name))
        state[name] = t.to(device=device, dtype=weight_dtype(t.dtype, compute))
    if ckpt.config.tie_embeddings:
        state["output.weight"] = state["tok_embeddings.weight"]
    return state


def empty_model(ckpt: Checkpoint, device: torch.device, compute: torch.dtype) -> Llama:
    """The module without weights (meta device), set to compute ``compute`` on ``device``."""
    with torch.device("meta"):
        model = Llama(ckpt.config)
    model.compute_dtype, model.main_device = compute, device
    divisors = ckpt.tensors.pop("rope_freqs", None)
    model.rope_divisors = None if divisors is None else materialize(divisors).to(device)
    return model


def finish(model: Llama, ckpt: Checkpoint) -> Llama:
    """Tie the output to the embedding if the config says so; fuse gate and up when that
    costs no extra memory (float32 weights held in memory, float32 compute)."""
    if ckpt.config.tie_embeddings:
        model.output.weight = model.tok_embeddings.weight
    if model.compute_dtype == torch.float32 and not ckpt.mapped:
        for layer in model.layers:
            ffn = layer.feed_forward
            if ffn.w1.weight.dtype == torch.float32 and ffn.w1.weight.device.type != "meta":
                ffn.fuse()  # one GEMM for gate and up: ~10% faster on CPU
    return model.eval()


def build_model(
    ckpt: Checkpoint,
    device: torch.device | str = "cpu",
    compute: torch.dtype = torch.float32,
    progress: Progress | None = None,
) -> Llama:
    """Instantiate :class:`Llama` from a checkpoint on one device.

    The checkpoint's tensors are moved into the module (``ckpt.tensors`` is left empty).
    """
    device = torch.device(device)
    model = empty_model(ckpt, device, compute)
    state = take_weights(ckpt, device, compute, progress)
    model.load_state_dict(state, strict=True, assign=True)
    return finish(model, ckpt)
