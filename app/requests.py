"""Frozen requests the GUI sends to the worker, and the plain results it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llamalens.app.state import RunInfo
from llamalens.model.model_info import ModelInfo
from llamalens.model.sampling import SamplingParams


@dataclass(frozen=True)
class LoadOptions:
    """Where and how a model runs: ``Engine.load``'s device, dtype and offload arguments."""

    device: str | None = None
    dtype: str | None = None
    max_memory: str | None = None
    offload_dir: str | None = None


@dataclass(frozen=True)
class LoadRequest:
    """Load a checkpoint (None: the default model)."""

    request_id: int
    path: str | None
    options: LoadOptions = LoadOptions()


@dataclass(frozen=True)
class TraceRequest:
    """Encode a prompt and run it with capture."""

    request_id: int
    prompt: str
    chat: bool = False
    plain: bool = False  # special-token text stays text
    layers: tuple[int, ...] | None = None  # capture only these layers (None: all)


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
    params: SamplingParams


@dataclass(frozen=True)
class AdoptRequest:
    """Continue from this trace (an opened session) when appending or generating."""

    request_id: int
    trace: Any


@dataclass(frozen=True)
class WalkRequest:
    """The walkthrough's values at some positions of a trace (``Engine.walk``)."""

    request_id: int
    trace: Any
    positions: tuple[int, ...]


TRACE_KINDS = (TraceRequest, AppendRequest, GenerateRequest, AdoptRequest)


@dataclass(frozen=True)
class ModelLoaded:
    """A loaded model's facts and its tokenizer (pure Python, safe on the GUI thread)."""

    info: ModelInfo
    tokenizer: Any


@dataclass(frozen=True)
class TraceResult:
    """A new trace (numpy inside) and how it came to be."""

    trace: Any
    run: RunInfo
