"""Meta's native format: ``params.json`` + ``consolidated.NN.pth`` (+ ``tokenizer.model``).

Llama 1/2 directories as published have ``vocab_size: -1`` in params.json (the vocabulary
comes from the embedding), a ``rope.freqs`` tensor (recomputed instead) and a SentencePiece
``tokenizer.model``; Llama 3 ones a tiktoken ``tokenizer.model``.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.config import LlamaConfig, RopeScaling
from llamalens.model.errors import CheckpointError
from llamalens.model.loaders.validate import check_config, check_tensors, read_json_object
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
    path: Path, params: dict[str, Any], vocab_size: int, hidden_dim: int
) -> LlamaConfig:
    """Build a LlamaConfig from params.json; vocab and hidden widths come from the tensors."""
    try:
        scaling = None
        if params.get("use_scaled_rope"):
            extra = params.get("rope_scaling") or {}
            scaling = RopeScaling(
                factor=float(params.get("rope_scaling_factor", extra.get("factor", 8.0))),
                low_freq_factor=float(extra.get("low_freq_factor", 1.0)),
                high_freq_factor=float(extra.get("high_freq_factor", 4.0)),
                original_max_position=int(extra.get("original_max_position_embeddings", 8192)),
            )
        cfg = LlamaConfig(
            dim=params["dim"],
            n_layers=params["n_layers"],
            n_heads=params["n_heads"],
            n_kv_heads=params.get("n_kv_heads") or params["n_heads"],
            vocab_size=vocab_size,
            hidden_dim=hidden_dim,
            norm_eps=float(params.get("norm_eps", 1e-5)),
            rope_theta=float(params.get("rope_theta", 10000.0)),
            rope_scaling=scaling,
            max_seq_len=int(params.get("max_seq_len", 8192)),
        )
    except KeyError as exc:
        raise CheckpointError(path, f"has no {exc.args[0]!r} entry") from exc
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f"has a malformed entry ({exc})") from exc
    check_config(path, cfg)
    return cfg


def load_shard(path: Path) -> dict[str, torch.Tensor]:
    """torch.load with weights_only: a pickle that tries to run code is refused, not run."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
        raise CheckpointError(
            path,
            f"is not a plain tensor file: loading it would run code, so it was refused ({first})",
        ) from exc
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        raise CheckpointError(path, f"is truncated or corrupt ({_first_line(exc)})") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, "does not hold a dict of tensors")
    return state


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
        stem = (
            name.rsplit(".", 1)[0].split(".", 2)[-1]
            if name.startswith("layers.")
            else name.rsplit(".", 1)[0]
        )
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
    """Load a Meta checkpoint directory (shards merged, tokenizer.model if present)."""
    report = progress or (lambda _f, _m: None)
    params = read_params(directory / "params.json")
    files = sorted(directory.glob("consolidated.*.pth"))
    if not files:
        raise CheckpointError(directory, "has params.json but no consolidated.*.pth weights")
    shards = []
    for i, file in enumerate(files):
        report(0.8 * i / len(files), f"Reading {file.name}")
        shards.append(load_shard(file))
    # weights stay as stored and memory-mapped (torch.load(mmap=True)): a 16 GB file
    # costs no copy; shards are joined one tensor at a time while the model is built
    tensors = merge_shards(shards, int(params.get("dim", 0)))
    for name in _DROPPED & set(tensors):
        del tensors[name]
    report(0.85, "Checking tensors")
    cfg = _config_for(directory / "params.json", params, tensors)
    check_tensors(files[0] if len(files) == 1 else directory, tensors, cfg)
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


def _config_for(path: Path, params: dict[str, Any], tensors: dict[str, torch.Tensor]):
    """Vocab from the embedding, hidden width from w1; params.json must agree with both."""
    emb = tensors.get("tok_embeddings.weight")
    w1 = tensors.get("layers.0.feed_forward.w1.weight")
    if emb is None or w1 is None:
        missing = "tok_embeddings.weight" if emb is None else "layers.0.feed_forward.w1.weight"
        raise CheckpointError(path.parent, f"tensor {missing!r} is missing")
    vocab = int(params.get("vocab_size") or -1)
    if vocab > 0 and vocab != emb.shape[0]:
        raise CheckpointError(
            path, f"vocab_size is {vocab}, but tok_embeddings.weight has {emb.shape[0]} rows"
        )
    if "multiple_of" in params:
        want = meta_hidden_dim(
            int(params["dim"]), int(params["multiple_of"]), params.get("ffn_dim_multiplier")
        )
        if want != w1.shape[0]:
            raise CheckpointError(
                path,
                f"dim/multiple_of/ffn_dim_multiplier give a "
                f"feed-forward width of {want}, but "
                f"feed_forward.w1 has {w1.shape[0]} rows",
            )
    cfg = config_from_params(path, params, int(emb.shape[0]), int(w1.shape[0]))
    return replace(cfg, tie_embeddings="output.weight" not in tensors)
