"""Load a llama.cpp GGUF checkpoint into the Meta naming, each tensor read on demand.

Unquantized tensors (F32, F16, BF16) stay in their stored type, memory-mapped from the
file; quantized blocks are dequantized to float32, the smallest float type that holds
every decoded value exactly (an fp16 scale times a small integer, plus an fp16 minimum,
needs up to 19 significant bits), one tensor at a time while the model is built.

GGUF stores the hyper-parameters as ``<architecture>.*`` metadata (``llama.*``,
``qwen2.*``), the tokenizer as ``tokenizer.ggml.*`` metadata and the weights under
llama.cpp names (``blk.N.attn_q.weight``). GGUF lists dimensions fastest-first
(``ne0`` = columns); PyTorch order is the reverse.

RoPE layout of q/k rows: llama.cpp's converter permutes a ``llama`` model's q/k rows from
Hugging Face's two-halves order back to Meta's adjacent pairs (llama.cpp rotates those with
its "normal" RoPE), but leaves a ``qwen2`` model's rows (and biases) in Hugging Face's order
(rotated with its "NeoX" RoPE). So ``qwen2`` q/k rows are un-permuted here, as for a
Hugging Face checkpoint.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.config import LIMITS, LlamaConfig
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields
from llamalens.model.loaders.dequant import SUPPORTED_TYPES, dequantize
from llamalens.model.loaders.gguf_file import TensorInfo, read_gguf
from llamalens.model.loaders.hf import unpermute
from llamalens.model.loaders.validate import (
    check_config,
    check_layers,
    expected_shapes,
    layer_indices,
)
from llamalens.model.stored import StoredTensor, derived

if TYPE_CHECKING:
    from llamalens.model.tokenizer import Tokenizer

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

_GLOBAL_NAMES = {
    "token_embd.weight": "tok_embeddings.weight",
    "output_norm.weight": "norm.weight",
    "output.weight": "output.weight",
    "rope_freqs.weight": "rope_freqs",
}
_LAYER_NAMES = {
    "attn_norm.weight": "attention_norm.weight",
    "attn_q.weight": "attention.wq.weight",
    "attn_k.weight": "attention.wk.weight",
    "attn_v.weight": "attention.wv.weight",
    "attn_output.weight": "attention.wo.weight",
    "attn_q.bias": "attention.wq.bias",
    "attn_k.bias": "attention.wk.bias",
    "attn_v.bias": "attention.wv.bias",
    "ffn_norm.weight": "ffn_norm.weight",
    "ffn_gate.weight": "feed_forward.w1.weight",
    "ffn_down.weight": "feed_forward.w2.weight",
    "ffn_up.weight": "feed_forward.w3.weight",
}
_BLOCK = re.compile(r"blk\.(\d+)\.(.+)")
ARCHITECTURES = ("llama", "qwen2")
# architectures whose q/k rows llama.cpp keeps in Hugging Face's two-halves order
_HALVES_LAYOUT = {"qwen2"}


def meta_name(gguf_name: str) -> str | None:
    """The Meta name of a GGUF tensor name.

    Example: ``blk.3.ffn_up.weight`` -> ``layers.3.feed_forward.w3.weight``.

    Returns:
        The Meta name, or None for a tensor LlamaLens does not know.
    """
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    match = _BLOCK.fullmatch(gguf_name)
    if match and match.group(2) in _LAYER_NAMES:
        return f"layers.{int(match.group(1))}.{_LAYER_NAMES[match.group(2)]}"
    return None


def load_gguf(path: str | Path, progress: Progress | None = None) -> Checkpoint:
    """Load a GGUF file of architecture ``llama`` (Llama 1/2/3, Mistral, SmolLM...) or
    ``qwen2`` (Qwen2, Qwen2.5: q/k/v biases).

    Dequantizing is cheap (well under a second for the default model), so weights are
    decoded on every load rather than cached on disk.

    Args:
        path: the ``.gguf`` file.
        progress: called with (fraction 0..1, message) for reading the metadata and between
            the stages of the tokenizer (raising in it stops the load); tensors are read,
            with progress per tensor, while the model is built.

    Returns:
        A Checkpoint with format ``"gguf"``, tensors in Meta naming (read on demand),
        the tokenizer (None if the file has no ``tokenizer.ggml.*`` metadata) and
        metadata ``name``, ``architecture``, ``quantization``, ``file_type``,
        ``chat_template`` and ``tensor_types``.

    Raises:
        CheckpointError: the file is unreadable, truncated, not a Llama GGUF, has
            inconsistent metadata, unknown, missing or misshapen tensors, or an
            unsupported tensor type.
    """
    path = Path(path)
    report = _Throttled(progress)
    report(0.0, f"Reading metadata of {path.name}")
    gguf_file = read_gguf(path)
    metadata = gguf_file.metadata
    arch = _architecture(path, metadata)
    infos = {t.name: t for t in gguf_file.tensors}  # names are unique: read_gguf checks
    config = config_from_metadata(path, metadata, infos)
    plan = _plan(path, config, infos)
    tensors = {name: _stored(path, info, shape) for name, info, shape in plan}
    if arch in _HALVES_LAYOUT:
        _to_adjacent_pairs(tensors, config)
    tokenizer = _load_tokenizer(metadata, path, lambda: report(0.97, "Loading tokenizer"))
    report(1.0, "Done")
    log.info("loaded %s: %d tensors", path, len(tensors))
    return Checkpoint(
        path=path,
        format="gguf",
        config=config,
        tensors=tensors,
        tokenizer=tokenizer,
        metadata=_summary(path, metadata, plan),
        mapped=any(info.type_name in _AS_STORED for _, info, _ in plan),
    )


def _architecture(path: Path, metadata: dict[str, Any]) -> str:
    arch = metadata.get("general.architecture")
    if arch not in ARCHITECTURES:
        expected = " or ".join(repr(a) for a in ARCHITECTURES)
        raise CheckpointError(path, f"unsupported architecture {arch!r}, expected {expected}")
    return arch


def config_from_metadata(
    path: Path, metadata: dict[str, Any], infos: dict[str, TensorInfo]
) -> LlamaConfig:
    """The LlamaConfig of ``<architecture>.*`` metadata, each value type-checked (one
    number per key, finite, in range), the block count against the tensors' layers first.

    Args:
        path: the file, for error messages.
        metadata: from :func:`model.loaders.gguf_meta.read_metadata`.
        infos: GGUF tensor name -> tensor info (vocabulary size, tied embeddings, biases).

    Raises:
        CheckpointError: a key missing, a value of the wrong type or range, or inconsistent.
    """
    arch = metadata.get("general.architecture", "llama")
    f = Fields(metadata, path, what="GGUF metadata")

    def key(name: str) -> str:
        return f"{arch}.{name}"

    n_layers = f.integer(key("block_count"), 1, 2**63)
    check_layers(path, n_layers, layer_indices(infos, _BLOCK), key("block_count"))
    n_heads = f.integer(key("attention.head_count"), 1, LIMITS["n_heads"])
    head_dim = f.integer(key("rope.dimension_count"), 1, LIMITS["head_dim"], 0)
    _check_rope_scaling(path, f, arch)
    config = LlamaConfig(
        dim=f.integer(key("embedding_length"), 1, LIMITS["dim"]),
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv_heads=f.integer(key("attention.head_count_kv"), 1, LIMITS["n_kv_heads"], n_heads),
        vocab_size=_vocab_size(f, arch, metadata, infos),
        hidden_dim=f.integer(key("feed_forward_length"), 1, LIMITS["hidden_dim"]),
        norm_eps=_f32_decimal(f.number(key("attention.layer_norm_rms_epsilon"), 0, 1, 1e-5)),
        rope_theta=_f32_decimal(f.number(key("rope.freq_base"), 0, 1e30, 10000.0, above=True)),
        max_seq_len=f.integer(key("context_length"), 1, LIMITS["max_seq_len"], 8192),
        tie_embeddings="output.weight" not in infos,
        qkv_bias="blk.0.attn_q.bias" in infos or arch == "qwen2",  # llama.cpp needs them
        head_dim=f.integer(key("attention.key_length"), 1, LIMITS["head_dim"], head_dim),
    )
    check_config(path, config)
    return config


def _vocab_size(f: Fields, arch: str, metadata: dict[str, Any], infos: dict[str, TensorInfo]):
    """``<arch>.vocab_size``, else the embedding's rows (Qwen2 pads them past the token
    list), else the number of tokens."""
    if f.has(f"{arch}.vocab_size"):
        return f.integer(f"{arch}.vocab_size", 1, LIMITS["vocab_size"])
    embedding = infos.get("token_embd.weight")
    if embedding is not None and len(embedding.shape) == 2:
        return embedding.shape[0]
    tokens = metadata.get("tokenizer.ggml.tokens")
    return len(tokens) if isinstance(tokens, list) else 0


def _check_rope_scaling(path: Path, f: Fields, arch: str) -> None:
    """Llama 3.1 GGUFs carry their scaling as the ``rope_freqs`` tensor; others change the math."""
    kind = f.string(f"{arch}.rope.scaling.type", "none", max_len=64)
    factor = f.number(f"{arch}.rope.scaling.factor", 0, 1e6, 1.0)
    if kind not in ("none", "") and not (kind == "linear" and factor == 1.0):
        raise CheckpointError(
            path,
            f"rope scaling {kind!r} (factor {factor}) is not supported, "
            "expected none (Llama 3.1 scaling comes as rope_freqs)",
        )


def _f32_decimal(value: float) -> float:
    """GGUF stores these as float32: recover the decimal the author wrote (1e-05, not 9.99e-06)."""
    import numpy as np

    return float(str(np.float32(value)))


def _plan(
    path: Path, config: LlamaConfig, infos: dict[str, TensorInfo]
) -> list[tuple[str, TensorInfo, tuple[int, ...]]]:
    """Match the file's tensors to the expected ones: (meta name, tensor info, shape) in order.

    Raises:
        CheckpointError: unknown, missing, misshapen or unsupported-type tensors.
    """
    expected = expected_shapes(config)
    if "rope_freqs.weight" in infos:
        expected["rope_freqs"] = (config.head_dim // 2,)
    by_meta = {meta_name(name): info for name, info in infos.items()}
    unknown = [name for name in infos if meta_name(name) not in expected]
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        shown = ", ".join(unknown[:5]) + more
        raise CheckpointError(path, f"unknown tensors for a {config.n_layers}-layer Llama: {shown}")
    plan = []
    for name, shape in expected.items():
        info = by_meta.get(name)
        if info is None:
            raise CheckpointError(path, f"tensor {_gguf_name(name)} ({name}) is missing")
        if info.shape != shape:
            raise CheckpointError(
                path,
                f"tensor {info.name} has shape {info.shape}, expected "
                f"{shape} from the metadata (config disagrees with "
                "tensors)",
            )
        if info.type_name not in SUPPORTED_TYPES:
            raise CheckpointError(
                path,
                f"tensor {info.name} has type {info.type_name}; "
                f"supported types are {', '.join(SUPPORTED_TYPES)}",
            )
        plan.append((name, info, shape))
    return plan


def _gguf_name(name: str) -> str:
    inverse = {v: k for k, v in _GLOBAL_NAMES.items()}
    if name in inverse:
        return inverse[name]
    _, layer, rest = name.split(".", 2)
    return f"blk.{layer}." + {v: k for k, v in _LAYER_NAMES.items()}[rest]


_AS_STORED = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def _stored(path: Path, info: TensorInfo, shape: tuple[int, ...]) -> StoredTensor:
    """A tensor of the file, read when the model is built: as stored, or dequantized."""
    dtype = _AS_STORED.get(info.type_name, torch.float32)

    def read() -> torch.Tensor:
        try:
            if info.type_name in _AS_STORED:  # a view of the file's bytes, no copy
                return _view(info.data(), dtype, shape)
            return dequantize(info.data(), info.type_name, shape)
        except ValueError as exc:
            raise CheckpointError(path, f"tensor {info.name} is corrupt ({exc})") from exc

    return StoredTensor(shape, dtype, info.type_name, read)


def _view(raw, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    """The bytes of a read-only memory map as a tensor (torch warns about read-only
    buffers; the model never writes its weights)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.frombuffer(raw, dtype=dtype).view(shape)


