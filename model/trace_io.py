"""Traces on disk: a documented, versioned ``.npz`` readable with ``allow_pickle=False``.

Trace file (``save_trace``), format ``llamalens-trace`` version 1:

================  ==================  =====================================================
key               dtype, shape        meaning
================  ==================  =====================================================
format            str                 ``"llamalens-trace"``
version           int64               1
config            str                 the model config as JSON
token_ids         int64 [T]
token_strs        str [T]             token texts (invalid UTF-8 shown as ``\\xNN``)
token_bytes       str [T]             token bytes as hex
token_special     bool [T]
q, q_rot          float32 [L,H,T,hd]  queries before / after RoPE, pairs (2i, 2i+1) adjacent
k, k_rot, v       float32 [L,KV,T,hd] keys before / after RoPE, values
theta             float64 [hd/2]      RoPE frequencies θ_i after scaling
last_logits       float32 [V]
logits            float32 [T,V]       only if the run kept them
resid_norms       float32 [L,3,T]     L2 norms of resid_pre, resid_mid, resid_post
resid_post        float32 [L,T,d]     residual stream after each block
variant           str                 the what-if variant as JSON (ablated heads, RoPE
                                      change, ``label``); absent for the model itself
layers            int64 [L]           the model layers captured (absent: all, 0..L-1)
================  ==================  =====================================================

``dump_arrays`` builds the flat arrays of ``llamalens dump`` (see the README).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from llamalens.model.array_schema import ArrayReader
from llamalens.model.attention import STAGES
from llamalens.model.config import LIMITS
from llamalens.model.errors import SessionError
from llamalens.model.fields import Fields, parse_json
from llamalens.model.npz_archive import MemoryArrays, NpzArchive
from llamalens.model.trace import Trace

FORMAT = "llamalens-trace"
VERSION = 1
_ARRAYS = ("q", "q_rot", "k", "k_rot", "v", "theta", "last_logits", "resid_norms", "resid_post")
_TOKENS = ("token_ids", "token_strs", "token_bytes", "token_special")
TRACE_MEMBERS = (
    "format", "version", "config", *_TOKENS, *_ARRAYS, "logits", "layers", "variant"
)  # fmt: skip
_SIZES = ("n_layers", "n_heads", "n_kv_heads", "head_dim", "dim", "vocab_size", "hidden_dim")
MAX_CONFIG_CHARS = 2**16  # a model config is a few hundred characters
MAX_TOKEN_CHARS = 4096  # the longest token text (tokens are at most a few hundred bytes)


def trace_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """The trace as the arrays of a version-1 trace file."""
    out = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "config": np.array(json.dumps(trace.config)),
        "token_ids": trace.token_ids,
        "token_strs": np.array(trace.token_strs, dtype=str),
        "token_bytes": np.array([b.hex() for b in trace.token_bytes], dtype=str),
        "token_special": np.array(trace.token_special, dtype=bool),
    }
    out.update({name: getattr(trace, name) for name in _ARRAYS})
    out["layers"] = np.asarray(trace.layers, dtype=np.int64)
    if trace.logits is not None:
        out["logits"] = trace.logits
    if trace.variant:
        out["variant"] = np.array(json.dumps(trace.variant, ensure_ascii=False))
    return out


def save_trace(trace: Trace, path: str | Path) -> None:
    """Write a trace file (uncompressed: the arrays are float noise to zlib)."""
    np.savez(path, **trace_arrays(trace))


def trace_from_arrays(data: Mapping[str, np.ndarray], source: str = "<arrays>") -> Trace:
    """Rebuild a Trace from a mapping of arrays, with every check of :func:`load_trace`."""
    return read_trace(ArrayReader(MemoryArrays(data, source)))


def load_trace(path: str | Path) -> Trace:
    """Read and check a whole trace file.

    Raises:
        SessionError: (a ValueError) the file is unreadable, foreign, too large for what it
            claims, or inconsistent; the message names the file and the problem.
    """
    with NpzArchive(path, "a LlamaLens trace") as archive:
        return read_trace(ArrayReader(archive))


def read_trace(r: ArrayReader) -> Trace:
    """Check a trace's members from their headers against its config, then read them."""
    check_format(r, FORMAT, VERSION, "trace", TRACE_MEMBERS)
    cfg = _config(r)
    layers = _layers(r, cfg["n_layers"])
    L = len(layers)  # noqa: N806 (captured layers)
    H, KV, hd, d, V = (cfg[k] for k in _SIZES[1:6])  # noqa: N806 (math names)
    (T,) = r.shape("token_ids", "iu", 1)  # noqa: N806
    if not 1 <= T <= cfg["max_seq_len"]:
        raise r.fail(f"trace has {T:,} tokens, expected 1..{cfg['max_seq_len']:,}")
    ids = r.integers("token_ids", (T,), 0, V)
    strs = r.array("token_strs", "U", (T,), max_chars=MAX_TOKEN_CHARS)
    hexes = r.array("token_bytes", "U", (T,), max_chars=2 * MAX_TOKEN_CHARS)
    special = r.array("token_special", "b", (T,))
    f32 = {"kinds": "f", "itemsizes": (4,)}
    arrays = {
        "q": r.array("q", shape=(L, H, T, hd), **f32),
        "q_rot": r.array("q_rot", shape=(L, H, T, hd), **f32),
        "k": r.array("k", shape=(L, KV, T, hd), **f32),
        "k_rot": r.array("k_rot", shape=(L, KV, T, hd), **f32),
        "v": r.array("v", shape=(L, KV, T, hd), **f32),
        "theta": r.array("theta", "f", (hd // 2,), itemsizes=(4, 8)),
        "last_logits": r.array("last_logits", shape=(V,), **f32),
        "resid_norms": r.array("resid_norms", shape=(L, 3, T), **f32),
        "resid_post": r.array("resid_post", shape=(L, T, d), **f32),
    }
    logits = r.array("logits", shape=(T, V), **f32) if r.has("logits") else None
    try:
        token_bytes = [bytes.fromhex(str(h)) for h in hexes]
    except ValueError as exc:
        raise r.fail(f"array {r.prefix}token_bytes holds text that is not hex ({exc})") from exc
    return Trace(
        token_ids=ids,
        token_strs=[str(s) for s in strs],
        token_bytes=token_bytes,
        token_special=special.tolist(),
        config=cfg["json"],
        logits=logits,
        layers=layers,
        variant=_variant(r),
        **arrays,
    )


def _variant(r: ArrayReader) -> dict | None:
    """The what-if variant that made the trace (a JSON object), None for the model."""
    if not r.has("variant"):
        return None
    text = r.text("variant", max_chars=MAX_CONFIG_CHARS)
    part = f"{r.prefix}variant"
    return parse_json(text, r.src.source, "a variant object", SessionError, part)


def _layers(r: ArrayReader, n_layers: int) -> list[int]:
    """The captured model layers: the ``layers`` array (ascending, in 0..n_layers-1), or
    all of them when it is absent."""
    if not r.has("layers"):
        return list(range(n_layers))
    (n,) = r.shape("layers", "iu", 1)
    if not 1 <= n <= n_layers:
        raise r.fail(f"array {r.prefix}layers holds {n:,} layers, expected 1..{n_layers:,}")
    values = r.integers("layers", (n,), 0, n_layers).tolist()
    if values != sorted(set(values)):
        raise r.fail(f"array {r.prefix}layers is {values[:8]}, expected ascending layer numbers")
    return values


def check_format(
    r: ArrayReader, fmt: str, version: int, what: str, members: Collection[str]
) -> None:
    """The ``format`` and ``version`` members name this format and a version this code
    reads, and every other member is one the format has."""
    if not r.has("format"):
        raise r.fail(f"is not a LlamaLens {what} (it has no {r.prefix}format array)")
    found = r.text("format", max_chars=64)
    if found != fmt:
        raise r.fail(f"format is {found!r}, expected {fmt!r}")
    mine = {n for n in r.src.names() if n.startswith(r.prefix)}
    unknown = sorted(mine - {r.prefix + m for m in members})
    if unknown:
        raise r.fail(f"holds an unknown member {unknown[0]!r} (a {what} has no such array)")
    number = r.integer("version")
    if number > version:
        raise r.fail(
            f"{what} version {number} is newer than this LlamaLens reads (up to {version})"
        )
    if number < 1:
        raise r.fail(f"{what} version is {number}, expected 1..{version}")


def _config(r: ArrayReader) -> dict:
    """The sizes the arrays must have, from the trace's ``config`` JSON (checked)."""
    text = r.text("config", max_chars=MAX_CONFIG_CHARS)
    part = f"{r.prefix}config"
    data = parse_json(text, r.src.source, "a model config object", SessionError, part)
    fields = Fields(data, r.src.source, error=SessionError, part=part)
    cfg = {k: fields.integer(k, 1, LIMITS[k]) for k in _SIZES}
    cfg["max_seq_len"] = fields.integer(
        "max_seq_len", 1, LIMITS["max_seq_len"], LIMITS["max_seq_len"]
    )
    if cfg["n_heads"] % cfg["n_kv_heads"]:
        raise fields.fail(
            "n_kv_heads", cfg["n_kv_heads"], f"a divisor of n_heads ({cfg['n_heads']})"
        )
    if cfg["head_dim"] % 2:
        raise fields.fail("head_dim", cfg["head_dim"], "an even number (RoPE pairs)")
    cfg["json"] = data
    return cfg


def parse_layers(spec: str | None, n_layers: int) -> list[int]:
    """``"0,3,10-12"`` → [0, 3, 10, 11, 12]; None → all layers."""
    if spec is None or spec.strip() in ("", "all"):
        return list(range(n_layers))
    return parse_indices(spec, n_layers, "layers")


def parse_indices(spec: str, count: int | None, option: str) -> list[int]:
    """``"0,3,10-12"`` → [0, 3, 10, 11, 12], sorted and unique.

    Args:
        spec: numbers and ranges separated by commas.
        count: indices must be below it (None: checked later, by the caller).
        option: the option's name for messages, e.g. "layers" or "heads".
    """
    indices: list[int] = []
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            indices.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError as exc:
        raise ValueError(
            f"--{option} {spec!r}: expected numbers and ranges like 0,3,10-12"
        ) from exc
    if not indices or min(indices) < 0 or (count is not None and max(indices) >= count):
        limit = f"0..{count - 1}" if count is not None else "0 or more"
        raise ValueError(f"--{option} {spec!r}: {option} must be in {limit}")
    return sorted(set(indices))


def dump_arrays(trace: Trace, layers: list[int]) -> dict[str, np.ndarray]:
    """The flat arrays of ``llamalens dump``: full maps [L',H,T,T] for the chosen layers."""
    out: dict[str, np.ndarray] = {
        "token_ids": trace.token_ids,
        "token_strs": np.array(trace.token_strs, dtype=str),
        "layers": np.array(layers, dtype=np.int64),
        "freqs_cis": trace.freqs_cis(),
        "config": np.array(json.dumps(trace.config)),
        "variant": np.array(json.dumps(trace.variant, ensure_ascii=False)),
    }
    for stage in STAGES:
        out[stage] = np.stack(
            [
                np.stack([trace.attention_map(layer, h, stage) for h in range(trace.n_heads)])
                for layer in layers
            ]
        )
    for name in ("q", "q_rot", "k", "k_rot", "v"):
        out[name] = getattr(trace, name)[[trace.slot(layer) for layer in layers]]
    if trace.logits is None:
        raise ValueError("this trace did not keep the logits of every position")
    out["logits"] = trace.logits
    return out
