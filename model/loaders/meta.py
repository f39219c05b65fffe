"""Meta's native format: ``params.json`` + ``consolidated.NN.pth`` (+ ``tokenizer.model``).

Llama 1/2 directories as published have ``vocab_size: -1`` in params.json (the vocabulary
comes from the embedding), a ``rope.freqs`` tensor (recomputed instead) and a SentencePiece
``tokenizer.model``; Llama 3 ones a tiktoken ``tokenizer.model``.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.config import LIMITS, LlamaConfig, RopeScaling
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields, shown
from llamalens.model.files import open_regular
from llamalens.model.loaders.validate import (
    check_config,
    check_layers,
    check_tensors,
    layer_indices,
    read_json_object,
)
from llamalens.model.stored import StoredTensor, Weight, stored_name

Progress = Callable[[float, str], None]

# Model-parallel shards split each matrix along one axis (fairscale's Column/RowParallel).
_CONCAT_DIM = {
    "attention.wq": 0,
    "attention.wk": 0,
    "attention.wv": 0,
    "feed_forward.w1": 0,
    "feed_forward.w3": 0,
    "output": 0,
    "attention.wo": 1,
    "feed_forward.w2": 1,
}
_DROPPED = {"rope.freqs"}  # Llama 1/2 checkpoints store the RoPE table; we recompute it
_LAYER_RE = re.compile(r"layers\.(\d+)\.")
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def read_params(path: Path) -> dict[str, Any]:
    """params.json as a dict, with errors naming the file."""
    return read_json_object(path, "a Meta checkpoint")


def meta_hidden_dim(dim: int, multiple_of: int, ffn_dim_multiplier: float | None) -> int:
    """Meta's rule for the SwiGLU width: 2/3·4d, scaled, rounded up to multiple_of."""
    hidden = int(2 * (4 * dim) / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def config_from_params(
    path: Path, params: dict[str, Any], vocab_size: int, hidden_dim: int, layers: set[int]
) -> LlamaConfig:
    """Build a LlamaConfig from params.json (every value type-checked); vocab and hidden
    widths come from the tensors, and ``n_layers`` must match the layers they hold."""
    f = Fields(params, path)
    n_layers = f.integer("n_layers", 1, 2**63)
    check_layers(path, n_layers, layers, "n_layers")
    n_heads = f.integer("n_heads", 1, LIMITS["n_heads"])
    scaling = None
    if f.boolean("use_scaled_rope", False):
        extra = f.obj("rope_scaling", None)
        scaling = RopeScaling(
            factor=f.number("rope_scaling_factor", 0, 1e6, extra.number("factor", 0, 1e6, 8.0)),
            low_freq_factor=extra.number("low_freq_factor", 0, 1e6, 1.0, above=True),
            high_freq_factor=extra.number("high_freq_factor", 0, 1e6, 4.0, above=True),
            original_max_position=extra.integer(
                "original_max_position_embeddings", 1, LIMITS["max_seq_len"], 8192
            ),
        )
    cfg = LlamaConfig(
        dim=f.integer("dim", 1, LIMITS["dim"]),
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv_heads=f.integer("n_kv_heads", 1, LIMITS["n_kv_heads"], n_heads),
        vocab_size=vocab_size,
        hidden_dim=hidden_dim,
        norm_eps=f.number("norm_eps", 0, 1, 1e-5, above=True),
        rope_theta=f.number("rope_theta", 0, 1e30, 10000.0, above=True),
        rope_scaling=scaling,
        max_seq_len=f.integer("max_seq_len", 1, LIMITS["max_seq_len"], 8192),
    )
    check_config(path, cfg)
    return cfg


def load_shard(path: Path) -> dict[str, torch.Tensor]:
    """torch.load with weights_only: a pickle that tries to run code is refused, not run.

    The state dict is checked before anything is copied (see :func:`check_state_dict`).
    """
    with open_regular(path) as fh:
        zipped = fh.read(4) == b"PK\x03\x04"  # torch.save's format; else a legacy pickle
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
        raise CheckpointError(
            path,
            f"is not a plain tensor file: loading it would run code, so it was refused ({first})",
        ) from exc
    except Exception as exc:  # torch's readers raise many kinds on a damaged file
        raise CheckpointError(path, f"is truncated or corrupt ({_first_line(exc)})") from exc
    check_state_dict(path, state)
    return state


def check_state_dict(path: Path, state: Any) -> None:
    """A dict of named float tensors of 1 or 2 dimensions, each stored contiguously in its
    own bytes: a view that repeats a few bytes (stride 0) or two names over one storage
    would expand a small file many times when copied."""
    if not isinstance(state, dict):
        raise CheckpointError(path, f"holds a {type(state).__name__}, expected a dict of tensors")
    spans = []
    for key, t in state.items():
        if not isinstance(key, str):
            raise CheckpointError(
                path, f"has a key {shown(key)} ({type(key).__name__}), expected tensor names"
            )
        if not isinstance(t, torch.Tensor):
            raise CheckpointError(path, f"entry {key!r} is a {type(t).__name__}, expected a tensor")
        if t.layout != torch.strided or t.dtype not in FLOAT_DTYPES:
            raise CheckpointError(
                path, f"tensor {key!r} is {t.layout} {t.dtype}, expected a dense real float type"
            )
        if t.ndim not in (1, 2) or not t.is_contiguous():
            raise CheckpointError(
                path,
                f"tensor {key!r} has shape {tuple(t.shape)} and strides {t.stride()}; "
                "expected a contiguous vector or matrix",
            )
        start = t.untyped_storage().data_ptr() + t.storage_offset() * t.element_size()
        spans.append((start, start + t.numel() * t.element_size(), key))
    spans.sort()
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:]):
        if begin < end:
            raise CheckpointError(path, f"tensors {a!r} and {b!r} share bytes (aliased storage)")


