"""The one thread that owns the model: requests in, numpy results out.

The GUI never runs the model. It sends frozen requests with increasing ids and
drops answers whose id is stale; a request is skipped when a newer one of the
same family already waits; loads and runs can be cancelled at the next layer
or token through a flag checked in progress callbacks.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from llamalens.app.requests import (
    TRACE_KINDS,
    AdoptRequest,
    AnalysisResult,
    AppendRequest,
    GenerateRequest,
    LoadRequest,
    ModelInfo,
    TraceRequest,
    TraceResult,
)

log = logging.getLogger(__name__)
LENS_POSITIONS = 12  # the logit lens decodes the last positions (L·P·V work)


class Cancelled(Exception):
    """Raised inside the worker when the user cancels."""


def _family(request) -> type:
    return TraceRequest if isinstance(request, TRACE_KINDS) else type(request)


class ModelWorker(QObject):
    """Lives in its own QThread; handles one request at a time."""

    progress = Signal(int, float, str)
    loaded = Signal(int, object)  # request id, ModelInfo
    traced = Signal(int, object)  # request id, TraceResult
    analysed = Signal(int, object)  # request id, AnalysisResult
    failed = Signal(int, str)  # request id, message

    def __init__(self) -> None:
        super().__init__()
        self.model = None  # model.runtime.LoadedModel, touched only on this thread
        self.trace = None  # the latest trace this worker produced (for appending)
        self._induction = None  # (L, H) per loaded model
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
    def _check(self, request_id: int) -> None:
        with self._lock:
            if request_id in self._cancelled:
                raise Cancelled()

    def _stale(self, request) -> bool:
        with self._lock:
            return request.request_id < self._latest.get(_family(request), 0)

    @Slot(object)
    def handle(self, request) -> None:
        if self._stale(request):
            return
        try:
            if isinstance(request, LoadRequest):
                self._load(request)
            elif isinstance(request, AdoptRequest):
                self._adopt(request)
            elif self.model is None:
                raise ValueError("no model is loaded yet")
            elif isinstance(request, TraceRequest):
                self._trace(request)
            elif isinstance(request, AppendRequest):
                self._append(request, request.token_ids, "append")
            elif isinstance(request, GenerateRequest):
                self._generate(request)
        except Cancelled:
            self.failed.emit(request.request_id, "Cancelled.")
        except Exception as exc:  # shown to the user, never swallowed
            log.debug("request %s failed:\n%s", request, traceback.format_exc())
            self.failed.emit(request.request_id, str(exc).strip() or type(exc).__name__)
        finally:
            with self._lock:
                self._cancelled.discard(request.request_id)

    def _reporter(self, request_id: int):
        def report(fraction: float, message: str) -> None:
            self._check(request_id)
            self.progress.emit(request_id, fraction, message)

        return report

    def _load(self, req: LoadRequest) -> None:
        from llamalens.model.runtime import load_model

        loaded = load_model(req.path, self._reporter(req.request_id), req.device)
        self.model, self.trace, self._induction = loaded, None, None  # only on success
        ck, cfg = loaded.checkpoint, loaded.checkpoint.config
        self.loaded.emit(
            req.request_id,
            ModelInfo(
                name=loaded.name,
                path=str(ck.path),
                format=ck.format,
                device=str(loaded.device),
                dtype=str(loaded.dtype).removeprefix("torch."),
                n_layers=cfg.n_layers,
                n_heads=cfg.n_heads,
                n_kv_heads=cfg.n_kv_heads,
                n_params=ck.n_params,
                load_seconds=loaded.load_seconds,
                quantization=ck.metadata.get("quantization"),
                has_chat=loaded.tokenizer.chat_template is not None,
                tokenizer=loaded.tokenizer,
            ),
        )

    def _layer_progress(self, request_id: int, label: str):
        """A per-layer callback for the forward pass: progress and cancellation."""
        n = self.model.checkpoint.config.n_layers
        report = self._reporter(request_id)
        return lambda layer: report((layer + 1) / n, f"{label}: layer {layer + 1}/{n}")

    def _trace(self, req: TraceRequest) -> None:
        from llamalens.model.tracing import run_trace

        start = time.perf_counter()
        m = self.model
        text = m.prompt_text(req.prompt, req.chat)
        enc = m.tokenizer.encode_detailed(
            text, allow_special=req.chat or not req.plain, bos=False if req.chat else None
        )
        if not enc.ids:
            raise ValueError("the prompt is empty: type some text first")
        limit = m.checkpoint.config.max_seq_len
        if len(enc.ids) > limit:
            raise ValueError(
                f"the prompt has {len(enc.ids)} tokens; this model's context is {limit} tokens"
            )
        self.trace = run_trace(
            m.module, m.tokenizer, enc.ids, on_layer=self._layer_progress(req.request_id, "Running")
        )
        self.traced.emit(
            req.request_id,
            TraceResult(
                self.trace,
                "run",
                dropped=tuple((d.offset, d.byte) for d in enc.dropped),
                seconds=time.perf_counter() - start,
            ),
        )
        self._analyse(req)

    def _append(self, req, token_ids, kind: str) -> None:
        from llamalens.model.tracing import extend_trace

        if self.trace is None:
            raise ValueError("run a prompt first: there is nothing to append to")
        start = time.perf_counter()
        self.trace = extend_trace(
            self.model.module, self.model.tokenizer, self.trace, list(token_ids)
        )
        self.traced.emit(
            req.request_id,
            TraceResult(
                self.trace, kind, new_ids=tuple(token_ids), seconds=time.perf_counter() - start
            ),
        )

    def _adopt(self, req: AdoptRequest) -> None:
        """Appends continue the adopted trace if it fits the loaded model."""
        if self.model is None:
            self.trace = None  # nothing to continue with; a later Run starts afresh
            return
        cfg = self.model.checkpoint.config
        t = req.trace
        fits = (t.n_layers, t.n_heads, t.n_kv_heads, t.head_dim) == (
            cfg.n_layers,
            cfg.n_heads,
            cfg.n_kv_heads,
            cfg.head_dim,
        )
        self.trace = t if fits else None

    def _generate(self, req: GenerateRequest) -> None:
        """Sample and append up to n tokens; Cancel keeps the tokens made so far."""
        import numpy as np

        from llamalens.model.sampling import SamplingParams, sample
        from llamalens.model.tracing import generate_trace

        if self.trace is None:
            raise ValueError("run a prompt first: there is nothing to continue")
        start = time.perf_counter()
        params = SamplingParams(req.temperature, req.top_p, req.top_k, req.seed)
        rng = np.random.default_rng(req.seed)

        def keep_going(i: int) -> bool:
            self.progress.emit(req.request_id, i / req.n, f"Generated {i}/{req.n}")
            with self._lock:
                return req.request_id not in self._cancelled

        before = self.trace.n_tokens
        self.trace = generate_trace(
            self.model.module,
            self.model.tokenizer,
            self.trace,
            req.n,
            lambda logits: sample(logits, params, rng).token,
            keep_going,
        )
        new = tuple(int(i) for i in self.trace.token_ids[before:])
        self.traced.emit(
            req.request_id,
            TraceResult(self.trace, "generate", new_ids=new, seconds=time.perf_counter() - start),
        )
        self._analyse(req)

    def _analyse(self, req) -> None:
        """Head statistics and logit lens, skipped when a newer trace request waits."""
        from llamalens.model.head_stats import head_stats, induction_scores, logit_lens

        if self._stale(req) or self.trace is None:
            return
        m, trace = self.model, self.trace
        if self._induction is None:
            self._induction = induction_scores(m.module, high=m.checkpoint.config.vocab_size)
        stats = head_stats(trace, self._induction)
        positions = list(range(max(0, trace.n_tokens - LENS_POSITIONS), trace.n_tokens))
        ids, probs = logit_lens(m.module, trace, positions)
        text = [[[m.tokenizer.token(int(i)).text for i in cell] for cell in row] for row in ids]
        self.analysed.emit(
            req.request_id,
            AnalysisResult(
                stats={
                    "entropy": stats.entropy,
                    "sink": stats.sink,
                    "previous": stats.previous,
                    "self": stats.self_attn,
                    "induction": stats.induction,
                },
                lens_text=text,
                lens_probs=probs,
                positions=tuple(positions),
            ),
        )


def start_worker(parent: QObject) -> tuple[ModelWorker, QThread]:
    """Create the worker and its thread (started); the caller stops it on exit."""
    thread = QThread(parent)
    thread.setObjectName("modelThread")
    worker = ModelWorker()
    worker.moveToThread(thread)
    thread.start()
    return worker, thread
