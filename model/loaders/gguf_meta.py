"""GGUF metadata as plain Python values (no tensors are read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.errors import CheckpointError

GGUF_MAGIC = b"GGUF"


def open_reader(path: str | Path):
    """Open a GGUF file with ``gguf.GGUFReader``, turning every failure into a CheckpointError.

    Returns:
        gguf.GGUFReader over a read-only memory map of the file.
    """
    import gguf

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise CheckpointError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(head) == 0:
        raise CheckpointError(path, "is empty (0 bytes), expected a GGUF file")
    if head != GGUF_MAGIC:
        raise CheckpointError(path, f"is not a GGUF file (starts with {head!r}, expected b'GGUF')")
    try:
        return gguf.GGUFReader(path, "r")
    except Exception as exc:  # the reader raises ValueError, IndexError, struct errors...
        raise CheckpointError(path, f"is a truncated or corrupt GGUF file ({exc})") from exc


def read_metadata(reader_or_path: Any) -> dict[str, Any]:
    """All key/value metadata of a GGUF file.

    Args:
        reader_or_path: a path, or a reader returned by :func:`open_reader`.

    Returns:
        Mapping from GGUF key (``"llama.block_count"``, ``"tokenizer.ggml.tokens"``...) to
        ``str``, ``int``, ``float``, ``bool`` or a list of those.
    """
    reader = open_reader(reader_or_path) if isinstance(reader_or_path, (str, Path)) else \
        reader_or_path
    out: dict[str, Any] = {}
    for key, fld in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        try:
            out[key] = fld.contents()
        except Exception as exc:
            raise CheckpointError(reader.data.filename if hasattr(reader.data, "filename")
                                  else "<gguf>", f"metadata key {key!r} is corrupt ({exc})") \
                from exc
    return out