def check_shards(files: list[Path], shards: list[dict[str, torch.Tensor]]) -> None:
    """Model-parallel shards hold the same names, and their parts fit together."""
    names = set(shards[0])
    for file, shard in zip(files[1:], shards[1:]):
        if set(shard) != names:
            name = sorted(names ^ set(shard))[0]
            where = files[0].name if name in names else file.name
            raise CheckpointError(
                file, f"and {files[0].name} disagree: only {where} holds {name!r}"
            )
    for name, first in shards[0].items():
        dtypes = [s[name].dtype for s in shards]
        if len(set(dtypes)) > 1:
            kinds = ", ".join(str(d).removeprefix("torch.") for d in dtypes)
            raise CheckpointError(
                files[-1], f"tensor {name!r} is stored as {kinds} in the shards, which must agree"
            )
        shapes = [tuple(s[name].shape) for s in shards]
        dim = _CONCAT_DIM.get(_stem(name), 0)
        fixed = [sh[:dim] + sh[dim + 1 :] for sh in shapes] if first.ndim == 2 else shapes
        if len(set(fixed)) > 1 and not (_stem(name) == "tok_embeddings" and len(set(shapes)) == 1):
            raise CheckpointError(
                files[-1], f"tensor {name!r} has shapes {shapes} in the shards, which do not fit"
            )


