"""Progress of loading and running on stderr for the CLI: a bar on a terminal, else silence.

``--quiet`` turns the bar off; ``--verbose`` prints each step as a line, also into a log
file or a pipe (where a redrawn bar would leave dozens of lines of "Dequantizing ...").
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

MODES = ("auto", "quiet", "verbose")


def mode_of(args: argparse.Namespace) -> str:
    """``quiet``, ``verbose`` or ``auto`` from the command's --quiet / --verbose."""
    if getattr(args, "quiet", False):
        return "quiet"
    return "verbose" if getattr(args, "verbose", False) else "auto"


class TextProgress:
    """Callable ``(fraction, message)``.

    auto: ``[#####.....]  50% message`` redrawn in place when stderr is a terminal, and
    nothing otherwise; quiet: nothing; verbose: one line per new message, anywhere. Use as
    a context manager to end the bar's line cleanly.
    """

    def __init__(self, width: int = 30, stream=None, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode is {mode!r}, expected one of {MODES}")
        self.width = width
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = mode
        self._last_msg = ""
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self.mode == "quiet" or (self.mode == "auto" and not self.tty):
            return
        if self.mode == "verbose":
            if message != self._last_msg:
                print(f"llamalens: {message}", file=self.stream, flush=True)
            self._last_msg = message
            return
        now = time.monotonic()
        if now - self._last_draw < 0.05 and fraction < 1.0 and message == self._last_msg:
            return
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        room = max(0, shutil.get_terminal_size((80, 24)).columns - self.width - 9)
        shown = message if len(message) <= room else message[: max(room - 1, 0)] + "…"
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {shown:<{room}}")
        self.stream.flush()
        self._last_msg, self._last_draw, self._drawn = message, now, True

    def __enter__(self) -> TextProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
