"""Tiny session and trace files, and the crafted zips hostile-input tests need."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llamalens.model.session_io import Session, new_meta, session_arrays
from llamalens.model.vocab_table import VocabTable

PROMPT = "hello world, the cat sat on the mat"
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


def tiny_session(engine, prompt: str = PROMPT) -> Session:
    """A real session of ``engine``: its trace, analysis, vocabulary and a view."""
    trace = engine.trace(engine.encode(prompt).ids)
    meta = new_meta(
        model={"name": "tiny", "path": "/x", "format": "hf", "device": "cpu", "quantization": None},
        prompt={"text": prompt, "chat": False, "plain": False},
        view={"layer": 1, "head": 2, "stage": "masked", "token": 5, "key": 3},
        sampling={"temperature": 0.7, "top_p": 0.9, "top_k": 5, "seed": 3},
        history=["+ cat  (id 9, greedy)"],
    )
    vocab = VocabTable.from_tokenizer(engine.tokenizer)
    return Session(trace, vocab, meta, engine.analyse(trace))


def write_npz(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    """Arrays as an .npz, exactly as ``numpy.savez`` writes them."""
    with open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return path


def changed_arrays(session: Session, /, **changes: np.ndarray | None) -> dict[str, np.ndarray]:
    """The session's arrays with some replaced (or removed, given None)."""
    arrays = session_arrays(session)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    return arrays


# ---- raw zips -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawMember:
    """A zip member as stored: its bytes (deflated or not), true size and CRC."""

    name: str
    data: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_STORED


def npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """A version-1.0 .npy header declaring ``dtype`` and ``shape`` (no data)."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": shape})
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def stored(name: str, payload: bytes) -> RawMember:
    return RawMember(name, payload, len(payload), zlib.crc32(payload))


def zeros_member(name: str, dtype: str, n: int) -> RawMember:
    """A deflated .npy of ``n`` zeros: a few megabytes on disk, ``n`` elements inflated.

    Built from one compressed block of zeros repeated (each block ends with a full
    flush, so the copies are identical and independent): seconds even for 5 GiB.
    """
    header, block = npy_header(dtype, (n,)), 2**22
    count, rest = divmod(n * np.dtype(dtype).itemsize, block)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = squeeze.compress(header) + squeeze.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(block)
    repeated = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH) if count else b""
    tail = squeeze.compress(bytes(rest)) + squeeze.flush()
    crc = zlib.crc32(header)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    data = head + repeated * count + tail
    return RawMember(name, data, len(header) + n * np.dtype(dtype).itemsize, crc, 8)


def members_of(path: Path) -> list[RawMember]:
    """Every member of a zip, stored."""
    with zipfile.ZipFile(path) as z:
        return [stored(i.filename, z.read(i)) for i in z.infolist()]


def write_zip(path: Path, members: list[RawMember], alias: dict[int, int] | None = None) -> Path:
    """Write members as a zip (zip64 sizes where needed); ``alias={i: j}`` points directory
    entry i at member j's data."""
    body, offsets = b"", []
    for m in members:
        offsets.append(len(body))
        name = m.name.encode()
        sizes, extra = _sizes(m)
        head = _LOCAL.pack(
            b"PK\x03\x04", 45, 0, 0, m.method, 0, 0, m.crc, *sizes, len(name), len(extra)
        )
        body += head + name + extra + m.data
    entries = b""
    for i, m in enumerate(members):
        j = (alias or {}).get(i, i)
        src, name = members[j], m.name.encode()
        sizes, extra = _sizes(src)
        entries += (
            _CENTRAL.pack(
                b"PK\x01\x02", 45, 0, 45, 0, 0, src.method, 0, 0, src.crc, *sizes,
                len(name), len(extra), 0, 0, 0, 0, offsets[j],
            )
            + name
            + extra
        )  # fmt: skip
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(entries), len(body), 0)
    path.write_bytes(body + entries + end)
    return path


def _sizes(m: RawMember) -> tuple[tuple[int, int], bytes]:
    """(compressed, uncompressed) header fields and the zip64 extra field they need."""
    if max(m.size, len(m.data)) < 0xFFFFFFFF:
        return (len(m.data), m.size), b""
    return (0xFFFFFFFF, 0xFFFFFFFF), struct.pack("<2H2Q", 1, 16, m.size, len(m.data))
