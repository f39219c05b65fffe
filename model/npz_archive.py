"""Reading ``.npz`` archives from strangers: every member checked from its header first.

``numpy.load`` trusts the sizes a file claims, reads a member in full when touched and
opens whatever the zip holds. An :class:`NpzArchive` is opened only if the file is a
regular file whose zip directory is small and lists only ``<name>.npy`` members (the
reader refuses names its format does not know before reading any), stored or deflated,
unencrypted, lying inside the file without overlapping (no byte read twice) and
expanding at most :data:`ZIP_RATIO` times (no zip bombs), within a total memory budget.
Each member's ``.npy`` header (dtype, shape) is read and checked by the caller before
its data, and the data must be exactly what the header declares.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from llamalens.model.errors import FileError, SessionError
from llamalens.model.files import open_regular

ZIP_RATIO = 32  # deflate gains < 2x on float data and < 10x on text
ZIP_SLACK = 8 * 2**20  # a small member may compress better (a vector of False flags)
MAX_DIRECTORY = 64 * 2**10  # bytes of zip central directory (a few dozen members)
MAX_HEADER = 10_000  # bytes of one .npy header (numpy's own default)
CHUNK = 16 * 2**20  # data is copied into the array in pieces of this size
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header (30 bytes)
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error)


def memory_budget() -> int:
    """Bytes a file may make us allocate: half the machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):  # not POSIX
        return 8 * 2**30


