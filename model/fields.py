"""Typed reading of values that came from a file (JSON objects, GGUF metadata).

Every value is checked where it enters: its type (a bool is not a number, ``2.9`` is not
a count, ``Infinity`` is not a size), its range, its length. A bad value raises one
:class:`~llamalens.model.errors.FileError` naming the file, the field, the value found
and what was expected, e.g. ``config.json: num_hidden_layers is 2.9, expected an integer
in 1..1024``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError, FileError

MISSING: Any = object()  # "no default: the field is required"


def shown(value: object, limit: int = 60) -> str:
    """A short repr of a value for a message (long strings, lists and numbers cut)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, (list, tuple, dict)) and len(value) > 16:
        return f"a {type(value).__name__} of {len(value):,} items"
    if isinstance(value, (str, bytes)) and len(value) > limit:
        value = value[:limit]
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print, nested somewhere
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(
    text: str | bytes,
    path: str | Path,
    what: str,
    error: type[FileError] = CheckpointError,
    part: str = "",
) -> Any:
    """Parse strict JSON: no NaN or Infinity; nesting too deep for the parser is refused.

    Args:
        text: the document.
        path: the file it came from.
        what: what it should be, for the message (``"a config object"``).
        part: which part of the file the document is (``"the session JSON"``), when it is
            not the whole file.
    """
    subject = f"{part} " if part else ""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise error(path, f"{subject}is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except RecursionError as exc:  # json's scanner stops ~1000 levels deep
        raise error(path, f"{subject}nests too deep to be {what}") from exc
    except ValueError as exc:  # JSONDecodeError, or a NaN/Infinity constant
        raise error(path, f"{subject}is not valid JSON ({exc}); expected {what}") from exc


class Fields:
    """A mapping read from a file, one checked field at a time.

    Args:
        data: the mapping (a JSON object, GGUF key-values).
        path: the file it came from (named in every message).
        prefix: the field path so far, e.g. ``"rope_scaling."``.
        error: the error class to raise.
        what: what ``data`` should be, for the message when it is not a mapping.
        part: which part of the file holds the mapping (``"session JSON"``), if not all.
    """

    def __init__(
        self,
        data: object,
        path: str | Path,
        prefix: str = "",
        error: type[FileError] = CheckpointError,
        what: str = "a JSON object",
        part: str = "",
    ) -> None:
        self.data, self.path, self.prefix, self.error = data, Path(path), prefix, error
        self.part = part
        if not isinstance(data, Mapping):
            where = prefix.rstrip(".") or part or "the file"
            kind = type(data).__name__
            article = "an" if kind[0] in "aeiou" else "a"
            raise error(path, f"{where} holds {article} {kind}, expected {what}")

    def _problem(self, text: str) -> FileError:
        return self.error(self.path, f"{self.part}: {text}" if self.part else text)

    def fail(self, key: str, value: object, expected: str) -> FileError:
        """The error for ``key`` holding ``value`` instead of ``expected`` (to raise)."""
        return self._problem(f"{self.prefix}{key} is {shown(value)}, expected {expected}")

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, default: Any = MISSING) -> Any:
        """The value as stored (None counts as absent)."""
        value = self.data.get(key)
        if value is None:
            if default is MISSING:
                raise self._problem(f"{self.prefix}{key} is missing")
            return default
        return value

    def integer(self, key: str, lo: int, hi: int, default: Any = MISSING) -> int:
        """An integer in lo..hi (an integral float such as ``2.0`` is accepted)."""
        value = self.raw(key, default)
        if value is default and default is not MISSING:
            return default
        number = as_integer(value)
        if number is None or not lo <= number <= hi:
            span = f"in {lo}..{hi:,}" if hi < 2**53 else f">= {lo}"
            raise self.fail(key, value, f"an integer {span}")
        return number

    def number(
        self, key: str, lo: float, hi: float, default: Any = MISSING, *, above: bool = False
    ) -> float:
        """A finite number in [lo, hi] (in (lo, hi] with ``above``)."""
        value = self.raw(key, default)
        if value is default and default is not MISSING:
            return default
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            ok = math.isfinite(value) and (lo < value if above else lo <= value) and value <= hi
        if not ok:
            interval = f"({lo:g}, {hi:g}]" if above else f"[{lo:g}, {hi:g}]"
            raise self.fail(key, value, f"a finite number in {interval}")
        return float(value)

    def boolean(self, key: str, default: Any = MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def string(
        self,
        key: str,
        default: Any = MISSING,
        *,
        max_len: int = 4096,
        choices: Sequence[str] | None = None,
    ) -> str:
        value = self.raw(key, default)
        if value is default and default is not MISSING:
            return default
        if not isinstance(value, str) or len(value) > max_len:
            raise self.fail(key, value, f"a string of at most {max_len:,} characters")
        if choices is not None and value not in choices:
            raise self.fail(key, value, "one of " + ", ".join(map(repr, choices)))
        return value

    def strings(self, key: str, *, max_items: int, max_len: int = 4096) -> list[str]:
        """A list of at most ``max_items`` strings."""
        value = self.raw(key, [])
        if not isinstance(value, list) or len(value) > max_items:
            raise self.fail(key, value, f"a list of at most {max_items:,} strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or len(item) > max_len:
                raise self.fail(f"{key}[{i}]", item, f"a string of at most {max_len:,} characters")
        return list(value)

    def obj(self, key: str, default: Any = MISSING) -> Fields:
        """A nested object, read with the same checks."""
        value = self.raw(key, default)
        if value is default and default is not MISSING:
            value = {} if default is None else default
        return Fields(value, self.path, f"{self.prefix}{key}.", self.error, "an object", self.part)


def as_integer(value: object) -> int | None:
    """``value`` as an int if it is one (or an integral finite float), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None