def _stem(name: str) -> str:
    return (
        name.rsplit(".", 1)[0].split(".", 2)[-1]
        if name.startswith("layers.")
        else name.rsplit(".", 1)[0]
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def merge_shards(shards: list[dict[str, torch.Tensor]], cfg_dim: int) -> dict[str, Weight]:
    """Join model-parallel shards by Meta's rules; norms are replicated in every shard.

    A joined tensor is concatenated when it is read (:class:`StoredTensor`), so the
    shards stay memory-mapped and only one joined tensor exists at a time.
    """
    if len(shards) == 1:
        return dict(shards[0])
    merged = {}
    for name, first in shards[0].items():
        parts = [s[name] for s in shards]
        stem = _stem(name)
        if first.ndim == 1:
            merged[name] = first  # (d,) norms, replicated
        elif stem == "tok_embeddings":
            # Llama 2 split the embedding by columns, Llama 3 by rows (vocab)
            dim = 1 if first.shape[1] * len(parts) == cfg_dim else 0
            merged[name] = _joined(parts, dim)
        else:
            merged[name] = _joined(parts, _CONCAT_DIM.get(stem, 0))
    return merged


def _joined(parts: list[torch.Tensor], dim: int) -> StoredTensor:
    shape = list(parts[0].shape)
    shape[dim] = sum(p.shape[dim] for p in parts)
    stored = stored_name(parts[0])
    return StoredTensor(tuple(shape), parts[0].dtype, stored, lambda: torch.cat(parts, dim=dim))


def load_meta(directory: Path, progress: Progress | None = None) -> Checkpoint:
    """Load a Meta checkpoint directory (shards merged, tokenizer.model if present).

    ``progress`` is called once per shard and once per tensor (raising in it stops).
    """
    report = progress or (lambda _f, _m: None)
    params = read_params(directory / "params.json")
    files = sorted(directory.glob("consolidated.*.pth"))
    if not files:
        raise CheckpointError(directory, "has params.json but no consolidated.*.pth weights")
    shards = []
    for i, file in enumerate(files):
        report(0.4 * i / len(files), f"Reading {file.name}")
        shards.append(load_shard(file))
    check_shards(files, shards)
    where = files[0] if len(files) == 1 else directory
    layers = layer_indices(shards[0], _LAYER_RE)
    check_layers(directory / "params.json", _declared_layers(directory, params), layers, "n_layers")
    dim = Fields(params, directory / "params.json").integer("dim", 1, LIMITS["dim"])
    tensors = merge_shards(shards, dim)
    for name in _DROPPED & set(tensors):
        del tensors[name]
    cfg = _config_for(directory / "params.json", params, tensors, layers)
    check_tensors(where, tensors, cfg)
    # weights stay as stored and memory-mapped (torch.load(mmap=True)): a 16 GB file
    # costs no copy; shards are joined one tensor at a time while the model is built
    tokenizer = None
    if (directory / "tokenizer.model").exists():
        from llamalens.model.tokenizer import load_tokenizer_model

        # SentencePiece for Llama 1/2, tiktoken for Llama 3; with Meta's chat format
        report(0.95, "Loading tokenizer.model")
        tokenizer = load_tokenizer_model(directory / "tokenizer.model")
    return Checkpoint(
        path=directory,
        format="meta",
        config=cfg,
        tensors=tensors,
        tokenizer=tokenizer,
        metadata={"name": directory.name, "shards": len(files)},
        mapped=True,
    )


def _declared_layers(directory: Path, params: dict[str, Any]) -> int:
    return Fields(params, directory / "params.json").integer("n_layers", 1, 2**63)


def _config_for(
    path: Path, params: dict[str, Any], tensors: dict[str, Weight], layers: set[int]
) -> LlamaConfig:
    """Vocab from the embedding, hidden width from w1; params.json must agree with both."""
    emb = tensors.get("tok_embeddings.weight")
    w1 = tensors.get("layers.0.feed_forward.w1.weight")
    if emb is None or w1 is None:
        missing = "tok_embeddings.weight" if emb is None else "layers.0.feed_forward.w1.weight"
        raise CheckpointError(path.parent, f"tensor {missing!r} is missing")
    if len(emb.shape) != 2 or len(w1.shape) != 2:
        raise CheckpointError(
            path.parent, "tok_embeddings.weight and feed_forward.w1 must be matrices"
        )
    f = Fields(params, path)
    vocab = f.integer("vocab_size", -1, LIMITS["vocab_size"], -1)
    if vocab > 0 and vocab != emb.shape[0]:
        raise CheckpointError(
            path, f"vocab_size is {vocab}, but tok_embeddings.weight has {emb.shape[0]} rows"
        )
    if f.has("multiple_of"):
        multiplier = f.number("ffn_dim_multiplier", 0, 1e3, None, above=True)
        want = meta_hidden_dim(
            f.integer("dim", 1, LIMITS["dim"]), f.integer("multiple_of", 1, 2**20), multiplier
        )
        if want != w1.shape[0]:
            raise CheckpointError(
                path,
                f"dim/multiple_of/ffn_dim_multiplier give a "
                f"feed-forward width of {want}, but "
                f"feed_forward.w1 has {w1.shape[0]} rows",
            )
    cfg = config_from_params(path, params, int(emb.shape[0]), int(w1.shape[0]), layers)
    return replace(cfg, tie_embeddings="output.weight" not in tensors)
