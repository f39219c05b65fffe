"""The one thread that owns the model: requests in, plain results out.

The GUI never touches torch. It sends frozen requests with increasing ids;
the worker answers with the same id, so the GUI can drop stale answers. A
request is skipped if a newer one of the same kind is already waiting, and a
load can be cancelled through its progress callback.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside the worker when the user cancels a load."""


@dataclass(frozen=True)
class LoadRequest:
    """Load a checkpoint (None: the default model)."""

    request_id: int
    path: str | None
    device: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """Tokenize a prompt and predict the next token."""

    request_id: int
    prompt: str
    chat: bool = False
    top_n: int = 10


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI shows about the loaded model."""

    name: str
    path: str
    format: str
    device: str
    dtype: str
    n_layers: int
    n_heads: int
    n_params: int
    load_seconds: float
    has_chat: bool


@dataclass(frozen=True)
class RunResult:
    """Tokens of the prompt and the top next tokens (plain Python)."""

    ids: list[int]
    texts: list[str]
    byte_hex: list[str]
    special: list[bool]
    dropped: list[tuple[int, int]]
    top_ids: list[int]
    top_texts: list[str]
    top_probs: list[float]
    top_logits: list[float]
    seconds: float


class ModelWorker(QObject):
    """Lives in its own QThread; handles one request at a time."""

    progress = Signal(int, float, str)
    loaded = Signal(int, object)  # request id, ModelInfo
    ran = Signal(int, object)  # request id, RunResult
    failed = Signal(int, str)  # request id, message

    def __init__(self) -> None:
        super().__init__()
        self.model = None  # model.runtime.LoadedModel, touched only on this thread
        self._latest = {LoadRequest: 0, RunRequest: 0}
        self._lock = threading.Lock()
        self._cancel_id = -1

    def note_submitted(self, request) -> None:
        """Called on the GUI thread before queueing, so stale requests can be skipped."""
        with self._lock:
            self._latest[type(request)] = request.request_id

    def cancel(self, request_id: int) -> None:
        """Ask a running load to stop at its next progress report."""
        with self._lock:
            self._cancel_id = request_id

    @Slot(object)
    def handle(self, request) -> None:
        with self._lock:
            if request.request_id < self._latest[type(request)]:
                return  # a newer request of this kind is waiting: skip this one
        try:
            if isinstance(request, LoadRequest):
                self._load(request)
            else:
                self._run(request)
        except Cancelled:
            self.failed.emit(request.request_id, "Cancelled.")
        except Exception as exc:  # shown to the user, never swallowed
            log.debug("request %s failed:\n%s", request, traceback.format_exc())
            self.failed.emit(request.request_id, _describe(exc))

    def _load(self, req: LoadRequest) -> None:
        from model.runtime import load_model

        def report(fraction: float, message: str) -> None:
            with self._lock:
                if self._cancel_id == req.request_id:
                    raise Cancelled()
            self.progress.emit(req.request_id, fraction, message)

        loaded = load_model(req.path, report, req.device)
        self.model = loaded  # replaced only on success: a bad file keeps the old model
        ck = loaded.checkpoint
        self.loaded.emit(req.request_id, ModelInfo(
            name=loaded.name, path=str(ck.path), format=ck.format, device=str(loaded.device),
            dtype=str(loaded.dtype).removeprefix("torch."), n_layers=ck.config.n_layers,
            n_heads=ck.config.n_heads, n_params=ck.n_params, load_seconds=loaded.load_seconds,
            has_chat=loaded.tokenizer.chat_template is not None))

    def _run(self, req: RunRequest) -> None:
        import time

        if self.model is None:
            raise ValueError("no model is loaded yet")
        start = time.perf_counter()
        m = self.model
        text = m.prompt_text(req.prompt, req.chat)
        enc = m.tokenizer.encode_detailed(text, allow_special=True,
                                          bos=False if req.chat else None)
        if not enc.ids:
            raise ValueError("the prompt is empty: type some text first")
        toks = m.tokenizer.tokens(enc.ids)
        top = m.top_next(enc.ids, req.top_n)
        self.ran.emit(req.request_id, RunResult(
            ids=list(enc.ids), texts=[t.text for t in toks], byte_hex=[t.bytes.hex() for t in toks],
            special=[t.special for t in toks], dropped=[(d.offset, d.byte) for d in enc.dropped],
            top_ids=[t.id for t in top], top_texts=[t.text for t in top],
            top_probs=[t.prob for t in top], top_logits=[t.logit for t in top],
            seconds=time.perf_counter() - start))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


def start_worker(parent: QObject) -> tuple[ModelWorker, QThread]:
    """Create the worker and its thread (started); the caller must stop it on exit."""
    thread = QThread(parent)
    thread.setObjectName("modelThread")
    worker = ModelWorker()
    worker.moveToThread(thread)
    thread.start()
    return worker, thread
