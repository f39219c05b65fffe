"""Device and precision choice: CUDA → MPS → CPU; compute dtype auto, fp32, bf16 or fp16.

Weights stay in the dtype they are stored in; the compute dtype is the dtype of the
activations. ``auto`` is float32, the exact choice, on every device: with weights kept
as stored it costs one layer's upcast at a time, not a float32 copy of the model.
"""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DTYPE_CHOICES = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


def pick_device(name: str | None = None) -> torch.device:
    """The device to run on.

    Args:
        name: ``None``/``"auto"`` for the best available, or ``"cpu"``, ``"cuda"``,
            ``"cuda:1"``, ``"mps"``.

    Raises:
        ValueError: the named device is unknown or not available here.
    """
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}; expected one of {DEVICE_CHOICES}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError("device 'mps' was asked for, but MPS is not available")
    return device


def pick_dtype(name: str | None = None) -> torch.dtype:
    """The compute dtype for ``--dtype`` (None or ``auto``: float32).

    Raises:
        ValueError: the name is not one of DTYPE_CHOICES.
    """
    if name in (None, "", "auto"):
        return torch.float32
    if name not in DTYPES:
        raise ValueError(f"--dtype is {name!r}, expected one of {', '.join(DTYPE_CHOICES)}")
    return DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    """``fp32``, ``bf16``, ``fp16`` (or torch's own name for another dtype)."""
    return DTYPE_NAMES.get(dtype, str(dtype).removeprefix("torch."))


def weight_dtype(stored: torch.dtype, compute: torch.dtype) -> torch.dtype:
    """The dtype a weight is kept in: as stored, unless stored wider than the compute dtype
    (a float32 weight under bf16 compute is kept in bf16, which is what the user chose)."""
    if stored.is_floating_point and stored.itemsize > compute.itemsize:
        return compute
    return stored
