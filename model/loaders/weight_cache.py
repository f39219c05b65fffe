"""A disk cache of dequantized weights, keyed by the checkpoint's content hash.

Dequantizing a GGUF file costs time on every start; the float32 result is the same
every time. After the first load the tensors are stored as one safetensors file in
``<cache root>/weights/<sha256>-v<CACHE_VERSION>.safetensors`` and later loads
memory-map it instead. The root is :func:`model.paths.cache_dir` (``$LLAMALENS_CACHE_DIR``
when set, else the platform's user cache directory).

The cache never fails a load: an unreadable, truncated or mismatching entry is
deleted and treated as a miss, and a failed write only logs a warning. Writes go to
a temporary file that is renamed into place, so a killed process leaves no half entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import torch

from model.paths import cache_dir

log = logging.getLogger(__name__)

# Bump whenever dequantization, tensor naming or the entry layout changes: old entries
# then simply stop matching and are never read again.
CACHE_VERSION = 1
_FORMAT_TAG = "llamalens-weights"
_HASH_CHUNK = 8 << 20
_STALE_TEMP_SECONDS = 24 * 3600

Progress = Callable[[float, str], None]


def cache_file(digest: str) -> Path:
    """Where the weights of the file with SHA-256 ``digest`` are (or would be) cached."""
    return cache_dir("weights") / f"{digest}-v{CACHE_VERSION}.safetensors"


def file_sha256(path: str | Path, progress: Progress | None = None) -> str:
    """SHA-256 of a file's contents, streamed in 8 MB chunks.

    Args:
        path: the file to hash.
        progress: called with the fraction hashed so far (0..1) and a message.

    Returns:
        The hex digest (64 characters).
    """
    path = Path(path)
    total = max(path.stat().st_size, 1)
    sha = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            sha.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done / total, f"Hashing {path.name}")
    return sha.hexdigest()


def load_weights(digest: str,
                 expected: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor] | None:
    """Memory-map the cached tensors of a checkpoint, if a valid entry exists.

    Args:
        digest: SHA-256 of the checkpoint file.
        expected: every tensor name the entry must hold, with its shape.

    Returns:
        float32 tensors backed by a private (copy-on-write) map of the cache file,
        or None on a miss. A corrupt or mismatching entry is deleted first.
    """
    try:
        target = cache_file(digest)
    except OSError as exc:  # an unwritable cache root is a miss, not an error
        log.warning("weight cache unavailable (%s)", exc)
        return None
    if not target.is_file():
        return None
    try:
        tensors = _read_entry(target, digest, expected)
    except Exception as exc:  # safetensors raises its own error type, OSError, ValueError...
        log.warning("weight cache entry %s is unusable (%s); rebuilding it", target, exc)
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        return None
    return tensors


def _read_entry(target: Path, digest: str,
                expected: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    with safe_open(str(target), framework="pt") as entry:
        meta = entry.metadata() or {}
        if meta.get("format") != _FORMAT_TAG or meta.get("source_sha256") != digest:
            raise ValueError(f"header says {meta}, expected source {digest}")
        names = set(entry.keys())
        if names != set(expected):
            raise ValueError(f"holds {len(names)} tensors, expected {len(expected)}")
        tensors = {name: entry.get_tensor(name) for name in expected}
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32 or tuple(tensor.shape) != tuple(expected[name]):
            raise ValueError(f"{name} is {tensor.dtype} {tuple(tensor.shape)}, expected "
                             f"torch.float32 {tuple(expected[name])}")
    return tensors


def store_weights(digest: str, tensors: dict[str, torch.Tensor],
                  progress: Progress | None = None) -> Path | None:
    """Write a cache entry atomically.

    Args:
        digest: SHA-256 of the checkpoint file the tensors come from.
        tensors: contiguous-able float32 CPU tensors.
        progress: called with the fraction written (0..1) and a message.

    Returns:
        The entry's path, or None when it could not be written (logged, not raised).
    """
    target = temp = None
    try:
        target = cache_file(digest)
        temp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        _remove_stale_temps(target.parent)
        _write_safetensors(temp, tensors, {"format": _FORMAT_TAG, "source_sha256": digest,
                                           "version": str(CACHE_VERSION)}, progress)
        os.replace(temp, target)
    except Exception as exc:  # a full or read-only disk must not fail the load
        log.warning("could not write weight cache %s (%s)", target, exc)
        if temp is not None:
            temp.unlink(missing_ok=True)
        return None
    return target


def _write_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str],
                       progress: Progress | None) -> None:
    """Stream tensors into a safetensors file without building it in memory first.

    The format is an 8-byte little-endian header length, a JSON header giving each
    tensor's dtype, shape and byte range, then the raw little-endian data.
    """
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32:
            raise ValueError(f"{name} is {tensor.dtype}, expected torch.float32")
        size = tensor.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(blob)))
        fh.write(blob)
        for i, tensor in enumerate(tensors.values()):
            fh.write(memoryview(tensor.detach().cpu().contiguous().numpy()).cast("B"))
            if progress is not None:
                progress((i + 1) / len(tensors), "Writing weight cache")


def _remove_stale_temps(folder: Path) -> None:
    """Delete temporary files that killed processes left behind long ago."""
    now = time.time()
    for temp in folder.glob(".*.tmp"):
        try:
            if now - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                temp.unlink()
        except OSError:
            pass
