"""Time and memory bounds for tests of hostile input.

``with bounded(megabytes=64):`` runs the block under a generous wall-clock *timeout* (a
SIGALRM that turns a hang into a failure instead of a stuck run; never a speed
assertion) and measures, in this process, the peak memory allocated inside the block:
Python and numpy allocations through :mod:`tracemalloc`, and the resident set size
(torch and other C libraries) sampled every few milliseconds from ``/proc``. The block
fails if either peak exceeds ``megabytes``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MB = 2**20


class Hang(Exception):
    """The block ran past its timeout."""


@dataclass
class Peak:
    """Peaks measured in a block, in bytes above what was in use when it started."""

    traced: int = 0
    rss: int = 0


def rss_bytes() -> int | None:
    """The process's resident set size, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.start_rss = rss_bytes() or 0
        self.peak = self.start_rss
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            now = rss_bytes()
            if now is not None:
                self.peak = max(self.peak, now)
            time.sleep(0.002)


def _on_alarm(_signum, _frame):
    raise Hang("the block ran past its timeout (a hang)")


@contextmanager
def bounded(megabytes: float, timeout: float = 120.0) -> Iterator[Peak]:
    """Fail if the block allocates more than ``megabytes`` or runs past ``timeout`` s.

    Yields:
        The :class:`Peak`, filled when the block ends (for tests that report it).
    """
    peak = Peak()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start_traced = tracemalloc.get_traced_memory()[0]
    sampler = _Sampler()
    sampler.start()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield peak
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sampler.stop.set()
        sampler.join()
        peak.traced = tracemalloc.get_traced_memory()[1] - start_traced
        peak.rss = max(0, sampler.peak - sampler.start_rss)
        if not was_tracing:
            tracemalloc.stop()
    limit = megabytes * MB
    assert peak.traced <= limit, f"allocated {peak.traced / MB:.1f} MB (limit {megabytes} MB)"
    assert peak.rss <= limit, f"resident memory grew {peak.rss / MB:.1f} MB (limit {megabytes})"
