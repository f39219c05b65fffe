"""The one place that knows which tensors a Llama needs and their shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from llamalens.model.config import LlamaConfig
from llamalens.model.errors import CheckpointError

if TYPE_CHECKING:
    import torch


def read_json_object(path: Path, needed_by: str) -> dict:
    """A JSON object file (params.json, config.json), with errors naming the file.

    Args:
        path: the file.
        needed_by: what needs it, for the "missing" message ("a Meta checkpoint").
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(path, f"is missing ({needed_by} needs {path.name})") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(path, f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(path, f"holds a {type(data).__name__}, expected a JSON object")
    return data


def expected_shapes(cfg: LlamaConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor name (Meta naming) a model of this config has, with its shape.

    Optional tensors (``output.weight`` when embeddings are tied, q/k/v biases when
    the config has none, ``rope_freqs``) are left out; see :func:`optional_shapes`.
    """
    d, hd, f = cfg.dim, cfg.head_dim, cfg.hidden_dim
    shapes: dict[str, tuple[int, ...]] = {
        "tok_embeddings.weight": (cfg.vocab_size, d),
        "norm.weight": (d,),
    }
    if not cfg.tie_embeddings:
        shapes["output.weight"] = (cfg.vocab_size, d)
    for i in range(cfg.n_layers):
        p = f"layers.{i}."
        shapes[p + "attention.wq.weight"] = (cfg.n_heads * hd, d)
        shapes[p + "attention.wk.weight"] = (cfg.n_kv_heads * hd, d)
        shapes[p + "attention.wv.weight"] = (cfg.n_kv_heads * hd, d)
        shapes[p + "attention.wo.weight"] = (d, cfg.n_heads * hd)
        if cfg.qkv_bias:
            shapes[p + "attention.wq.bias"] = (cfg.n_heads * hd,)
            shapes[p + "attention.wk.bias"] = (cfg.n_kv_heads * hd,)
            shapes[p + "attention.wv.bias"] = (cfg.n_kv_heads * hd,)
        shapes[p + "feed_forward.w1.weight"] = (f, d)
        shapes[p + "feed_forward.w2.weight"] = (d, f)
        shapes[p + "feed_forward.w3.weight"] = (f, d)
        shapes[p + "attention_norm.weight"] = (d,)
        shapes[p + "ffn_norm.weight"] = (d,)
    return shapes


def check_config(path: str | Path, cfg: LlamaConfig) -> None:
    """Raise CheckpointError listing every problem of ``cfg``."""
    problems = cfg.problems()
    if problems:
        raise CheckpointError(path, "invalid model config: " + "; ".join(problems))


def check_tensors(path: str | Path, tensors: dict[str, torch.Tensor], cfg: LlamaConfig) -> None:
    """Raise CheckpointError unless ``tensors`` are exactly what ``cfg`` needs.

    Checks, in order: the config itself, missing tensors, unexpected tensors and
    shapes (actual vs expected) — the first problem found is reported.
    """
    check_config(path, cfg)
    shapes = expected_shapes(cfg)
    if "rope_freqs" in tensors:
        shapes["rope_freqs"] = (cfg.head_dim // 2,)
    missing = [name for name in shapes if name not in tensors]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(path, f"tensor {missing[0]!r} is missing{more}")
    unknown = sorted(set(tensors) - set(shapes))
    if unknown:
        raise CheckpointError(
            path,
            f"unexpected tensor {unknown[0]!r} for a Llama with this "
            f"config ({len(unknown)} unexpected in all)",
        )
    for name, want in shapes.items():
        got = tuple(tensors[name].shape)
        if got != want:
            raise CheckpointError(
                path, f"tensor {name!r} has shape {got}, but the config implies {want}"
            )
