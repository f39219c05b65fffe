"""GGUF metadata as plain Python values (no tensor data is read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llamalens.model.loaders.gguf_file import GGUF_MAGIC, GGUFFile, read_gguf

__all__ = ["GGUF_MAGIC", "open_reader", "read_metadata"]


def open_reader(path: str | Path) -> GGUFFile:
    """Parse a GGUF file's header (metadata and tensor table).

    Args:
        path: the ``.gguf`` file.

    Returns:
        The parsed file (see :func:`model.loaders.gguf_file.read_gguf`).

    Raises:
        CheckpointError: the file is unreadable, empty, not GGUF, truncated or corrupt.
    """
    return read_gguf(path)


def read_metadata(file_or_path: GGUFFile | str | Path) -> dict[str, Any]:
    """All key/value metadata of a GGUF file.

    Args:
        file_or_path: a path, or a file returned by :func:`open_reader`.

    Returns:
        A new mapping from GGUF key (``"llama.block_count"``, ``"tokenizer.ggml.tokens"``...)
        to ``str``, ``int``, ``float``, ``bool`` or a list of those.

    Raises:
        CheckpointError: (for a path) the file is unreadable, not GGUF, truncated or corrupt.
    """
    gguf_file = file_or_path if isinstance(file_or_path, GGUFFile) else read_gguf(file_or_path)
    return dict(gguf_file.metadata)
