"""Frozen requests the GUI sends to the worker, and the plain results it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llamalens.app.state import RunInfo
from llamalens.model.model_info import ModelInfo
from llamalens.model.sampling import SamplingParams
from llamalens.model.variants import Variant


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
    variant: Variant = Variant()  # the what-if variant to run (default: the model)


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
class RunSpec:
    """One side of a compare: a prompt as typed and the variant to run it with."""

    prompt: str
    chat: bool = False
    plain: bool = False
    variant: Variant = Variant()


@dataclass(frozen=True)
class RankRequest:
    """Ablate each head of ``layers`` (None: all) and measure the next token's change."""

    request_id: int
    run: RunSpec
    layers: tuple[int, ...] | None = None
    mode: str = "zero"
    target: int | None = None  # None: the most likely next token


@dataclass(frozen=True)
class CompareRequest:
    """Trace two runs for the Compare panel (the current trace stays as it is)."""

    request_id: int
    a: RunSpec
    b: RunSpec


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
    """A new trace (numpy inside), how it came to be, and for a variant the unchanged
    model's :class:`~llamalens.model.variants.Baseline` of the same prompt."""

    trace: Any
    run: RunInfo
    baseline: Any = None


@dataclass(frozen=True)
class CompareResult:
    """The two traces of a compare."""

    a: Any
    b: Any
