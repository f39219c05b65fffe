"""A small, strict reader of the safetensors format (8-byte header length, JSON, data).

The header is read and checked whole before any tensor data is touched: every entry has a
known dtype, a shape of non-negative integers and a byte range whose length is exactly
what dtype and shape need (sizes computed with Python integers, so ``[2^32, 2^32]`` cannot
wrap to 0), and the ranges tile the data section as the format requires: no overlap (no
byte read twice, no alias decoded many times) and no hole (no bytes a relabelled dtype
left unexplained). Tensors are handed out as :class:`StoredTensor` views of a read-only
map of the file, read when the model is built.
"""

from __future__ import annotations

import math
import mmap
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields, as_integer, parse_json, shown
from llamalens.model.files import open_regular
from llamalens.model.stored import StoredTensor

MAX_HEADER = 16 * 2**20  # real headers are a few hundred kB; this bounds the JSON we parse
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


@dataclass(frozen=True)
class Entry:
    """One tensor of the header: its dtype, shape and absolute byte range in the file."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def read_safetensors_file(path: str | Path) -> dict[str, StoredTensor]:
    """Every tensor of one .safetensors file, in its stored dtype, memory-mapped.

    The header is checked now (see the module docstring); each tensor is a view of a
    read-only map of the file, made when it is read (the map lives as long as any tensor).
    """
    path = Path(path)
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise CheckpointError(path, "is empty (0 bytes)")
        entries = _read_entries(path, fh, size)
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise CheckpointError(path, f"cannot be mapped ({exc})") from exc
    return {name: _stored(data, e) for name, e in entries.items()}


def _stored(data: mmap.mmap, e: Entry) -> StoredTensor:
    np_dtype, torch_dtype = _DTYPES[e.dtype]
    count = math.prod(e.shape)

    def read() -> torch.Tensor:  # a view of the read-only map: no copy of the weights
        array = np.frombuffer(data, dtype=np_dtype, count=count, offset=e.begin)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch notes the map is read-only
            return torch.from_numpy(array).view(torch_dtype).reshape(e.shape)

    return StoredTensor(e.shape, torch_dtype, e.dtype.lower(), read)


def _read_entries(path: Path, fh, size: int) -> dict[str, Entry]:
    if size < 8:
        raise CheckpointError(
            path, f"is truncated: {size} bytes, too short for a safetensors header"
        )
    (n,) = struct.unpack("<Q", fh.read(8))
    if n > min(MAX_HEADER, size - 8):
        raise CheckpointError(
            path,
            f"is truncated or corrupt: header length {n:,} does not fit the file's "
            f"{size:,} bytes (at most {MAX_HEADER:,})",
        )
    header = parse_json(fh.read(n), path, "a safetensors header object", part="its header")
    fields = Fields(header, path, what="a safetensors header object", part="header")
    start = 8 + n
    entries = {name: _entry(fields, name, start) for name in header if name != "__metadata__"}
    _check_tiling(path, entries, start, size)
    return entries


def _entry(fields: Fields, name: str, start: int) -> Entry:
    info = fields.obj(name)
    dtype = info.string("dtype", max_len=16)
    if dtype not in _DTYPES:
        raise info.fail("dtype", dtype, "one of " + ", ".join(_DTYPES))
    shape_value = info.raw("shape")
    dims = [as_integer(d) for d in shape_value] if isinstance(shape_value, list) else None
    if dims is None or len(dims) > 8 or any(d is None or d < 0 for d in dims):
        raise info.fail("shape", shape_value, "a list of at most 8 non-negative integers")
    offsets = info.raw("data_offsets")
    pair = [as_integer(o) for o in offsets] if isinstance(offsets, list) else []
    if len(pair) != 2 or None in pair or not 0 <= pair[0] <= pair[1]:
        raise info.fail("data_offsets", offsets, "[begin, end] with 0 <= begin <= end")
    need = math.prod(dims) * np.dtype(_DTYPES[dtype][0]).itemsize
    if pair[1] - pair[0] != need:
        raise fields.error(
            fields.path,
            f"tensor {name!r} ({dtype}, shape {tuple(dims)}) needs {need:,} bytes but its "
            f"data_offsets {shown(offsets)} span {pair[1] - pair[0]:,} (dtype and size disagree)",
        )
    return Entry(name, dtype, tuple(dims), start + pair[0], start + pair[1])


def _check_tiling(path: Path, entries: dict[str, Entry], start: int, size: int) -> None:
    """The byte ranges must cover the data section exactly, one after another."""
    end, previous = start, None
    for e in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if e.begin < end:
            raise CheckpointError(
                path,
                f"tensor {e.name!r} (bytes {e.begin - start}..{e.end - start}) overlaps "
                f"tensor {previous!r}: aliased data would be read twice",
            )
        if e.begin > end:
            raise CheckpointError(
                path,
                f"{e.begin - end:,} bytes before tensor {e.name!r} belong to no tensor "
                "(a hole in the data: a dtype that does not match its bytes?)",
            )
        end, previous = e.end, e.name
    if end > size:
        raise CheckpointError(
            path,
            f"is truncated: tensor {previous!r} needs bytes up to {end - start:,} of the "
            f"data, the file has {size - start:,}",
        )
    if end < size:
        raise CheckpointError(
            path, f"has {size - end:,} bytes after the last tensor that belong to no tensor"
        )
