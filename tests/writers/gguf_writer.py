"""Write tiny Llama checkpoints as GGUF files, the way llama.cpp's converter lays them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from llamalens.model.config import LlamaConfig

_GLOBAL = {
    "tok_embeddings.weight": "token_embd.weight",
    "norm.weight": "output_norm.weight",
    "output.weight": "output.weight",
    "rope_freqs": "rope_freqs.weight",
}
_LAYER = {
    "attention_norm.weight": "attn_norm.weight",
    "attention.wq.weight": "attn_q.weight",
    "attention.wk.weight": "attn_k.weight",
    "attention.wv.weight": "attn_v.weight",
    "attention.wo.weight": "attn_output.weight",
    "attention.wq.bias": "attn_q.bias",
    "attention.wk.bias": "attn_k.bias",
    "attention.wv.bias": "attn_v.bias",
    "ffn_norm.weight": "ffn_norm.weight",
    "feed_forward.w1.weight": "ffn_gate.weight",
    "feed_forward.w2.weight": "ffn_down.weight",
    "feed_forward.w3.weight": "ffn_up.weight",
}
_FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8}


def gguf_name(meta_name: str) -> str:
    """Meta name -> llama.cpp name; unknown names pass through unchanged."""
    if meta_name in _GLOBAL:
        return _GLOBAL[meta_name]
    parts = meta_name.split(".", 2)
    if parts[0] == "layers" and len(parts) == 3 and parts[2] in _LAYER:
        return f"blk.{parts[1]}.{_LAYER[parts[2]]}"
    return meta_name


def write_gguf(
    path: str | Path,
    tensors: dict[str, torch.Tensor],
    config: LlamaConfig,
    qtype: str = "F32",
    tokenizer_metadata: dict[str, Any] | None = None,
    arch: str = "llama",
) -> Path:
    """Write a GGUF file.

    Args:
        path: output file.
        tensors: weights in Meta naming (q/k rows in interleaved-pair order, as GGUF keeps them).
        config: written as ``<arch>.*`` metadata. Llama 3.1 ``rope_scaling`` becomes a
            ``rope_freqs.weight`` tensor of θ_i divisors, as llama.cpp's converter writes it.
        qtype: type of the 2-D weight matrices (``"F32"``, ``"F16"``, ``"Q8_0"``,
            ``"Q4_0"``, ``"Q4_1"``, ``"Q5_0"``...); 1-D tensors (norms, biases) stay F32.
        tokenizer_metadata: extra ``tokenizer.*`` keys, written as given.
        arch: ``general.architecture``.

    Returns:
        The path written.
    """
    import gguf

    path = Path(path)
    writer = gguf.GGUFWriter(path, arch)
    writer.add_name("tiny-llama")
    _add_hyperparameters(writer, config)
    writer.add_file_type(_FILE_TYPE.get(qtype, 0))
    for key, value in (tokenizer_metadata or {}).items():
        _add_value(writer, key, value)
    if config.rope_scaling is not None and "rope_freqs" not in tensors:
        tensors = dict(tensors, rope_freqs=rope_divisors(config))
    for name, tensor in tensors.items():
        array = tensor.detach().to(torch.float32).cpu().numpy()
        kind = qtype if array.ndim == 2 else "F32"
        data, raw_dtype = _encode(array, kind)
        writer.add_tensor(gguf_name(name), data, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def rope_divisors(config: LlamaConfig) -> torch.Tensor:
    """(hd/2,) float32 factors d_i with scaled θ_i = θ_i / d_i (1 for high frequencies)."""
    from llamalens.model.rope import rope_frequencies

    plain = rope_frequencies(config.head_dim, config.rope_theta)
    scaled = rope_frequencies(config.head_dim, config.rope_theta, config.rope_scaling)
    return (plain / scaled).to(torch.float32)


def _add_hyperparameters(writer: Any, c: LlamaConfig) -> None:
    writer.add_block_count(c.n_layers)
    writer.add_context_length(c.max_seq_len)
    writer.add_embedding_length(c.dim)
    writer.add_feed_forward_length(c.hidden_dim)
    writer.add_head_count(c.n_heads)
    writer.add_head_count_kv(c.n_kv_heads)
    writer.add_layer_norm_rms_eps(c.norm_eps)
    writer.add_rope_freq_base(c.rope_theta)
    writer.add_rope_dimension_count(c.head_dim)
    if c.head_dim != c.dim // c.n_heads:
        writer.add_key_length(c.head_dim)
        writer.add_value_length(c.head_dim)
    writer.add_vocab_size(c.vocab_size)


def _encode(array: np.ndarray, qtype: str) -> tuple[np.ndarray, Any]:
    """Quantize with gguf's reference quantizer; F32/F16 go through as plain arrays."""
    import gguf

    if qtype == "F32":
        return array, None
    if qtype == "F16":
        return array.astype(np.float16), None
    kind = gguf.GGMLQuantizationType[qtype]
    return gguf.quants.quantize(array, kind), kind


def _add_value(writer: Any, key: str, value: Any) -> None:
    """Add one metadata value, choosing the GGUF type llama.cpp uses for it."""
    from gguf import GGUFValueType as T

    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int) and value >= 0:
        writer.add_uint32(key, value)
    elif isinstance(value, int):
        writer.add_int32(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    elif isinstance(value, str):
        writer.add_string(key, value)
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], bool):
        writer.add_key_value(key, list(value), T.ARRAY, sub_type=T.BOOL)
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], float):
        writer.add_key_value(key, list(value), T.ARRAY, sub_type=T.FLOAT32)
    elif isinstance(value, (list, tuple)):
        writer.add_array(key, list(value))
    else:
        raise TypeError(f"metadata {key!r} has unsupported type {type(value).__name__}")
