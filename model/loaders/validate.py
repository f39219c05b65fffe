"""The one place that knows which tensors a Llama needs and their shapes, and the checks
every loader makes before it sizes anything by what a file declares.

Order of checks in every loader: the file is a regular file of a sane size; its config
is read value by value (:class:`~llamalens.model.fields.Fields`); the layers the tensor
names show must be exactly ``0..n_layers-1`` (:func:`check_layers`) before a structure per
declared layer is built; then names and shapes are compared with :func:`expected_shapes`
from the headers alone; only then is tensor data read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from llamalens.model.config import LIMITS, LlamaConfig
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import parse_json
from llamalens.model.files import read_limited

if TYPE_CHECKING:
    import torch

MAX_CONFIG_BYTES = 2**22  # config.json, params.json, tokenizer_config.json: a few kB each


def read_json_object(path: Path, needed_by: str, limit: int = MAX_CONFIG_BYTES) -> dict:
    """A JSON object file (params.json, config.json), with errors naming the file.

    Args:
        path: the file (a regular file of at most ``limit`` bytes).
        needed_by: what needs it, for the "missing" message ("a Meta checkpoint").
        limit: the largest size accepted.
    """
    if not path.exists() and not path.is_symlink():
        raise CheckpointError(path, f"is missing ({needed_by} needs {path.name})")
    data = parse_json(read_limited(path, limit, f"a {path.name}"), path, "a JSON object")
    if not isinstance(data, dict):
        raise CheckpointError(path, f"holds a {type(data).__name__}, expected a JSON object")
    return data


def layer_indices(names: Iterable[str], pattern: re.Pattern[str]) -> set[int]:
    """The layer numbers ``pattern``'s first group finds in tensor names."""
    out = set()
    for name in names:
        match = pattern.match(name)
        if match:
            out.add(int(match.group(1)))
    return out


def check_layers(path: str | Path, declared: int, present: set[int], field: str) -> None:
    """The declared layer count must be exactly the layers the tensors hold.

    Checked before anything is built per declared layer: a tiny file that declares 10^8
    layers is refused here, in microseconds.

    Args:
        path: the file at fault.
        declared: the config's layer count.
        present: layer numbers found in the tensor names.
        field: the config field's name (``"llama.block_count"``).
    """
    if not present:
        raise CheckpointError(path, f"{field} is {declared:,} but no tensor belongs to a layer")
    if declared != len(present) or max(present) != declared - 1:
        gaps = sorted(set(range(max(present) + 1)) - present)[:3]
        more = f"; layers {gaps} have no tensors" if gaps else ""
        raise CheckpointError(
            path,
            f"{field} is {declared:,}, but the tensors hold {len(present):,} layers "
            f"(numbers {min(present)}..{max(present)}{more})",
        )
    if declared > LIMITS["n_layers"]:
        raise CheckpointError(path, f"{field} is {declared:,}, more than {LIMITS['n_layers']:,}")


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
    """:func:`check_shapes` of loaded tensors."""
    check_shapes(path, {name: tuple(t.shape) for name, t in tensors.items()}, cfg)


def check_shapes(path: str | Path, shapes: dict[str, tuple[int, ...]], cfg: LlamaConfig) -> None:
    """Raise CheckpointError unless ``shapes`` (Meta names, from headers) are exactly what
    ``cfg`` needs.

    Checks, in order: the config itself, missing tensors, unexpected tensors and
    shapes (actual vs expected) — the first problem found is reported. Call it before
    reading tensor data, and after :func:`check_layers` (it builds a name per layer).
    """
    check_config(path, cfg)
    want = expected_shapes(cfg)
    if "rope_freqs" in shapes:
        want["rope_freqs"] = (cfg.head_dim // 2,)
    missing = [name for name in want if name not in shapes]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(path, f"tensor {missing[0]!r} is missing{more}")
    unknown = sorted(set(shapes) - set(want))
    if unknown:
        raise CheckpointError(
            path,
            f"unexpected tensor {unknown[0]!r} for a Llama with this "
            f"config ({len(unknown)} unexpected in all)",
        )
    for name, expected in want.items():
        got = tuple(shapes[name])
        if got != expected:
            raise CheckpointError(
                path, f"tensor {name!r} has shape {got}, but the config implies {expected}"
            )
