"""Edits that turn valid tiny checkpoints into hostile ones (for the hostile-input tests)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any


def gguf_tensor_fields(raw: bytes, name: str) -> tuple[int, int]:
    """Byte positions of a tensor's type id (u32) and data offset (u64) in a GGUF header."""
    key = name.encode()
    at = raw.index(struct.pack("<Q", len(key)) + key) + 8 + len(key)
    (n_dims,) = struct.unpack_from("<I", raw, at)
    type_at = at + 4 + 8 * n_dims
    return type_at, type_at + 4


def patch_gguf_tensor(
    path: Path, name: str, *, type_id: int | None = None, offset: int | None = None
) -> None:
    """Rewrite a tensor's type id and/or relative data offset in place."""
    raw = bytearray(path.read_bytes())
    type_at, offset_at = gguf_tensor_fields(bytes(raw), name)
    if type_id is not None:
        raw[type_at : type_at + 4] = struct.pack("<I", type_id)
    if offset is not None:
        raw[offset_at : offset_at + 8] = struct.pack("<Q", offset)
    path.write_bytes(bytes(raw))


def gguf_tensor_offset(path: Path, name: str) -> int:
    raw = path.read_bytes()
    return struct.unpack_from("<Q", raw, gguf_tensor_fields(raw, name)[1])[0]


def edit_safetensors_header(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Apply ``change`` to the parsed header (a dict) and write the file back, same data."""
    raw = path.read_bytes()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8 : 8 + n])
    change(header)
    write_safetensors_raw(path, json.dumps(header).encode(), raw[8 + n :])


def write_safetensors_raw(path: Path, header: bytes, data: bytes) -> None:
    """A safetensors file from a header's bytes (padded with spaces) and data."""
    header += b" " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def edit_json(path: Path, **changes: Any) -> None:
    """Set top-level keys of a JSON file (a value None deletes the key)."""
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))


def replace_json_text(path: Path, old: str, new: str) -> None:
    """Edit a JSON file as text (for values JSON cannot hold, such as Infinity)."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
