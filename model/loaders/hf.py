"""Hugging Face format: ``config.json`` + ``*.safetensors`` (+ ``tokenizer.json`` or
``tokenizer.model``, ``tokenizer_config.json``, ``chat_template.jinja``).

Hugging Face's Meta→HF conversion permutes the rows of wq/wk so that RoPE acts
on two halves (x[:hd/2], x[hd/2:]) instead of adjacent pairs. We undo it, so
that every checkpoint reaches the model in Meta's convention.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.config import LlamaConfig, RopeScaling
from llamalens.model.errors import CheckpointError
from llamalens.model.loaders.safetensors_file import read_safetensors_file
from llamalens.model.loaders.validate import check_config, check_tensors, read_json_object
from llamalens.model.rope_scaling import yarn_mscale
from llamalens.model.stored import StoredTensor, Weight, derived

Progress = Callable[[float, str], None]
SUPPORTED_TYPES = {"llama", "qwen2", "mistral"}

_LAYER_NAMES = {
    "self_attn.q_proj": "attention.wq",
    "self_attn.k_proj": "attention.wk",
    "self_attn.v_proj": "attention.wv",
    "self_attn.o_proj": "attention.wo",
    "mlp.gate_proj": "feed_forward.w1",
    "mlp.down_proj": "feed_forward.w2",
    "mlp.up_proj": "feed_forward.w3",
    "input_layernorm": "attention_norm",
    "post_attention_layernorm": "ffn_norm",
}
_TOP_NAMES = {
    "model.embed_tokens.weight": "tok_embeddings.weight",
    "model.norm.weight": "norm.weight",
    "lm_head.weight": "output.weight",
}
_LAYER_RE = re.compile(r"model\.layers\.(\d+)\.(.+)\.(weight|bias)$")


def unpermute(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Undo HF's q/k row permutation: per head, halves [a…, b…] → pairs (a0, b0, a1, b1…).

    Args:
        w: (H·hd, d) weight or (H·hd,) bias in HF order.
        n_heads: number of heads the rows belong to.

    Returns:
        Same shape, rows in Meta's interleaved order.
    """
    rows = w.shape[0]
    hd = rows // n_heads
    rest = w.shape[1:]
    return w.reshape(n_heads, 2, hd // 2, *rest).transpose(1, 2).reshape(rows, *rest)


def read_config(path: Path) -> dict[str, Any]:
    """config.json as a dict, with errors naming the file."""
    return read_json_object(path, "a Hugging Face checkpoint")


def config_from_hf(path: Path, c: dict[str, Any], has_lm_head: bool) -> LlamaConfig:
    """LlamaConfig from ``config.json`` (transformers 4 ``rope_scaling``, 5 ``rope_parameters``)."""
    kind = c.get("model_type")
    if kind not in SUPPORTED_TYPES:
        raise CheckpointError(
            path, f"model_type is {kind!r}; supported are {sorted(SUPPORTED_TYPES)}"
        )
    rope = dict(c.get("rope_parameters") or {})
    rope.update(c.get("rope_scaling") or {})
    try:
        scaling = rope_scaling_from_hf(rope)
        heads = int(c["num_attention_heads"])
        cfg = LlamaConfig(
            dim=int(c["hidden_size"]),
            n_layers=int(c["num_hidden_layers"]),
            n_heads=heads,
            n_kv_heads=int(c.get("num_key_value_heads") or heads),
            vocab_size=int(c["vocab_size"]),
            hidden_dim=int(c["intermediate_size"]),
            norm_eps=float(c.get("rms_norm_eps", 1e-6)),
            rope_theta=float(rope.get("rope_theta", c.get("rope_theta", 10000.0))),
            rope_scaling=scaling,
            max_seq_len=int(c.get("max_position_embeddings", 8192)),
            tie_embeddings=bool(c.get("tie_word_embeddings", False)) or not has_lm_head,
            qkv_bias=bool(c.get("attention_bias", kind == "qwen2")),
            head_dim=int(c.get("head_dim") or 0),
        )
    except KeyError as exc:
        raise CheckpointError(path, f"has no {exc.args[0]!r} entry") from exc
    except UnsupportedRope as exc:
        raise CheckpointError(path, str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f"has a malformed entry ({exc})") from exc
    check_config(path, cfg)
    return cfg


class UnsupportedRope(ValueError):
    """A ``rope_type`` this loader does not compute."""


HF_ROPE_TYPES = ("linear", "yarn", "llama3")


def rope_scaling_from_hf(rope: dict[str, Any]) -> RopeScaling | None:
    """A config.json ``rope_scaling`` / ``rope_parameters`` entry as a RopeScaling.

    Raises:
        UnsupportedRope: for a type other than default, linear, yarn and llama3.
        KeyError, TypeError, ValueError: a missing or malformed entry.
    """
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind in ("default", None):
        return None
    if kind not in HF_ROPE_TYPES:
        raise UnsupportedRope(
            f"rope type {kind!r} is not supported (supported: default, "
            + ", ".join(HF_ROPE_TYPES)
            + ")"
        )
    factor = float(rope["factor"])
    if kind == "linear":
        return RopeScaling(factor=factor, rope_type="linear")
    original = int(rope["original_max_position_embeddings"])
    if kind == "llama3":
        return RopeScaling(
            factor=factor,
            low_freq_factor=float(rope["low_freq_factor"]),
            high_freq_factor=float(rope["high_freq_factor"]),
            original_max_position=original,
        )
    return RopeScaling(
        factor=factor,
        original_max_position=original,
        rope_type="yarn",
        beta_fast=float(rope.get("beta_fast") or 32.0),
        beta_slow=float(rope.get("beta_slow") or 1.0),
        attention_factor=_yarn_attention(rope, factor),
        truncate=bool(rope.get("truncate", True)),
    )


def _yarn_attention(rope: dict[str, Any], factor: float) -> float | None:
    """YaRN's attention factor as written, or from DeepSeek's mscale pair (None: default)."""
    if rope.get("attention_factor") is not None:
        return float(rope["attention_factor"])
    mscale, mscale_all = rope.get("mscale"), rope.get("mscale_all_dim")
    if mscale and mscale_all:
        return yarn_mscale(factor, float(mscale)) / yarn_mscale(factor, float(mscale_all))
    return None


def safetensor_files(directory: Path) -> list[Path]:
    """The weight files: from model.safetensors.index.json if present, else *.safetensors."""
    index = directory / "model.safetensors.index.json"
    if index.exists():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(index, f"is not a valid safetensors index ({exc})") from exc
        files = [directory / n for n in names]
        for f in files:
            if not f.exists():
                raise CheckpointError(f, "is listed in model.safetensors.index.json but missing")
        return files
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise CheckpointError(directory, "has config.json but no *.safetensors weights")
    return files


def read_safetensors(files: list[Path], report: Progress) -> dict[str, StoredTensor]:
    """All tensors of all files, as stored and memory-mapped, keyed by their HF names."""
    tensors: dict[str, StoredTensor] = {}
    for i, file in enumerate(files):
        report(0.8 * i / len(files), f"Reading {file.name}")
        tensors.update(read_safetensors_file(file))
    return tensors


def to_meta_names(path: Path, hf: dict[str, Weight], cfg: LlamaConfig):
    """Rename HF tensors to Meta's names and un-permute q/k rows (weights and biases)."""
    out: dict[str, Weight] = {}
    for name, t in hf.items():
        if name in _TOP_NAMES:
            out[_TOP_NAMES[name]] = t
            continue
        m = _LAYER_RE.match(name)
        if not m or m.group(2) not in _LAYER_NAMES:
            if name.endswith("rotary_emb.inv_freq"):
                continue  # old exports stored the RoPE table; it is recomputed
            raise CheckpointError(path, f"unexpected tensor {name!r} for a Llama checkpoint")
        meta = _LAYER_NAMES[m.group(2)]
        if meta in ("attention.wq", "attention.wk"):
            n = cfg.n_heads if meta == "attention.wq" else cfg.n_kv_heads
            t = derived(t, lambda w, n=n: unpermute(w, n).contiguous())
        out[f"layers.{m.group(1)}.{meta}.{m.group(3)}"] = t
    return out


def load_hf(directory: Path, progress: Progress | None = None) -> Checkpoint:
    """Load a Hugging Face Llama directory."""
    report = progress or (lambda _f, _m: None)
    raw = read_config(directory / "config.json")
    files = safetensor_files(directory)
    hf = read_safetensors(files, report)
    cfg = config_from_hf(directory / "config.json", raw, "lm_head.weight" in hf)
    report(0.85, "Checking tensors")
    tensors = to_meta_names(files[0] if len(files) == 1 else directory, hf, cfg)
    if cfg.tie_embeddings:
        tensors.pop("output.weight", None)
    check_tensors(files[0] if len(files) == 1 else directory, tensors, cfg)
    tokenizer = None
    for name in ("tokenizer.json", "tokenizer.model"):  # transformers prefers tokenizer.json
        if (directory / name).is_file():
            from llamalens.model.tokenizer import load_tokenizer

            report(0.95, f"Loading {name}")
            tokenizer = load_tokenizer(directory / name)
            break
    name = raw.get("_name_or_path") or directory.name
    return Checkpoint(
        path=directory,
        format="hf",
        config=cfg,
        tensors=tensors,
        tokenizer=tokenizer,
        metadata={"name": name, "shards": len(files)},
        mapped=True,
    )
