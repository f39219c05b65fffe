"""What a user is told when something fails, and where a bug's details go.

A failure LlamaLens expects (a bad file, bad input, too little memory) is one line that
names the problem. Any other exception is a bug in LlamaLens: the user gets one short
message saying so and where the details are, and the traceback goes to ``errors.log`` in
the user's log directory (``$LLAMALENS_LOG_DIR`` overrides it), never to the terminal.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from llamalens.model.errors import FileError

log = logging.getLogger(__name__)

LOG_NAME = "errors.log"
MAX_LOG_BYTES = 2**20  # then the log is moved to errors.log.1 and starts again
EXPECTED = (FileError, ValueError, OSError)  # their message says everything a user needs


def is_bug(exc: BaseException) -> bool:
    """Whether ``exc`` is a defect of LlamaLens rather than a problem with the input."""
    return not isinstance(exc, (*EXPECTED, MemoryError))


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` on one line (newlines become spaces), at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def user_message(exc: BaseException) -> str:
    """One line for the user; for a bug, the traceback is written to the log first."""
    if isinstance(exc, MemoryError):
        return "not enough memory for this (the operation was stopped; nothing was changed)"
    if not is_bug(exc):
        return one_line(str(exc)) or type(exc).__name__
    path = write_report(exc)
    where = f"the details are in {path}" if path else "the details could not be written"
    summary = one_line(f"{type(exc).__name__}: {exc}", 200)
    return f"internal error ({summary}); this is a bug in LlamaLens, {where}"


def log_path() -> Path:
    from llamalens.model.paths import log_dir

    return log_dir() / LOG_NAME


def write_report(exc: BaseException) -> Path | None:
    """Append the traceback of ``exc`` (with versions and time) to the error log.

    Returns:
        The log file, or None when it cannot be written (the report is then dropped,
        never printed).
    """
    from llamalens import __version__

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    header = (
        f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')}  "
        f"LlamaLens {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"command: {' '.join(sys.argv)}\n"
    )
    try:
        path = log_path()
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(LOG_NAME + ".1"))
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(header + text + "\n")
    except OSError as err:
        log.debug("could not write the error log: %s", err)
        return None
    return path
