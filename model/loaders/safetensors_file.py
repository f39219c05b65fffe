"""A small, strict reader of the safetensors format (8-byte header length, JSON, data).

Reading the file ourselves gives precise error messages for truncated or corrupt
files and hands back tensors that own their memory (a copy out of a read-only map),
so nothing refers to a file mapping after the file is closed.
"""

from __future__ import annotations

import json
import mmap
import struct
import warnings
from pathlib import Path

import numpy as np
import torch

from llamalens.model.errors import CheckpointError
from llamalens.model.stored import StoredTensor

MAX_HEADER = 100 * 2**20
_DTYPES = {  # safetensors dtype → (numpy dtype to read the bytes, torch dtype they are)
    "F64": (np.float64, torch.float64),
    "F32": (np.float32, torch.float32),
    "F16": (np.float16, torch.float16),
    "BF16": (np.uint16, torch.bfloat16),
    "I64": (np.int64, torch.int64),
    "I32": (np.int32, torch.int32),
    "I16": (np.int16, torch.int16),
    "I8": (np.int8, torch.int8),
    "U8": (np.uint8, torch.uint8),
    "BOOL": (np.bool_, torch.bool),
}


def read_header(path: Path, data: bytes | mmap.mmap) -> tuple[dict, int]:
    """The JSON header (tensor name → dtype, shape, data_offsets) and where the data starts."""
    if len(data) < 8:
        raise CheckpointError(
            path, f"is truncated: {len(data)} bytes, too short for a safetensors header"
        )
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > min(MAX_HEADER, len(data) - 8):
        raise CheckpointError(
            path,
            f"is truncated or corrupt: header length {n} does not fit the file's {len(data)} bytes",
        )
    try:
        header = json.loads(bytes(data[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(path, f"is corrupt: its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(path, "is corrupt: its header is not a JSON object")
    header.pop("__metadata__", None)
    return header, 8 + n


def _tensor(path: Path, name: str, info, data, start: int) -> StoredTensor:
    try:
        kind, shape = info["dtype"], [int(d) for d in info["shape"]]
        begin, end = (int(x) for x in info["data_offsets"])
    except (TypeError, KeyError, ValueError) as exc:
        raise CheckpointError(path, f"tensor {name!r} has a malformed header entry") from exc
    if kind not in _DTYPES:
        raise CheckpointError(
            path, f"tensor {name!r} has dtype {kind}; supported are {', '.join(_DTYPES)}"
        )
    np_dtype, torch_dtype = _DTYPES[kind]
    count = int(np.prod(shape)) if shape else 1
    if end - begin != count * np.dtype(np_dtype).itemsize or begin < 0 or start + end > len(data):
        raise CheckpointError(
            path,
            f"is truncated or corrupt: tensor {name!r} needs bytes "
            f"{begin}..{end} of the data, the file has "
            f"{len(data) - start}",
        )

    def read() -> torch.Tensor:  # a view of the read-only map: no copy of the weights
        array = np.frombuffer(data, dtype=np_dtype, count=count, offset=start + begin)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch notes the map is read-only
            return torch.from_numpy(array).view(torch_dtype).reshape(shape)

    return StoredTensor(tuple(shape), torch_dtype, kind.lower(), read)


def read_safetensors_file(path: str | Path) -> dict[str, StoredTensor]:
    """Every tensor of one .safetensors file, in its stored dtype, memory-mapped.

    The header is checked now; each tensor is a view of a read-only map of the file,
    made when it is read (the map lives as long as any tensor of it).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = path.stat().st_size
            if size == 0:
                raise CheckpointError(path, "is empty (0 bytes)")
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            header, start = read_header(path, data)
            return {name: _tensor(path, name, info, data, start) for name, info in header.items()}
    except OSError as exc:
        raise CheckpointError(path, f"cannot be read ({exc.strerror or exc})") from exc
