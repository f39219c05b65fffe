"""Bounds-checked reading of GGUF header values: integers, strings and typed arrays.

Value type ids: 0 UINT8, 1 INT8, 2 UINT16, 3 INT16, 4 UINT32, 5 INT32, 6 FLOAT32,
7 BOOL, 8 STRING (u64 byte length + UTF-8 bytes), 9 ARRAY (u32 item type, u64 count,
items), 10 UINT64, 11 INT64, 12 FLOAT64; everything little-endian.

Before any loop or allocation sized by a count read from the file, the count times the
smallest possible item size is checked against the bytes left, so garbage counts fail
at once instead of looping for hours or allocating gigabytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError

# value type id -> (name, struct code)
SCALAR_TYPES: dict[int, tuple[str, str]] = {
    0: ("UINT8", "B"),
    1: ("INT8", "b"),
    2: ("UINT16", "H"),
    3: ("INT16", "h"),
    4: ("UINT32", "I"),
    5: ("INT32", "i"),
    6: ("FLOAT32", "f"),
    7: ("BOOL", "?"),
    10: ("UINT64", "Q"),
    11: ("INT64", "q"),
    12: ("FLOAT64", "d"),
}
STRING, ARRAY = 8, 9
MAX_NESTING = 4  # arrays of arrays: llama.cpp writes none, so a deep nest means garbage
_SIZES = {vtype: struct.calcsize("<" + code) for vtype, (_, code) in SCALAR_TYPES.items()}
_U64 = struct.Struct("<Q")
_ARRAY_HEADER = 4 + 8


class HeaderCursor:
    """A read position in a GGUF header; every read is checked against the file size first.

    Attributes:
        path: the file, for error messages.
        buf: the file's bytes (a read-only mmap or any buffer with bytes slicing).
        end: the file size.
        pos: the next byte to read.
        where: what is being read, for error messages (``"metadata key 'x'"``).
    """

    def __init__(self, path: Path, buf: Any, size: int, pos: int = 0) -> None:
        self.path, self.buf, self.end, self.pos = path, buf, size, pos
        self.where = "the header"

    def corrupt(self, problem: str) -> CheckpointError:
        """An error saying that the item at ``where`` has ``problem``."""
        return CheckpointError(self.path, f"is corrupt: {self.where} {problem}")

    def need(self, nbytes: int, what: str) -> None:
        """Raise unless ``nbytes`` bytes are left after ``pos``.

        Raises:
            CheckpointError: the file ends (or a count is garbage) before ``what`` fits.
        """
        left = self.end - self.pos
        if nbytes > left:
            raise CheckpointError(
                self.path,
                f"is truncated or corrupt: {self.where}: {what} "
                f"needs {nbytes} bytes at offset {self.pos}, "
                f"only {left} remain in the file",
            )

    def u32(self) -> int:
        """One little-endian u32."""
        return self.scalars("I", 4, 1, "u32")[0]

    def u64(self) -> int:
        """One little-endian u64."""
        return self.scalars("Q", 8, 1, "u64")[0]

    def scalars(self, code: str, itemsize: int, count: int, what: str) -> list:
        """``count`` values of struct type ``code`` (``itemsize`` bytes each) as a list."""
        self.need(count * itemsize, f"{count} {what}")
        values = struct.unpack_from(f"<{count}{code}", self.buf, self.pos)
        self.pos += count * itemsize
        return list(values)

    def string(self) -> str:
        """One length-prefixed UTF-8 string (invalid bytes become U+FFFD)."""
        length = self.u64()
        self.need(length, f"a string of length {length}")
        text = str(self.buf[self.pos : self.pos + length], "utf-8", "replace")
        self.pos += length
        return text

    def strings(self, count: int) -> list[str]:
        """``count`` strings: the hot loop of a 100k-token vocabulary, so all names are local."""
        self.need(count * 8, f"an array of {count} strings")
        buf, pos, end, unpack = self.buf, self.pos, self.end, _U64.unpack_from
        out: list[str] = []
        append = out.append
        for i in range(count):
            if end - pos < 8:
                self.pos = pos
                self.need(8, f"the length of string {i} of {count}")
            length = unpack(buf, pos)[0]
            pos += 8
            if length > end - pos:
                self.pos = pos
                self.need(length, f"string {i} of {count} (length {length})")
            append(str(buf[pos : pos + length], "utf-8", "replace"))
            pos += length
        self.pos = pos
        return out

    def value(self, vtype: int, depth: int = 0) -> Any:
        """One value of GGUF type ``vtype``: int, float, bool, str or a (nested) list.

        Raises:
            CheckpointError: unknown type id, arrays nested too deep, or a value past the end.
        """
        if vtype in SCALAR_TYPES:
            name, code = SCALAR_TYPES[vtype]
            return self.scalars(code, _SIZES[vtype], 1, name)[0]
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            return self._array(depth)
        raise self.corrupt(f"has unknown value type id {vtype}, expected 0..12")

    def _array(self, depth: int) -> list:
        item_type, count = self.u32(), self.u64()
        if item_type in SCALAR_TYPES:
            name, code = SCALAR_TYPES[item_type]
            return self.scalars(code, _SIZES[item_type], count, f"{name} array items")
        if item_type == STRING:
            return self.strings(count)
        if item_type == ARRAY:
            if depth >= MAX_NESTING:
                raise self.corrupt(f"nests arrays more than {MAX_NESTING} deep")
            self.need(count * _ARRAY_HEADER, f"an array of {count} arrays")
            return [self._array(depth + 1) for _ in range(count)]
        raise self.corrupt(f"has an array of unknown value type id {item_type}, expected 0..12")
