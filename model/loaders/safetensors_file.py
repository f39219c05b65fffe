"""A small, strict reader of the safetensors format (8-byte header length, JSON, data).

The header is read and checked whole before any tensor data is touched: every entry has a
known dtype, a shape of non-negative integers and a byte range whose length is exactly
what dtype and shape need (sizes computed with Python integers, so ``[2^32, 2^32]`` cannot
wrap to 0), and the ranges tile the data section as the format requires: no overlap (no
byte read twice, no alias decoded many times) and no hole (no bytes a relabelled dtype
left unexplained). Tensors are then copied out one at a time and own their memory, so
nothing refers to a file mapping after the file is closed.
"""

from __future__ import annotations

import math
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields, as_integer, parse_json, shown
from llamalens.model.files import open_regular

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


class SafetensorsFile:
    """An open, checked .safetensors file; use as a context manager.

    Attributes:
        path: the file.
        entries: tensor name → :class:`Entry`, from the checked header.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = open_regular(self.path)
        self._map: mmap.mmap | None = None
        try:
            size = os.fstat(self._fh.fileno()).st_size
            self.entries = _read_entries(self.path, self._fh, size)
        except BaseException:
            self._fh.close()
            raise

    def __enter__(self) -> SafetensorsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._fh.close()

    def tensor(self, name: str) -> torch.Tensor:
        """One tensor in its stored dtype, copied out of the file (it owns its memory)."""
        e = self.entries[name]
        if self._map is None:
            self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        np_dtype, torch_dtype = _DTYPES[e.dtype]
        if e.end > len(self._map):
            raise CheckpointError(self.path, f"is truncated: tensor {e.name!r} ends past the file")
        count = math.prod(e.shape)
        array = np.frombuffer(self._map, dtype=np_dtype, count=count, offset=e.begin).copy()
        return torch.from_numpy(array).view(torch_dtype).reshape(e.shape)


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


def read_safetensors_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of one .safetensors file, in its stored dtype, owning its memory."""
    with SafetensorsFile(path) as f:
        return {name: f.tensor(name) for name in f.entries}
