"""Named arrays read by a schema: kind, shape and size checked on the header, then the data.

Session and trace files are read through an :class:`ArrayReader`: it asks each member's
header (dtype and shape, nothing decoded) whether the member is what the format says it
is, with the sizes the file's own config implies, and only then reads it. Every problem
is one :class:`~llamalens.model.errors.SessionError` naming the file and the member.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llamalens.model.errors import FileError, SessionError
from llamalens.model.npz_archive import ArrayHeader, ArraySource

KIND_NAMES = {
    "f": "floating point",
    "i": "integer",
    "u": "integer",
    "b": "boolean",
    "U": "string",
}


class ArrayReader:
    """Checked access to the arrays of one file.

    Args:
        src: the arrays (an open :class:`~llamalens.model.npz_archive.NpzArchive` or
            arrays in memory).
        prefix: prepended to every member name (``"trace_"`` inside a session).
        error: the error class raised.
    """

    def __init__(
        self, src: ArraySource, prefix: str = "", error: type[FileError] = SessionError
    ) -> None:
        self.src, self.prefix, self.error = src, prefix, error

    def fail(self, problem: str) -> FileError:
        return self.error(self.src.source, problem)

    def has(self, name: str) -> bool:
        return self.prefix + name in self.src.names()

    def header(self, name: str) -> ArrayHeader:
        """The member's header; a missing member is an error naming it."""
        full = self.prefix + name
        if full not in self.src.names():
            raise self.fail(f"is missing the {full!r} array")
        return self.src.header(full)

    def _kind(self, name: str, kinds: str) -> ArrayHeader:
        h = self.header(name)
        if h.dtype.kind not in kinds:
            want = " or ".join(dict.fromkeys(KIND_NAMES[k] for k in kinds))
            raise self.fail(f"array {self.prefix + name!r} has dtype {h.dtype}, expected {want}")
        return h

    def shape(self, name: str, kinds: str, ndim: int) -> tuple[int, ...]:
        """The declared shape of an array of ``ndim`` dimensions (data not read)."""
        h = self._kind(name, kinds)
        if len(h.shape) != ndim:
            raise self.fail(
                f"array {self.prefix + name!r} has shape {h.shape}, expected {ndim} dimensions"
            )
        return h.shape

    def array(
        self,
        name: str,
        kinds: str,
        shape: Sequence[int],
        *,
        itemsizes: Sequence[int] | None = None,
        max_chars: int | None = None,
    ) -> np.ndarray:
        """Read an array after checking its kind, exact shape and element size.

        Args:
            name: the member (without the prefix).
            kinds: accepted dtype kinds (``"f"``, ``"iu"``, ``"b"``, ``"U"``).
            shape: the shape the file's config implies.
            itemsizes: accepted element sizes in bytes (e.g. ``(4,)`` for float32).
            max_chars: for strings, the longest element accepted.
        """
        h = self._kind(name, kinds)
        full = self.prefix + name
        if tuple(h.shape) != tuple(shape):
            raise self.fail(f"array {full!r} has shape {h.shape}, expected {tuple(shape)}")
        if itemsizes is not None and h.dtype.itemsize not in itemsizes:
            raise self.fail(
                f"array {full!r} has dtype {h.dtype}, expected elements of "
                + " or ".join(f"{n} bytes" for n in itemsizes)
            )
        if max_chars is not None and h.dtype.itemsize > 4 * max_chars:
            raise self.fail(
                f"array {full!r} holds strings of up to {h.dtype.itemsize // 4:,} characters, "
                f"expected at most {max_chars:,}"
            )
        return self.src.read(full)

    def text(self, name: str, max_chars: int) -> str:
        """A scalar string member (JSON documents, the format name)."""
        return str(self.array(name, "U", (), max_chars=max_chars)[()])

    def integer(self, name: str) -> int:
        """A scalar integer member (the version)."""
        return int(self.array(name, "iu", (), itemsizes=(1, 2, 4, 8))[()])

    def integers(self, name: str, shape: Sequence[int], lo: int, hi: int) -> np.ndarray:
        """An int64 array whose values all lie in lo..hi-1."""
        values = self.array(name, "iu", shape, itemsizes=(1, 2, 4, 8))
        if values.size and (values.min() < lo or values.max() >= hi):
            bad = values[(values < lo) | (values >= hi)].flat[0]
            raise self.fail(
                f"array {self.prefix + name!r} holds {int(bad)}, expected values in {lo}..{hi - 1}"
            )
        return values.astype(np.int64, copy=False)
