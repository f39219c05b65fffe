"""Frozen requests the GUI sends to the worker, and the plain results it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LoadRequest:
    """Load a checkpoint (None: the default model)."""

    request_id: int
    path: str | None
    device: str | None = None


@dataclass(frozen=True)
class TraceRequest:
    """Tokenize a prompt and run it with capture."""

    request_id: int
    prompt: str
    chat: bool = False
    plain: bool = False  # special-token text stays text


@dataclass(frozen=True)
class AppendRequest:
    """Append tokens to the current trace using the KV cache."""

    request_id: int
    token_ids: tuple[int, ...]


@dataclass(frozen=True)
class GenerateRequest:
    """Sample and append up to n tokens (stops at a stop token)."""

    request_id: int
    n: int
    temperature: float
    top_p: float
    top_k: int
    seed: int


@dataclass(frozen=True)
class AdoptRequest:
    """Continue from this trace (an opened session) when appending or generating."""

    request_id: int
    trace: Any


TRACE_KINDS = (TraceRequest, AppendRequest, GenerateRequest, AdoptRequest)


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
    n_kv_heads: int
    n_params: int
    load_seconds: float
    has_chat: bool
    quantization: str | None = None
    tokenizer: Any = None  # model.tokenizer.Tokenizer: pure Python, safe to read anywhere


@dataclass(frozen=True)
class TraceResult:
    """A new trace (numpy inside) and how it came to be.

    Attributes:
        trace: model.trace.Trace.
        kind: "run", "append" or "generate".
        new_ids: the appended/generated ids (empty for "run").
        dropped: (character offset, byte) pairs the vocabulary had no token for.
        seconds: wall time of the request.
    """

    trace: Any
    kind: str
    new_ids: tuple[int, ...] = ()
    dropped: tuple[tuple[int, int], ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class AnalysisResult:
    """Per-head statistics and the logit lens for a trace.

    Attributes:
        stats: column name → (L, H) array (entropy, sink, previous, self, induction).
        lens_text: (L, P, k) top-k token texts per layer and lens position.
        lens_probs: (L, P, k) their probabilities.
        positions: the P positions of the lens.
    """

    stats: dict[str, Any] = field(default_factory=dict)
    lens_text: list = field(default_factory=list)
    lens_probs: Any = None
    positions: tuple[int, ...] = ()
