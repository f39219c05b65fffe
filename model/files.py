"""Opening files that came from strangers: regular files only, names kept inside their folder.

A FIFO named like a shard or a session would block ``open`` forever, a device would
stream without end; both are refused before a byte is read. Names read from a file
(index entries) may only point inside the directory that holds it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from llamalens.model.errors import CheckpointError, FileError

_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "named pipe (FIFO)"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def open_regular(path: str | Path, error: type[FileError] = CheckpointError) -> BinaryIO:
    """Open ``path`` for binary reading if, and only if, it is a regular file.

    The file is opened without blocking and checked with ``fstat`` on the open
    descriptor, so a FIFO cannot stall the call and nothing can be swapped in between
    the check and the read.

    Raises:
        FileError (of class ``error``): missing, unreadable, or not a regular file.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError as exc:
        raise error(p, "does not exist") from exc
    except OSError as exc:
        raise error(p, f"cannot be opened ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(p, f"is a {_kind(mode)}, expected a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: str | Path, error: type[FileError] = CheckpointError) -> int:
    """Raise unless ``path`` is a regular file; return its size in bytes.

    For libraries that open files by name themselves (safetensors, torch, sentencepiece).
    """
    with open_regular(path, error) as fh:
        return os.fstat(fh.fileno()).st_size


def read_limited(
    path: str | Path, limit: int, what: str, error: type[FileError] = CheckpointError
) -> bytes:
    """The whole of a regular file of at most ``limit`` bytes.

    Args:
        path: the file.
        limit: the largest size a sane file of this kind has.
        what: what the file is, for the message (``"a config.json"``).
    """
    with open_regular(path, error) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise error(path, f"is {size:,} bytes; {what} is at most {limit:,} bytes")
        data = fh.read(size + 1)  # (read(n) allocates n bytes first: never the limit)
        if len(data) > limit:
            raise error(path, f"grew past {limit:,} bytes while it was read")
        return data


def inside(root: Path, name: object, source: Path, field: str) -> Path:
    """``root / name`` for a file name read from ``source``, kept inside ``root``.

    The name must be a relative path without ``..`` parts (absolute paths, drive
    letters and parent references are refused before anything is opened). Symbolic
    links already in ``root`` are the directory's own business (the Hugging Face
    cache links every file to a blob elsewhere).

    Raises:
        CheckpointError: naming ``source``, the field and the name.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise CheckpointError(source, f"{field} is {name!r}, expected a file name")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or ".." in windows.parts:
        raise CheckpointError(
            source, f"{field} is {name!r}, expected a file inside {root} (no absolute path or ..)"
        )
    return root.joinpath(*windows.parts)