@dataclass(frozen=True)
class ArrayHeader:
    """What a ``.npy`` header declares: dtype and shape (nothing read yet)."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class ArraySource(Protocol):
    """Named arrays whose headers can be checked before their data is read."""

    source: str

    def names(self) -> frozenset[str]: ...

    def header(self, name: str) -> ArrayHeader: ...

    def read(self, name: str) -> np.ndarray: ...


class MemoryArrays:
    """An :class:`ArraySource` over arrays already in memory (``session_from_arrays``)."""

    def __init__(self, data: Mapping[str, object], source: str = "<arrays>") -> None:
        self.source = source
        self._data = {k: np.asarray(v) for k, v in data.items()}

    def names(self) -> frozenset[str]:
        return frozenset(self._data)

    def header(self, name: str) -> ArrayHeader:
        a = self._data[name]
        return ArrayHeader(a.dtype, tuple(a.shape))

    def read(self, name: str) -> np.ndarray:
        return self._data[name]


class NpzArchive:
    """A checked ``.npz`` file; use as a context manager.

    Args:
        path: the file.
        what: what the file should be, for messages (``"a LlamaLens session"``).
        error: the error class raised, naming the file.
        budget: most bytes all members may expand to (default :func:`memory_budget`).
    """

    def __init__(
        self,
        path: str | Path,
        what: str,
        error: type[FileError] = SessionError,
        budget: int | None = None,
    ) -> None:
        self.path, self.source, self.what, self.error = Path(path), str(path), what, error
        self._fh: BinaryIO = open_regular(path, error)
        self._headers: dict[str, tuple[ArrayHeader, int]] = {}
        try:
            size = os.fstat(self._fh.fileno()).st_size
            self._check_directory(size)
            try:
                self._zip = zipfile.ZipFile(self._fh)
            except _READ_ERRORS as exc:
                raise self._fail(f"is not a readable zip archive ({exc})") from exc
            self._infos = self._check_members(size, budget or memory_budget())
        except BaseException:
            self._fh.close()
            raise

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if hasattr(self, "_zip"):
            self._zip.close()
        self._fh.close()

    def _fail(self, problem: str) -> FileError:
        return self.error(self.path, problem)

    # ---- the zip directory ---------------------------------------------------------------
    def _check_directory(self, size: int) -> None:
        """The end record must exist and announce a small directory (zipfile walks it all)."""
        fh = self._fh
        head = fh.read(4)
        if head[:1] == b"\x80" or head[:2] == b"\x93N":
            kind = "a Python pickle" if head[:1] == b"\x80" else "a bare .npy array"
            what = " (which could run code: never loaded)" if head[:1] == b"\x80" else ""
            raise self._fail(f"is {kind}{what}, not {self.what}")
        tail_len = min(size, _EOCD.size + 0xFFFF)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if head != b"PK\x03\x04" or at < 0 or at + _EOCD.size > len(tail):
            raise self._fail(f"is not {self.what} (not an .npz zip archive)")
        _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack_from(tail, at)
        if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
            entries, cd_size = self._zip64_directory(size - tail_len + at)
        if cd_size > MAX_DIRECTORY or cd_size > size:
            raise self._fail(
                f"has a zip directory of {cd_size:,} bytes; {self.what} needs at most "
                f"{MAX_DIRECTORY:,}"
            )
        fh.seek(0)

    def _zip64_directory(self, eocd_at: int) -> tuple[int, int]:
        fh = self._fh
        fh.seek(max(0, eocd_at - _EOCD64_LOCATOR.size))
        sig, _, where, _ = _EOCD64_LOCATOR.unpack(fh.read(_EOCD64_LOCATOR.size))
        fh.seek(where)
        record = fh.read(_EOCD64.size)
        if sig != b"PK\x06\x07" or len(record) != _EOCD64.size or record[:4] != b"PK\x06\x06":
            raise self._fail("has a corrupt zip64 directory record")
        fields = _EOCD64.unpack(record)
        return fields[7], fields[8]  # total entries, directory size

    def _check_members(self, size: int, budget: int) -> dict[str, zipfile.ZipInfo]:
        infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in self._zip.infolist():
            name = info.filename.removesuffix(".npy")
            if name == info.filename:
                raise self._fail(f"holds {info.filename!r}, which is not an .npy member")
            if name in infos:
                raise self._fail(f"holds the member {info.filename!r} twice")
            self._check_member(info)
            infos[name] = info
            total += info.file_size
        if total > budget:
            raise self._fail(
                f"expands to {total:,} bytes, more than the {budget:,} this machine allows"
            )
        self._check_ranges(list(infos.values()), size)
        return infos

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.flag_bits & 0x1:
            raise self._fail(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self._fail(f"member {name!r} uses zip compression {info.compress_type}")
        stored = info.compress_type == zipfile.ZIP_STORED
        if stored and info.file_size != info.compress_size:
            raise self._fail(f"stored member {name!r} claims two different sizes")
        if info.file_size > max(ZIP_RATIO * info.compress_size, ZIP_SLACK):
            raise self._fail(
                f"member {name!r} expands {info.compress_size:,} bytes to "
                f"{info.file_size:,} (a zip bomb; at most {ZIP_RATIO}x is accepted)"
            )

    def _check_ranges(self, infos: list[zipfile.ZipInfo], size: int) -> None:
        """Members must lie inside the file, one after another (no byte read twice)."""
        end = 0
        for info in sorted(infos, key=lambda i: i.header_offset):
            if not 0 <= info.header_offset < size:
                raise self._fail(f"member {info.filename!r} points outside the file (truncated?)")
            self._fh.seek(info.header_offset)
            local = self._fh.read(_LOCAL.size)
            if len(local) != _LOCAL.size or local[:4] != b"PK\x03\x04":
                raise self._fail(f"member {info.filename!r} points at no zip entry")
            name_len, extra_len = _LOCAL.unpack(local)[-2:]
            start = info.header_offset
            stop = start + _LOCAL.size + name_len + extra_len + info.compress_size
            if start < end or stop > size:
                problem = "overlaps another member" if start < end else "runs past the end"
                raise self._fail(f"member {info.filename!r} {problem} (aliased or truncated)")
            end = stop

    # ---- members -------------------------------------------------------------------------
    def names(self) -> frozenset[str]:
        return frozenset(self._infos)

    def header(self, name: str) -> ArrayHeader:
        """The member's declared dtype and shape, checked to match its size; data unread."""
        if name not in self._headers:
            info = self._infos[name]
            try:
                with self._zip.open(info) as f:
                    header, offset = _read_header(f)
            except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError,
                # tokenize.TokenError, TypeError... on text it cannot read: all mean "corrupt"
                raise self._fail(f"member {name!r} has a corrupt .npy header ({exc})") from exc
            self._check_header(name, header, offset, info)
            self._headers[name] = (header, offset)
        return self._headers[name][0]

    def _check_header(self, name: str, h: ArrayHeader, offset: int, info: zipfile.ZipInfo) -> None:
        dt = h.dtype
        if dt.hasobject or dt.fields is not None or dt.subdtype is not None or dt.kind in "OVMm":
            raise self._fail(f"member {name!r} has dtype {dt}, which LlamaLens never reads")
        if any(not isinstance(n, int) or n < 0 for n in h.shape):
            raise self._fail(f"member {name!r} has an invalid shape {h.shape}")
        if dt.itemsize == 0 and h.size:
            raise self._fail(f"member {name!r} has {h.size:,} elements of zero bytes")
        data = info.file_size - offset
        if h.size * dt.itemsize != data:
            raise self._fail(
                f"member {name!r} declares shape {h.shape} of {dt} "
                f"({h.size * dt.itemsize:,} bytes) but holds {data:,} bytes"
            )

    def read(self, name: str) -> np.ndarray:
        """The member's data, exactly as its (already checked) header declares."""
        h = self.header(name)
        out = np.empty(h.shape, dtype=h.dtype)
        flat = out.reshape(-1).view(np.uint8) if h.size else np.empty(0, np.uint8)
        fortran = False
        try:
            with self._zip.open(self._infos[name]) as f:
                fortran = _read_fortran(f)
                pos = 0
                while pos < flat.size:
                    chunk = f.read(min(CHUNK, flat.size - pos))
                    if not chunk:
                        raise EOFError("data ends early")
                    flat[pos : pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    pos += len(chunk)
                if f.read(1):  # reaching the end also checks the CRC
                    raise ValueError("data runs past its header's shape")
        except _READ_ERRORS as exc:
            raise self._fail(f"member {name!r} is corrupt ({exc})") from exc
        if fortran:
            out = out.reshape(h.shape[::-1]).transpose()
        if out.dtype.kind == "b":
            out = out.view(np.uint8) != 0
        elif not out.dtype.isnative:
            out = out.astype(out.dtype.newbyteorder("="))
        return out


def _read_header(f) -> tuple[ArrayHeader, int]:
    """(header, offset of the data) of a .npy stream, with numpy's strict header parser."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_HEADER)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_HEADER)
    else:
        raise ValueError(f".npy format version {version} is not read")
    if not isinstance(shape, tuple):
        raise ValueError(f"shape {shape!r} is not a tuple")
    return ArrayHeader(np.dtype(dtype), tuple(shape)), f.tell()


def _read_fortran(f) -> bool:
    """Skip a .npy header (already checked), telling whether the data is Fortran-ordered."""
    version = np.lib.format.read_magic(f)
    reader = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    return bool(reader(f, max_header_size=MAX_HEADER)[1])
