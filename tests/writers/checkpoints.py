"""Tiny seeded random Llamas written in Meta and Hugging Face formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from llamalens.model.config import LlamaConfig, RopeScaling
from llamalens.model.loaders.validate import expected_shapes
from tests.writers.tiny_vocab import TinyVocab, tiny_vocab


def tiny_config(vocab: TinyVocab | None = None, **overrides) -> LlamaConfig:
    """2 layers, d=64, 4 heads, 2 KV heads (GQA), hd=16, vocab of the tiny tokenizer."""
    vocab = vocab or tiny_vocab()
    base = dict(
        dim=64,
        n_layers=2,
        n_heads=4,
        n_kv_heads=2,
        vocab_size=vocab.size,
        hidden_dim=128,
        norm_eps=1e-5,
        rope_theta=10000.0,
        max_seq_len=256,
    )
    base.update(overrides)
    return LlamaConfig(**base)


def tiny_tensors(cfg: LlamaConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights with realistic scales (norm gains near 1), Meta naming."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in expected_shapes(cfg).items():
        if name.endswith("norm.weight"):
            out[name] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            out[name] = 0.1 * torch.randn(shape, generator=gen)
        else:
            out[name] = torch.randn(shape, generator=gen) / shape[-1] ** 0.5
    return out


def permute_for_hf(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Meta → HF row order for q/k (adjacent pairs → two halves per head)."""
    rows = w.shape[0]
    hd = rows // n_heads
    rest = w.shape[1:]
    return w.reshape(n_heads, hd // 2, 2, *rest).transpose(1, 2).reshape(rows, *rest)


def write_meta(
    directory: Path,
    tensors: dict[str, torch.Tensor],
    cfg: LlamaConfig,
    vocab: TinyVocab | None = None,
    n_shards: int = 1,
    *,
    sentencepiece_model: Path | None = None,
) -> Path:
    """params.json + consolidated.NN.pth (split like Meta's model-parallel shards).

    Args:
        directory: the Meta directory.
        tensors: weights in Meta naming.
        cfg: written as params.json.
        vocab: the tiny vocabulary, written as a Llama 3 (tiktoken) ``tokenizer.model``.
        n_shards: model-parallel shards.
        sentencepiece_model: instead, a Llama 2 directory as Meta published them: this
            SentencePiece ``tokenizer.model``, params.json with ``vocab_size: -1`` and
            ``multiple_of``, a ``rope.freqs`` tensor, embeddings split by columns.
    """
    import shutil

    from tests.writers.tokenizer_files import write_tiktoken_model

    directory.mkdir(parents=True, exist_ok=True)
    llama2 = sentencepiece_model is not None
    params = llama2_params(cfg) if llama2 else llama3_params(cfg)
    (directory / "params.json").write_text(json.dumps(params))
    if llama2:
        tensors = dict(tensors, **{"rope.freqs": meta_rope_freqs(cfg)})
    for i, shard in enumerate(split_shards(tensors, n_shards, embedding_by_columns=llama2)):
        torch.save(shard, directory / f"consolidated.{i:02d}.pth")
    if llama2:
        shutil.copyfile(sentencepiece_model, directory / "tokenizer.model")
    else:
        write_tiktoken_model(vocab or tiny_vocab(), directory / "tokenizer.model")
    return directory


def llama3_params(cfg: LlamaConfig) -> dict:
    params = {
        "dim": cfg.dim,
        "n_layers": cfg.n_layers,
        "n_heads": cfg.n_heads,
        "n_kv_heads": cfg.n_kv_heads,
        "vocab_size": cfg.vocab_size,
        "norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "max_seq_len": cfg.max_seq_len,
    }
    if cfg.rope_scaling:
        params["use_scaled_rope"] = True
        params["rope_scaling_factor"] = cfg.rope_scaling.factor
    return params


def llama2_params(cfg: LlamaConfig) -> dict:
    """Llama 2's params.json: no vocabulary size (-1), the width as ``multiple_of``."""
    from llamalens.model.loaders.meta import meta_hidden_dim

    multiple_of = next(
        (
            m
            for m in (256, 128, 64, 32, 16, 8)
            if meta_hidden_dim(cfg.dim, m, None) == cfg.hidden_dim
        ),
        None,
    )
    if multiple_of is None:
        raise ValueError(f"hidden_dim {cfg.hidden_dim} is not Meta's rule for dim {cfg.dim}")
    params = {
        "dim": cfg.dim,
        "multiple_of": multiple_of,
        "n_heads": cfg.n_heads,
        "n_layers": cfg.n_layers,
        "norm_eps": cfg.norm_eps,
        "vocab_size": -1,
    }
    if cfg.n_kv_heads != cfg.n_heads:
        params["n_kv_heads"] = cfg.n_kv_heads  # as Llama 2 70B's
    return params


def meta_rope_freqs(cfg: LlamaConfig) -> torch.Tensor:
    """The (hd/2,) ``rope.freqs`` table Llama 1/2 checkpoints carry (θ_i, as bf16 there)."""
    i = torch.arange(0, cfg.head_dim, 2, dtype=torch.float32)
    return (1.0 / cfg.rope_theta ** (i / cfg.head_dim)).to(torch.bfloat16)


def split_shards(
    tensors: dict[str, torch.Tensor], n: int, embedding_by_columns: bool = False
) -> list[dict[str, torch.Tensor]]:
    """Meta's model-parallel split: column-parallel by rows, row-parallel by columns; the
    embedding by rows (Llama 3) or by columns (Llama 2's ParallelEmbedding)."""
    if n == 1:
        return [dict(tensors)]
    shards: list[dict[str, torch.Tensor]] = [{} for _ in range(n)]
    for name, t in tensors.items():
        by_columns = ("attention.wo.weight", "feed_forward.w2.weight")
        if embedding_by_columns:
            by_columns = (*by_columns, "tok_embeddings.weight")
        if t.ndim == 1:
            parts = [t.clone() for _ in range(n)]
        elif name.endswith(by_columns):
            parts = list(t.chunk(n, dim=1))
        else:
            parts = list(t.chunk(n, dim=0))
        for shard, part in zip(shards, parts):
            shard[name] = part.clone()
    return shards


_HF_NAMES = {
    "attention.wq": "self_attn.q_proj",
    "attention.wk": "self_attn.k_proj",
    "attention.wv": "self_attn.v_proj",
    "attention.wo": "self_attn.o_proj",
    "feed_forward.w1": "mlp.gate_proj",
    "feed_forward.w2": "mlp.down_proj",
    "feed_forward.w3": "mlp.up_proj",
    "attention_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}


def hf_state_dict(
    tensors: dict[str, torch.Tensor], cfg: LlamaConfig, permute: bool = True
) -> dict[str, torch.Tensor]:
    """Meta names → HF names with q/k rows permuted as HF's conversion does (``permute=False``:
    the rows are in HF's order already)."""
    out = {}
    for name, t in tensors.items():
        if name == "tok_embeddings.weight":
            out["model.embed_tokens.weight"] = t
        elif name == "norm.weight":
            out["model.norm.weight"] = t
        elif name == "output.weight":
            out["lm_head.weight"] = t
        else:
            _, i, rest = name.split(".", 2)
            stem, kind = rest.rsplit(".", 1)
            if stem == "attention.wq" and permute:
                t = permute_for_hf(t, cfg.n_heads)
            elif stem == "attention.wk" and permute:
                t = permute_for_hf(t, cfg.n_kv_heads)
            out[f"model.layers.{i}.{_HF_NAMES[stem]}.{kind}"] = t
    return {k: v.contiguous() for k, v in out.items()}


def hf_config(cfg: LlamaConfig, model_type: str = "llama") -> dict:
    """A transformers-4-style config.json (what most checkpoints on disk carry); ``qwen2``
    as Qwen2.5's (q/k/v biases implied, no sliding window)."""
    if model_type == "qwen2":
        if not cfg.qkv_bias:
            raise ValueError("a Qwen2 config implies q/k/v biases")
        c = {
            **hf_config(cfg),
            "architectures": ["Qwen2ForCausalLM"],
            "model_type": "qwen2",
            "use_sliding_window": False,
            "max_window_layers": cfg.n_layers,
        }
        del c["attention_bias"]
        return c
    c = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.dim,
        "intermediate_size": cfg.hidden_dim,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "vocab_size": cfg.vocab_size,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.max_seq_len,
        "tie_word_embeddings": cfg.tie_embeddings,
        "hidden_act": "silu",
        "attention_bias": cfg.qkv_bias,
        "torch_dtype": "float32",
    }
    if cfg.rope_scaling:
        c["rope_scaling"] = hf_rope_scaling(cfg.rope_scaling)
    return c


def hf_rope_scaling(s: RopeScaling) -> dict:
    """A config.json ``rope_scaling`` entry as transformers writes it for each type."""
    if s.rope_type == "linear":
        return {"rope_type": "linear", "factor": s.factor}
    if s.rope_type == "ntk":
        raise ValueError("transformers has no static NTK-aware rope type to write")
    out = {
        "rope_type": s.rope_type,
        "factor": s.factor,
        "original_max_position_embeddings": s.original_max_position,
    }
    if s.rope_type == "llama3":
        out.update(low_freq_factor=s.low_freq_factor, high_freq_factor=s.high_freq_factor)
    else:
        out.update(beta_fast=s.beta_fast, beta_slow=s.beta_slow, truncate=s.truncate)
        if s.attention_factor is not None:
            out["attention_factor"] = s.attention_factor
    return out


def write_hf(
    directory: Path,
    tensors: dict[str, torch.Tensor],
    cfg: LlamaConfig,
    vocab: TinyVocab | None = None,
    n_shards: int = 1,
    *,
    model_type: str = "llama",
    write_tokenizer: Callable[[Path], object] | None = None,
    permute: bool = True,
) -> Path:
    """config.json + model.safetensors (or shards with an index) + tokenizer files.

    Args:
        directory: the Hugging Face directory.
        tensors: weights in Meta naming (``permute=False``: q/k rows already in HF order).
        cfg: written as config.json of ``model_type``.
        vocab: the tiny vocabulary, written as tokenizer.json unless ``write_tokenizer``.
        n_shards: safetensors shards (with an index when more than one).
        model_type: ``"llama"`` or ``"qwen2"``.
        write_tokenizer: writes the tokenizer files into the directory instead.
        permute: permute q/k rows from Meta's order to HF's.
    """
    from safetensors.torch import save_file

    from tests.writers.tokenizer_files import write_tokenizer_json

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(hf_config(cfg, model_type), indent=1))
    state = hf_state_dict(tensors, cfg, permute)
    if n_shards == 1:
        save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    else:
        names = sorted(state)
        weight_map = {}
        for i in range(n_shards):
            fname = f"model-{i + 1:05d}-of-{n_shards:05d}.safetensors"
            part = {n: state[n] for n in names[i::n_shards]}
            save_file(part, str(directory / fname), metadata={"format": "pt"})
            weight_map.update({n: fname for n in part})
        index = {"metadata": {}, "weight_map": weight_map}
        (directory / "model.safetensors.index.json").write_text(json.dumps(index))
    if write_tokenizer is not None:
        write_tokenizer(directory)
    else:
        write_tokenizer_json(vocab or tiny_vocab(), directory / "tokenizer.json")
    return directory
