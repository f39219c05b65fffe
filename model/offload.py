"""Past one device: Hugging Face accelerate's big-model inference spreads the blocks over
GPUs, CPU and disk.

The module is created without weights, accelerate's ``infer_auto_device_map`` places
whole transformer blocks under a ``max_memory`` budget, and the weights go one tensor at
a time to their device — or, for blocks placed on ``disk``, into accelerate's offload
folder — before ``dispatch_model`` hooks every block to its device. Captures still work:
the taps fire inside each block and the Trace is gathered on the CPU.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from llamalens.model.build import empty_model, finish
from llamalens.model.checkpoint import Checkpoint
from llamalens.model.device import weight_dtype
from llamalens.model.llama import Llama
from llamalens.model.stored import materialize

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def parse_max_memory(spec: str) -> dict[int | str, int]:
    """``"cuda:0=20GiB,cpu=30GiB"`` → {0: 21474836480, "cpu": 32212254720} for accelerate.

    Raises:
        ValueError: a part is not ``DEVICE=SIZE`` with DEVICE cpu, mps or cuda:N.
    """
    out: dict[int | str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, size = part.partition("=")
        match = _SIZE.match(size)
        if not sep or not match:
            raise ValueError(
                f"--max-memory part {part!r}: expected DEVICE=SIZE, e.g. cuda:0=20GiB,cpu=30GiB"
            )
        amount = int(float(match.group(1)) * _UNITS[(match.group(2) or "B").lower()])
        name = name.strip().lower()
        if name.startswith("cuda"):
            index = name.partition(":")[2] or "0"
            if not index.isdigit():
                raise ValueError(f"--max-memory device {name!r}: expected cuda:N")
            out[int(index)] = amount
        elif name in ("cpu", "mps"):
            out[name] = amount
        else:
            raise ValueError(f"--max-memory device {name!r}: expected cpu, mps or cuda:N")
    if not out:
        raise ValueError("--max-memory is empty: expected DEVICE=SIZE, e.g. cpu=30GiB")
    return out


def build_offloaded(
    ckpt: Checkpoint,
    main_device: torch.device,
    compute: torch.dtype,
    max_memory: dict[int | str, int],
    offload_dir: str | Path | None,
) -> Llama:
    """The model spread over ``max_memory``'s devices, blocks beyond them on disk.

    Raises:
        ValueError: blocks land on disk but no ``offload_dir`` was given.
    """
    from accelerate import dispatch_model, infer_auto_device_map
    from accelerate.utils import offload_weight, save_offload_index

    model = empty_model(ckpt, main_device, compute)
    kept = weight_dtype(next(iter(ckpt.tensors.values())).dtype, compute)
    device_map = infer_auto_device_map(
        model, max_memory=max_memory, no_split_module_classes=["TransformerBlock"], dtype=kept
    )
    on_disk = [name for name, where in device_map.items() if where == "disk"]
    if on_disk and offload_dir is None:
        raise ValueError(
            f"{len(on_disk)} parts of the model do not fit the --max-memory budget: give "
            "--offload-dir DIR for them"
        )
    folder = None if offload_dir is None else Path(offload_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    index: dict = {}
    for name in [n for n in ckpt.tensors if n != "rope_freqs"]:
        t = materialize(ckpt.tensors.pop(name))
        t = t.to(dtype=weight_dtype(t.dtype, compute))
        where = _device_of(name, device_map)
        if where == "disk":
            index = offload_weight(t, name, str(folder), index=index)
        else:
            device = torch.device(f"cuda:{where}" if isinstance(where, int) else where)
            _assign(model, name, t.to(device))
    if folder is not None:
        save_offload_index(index, str(folder))
    if ckpt.config.tie_embeddings and "tok_embeddings" not in on_disk:
        model.output.weight = model.tok_embeddings.weight
    model = dispatch_model(
        model, device_map=device_map, main_device=main_device, offload_dir=folder
    )
    model.device_map = device_map
    return finish(model, ckpt)


def _device_of(name: str, device_map: dict[str, int | str]) -> int | str:
    """The device of the deepest device-map entry that contains parameter ``name``."""
    parts = name.split(".")
    for cut in range(len(parts), -1, -1):
        key = ".".join(parts[:cut])
        if key in device_map:
            return device_map[key]
    raise ValueError(f"no device for {name!r} in the device map")


def _assign(model: Llama, name: str, value: torch.Tensor) -> None:
    module_name, _, attr = name.rpartition(".")
    module = model.get_submodule(module_name)
    setattr(module, attr, torch.nn.Parameter(value, requires_grad=False))