def _to_adjacent_pairs(tensors: dict[str, StoredTensor], config: LlamaConfig) -> None:
    """Un-permute q/k rows (weights and biases) stored in Hugging Face's two-halves order."""
    for name, tensor in tensors.items():
        heads = {".attention.wq.": config.n_heads, ".attention.wk.": config.n_kv_heads}
        for part, n in heads.items():
            if part in name:
                tensors[name] = derived(tensor, lambda t, n=n: unpermute(t, n).contiguous())


def _load_tokenizer(
    metadata: dict[str, Any], path: Path, step: Callable[[], None]
) -> Tokenizer | None:
    """The file's tokenizer, or None when it ships none (``step`` between its stages)."""
    if "tokenizer.ggml.model" not in metadata:
        return None
    from llamalens.model.tokenizer import load_gguf_tokenizer

    return load_gguf_tokenizer(metadata, path, step)


def _summary(path: Path, metadata: dict[str, Any], plan: list) -> dict:
    """Facts for display: name, dominant quantization, tensor type counts, chat template."""
    import gguf

    weights: Counter[str] = Counter()
    for _, info, shape in plan:
        if len(shape) == 2:
            weights[info.type_name] += info.n_elements
    file_type = metadata.get("general.file_type")
    if not isinstance(file_type, int) or isinstance(file_type, bool):
        file_type = None
    elif file_type in {t.value for t in gguf.LlamaFileType}:
        file_type = gguf.LlamaFileType(file_type).name
    return {
        "name": name if isinstance(name := metadata.get("general.name"), str) else path.stem,
        "architecture": metadata.get("general.architecture"),
        "quantization": weights.most_common(1)[0][0] if weights else None,
        "file_type": file_type,
        "chat_template": template
        if isinstance(template := metadata.get("tokenizer.chat_template"), str)
        else None,
        "tensor_types": dict(Counter(info.type_name for _, info, _ in plan)),
    }


class _Throttled:
    """Forwards every call (a cancel is checked there, once per tensor), but changes the
    message at most once per 1 % step, so a text progress log stays short."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.last = -1.0
        self.message = ""

    def __call__(self, fraction: float, message: str) -> None:
        if self.callback is None:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction >= self.last + 0.01 or (fraction == 1.0 and self.last < 1.0):
            self.last, self.message = fraction, message
        self.callback(fraction, self.message)

    def span(self, lo: float, hi: float) -> Progress:
        """A callback mapping a sub-task's 0..1 onto lo..hi of the whole."""
        return lambda fraction, message: self(lo + (hi - lo) * fraction, message)
