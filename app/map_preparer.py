"""Long prompts' maps, prepared on a thread of their own and kept at display resolution.

A 4096-token map is 64 MB and takes a few hundred milliseconds to rebuild; at 8192 it
is 256 MB. Stepping heads must not wait for that, and the window cannot keep every map
whole. So for prompts longer than PREPARE_ABOVE tokens the maps of the selected layer
(the selected head first) and of the layers above and below are computed here, row
chunk by row chunk, each reduced at once to a block-maximum overview of at most
OVERVIEW_PIXELS a side; only those overviews are kept. The attention panel and the head
grid draw from them, and zooming in asks the trace for real rows.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from llamalens.viz.map_overview import MapOverview, OverviewBuilder, overview_block

log = logging.getLogger(__name__)

PREPARE_ABOVE = 1024  # tokens: shorter prompts' maps are computed when shown
CACHE_BYTES = 256 * 2**20  # overviews kept (a 1024² overview with its mask is 5 MB)
CHUNK_ROWS = 512  # rows of a map computed at once (an 8192-token chunk is 16 MB)
NEIGHBOUR_LAYERS = 1  # layers above and below the selected one prepared too


@dataclass(frozen=True)
class MapKey:
    """One map of one trace (the trace by identity: a new run is a new trace)."""

    trace: int
    layer: int
    head: int
    stage: str


def prepare_overview(trace: Any, layer: int, head: int, stage: str) -> MapOverview:
    """The block-maximum overview of one map of ``trace``, built from row chunks."""
    n = trace.n_tokens
    builder = OverviewBuilder(n, overview_block(n))
    step = builder.chunk_rows(CHUNK_ROWS)
    mask = trace.map_mask(stage)
    for start in range(0, n, step):
        stop = min(n, start + step)
        rows = trace.attention_rows(layer, head, stage, start, stop)  # (R, T)
        builder.add_rows(start, rows, None if mask is None else mask[start:stop])
    return builder.finish()


class _Jobs:
    """The maps still to prepare, most wanted first (replaced as the selection moves)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[Any, MapKey]] = deque()

    def replace(self, jobs: list[tuple[Any, MapKey]]) -> None:
        with self._lock:
            self._queue = deque(jobs)

    def pop(self) -> tuple[Any, MapKey] | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


class _Worker(QObject):
    """On the preparer's thread: prepares queued maps one by one until none is left."""

    prepared = Signal(object, object)  # MapKey, MapOverview
    idle = Signal()

    def __init__(self, jobs: _Jobs) -> None:
        super().__init__()
        self.jobs = jobs

    @Slot()
    def work(self) -> None:
        while (job := self.jobs.pop()) is not None:
            trace, key = job
            try:
                overview = prepare_overview(trace, key.layer, key.head, key.stage)
            except Exception:  # a failed map must not stop the others; shown as not ready
                log.exception("could not prepare map %s", key)
                continue
            self.prepared.emit(key, overview)
        self.idle.emit()


class MapPreparer(QObject):
    """Prepares and caches overviews; lives on the GUI thread, works on its own thread.

    Signals:
        ready(MapKey): an overview has arrived (emitted on the GUI thread).
        idle(): nothing is left to prepare.
    """

    ready = Signal(object)
    idle = Signal()
    _kick = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[MapKey, MapOverview] = OrderedDict()
        self._trace: Any = None
        self._jobs = _Jobs()
        self._thread = QThread(self)
        self._thread.setObjectName("mapThread")
        self._worker = _Worker(self._jobs)
        self._worker.moveToThread(self._thread)
        self._kick.connect(self._worker.work)
        self._worker.prepared.connect(self._store)
        self._worker.idle.connect(self._on_idle)
        self._thread.start()

    @staticmethod
    def wanted(trace: Any) -> bool:
        """True when ``trace``'s maps are long enough to be prepared here."""
        return trace is not None and trace.n_tokens > PREPARE_ABOVE

    def key(self, trace: Any, layer: int, head: int, stage: str) -> MapKey:
        return MapKey(id(trace), layer, head, stage)

    def overview(self, trace: Any, layer: int, head: int, stage: str) -> MapOverview | None:
        """The prepared overview, or None when it is not ready (yet)."""
        key = self.key(trace, layer, head, stage)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    def request(self, trace: Any, layer: int, head: int, stage: str) -> None:
        """Prepare this map first, then its layer's other heads, then the layers next to it;
        the layer's softmax maps too (the head grid's thumbnails) when ``stage`` is another.

        A new trace forgets the old one's overviews.
        """
        if trace is not self._trace:
            self._trace = trace
            self._cache.clear()
        heads = range(trace.n_heads)
        order = [(layer, head, stage)]
        if stage != "probs":
            order += [(layer, h, "probs") for h in heads]
        order += [(layer, h, stage) for h in heads if h != head]
        captured = list(trace.layers)  # a run may capture some layers only
        at = captured.index(layer)
        for step in range(1, NEIGHBOUR_LAYERS + 1):
            for near in (at + step, at - step):
                if 0 <= near < len(captured):
                    order += [(captured[near], h, stage) for h in heads]
        jobs = []
        for lay, h, st in order:
            key = self.key(trace, lay, h, st)
            if key not in self._cache:
                jobs.append((trace, key))
        self._jobs.replace(jobs)
        if jobs:
            self._kick.emit()

    def pending(self) -> int:
        """Maps still waiting to be prepared."""
        return len(self._jobs)

    def _store(self, key: MapKey, overview: MapOverview) -> None:
        if self._trace is None or key.trace != id(self._trace):
            return  # prepared for a trace that is gone
        self._cache[key] = overview
        total = sum(o.nbytes for o in self._cache.values())
        while len(self._cache) > 1 and total > CACHE_BYTES:
            _, dropped = self._cache.popitem(last=False)
            total -= dropped.nbytes
        self.ready.emit(key)

    def _on_idle(self) -> None:
        if not len(self._jobs):
            self.idle.emit()

    def stop(self) -> None:
        """Drop what is queued and end the thread (after the map in hand)."""
        self._jobs.replace([])
        self._thread.quit()
        self._thread.wait(30_000)
