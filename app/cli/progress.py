"""A one-line text progress bar on stderr for the CLI."""

from __future__ import annotations

import sys
import time


class TextProgress:
    """Callable ``(fraction, message)``; draws ``[#####.....]  50% message`` on a tty.

    When stderr is not a terminal, prints only when the message changes, so logs
    stay readable. Use as a context manager to end the line cleanly.
    """

    def __init__(self, width: int = 30, stream=None) -> None:
        self.width = width
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_msg = ""
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if not self.tty:
            if message != self._last_msg:
                print(f"llamalens: {message}", file=self.stream, flush=True)
            self._last_msg = message
            return
        now = time.monotonic()
        if now - self._last_draw < 0.05 and fraction < 1.0 and message == self._last_msg:
            return
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {message[:60]:<60}")
        self.stream.flush()
        self._last_msg, self._last_draw, self._drawn = message, now, True

    def __enter__(self) -> TextProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
