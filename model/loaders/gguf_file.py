"""Parse GGUF files (versions 2 and 3, little-endian) into plain metadata and tensor views.

Layout: ``b"GGUF"``, u32 version, u64 tensor_count, u64 kv_count; kv_count x (string
key, u32 value type, value); tensor_count x (string name, u32 n_dims, n_dims x u64 ne,
u32 ggml type, u64 offset); padding to ``general.alignment`` (default 32); tensor data.
A string is a u64 length plus UTF-8 bytes; an array is a u32 item type, a u64 count and
the items. Offsets count from the data section; ``ne`` is fastest-first (``ne0`` = columns).

The header is walked in place with ``struct.unpack_from`` over a read-only memory map,
building only Python values (a 49k-token vocabulary parses in tens of milliseconds).
Every length and count is checked against the bytes left in the file before anything
is allocated or looped over, so a corrupt file fails fast with a CheckpointError instead
of hanging or exhausting memory. Strings decode as UTF-8 with ``errors="replace"``: an
invalid byte becomes U+FFFD rather than failing the whole file.
"""

from __future__ import annotations

import functools
import math
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llamalens.model.errors import CheckpointError
from llamalens.model.files import open_regular
from llamalens.model.loaders.gguf_values import HeaderCursor

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
# Smallest encodings, used to bound counts before looping: a tensor info with no
# dimensions and an empty name, a key/value pair with an empty key and a one-byte value.
_MIN_TENSOR_INFO, _MIN_KV = 8 + 4 + 4 + 8, 8 + 4 + 1
_Entry = tuple[str, tuple[int, ...], int, int]  # name, ggml shape, type id, relative offset


@dataclass(frozen=True)
class TensorInfo:
    """One entry of the tensor table.

    Attributes:
        name: the llama.cpp tensor name (``"blk.0.attn_q.weight"``).
        ggml_shape: dimensions fastest-first, as stored (``ne0`` = columns).
        type_id: the GGML type id as stored.
        type_name: ``gguf.GGMLQuantizationType`` name (``"Q4_1"``), or ``"type_<id>"``
            for an id the installed gguf package does not know.
        n_elements: number of weights.
        offset: absolute file offset of the first data byte.
        nbytes: bytes of data, or None when the type (and so its block size) is unknown.
    """

    name: str
    ggml_shape: tuple[int, ...]
    type_id: int
    type_name: str
    n_elements: int
    offset: int
    nbytes: int | None
    _source: _FileBytes = field(repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """Dimensions in PyTorch order (rows first): ``ggml_shape`` reversed."""
        return tuple(reversed(self.ggml_shape))

    def data(self) -> np.ndarray:
        """The tensor's raw bytes.

        Returns:
            (nbytes,) uint8 view of a read-only ``np.memmap`` of the file.

        Raises:
            CheckpointError: the type is unknown, or the file shrank since it was parsed.
        """
        if self.nbytes is None:
            raise CheckpointError(
                self._source.path,
                f"tensor {self.name} has unknown type {self.type_name}; its size is unknown",
            )
        return self._source.view(self.offset, self.nbytes, self.name)


@dataclass(frozen=True)
class GGUFFile:
    """A parsed GGUF file: metadata as plain Python values, tensors as lazy byte views.

    Attributes:
        path: the file.
        version: GGUF format version (2 or 3).
        metadata: key -> int, float, bool, str or a (nested) list of those.
        tensors: the tensor table, in file order.
        alignment: ``general.alignment`` or 32.
        data_offset: absolute file offset of the tensor data section.
        file_size: bytes in the file when it was parsed.
    """

    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo]
    alignment: int
    data_offset: int
    file_size: int


