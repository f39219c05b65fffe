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
from llamalens.model.config import LlamaConfig
from llamalens.model.errors import CheckpointError
from llamalens.model.loaders.dequant import SUPPORTED_TYPES, dequantize
from llamalens.model.loaders.gguf_file import TensorInfo, read_gguf
from llamalens.model.loaders.hf import unpermute
from llamalens.model.loaders.validate import check_config, expected_shapes
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
        progress: called with (fraction 0..1, message) at most about 100 times: once for
            reading the metadata, then per tensor while dequantizing.

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
    report(0.97, "Loading tokenizer")
    tokenizer = _load_tokenizer(metadata, path)
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
    """Build and validate the LlamaConfig from ``<architecture>.*`` metadata.

    Args:
        path: the file, for error messages.
        metadata: from :func:`model.loaders.gguf_meta.read_metadata`.
        infos: GGUF tensor name -> tensor info (for the vocabulary size and to detect tied
            embeddings and q/k/v biases); only ``shape`` is used.

    Raises:
        CheckpointError: a required key is missing, or the values are inconsistent.
    """
    arch = metadata.get("general.architecture", "llama")

    def get(key: str, default: Any = None) -> Any:
        return metadata.get(f"{arch}.{key}", default)

    def need(key: str) -> Any:
        if f"{arch}.{key}" not in metadata:
            raise CheckpointError(path, f"metadata key '{arch}.{key}' is missing")
        return metadata[f"{arch}.{key}"]

    dim, n_heads = need("embedding_length"), need("attention.head_count")
    n_kv_heads = get("attention.head_count_kv", n_heads)
    head_dim = get("attention.key_length", get("rope.dimension_count", 0))
    _check_rope_scaling(path, arch, metadata)
    try:
        config = LlamaConfig(
            dim=dim,
            n_layers=need("block_count"),
            n_heads=n_heads,
            n_kv_heads=n_kv_heads,
            vocab_size=_vocab_size(arch, metadata, infos),
            hidden_dim=need("feed_forward_length"),
            norm_eps=_f32_decimal(get("attention.layer_norm_rms_epsilon", 1e-5)),
            rope_theta=_f32_decimal(get("rope.freq_base", 10000.0)),
            max_seq_len=get("context_length", 8192),
            tie_embeddings="output.weight" not in infos,
            qkv_bias="blk.0.attn_q.bias" in infos or arch == "qwen2",  # llama.cpp needs them
            head_dim=head_dim,
        )
    except (TypeError, ValueError) as exc:  # e.g. per-layer head counts stored as arrays
        raise CheckpointError(
            path,
            f"{arch}.* metadata has values of the wrong type ({exc}), expected one number per key",
        ) from exc
    check_config(path, config)
    return config


def _vocab_size(arch: str, metadata: dict[str, Any], infos: dict[str, TensorInfo]) -> int:
    """``<arch>.vocab_size``, else the embedding's rows (Qwen2 pads them past the token
    list), else the number of tokens."""
    if f"{arch}.vocab_size" in metadata:
        return metadata[f"{arch}.vocab_size"]
    embedding = infos.get("token_embd.weight")
    if embedding is not None and len(embedding.shape) == 2:
        return embedding.shape[0]
    return len(metadata.get("tokenizer.ggml.tokens") or [])


def _check_rope_scaling(path: Path, arch: str, metadata: dict[str, Any]) -> None:
    """Llama 3.1 GGUFs carry their scaling as the ``rope_freqs`` tensor; others change the math."""
    kind = metadata.get(f"{arch}.rope.scaling.type", "none")
    factor = metadata.get(f"{arch}.rope.scaling.factor", 1.0)
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


def _load_tokenizer(metadata: dict[str, Any], path: Path) -> Tokenizer | None:
    """The file's tokenizer, or None when it ships none."""
    if "tokenizer.ggml.model" not in metadata:
        return None
    from llamalens.model.tokenizer import load_gguf_tokenizer

    return load_gguf_tokenizer(metadata, path)


def _summary(path: Path, metadata: dict[str, Any], plan: list) -> dict:
    """Facts for display: name, dominant quantization, tensor type counts, chat template."""
    import gguf

    weights: Counter[str] = Counter()
    for _, info, shape in plan:
        if len(shape) == 2:
            weights[info.type_name] += info.n_elements
    file_type = metadata.get("general.file_type")
    if file_type in {t.value for t in gguf.LlamaFileType}:
        file_type = gguf.LlamaFileType(file_type).name
    return {
        "name": metadata.get("general.name") or path.stem,
        "architecture": metadata.get("general.architecture"),
        "quantization": weights.most_common(1)[0][0] if weights else None,
        "file_type": file_type,
        "chat_template": metadata.get("tokenizer.chat_template"),
        "tensor_types": dict(Counter(info.type_name for _, info, _ in plan)),
    }


class _Throttled:
    """Forwards progress at most once per 1 % step (plus the final 100 %)."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.last = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.callback is None:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction >= self.last + 0.01 or (fraction == 1.0 and self.last < 1.0):
            self.last = fraction
            self.callback(fraction, message)

    def span(self, lo: float, hi: float) -> Progress:
        """A callback mapping a sub-task's 0..1 onto lo..hi of the whole."""
        return lambda fraction, message: self(lo + (hi - lo) * fraction, message)
