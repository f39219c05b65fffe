"""Hugging Face format: ``config.json`` + ``*.safetensors`` (+ ``tokenizer.json`` or
``tokenizer.model``, ``tokenizer_config.json``, ``chat_template.jinja``).

Hugging Face's Meta→HF conversion permutes the rows of wq/wk so that RoPE acts
on two halves (x[:hd/2], x[hd/2:]) instead of adjacent pairs. We undo it, so
that every checkpoint reaches the model in Meta's convention.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.config import LlamaConfig
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields
from llamalens.model.files import inside
from llamalens.model.loaders.hf_config import SUPPORTED_TYPES, config_from_hf
from llamalens.model.loaders.safetensors_file import read_safetensors_file
from llamalens.model.loaders.validate import check_shapes, layer_indices, read_json_object
from llamalens.model.stored import StoredTensor, Weight, derived

Progress = Callable[[float, str], None]
MAX_INDEX_BYTES = 2**26  # a 405B model's index is a few hundred kB
__all__ = ["SUPPORTED_TYPES", "load_hf", "unpermute"]

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


def safetensor_files(directory: Path) -> tuple[list[Path], dict[str, str] | None]:
    """The weight files and the index's tensor → file map (None without an index).

    Index entries must be plain file names inside ``directory``.
    """
    index = directory / "model.safetensors.index.json"
    if index.exists() or index.is_symlink():
        raw = read_json_object(index, "a sharded checkpoint", limit=MAX_INDEX_BYTES)
        weight_map = Fields(raw, index).obj("weight_map")
        mapping = {name: weight_map.string(name, max_len=1024) for name in weight_map.data}
        if not mapping:
            raise CheckpointError(index, "weight_map is empty, expected tensor -> file entries")
        names = sorted(set(mapping.values()))
        files = [inside(directory, n, index, f"weight_map entry {n!r}") for n in names]
        for f in files:
            if not f.exists():
                raise CheckpointError(f, "is listed in model.safetensors.index.json but missing")
        return files, mapping
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise CheckpointError(directory, "has config.json but no *.safetensors weights")
    return files, None


def read_headers(
    directory: Path, files: list[Path], mapping: dict[str, str] | None
) -> dict[str, tuple[Path, StoredTensor]]:
    """HF tensor name → (file, memory-mapped tensor), from the checked headers alone.

    A tensor in two files, or one the index places elsewhere (or not at all), is refused.
    """
    where: dict[str, tuple[Path, StoredTensor]] = {}
    index = directory / "model.safetensors.index.json"
    for file in files:
        for name, tensor in read_safetensors_file(file).items():
            if name in where:
                raise CheckpointError(
                    file, f"holds tensor {name!r}, which {where[name][0].name} holds too"
                )
            if mapping is not None and mapping.get(name) != file.name:
                raise CheckpointError(
                    index,
                    f"weight_map puts {name!r} in {mapping.get(name)!r}, but {file.name} holds it",
                )
            where[name] = (file, tensor)
    if mapping is not None:
        missing = sorted(set(mapping) - set(where))
        if missing:
            raise CheckpointError(
                directory / mapping[missing[0]],
                f"does not hold tensor {missing[0]!r}, which the index places there",
            )
    return where


def meta_name(name: str) -> str | None:
    """The Meta name of an HF tensor name, or None for one LlamaLens does not know."""
    if name in _TOP_NAMES:
        return _TOP_NAMES[name]
    m = _LAYER_RE.match(name)
    if not m or m.group(2) not in _LAYER_NAMES:
        return None
    return f"layers.{int(m.group(1))}.{_LAYER_NAMES[m.group(2)]}.{m.group(3)}"


def _plan(
    path: Path, where: dict[str, tuple[Path, StoredTensor]], cfg: LlamaConfig
) -> dict[str, Weight]:
    """Meta name → weight (q/k rows un-permuted when read), checked against the config
    from the headers: names, shapes and a floating dtype."""
    plan: dict[str, str] = {}
    for name in where:
        meta = meta_name(name)
        if meta is None:
            if name.endswith("rotary_emb.inv_freq"):
                continue  # old exports stored the RoPE table; it is recomputed
            raise CheckpointError(path, f"unexpected tensor {name!r} for a Llama checkpoint")
        if meta in plan:
            raise CheckpointError(path, f"tensors {plan[meta]!r} and {name!r} are the same weight")
        plan[meta] = name
    if cfg.tie_embeddings:
        plan.pop("output.weight", None)
    check_shapes(path, {m: where[h][1].shape for m, h in plan.items()}, cfg)
    tensors: dict[str, Weight] = {}
    for meta, name in plan.items():
        file, t = where[name]
        if not t.dtype.is_floating_point:
            raise CheckpointError(file, f"tensor {name!r} has dtype {t.stored}, expected a float")
        heads = {".attention.wq.": cfg.n_heads, ".attention.wk.": cfg.n_kv_heads}
        for part, n in heads.items():
            if part in meta:
                t = derived(t, lambda w, n=n: unpermute(w, n).contiguous())
        tensors[meta] = t
    return tensors


def load_hf(directory: Path, progress: Progress | None = None) -> Checkpoint:
    """Load a Hugging Face Llama directory: config and headers checked before any data.

    Weights stay as stored and memory-mapped; they are read, one tensor at a time with
    progress, while the model is built.
    """
    report = progress or (lambda _f, _m: None)
    raw = read_config(directory / "config.json")
    files, mapping = safetensor_files(directory)
    report(0.1, "Reading the safetensors headers")
    where = read_headers(directory, files, mapping)
    layers = layer_indices(where, _LAYER_RE)
    cfg = config_from_hf(directory / "config.json", raw, "lm_head.weight" in where, layers)
    report(0.85, "Checking tensors")
    tensors = _plan(files[0] if len(files) == 1 else directory, where, cfg)
    tokenizer = None
    for name in ("tokenizer.json", "tokenizer.model"):  # transformers prefers tokenizer.json
        if (directory / name).exists():  # not is_file(): a FIFO there is refused, not skipped
            from llamalens.model.tokenizer import load_tokenizer

            report(0.95, f"Loading {name}")
            tokenizer = load_tokenizer(directory / name)
            break
    name = raw.get("_name_or_path")
    return Checkpoint(
        path=directory,
        format="hf",
        config=cfg,
        tensors=tensors,
        tokenizer=tokenizer,
        metadata={
            "name": name if isinstance(name, str) and name else directory.name,
            "shards": len(files),
        },
        mapped=True,
    )
