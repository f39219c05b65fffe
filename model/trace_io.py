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
import zipfile
from pathlib import Path

import numpy as np

from llamalens.model.attention import STAGES
from llamalens.model.trace import Trace

FORMAT = "llamalens-trace"
VERSION = 1
_ARRAYS = ("q", "q_rot", "k", "k_rot", "v", "theta", "last_logits", "resid_norms", "resid_post")


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


def trace_from_arrays(data, source: str = "<arrays>") -> Trace:
    """Rebuild a Trace from a mapping of arrays (a loaded .npz), checking format and version."""
    try:
        fmt, version = str(data["format"]), int(data["version"])
    except KeyError as exc:
        raise ValueError(f"{source}: not a LlamaLens trace (no {exc.args[0]!r} entry)") from exc
    if fmt != FORMAT:
        raise ValueError(f"{source}: format is {fmt!r}, expected {FORMAT!r}")
    if version > VERSION:
        raise ValueError(
            f"{source}: trace version {version} is newer than this LlamaLens "
            f"reads (up to {VERSION})"
        )
    try:
        strs = [str(s) for s in data["token_strs"]]
        return Trace(
            token_ids=data["token_ids"],
            token_strs=strs,
            token_bytes=[bytes.fromhex(str(h)) for h in data["token_bytes"]],
            token_special=list(data["token_special"]),
            config=json.loads(str(data["config"])),
            logits=data.get("logits"),
            variant=json.loads(str(data["variant"])) if "variant" in data else None,
            layers=None if "layers" not in data else np.asarray(data["layers"]).tolist(),
            **{name: data[name] for name in _ARRAYS},
        )
    except KeyError as exc:
        raise ValueError(f"{source}: trace is missing the {exc.args[0]!r} array") from exc
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{source}: trace is corrupt ({exc})") from exc


def load_trace(path: str | Path) -> Trace:
    """Read a trace file; a corrupt or foreign file raises ValueError naming it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, AttributeError, TypeError) as exc:
        # np.load reads a non-zip file as a pickle (refused) or a bare array
        raise ValueError(f"{path}: not a readable LlamaLens trace file ({exc})") from exc
    return trace_from_arrays(arrays, str(path))


def parse_layers(spec: str | None, n_layers: int) -> list[int]:
    """``"0,3,10-12"`` → [0, 3, 10, 11, 12]; None → all layers."""
    if spec is None or spec.strip() in ("", "all"):
        return list(range(n_layers))
    layers: list[int] = []
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            layers.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError as exc:
        raise ValueError(f"--layers {spec!r}: expected numbers and ranges like 0,3,10-12") from exc
    bad = [x for x in layers if not 0 <= x < n_layers]
    if bad or not layers:
        raise ValueError(f"--layers {spec!r}: layers must be in 0..{n_layers - 1}")
    return sorted(set(layers))


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