class _FileBytes:
    """A read-only memory map of the whole file, opened on first use and shared by its tensors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: np.memmap | None = None

    def view(self, offset: int, nbytes: int, name: str) -> np.ndarray:
        if self._map is None:
            with open_regular(self.path) as fh:  # the map keeps its own reference
                self._map = np.memmap(fh, dtype=np.uint8, mode="r")
        out = self._map[offset : offset + nbytes]
        if out.size != nbytes:
            raise CheckpointError(
                self.path,
                f"is truncated: tensor {name} needs bytes {offset}.."
                f"{offset + nbytes}, the file now has "
                f"{self._map.size} bytes",
            )
        return out


def read_gguf(path: str | Path) -> GGUFFile:
    """Parse a GGUF file's header: metadata and tensor table (no tensor data is read).

    Args:
        path: the ``.gguf`` file.

    Returns:
        The parsed file; ``TensorInfo.data()`` maps tensor bytes on demand.

    Raises:
        CheckpointError: the file cannot be read, is empty, not GGUF, an unsupported
            version, truncated, or corrupt (a count or length larger than the file, an
            unknown value type, more than 4 dimensions, duplicate keys or tensor names).
    """
    path = Path(path)
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise CheckpointError(path, "is empty (0 bytes), expected a GGUF file")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(path, buf, size)
    except OSError as exc:
        raise CheckpointError(path, f"cannot be read ({exc.strerror or exc})") from exc


def _parse(path: Path, buf: Any, size: int) -> GGUFFile:
    head = bytes(buf[:4])
    if head != GGUF_MAGIC:
        raise CheckpointError(
            path, f"is not a GGUF file (starts with {head!r}, expected {GGUF_MAGIC!r})"
        )
    cur = HeaderCursor(path, buf, size, pos=4)
    version = cur.u32()
    _check_version(path, version)
    tensor_count, kv_count = cur.u64(), cur.u64()
    cur.need(kv_count * _MIN_KV, f"kv_count {kv_count}")
    metadata = _read_metadata(cur, kv_count)
    cur.where = "the tensor table"
    cur.need(tensor_count * _MIN_TENSOR_INFO, f"tensor_count {tensor_count}")
    table = _read_tensor_table(cur, tensor_count)
    alignment = _alignment(path, metadata)
    data_offset = -(-cur.pos // alignment) * alignment
    source = _FileBytes(path)
    tensors = [_tensor_info(path, entry, data_offset, size, source) for entry in table]
    check_layout(path, tensors, data_offset, alignment, size)
    return GGUFFile(
        path=path,
        version=version,
        metadata=metadata,
        tensors=tensors,
        alignment=alignment,
        data_offset=data_offset,
        file_size=size,
    )


def _check_version(path: Path, version: int) -> None:
    if version in SUPPORTED_VERSIONS:
        return
    swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
    if swapped in (1, 2, 3):
        raise CheckpointError(
            path,
            f"is a big-endian GGUF file (version {swapped}); only "
            "little-endian files are supported",
        )
    raise CheckpointError(
        path,
        f"has GGUF version {version}, expected one of {', '.join(map(str, SUPPORTED_VERSIONS))}",
    )


def _read_metadata(cur: HeaderCursor, count: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for i in range(count):
        cur.where = f"metadata entry #{i}"
        key = cur.string()
        cur.where = f"metadata key {key!r}"
        if key in metadata:
            raise cur.corrupt("appears twice")
        metadata[key] = cur.value(cur.u32())
    return metadata


def _read_tensor_table(cur: HeaderCursor, count: int) -> list[_Entry]:
    """(name, ggml shape, type id, offset relative to the data section) per tensor."""
    table: list[_Entry] = []
    seen: set[str] = set()
    for i in range(count):
        cur.where = f"tensor #{i}"
        name = cur.string()
        cur.where = f"tensor {name!r}"
        if name in seen:
            raise cur.corrupt("appears twice in the tensor table (duplicate tensor name)")
        seen.add(name)
        n_dims = cur.u32()
        if n_dims > MAX_DIMS:
            raise cur.corrupt(f"has {n_dims} dimensions, expected at most {MAX_DIMS}")
        ne = tuple(cur.scalars("Q", 8, n_dims, "dimensions"))
        type_id, offset = cur.u32(), cur.u64()
        table.append((name, ne, type_id, offset))
    return table


def _alignment(path: Path, metadata: dict[str, Any]) -> int:
    value = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value & (value - 1):
        raise CheckpointError(
            path, f"is corrupt: general.alignment is {value!r}, expected a positive power of two"
        )
    return value


@functools.lru_cache(maxsize=1)
def _ggml_types() -> dict[int, tuple[str, int, int]]:
    """GGML type id -> (name, weights per block, bytes per block).

    The types LlamaLens decodes take their layout from :data:`dequant.BLOCK_LAYOUT` (gguf-py
    still gives Q8_1 its old 40-byte block); the others from gguf-py.
    """
    import gguf

    from llamalens.model.loaders.dequant import BLOCK_LAYOUT

    return {
        t.value: (t.name, *BLOCK_LAYOUT.get(t.name, gguf.GGML_QUANT_SIZES[t]))
        for t in gguf.GGMLQuantizationType
        if t in gguf.GGML_QUANT_SIZES
    }


def _tensor_info(
    path: Path, entry: _Entry, data_offset: int, size: int, source: _FileBytes
) -> TensorInfo:
    name, ne, type_id, relative = entry
    n_elements = math.prod(ne)
    offset = data_offset + relative
    known = _ggml_types().get(type_id)
    type_name, nbytes = f"type_{type_id}", None
    if known is not None:
        type_name, block, type_size = known
        row = ne[0] if ne else 1
        if row % block:
            raise CheckpointError(
                path,
                f"is corrupt: tensor {name!r} has rows of {row} "
                f"{type_name} weights, not a multiple of the block "
                f"size {block}",
            )
        nbytes = n_elements // block * type_size
    end = offset + (nbytes or 0)
    if end > size:
        raise CheckpointError(
            path,
            f"is truncated: tensor {name!r} data (bytes {offset}..{end})"
            f" extends past the end of the file ({size} bytes)",
        )
    return TensorInfo(
        name=name,
        ggml_shape=ne,
        type_id=type_id,
        type_name=type_name,
        n_elements=n_elements,
        offset=offset,
        nbytes=nbytes,
        _source=source,
    )


def check_layout(
    path: Path, tensors: list[TensorInfo], data_offset: int, alignment: int, size: int
) -> None:
    """Each tensor at an aligned offset, one after another: no overlap (no byte read twice),
    no unused stretch past the alignment padding (a type that does not match its data,
    e.g. F32 bytes labelled Q4_0). A tensor of a type gguf does not know (size unknown)
    only has to start after the one before it. Raises CheckpointError naming the tensor.
    """
    end, previous, sized = data_offset, None, True
    for t in sorted(tensors, key=lambda t: (t.offset, t.name)):
        span = f"bytes {t.offset}..{t.offset + t.nbytes}" if t.nbytes is not None else "size ?"
        where = f"tensor {t.name!r} ({t.type_name}, {span})"
        if (t.offset - data_offset) % alignment:
            raise CheckpointError(
                path, f"is corrupt: {where} is not aligned to {alignment} bytes (misaligned)"
            )
        if t.offset < end or (not sized and t.offset == end):
            raise CheckpointError(
                path,
                f"is corrupt: {where} overlaps tensor {previous!r} "
                "(aliased tensor data: the same bytes would be read twice)",
            )
        if sized and t.offset - end >= alignment:
            raise CheckpointError(
                path,
                f"is corrupt: {t.offset - end} unused bytes lie before {where}; "
                f"{'the type of ' + repr(previous) if previous else 'the data section'} "
                "does not match its size (a relabelled tensor type?)",
            )
        sized = t.nbytes is not None
        end, previous = t.offset + (t.nbytes or 0), t.name
    if tensors and sized and size - end >= alignment:
        raise CheckpointError(
            path,
            f"is corrupt: {size - end} unused bytes follow the last tensor {previous!r}; its "
            "type does not match its size (a relabelled tensor type?)",
        )
