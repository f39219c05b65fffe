"""Device and dtype choice: CUDA → MPS → CPU; fp32 on CPU, bf16 on GPUs."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


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


def default_dtype(device: torch.device) -> torch.dtype:
    """fp32 on the CPU (exact comparisons, no slow bf16 kernels), bf16 on accelerators."""
    return torch.float32 if device.type == "cpu" else torch.bfloat16


DTYPE_CHOICES = {
    "auto": None,
    "fp32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
}


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """A compute dtype from ``auto`` (None), ``fp32``, ``bf16``, ``fp16`` or a torch dtype.

    Raises:
        ValueError: any other name.
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    key = str(dtype).lower().removeprefix("torch.")
    if key not in DTYPE_CHOICES:
        raise ValueError(f"dtype is {dtype!r}, expected auto, fp32, bf16 or fp16")
    return DTYPE_CHOICES[key]
