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
_FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q4_K": 15}
# llama.cpp's converter permutes q/k rows to adjacent pairs for these, and keeps Hugging
# Face's two-halves order for the others (qwen2)
_ADJACENT_PAIRS = {"llama"}


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
        tensors: weights in Meta naming (q/k rows in adjacent-pair order). For ``llama`` they
            are written so; for ``qwen2`` in Hugging Face's two-halves order, as llama.cpp's
            converter leaves them.
        config: written as ``<arch>.*`` metadata. Llama 3.1 ``rope_scaling`` becomes a
            ``rope_freqs.weight`` tensor of θ_i divisors, as llama.cpp's converter writes it.
        qtype: type of the 2-D weight matrices (``"F32"``, ``"F16"``, ``"Q8_0"``,
            ``"Q4_0"``, ``"Q4_1"``, ``"Q5_0"``, ``"Q5_1"``, ``"Q4_K"``); 1-D tensors (norms,
            biases) stay F32.
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
    if arch not in _ADJACENT_PAIRS:
        tensors = halves_order(tensors, config)
    for name, tensor in tensors.items():
        array = tensor.detach().to(torch.float32).cpu().numpy()
        kind = _stored_type(qtype, array)
        data, raw_dtype = _encode(array, kind)
        writer.add_tensor(gguf_name(name), data, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def halves_order(tensors: dict[str, torch.Tensor], config: LlamaConfig) -> dict[str, torch.Tensor]:
    """q/k rows (weights and biases) in Hugging Face's two-halves order."""
    from tests.writers.checkpoints import permute_for_hf

    out = dict(tensors)
    for name, tensor in tensors.items():
        if ".attention.wq." in name:
            out[name] = permute_for_hf(tensor, config.n_heads).contiguous()
        elif ".attention.wk." in name:
            out[name] = permute_for_hf(tensor, config.n_kv_heads).contiguous()
    return out


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


def _stored_type(qtype: str, array: np.ndarray) -> str:
    """1-D tensors stay F32; rows that are not whole blocks fall back as llama.cpp's quantizer
    does (a K-quant to Q5_0)."""
    import gguf

    if array.ndim != 2:
        return "F32"
    if qtype in ("F32", "F16"):
        return qtype
    block, _ = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[qtype]]
    return qtype if array.shape[1] % block == 0 else "Q5_0"


def _encode(array: np.ndarray, qtype: str) -> tuple[np.ndarray, Any]:
    """Quantize with gguf's reference quantizer; F32/F16 go through as plain arrays."""
    import gguf

    if qtype == "F32":
        return array, None
    if qtype == "F16":
        return array.astype(np.float16), None
    kind = gguf.GGMLQuantizationType[qtype]
    if qtype == "Q4_K":
        from tests.writers.k_quants import quantize_q4_k

        return quantize_q4_k(array), kind
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
