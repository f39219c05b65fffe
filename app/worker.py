"""The one thread that owns the model: requests in, numpy results out.

The GUI never runs the model. It sends frozen requests with increasing ids and
drops answers whose id is stale; a request is skipped when a newer one of the
same family already waits. Everything long can be cancelled: a flag set from the GUI
thread is checked after every tensor of a load, every layer of a forward pass (runs,
appends, each generated token, the analysis) and before every generated token, so a
cancel takes effect within one layer's work.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from llamalens.app.bug_report import user_message
from llamalens.app.requests import (
    TRACE_KINDS,
    AdoptRequest,
    AppendRequest,
    CompareRequest,
    CompareResult,
    GenerateRequest,
    LoadRequest,
    ModelLoaded,
    RankRequest,
    RunSpec,
    TraceRequest,
    TraceResult,
    WalkRequest,
)
from llamalens.app.state import RunInfo
from llamalens.model.errors import Cancelled
from llamalens.model.variants import Variant

if TYPE_CHECKING:
    from llamalens.model.engine import Engine

log = logging.getLogger(__name__)


def _family(request) -> type:
    return TraceRequest if isinstance(request, TRACE_KINDS) else type(request)


class ModelWorker(QObject):
    """Lives in its own QThread; handles one request at a time."""

    progress = Signal(int, float, str)
    loaded = Signal(int, object)  # request id, ModelLoaded
    traced = Signal(int, object)  # request id, TraceResult
    analysed = Signal(int, object)  # request id, llamalens.model.analysis.Analysis
    ranked = Signal(int, object)  # request id, llamalens.model.head_ranking.HeadRanking
    compared = Signal(int, object)  # request id, CompareResult
    walked = Signal(int, object)  # request id, llamalens.model.position_capture.PositionDetail
    failed = Signal(int, str)  # request id, message
    cancelled = Signal(int)  # request id: it stopped (what it finished was already sent)

    def __init__(self) -> None:
        super().__init__()
        self.engine: Engine | None = None  # touched only on this thread
        self.trace = None  # the latest trace this worker produced (for appending)
        self._latest: dict[type, int] = {}
        self._lock = threading.Lock()
        self._cancelled: set[int] = set()

    # ---- called from the GUI thread ------------------------------------------------------
    def note_submitted(self, request) -> None:
        """Record the newest id of each family before queueing, to skip stale ones."""
        with self._lock:
            self._latest[_family(request)] = request.request_id

    def cancel(self, request_id: int) -> None:
        """Ask a running request to stop at its next progress report."""
        with self._lock:
            self._cancelled.add(request_id)

    # ---- on the worker thread ------------------------------------------------------------
    def _is_cancelled(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._cancelled

    def _check(self, request_id: int) -> None:
        if self._is_cancelled(request_id):
            raise Cancelled()

    def _stale(self, request) -> bool:
        with self._lock:
            return request.request_id < self._latest.get(_family(request), 0)

    @Slot(object)
    def handle(self, request) -> None:
        if self._stale(request):
            return
        try:
            self._check(request.request_id)  # cancelled while it waited
            if isinstance(request, LoadRequest):
                self._load(request)
            elif isinstance(request, AdoptRequest):
                self._adopt(request)
            elif self.engine is None:
                raise ValueError(self.tr("no model is loaded yet: open a checkpoint first"))
            else:
                with self.engine.interruptible(lambda: self._check(request.request_id)):
                    self._run(request)
        except Cancelled:
            self.cancelled.emit(request.request_id)
        except Exception as exc:  # one message for the user; a bug's traceback goes to the log
            log.debug("request %s failed", request, exc_info=True)
            self.failed.emit(request.request_id, user_message(exc))
        finally:
            with self._lock:
                self._cancelled.discard(request.request_id)

    def _run(self, request) -> None:
        if isinstance(request, TraceRequest):
            self._trace(request)
        elif isinstance(request, AppendRequest):
            self._append(request)
        elif isinstance(request, GenerateRequest):
            self._generate(request)
        elif isinstance(request, RankRequest):
            self._rank(request)
        elif isinstance(request, CompareRequest):
            self._compare(request)
        elif isinstance(request, WalkRequest):
            self._walk(request)

    def _reporter(self, request_id: int):
        def report(fraction: float, message: str) -> None:
            self._check(request_id)
            self.progress.emit(request_id, fraction, message)

        return report

    def _checker(self, request_id: int):
        """A per-layer callback that only checks for a cancel (no progress signal)."""
        return lambda _layer: self._check(request_id)

    def _load(self, req: LoadRequest) -> None:
        from llamalens.model.engine import Engine  # torch and the loaders: off the GUI thread

        options = dataclasses.asdict(req.options)
        engine = Engine.load(req.path, **options, progress=self._reporter(req.request_id))
        self.engine, self.trace = engine, None  # only on success
        self.loaded.emit(req.request_id, ModelLoaded(engine.info(), engine.tokenizer))

    def _layer_progress(self, request_id: int, label: str):
        """A per-layer callback for the forward pass: progress and cancellation."""
        n = self.engine.config.n_layers
        report = self._reporter(request_id)
        text = self.tr("{label}: layer {layer}/{n}")
        return lambda layer: report((layer + 1) / n, text.format(label=label, layer=layer + 1, n=n))

    def _trace(self, req: TraceRequest) -> None:
        start = time.perf_counter()
        engine = self.engine
        if req.variant != engine.variant:
            engine.set_variant(req.variant)
        enc = engine.encode(req.prompt, chat=req.chat, plain=req.plain)
        progress = self._layer_progress(req.request_id, self.tr("Running"))
        self.trace = engine.trace(enc.ids, on_layer=progress, layers=req.layers)
        baseline = self._baseline()
        dropped = tuple((d.offset, d.byte) for d in enc.dropped)
        run = RunInfo("run", dropped=dropped, seconds=time.perf_counter() - start)
        self.traced.emit(req.request_id, TraceResult(self.trace, run, baseline))
        self._analyse(req)

    def _baseline(self):
        """The unchanged model on the current trace's tokens, for a variant (else None)."""
        if self.engine.variant.is_model():
            return None
        return self.engine.baseline(self.trace.token_ids.tolist())

    def _encode(self, spec: RunSpec) -> list[int]:
        return self.engine.encode(spec.prompt, chat=spec.chat, plain=spec.plain).ids

    def _rank(self, req: RankRequest) -> None:
        """Rank heads on the request's variant; the current one is restored after."""
        report = self._reporter(req.request_id)
        text = self.tr("Ranking heads: layer {done}/{n}")
        progress = lambda done, n: report(done / n, text.format(done=done, n=n))  # noqa: E731
        with self.engine.varied(req.run.variant) as engine:
            ranking = engine.rank_heads(
                self._encode(req.run), req.layers, req.mode, req.target, on_layer=progress
            )
        self.ranked.emit(req.request_id, ranking)

    def _compare(self, req: CompareRequest) -> None:
        """Trace both sides, each with its variant; the current trace and cache stay."""
        traces = []
        for side, spec in (("A", req.a), ("B", req.b)):
            with self.engine.varied(spec.variant) as engine:
                what = self.tr("Comparing: run {side}").format(side=side)
                progress = self._layer_progress(req.request_id, what)
                traces.append(engine.trace(self._encode(spec), on_layer=progress))
        self.compared.emit(req.request_id, CompareResult(*traces))

    def _append(self, req: AppendRequest) -> None:
        if self.trace is None:
            raise ValueError(self.tr("run a prompt first: there is nothing to append to"))
        start = time.perf_counter()
        check = self._checker(req.request_id)
        self.trace = self.engine.append(self.trace, req.token_ids, on_layer=check)
        run = RunInfo("append", new_ids=req.token_ids, seconds=time.perf_counter() - start)
        self.traced.emit(req.request_id, TraceResult(self.trace, run, self._baseline()))

    def _adopt(self, req: AdoptRequest) -> None:
        """Appends continue the adopted trace if it fits the loaded model."""
        fits = self.engine is not None and self.engine.fits(req.trace)
        if fits:  # continue it with the variant that made it
            self.engine.set_variant(Variant.from_dict(req.trace.variant))
        self.trace = req.trace if fits else None  # else a later Run starts afresh

    def _generate(self, req: GenerateRequest) -> None:
        """Sample and append up to n tokens; Cancel keeps the tokens made so far."""
        if self.trace is None:
            raise ValueError(self.tr("run a prompt first: there is nothing to continue"))
        start = time.perf_counter()

        generated = self.tr("Generated {i}/{n}")

        def keep_going(i: int) -> bool:
            self.progress.emit(req.request_id, i / req.n, generated.format(i=i, n=req.n))
            return not self._is_cancelled(req.request_id)

        before = self.trace.n_tokens
        self.trace = self.engine.generate_trace(
            self.trace,
            req.n,
            req.params,
            keep_going=keep_going,
            on_layer=self._checker(req.request_id),
        )
        new = tuple(int(i) for i in self.trace.token_ids[before:])
        run = RunInfo("generate", new_ids=new, seconds=time.perf_counter() - start)
        self.traced.emit(req.request_id, TraceResult(self.trace, run, self._baseline()))
        self._check(req.request_id)  # a cancel skips the analysis
        self._analyse(req)

    def _walk(self, req: WalkRequest) -> None:
        """The per-position values of the walkthrough, if the loaded model made the trace."""
        if not self.engine.fits(req.trace):
            raise ValueError(self.tr("the loaded model is not the one that made this trace"))
        progress = self._layer_progress(req.request_id, self.tr("Walkthrough"))
        ids, variant = req.trace.token_ids.tolist(), Variant.from_dict(req.trace.variant)
        detail = self.engine.walk(ids, req.positions, on_layer=progress, variant=variant)
        self.walked.emit(req.request_id, detail)

    def _analyse(self, req) -> None:
        """Head statistics and logit lens, skipped when a newer trace request waits."""
        if self._stale(req) or self.trace is None:
            return
        progress = self._layer_progress(req.request_id, "Analysing")
        self.analysed.emit(req.request_id, self.engine.analyse(self.trace, on_layer=progress))


def start_worker(parent: QObject) -> tuple[ModelWorker, QThread]:
    """Create the worker and its thread (started); the caller stops it on exit."""
    thread = QThread(parent)
    thread.setObjectName("modelThread")
    worker = ModelWorker()
    worker.moveToThread(thread)
    thread.start()
    return worker, thread
