"""Sessions on disk: a trace, its analysis, the view and the vocabulary in one ``.llamalens``.

A session file is an uncompressed ``.npz`` readable with ``numpy.load(allow_pickle=False)``,
format ``llamalens-session`` version 1:

==================  ==================  ================================================
key                 dtype, shape        meaning
==================  ==================  ================================================
format              str                 ``"llamalens-session"``
version             int64               1
session             str                 JSON, see below
trace_<key>         (as in trace file)  every array of a ``llamalens-trace`` file
                                        (:mod:`model.trace_io`), ``trace_`` prefixed
stats_<name>        float [L,H]         head statistics (entropy, sink, previous, self,
                                        induction), optional
lens_text           str [L,P,k]         logit-lens top-k token texts, optional
lens_probs          float32 [L,P,k]     their probabilities
lens_positions      int64 [P]           the positions of the lens columns
lens_ids            int64 [L,P,k]       the token ids (optional; absent in older files)
vocab_bytes         uint8 [N]           every token's bytes, concatenated in id order
vocab_offsets       int64 [V+1]         token ``i`` is ``vocab_bytes[off[i]:off[i+1]]``
vocab_special       bool [V]            control tokens
vocab_valid         bool [V]            False for ids that name no token
baseline_logits     float32 [V]         for a variant's trace: the unchanged model's
                                        next-token logits of the same tokens (optional)
baseline_theta      float64 [hd/2]      the unchanged model's RoPE θ_i (with the above)
baseline_scale      float64 []          its RoPE scale of q and k (1 but for YaRN)
detail_<name>       float32             the walkthrough's values of some positions
                                        (:mod:`model.position_capture`, ``detail_arrays``),
                                        optional; ``detail_positions`` int64 [P]
==================  ==================  ================================================

The ``session`` JSON holds ``format``, ``version``, ``created`` (ISO 8601), ``model``
(``name``, ``path``, ``format``, ``device``, ``quantization``), ``prompt`` (``text``,
``chat``, ``plain``), ``view`` (``layer``, ``head``, ``stage``, ``token``, ``key``, and
optionally the walkthrough's ``walk_step``),
``sampling`` (``temperature``, ``top_p``, ``top_k``, ``seed``), ``history`` (strings) and,
optionally, ``variant``: the what-if variant the app runs next (``Variant.to_dict()``,
with its ``label``; the trace's own variant is ``trace_variant``).
The vocabulary lets a reader label any token id without loading the model.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from llamalens.model.analysis import Analysis, LogitLens
from llamalens.model.attention import STAGES
from llamalens.model.position_capture import PositionDetail, detail_arrays, detail_from_arrays
from llamalens.model.sampling import SamplingParams
from llamalens.model.trace import Trace
from llamalens.model.trace_io import trace_arrays, trace_from_arrays
from llamalens.model.variants import Baseline, Variant
from llamalens.model.vocab_table import VocabTable

FORMAT = "llamalens-session"
VERSION = 1
SUFFIX = ".llamalens"
META_KEYS = ("model", "prompt", "view", "sampling", "history")
_READ_ERRORS = (
    OSError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    AttributeError,
    TypeError,
    KeyError,
)


@dataclass
class Session:
    """Everything a session file holds.

    Attributes:
        trace: the Trace. vocab: labels for every token id.
        meta: the ``session`` JSON as a dict (see the module docstring).
        analysis: the head statistics and lens, or None.
        detail: the walkthrough's per-position values (so a lesson runs without the
            model), or None.
        baseline: for a variant's trace, the unchanged model's logits and RoPE, or None.
    """

    trace: Trace
    vocab: VocabTable
    meta: dict[str, Any]
    analysis: Analysis | None = None
    detail: PositionDetail | None = None
    baseline: Baseline | None = None


def new_meta(
    *,
    model: dict,
    prompt: dict,
    view: dict,
    sampling: dict,
    history: list[str],
    variant: dict | None = None,
) -> dict[str, Any]:
    """The ``session`` JSON of a version-1 file, stamped with the current time."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": dict(model),
        "prompt": dict(prompt),
        "view": dict(view),
        "sampling": dict(sampling),
        "history": [str(h) for h in history],
    }
    if variant:
        meta["variant"] = dict(variant)
    return meta


def session_arrays(session: Session) -> dict[str, np.ndarray]:
    """The session as the arrays of a version-1 file."""
    out: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "session": np.array(json.dumps(session.meta, ensure_ascii=False)),
    }
    out.update({f"trace_{k}": v for k, v in trace_arrays(session.trace).items()})
    out.update(session.vocab.to_arrays())
    a = session.analysis
    if a is not None:
        out.update({f"stats_{k}": np.asarray(v) for k, v in a.stats.items()})
        if a.lens is not None:
            out["lens_text"] = np.asarray(a.lens.text, dtype=str)
            out["lens_probs"] = np.asarray(a.lens.probs)
            out["lens_positions"] = np.asarray(a.lens.positions, dtype=np.int64)
            if a.lens.ids is not None:
                out["lens_ids"] = np.asarray(a.lens.ids, dtype=np.int64)
    if session.detail is not None:
        out.update({f"detail_{k}": v for k, v in detail_arrays(session.detail).items()})
    b = session.baseline
    if b is not None:
        out["baseline_logits"] = np.asarray(b.last_logits, dtype=np.float32)
        out["baseline_theta"] = np.asarray(b.theta, dtype=np.float64)
        out["baseline_scale"] = np.array(b.rope_scale, dtype=np.float64)
    return out


def save_session(session: Session, path: str | Path) -> None:
    """Write a session file atomically (a temporary file renamed over ``path``)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
            np.savez(f, **session_arrays(session))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_session(path: str | Path) -> Session:
    """Read and check a whole session file.

    Raises:
        ValueError: the file is unreadable, truncated, foreign, newer than this version,
            or inconsistent; the message names the file and the problem.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except _READ_ERRORS as exc:
        raise ValueError(f"{path}: not a readable LlamaLens session file ({exc})") from exc
    return session_from_arrays(arrays, str(path))


def session_from_arrays(data: dict[str, np.ndarray], source: str = "<arrays>") -> Session:
    """Rebuild a Session from a mapping of arrays, checking format, version and shapes."""
    try:
        fmt, version = str(data["format"]), int(data["version"])
    except KeyError as exc:
        raise ValueError(f"{source}: not a LlamaLens session (no {exc.args[0]!r} entry)") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: session header is corrupt ({exc})") from exc
    if fmt != FORMAT:
        raise ValueError(f"{source}: format is {fmt!r}, expected {FORMAT!r}")
    if version > VERSION:
        raise ValueError(
            f"{source}: session version {version} is newer than this LlamaLens "
            f"reads (up to {VERSION})"
        )
    meta = _meta(data, source)
    prefixed = {k.removeprefix("trace_"): v for k, v in data.items() if k.startswith("trace_")}
    try:
        trace = trace_from_arrays(prefixed, f"{source} (trace)")
    except ValueError as exc:
        if str(exc).startswith(source):
            raise
        raise ValueError(f"{source}: the trace is inconsistent ({exc})") from exc
    try:
        vocab = VocabTable.from_arrays(data, name=str(meta["model"].get("name", "vocab")))
    except KeyError as exc:
        raise ValueError(f"{source}: session is missing the {exc.args[0]!r} array") from exc
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source}: vocabulary is corrupt ({exc})") from exc
    analysis = _analysis(data, trace, source)
    _check(trace, vocab, meta, source)
    return Session(
        trace, vocab, meta, analysis, _detail(data, trace, source), _baseline(data, trace, source)
    )


def _detail(data: dict[str, np.ndarray], trace: Trace, source: str) -> PositionDetail | None:
    """The walkthrough's saved values, checked against the trace (None when absent)."""
    saved = {k.removeprefix("detail_"): v for k, v in data.items() if k.startswith("detail_")}
    if not saved:
        return None
    detail = detail_from_arrays(saved, trace.token_ids, trace.config, source)
    if not detail.agrees_with(trace.resid_post):
        raise ValueError(f"{source}: the walkthrough detail does not belong to the trace")
    return detail


def _meta(data: dict[str, np.ndarray], source: str) -> dict[str, Any]:
    try:
        meta = json.loads(str(data["session"]))
    except KeyError as exc:
        raise ValueError(f"{source}: session is missing the 'session' entry") from exc
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{source}: session JSON is corrupt ({exc})") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: session JSON is not an object")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"{source}: session JSON lacks {', '.join(missing)}")
    for key in ("model", "prompt", "view", "sampling"):
        if not isinstance(meta[key], dict):
            raise ValueError(f"{source}: session JSON {key!r} is not an object")
    if not isinstance(meta["history"], list):
        raise ValueError(f"{source}: session JSON 'history' is not a list")
    return meta


def _analysis(data: dict[str, np.ndarray], trace: Trace, source: str) -> Analysis | None:
    stats = {
        k.removeprefix("stats_"): np.asarray(v) for k, v in data.items() if k.startswith("stats_")
    }
    lens_keys = [k for k in ("lens_text", "lens_probs", "lens_positions") if k in data]
    if not stats and not lens_keys:
        return None
    lens = None
    if lens_keys:
        if len(lens_keys) != 3:
            raise ValueError(
                f"{source}: the logit lens needs lens_text, lens_probs and lens_positions; "
                f"found only {', '.join(lens_keys)}"
            )
        positions = tuple(int(p) for p in np.asarray(data["lens_positions"]).ravel())
        ids = np.asarray(data["lens_ids"]) if "lens_ids" in data else None
        lens = LogitLens(
            ids, np.asarray(data["lens_probs"]), np.asarray(data["lens_text"]), positions
        )
    analysis = Analysis(stats=stats, lens=lens)
    try:
        analysis.check(trace.n_layers, trace.n_heads, trace.n_tokens)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    return analysis


def _baseline(data: dict[str, np.ndarray], trace: Trace, source: str) -> Baseline | None:
    keys = ("baseline_logits", "baseline_theta", "baseline_scale")
    found = [k for k in keys if k in data]
    if not found:
        return None
    if len(found) != len(keys):
        raise ValueError(f"{source}: the baseline needs {', '.join(keys)}; found {found}")
    logits, theta = np.asarray(data["baseline_logits"]), np.asarray(data["baseline_theta"])
    if logits.shape != trace.last_logits.shape or theta.shape != trace.theta.shape:
        raise ValueError(
            f"{source}: baseline shapes {logits.shape}, {theta.shape} do not fit the trace "
            f"({trace.last_logits.shape}, {trace.theta.shape})"
        )
    try:
        scale = float(data["baseline_scale"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: baseline scale is corrupt ({exc})") from exc
    return Baseline(logits.astype(np.float32), theta.astype(np.float64), scale)


def _check(trace: Trace, vocab: VocabTable, meta: dict[str, Any], source: str) -> None:
    ids = trace.token_ids
    if len(ids) and (ids.min() < 0 or ids.max() >= vocab.n_vocab):
        raise ValueError(
            f"{source}: trace token ids are outside the saved vocabulary (n_vocab={vocab.n_vocab})"
        )
    view = meta["view"]
    try:
        stage = str(view.get("stage", "probs"))
        layer, head = int(view.get("layer", 0)), int(view.get("head", 0))
        token, key = int(view.get("token", 0)), int(view.get("key", 0))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{source}: session view is corrupt ({exc})") from exc
    if stage not in STAGES:
        raise ValueError(f"{source}: view stage is {stage!r}, expected one of {STAGES}")
    _check_sampling(meta["sampling"], source)
    try:
        Variant.from_dict(meta.get("variant"))
    except ValueError as exc:
        raise ValueError(f"{source}: session {exc}") from exc
    if not (
        layer in trace.layers and 0 <= head < trace.n_heads and 0 <= key <= token < trace.n_tokens
    ):
        raise ValueError(
            f"{source}: view (layer {layer}, head {head}, token {token}, "
            f"key {key}) is outside the trace"
        )


def _check_sampling(sampling: dict[str, Any], source: str) -> None:
    """The saved sampling settings must be valid ones (the app restores them as they are)."""
    try:
        SamplingParams(
            temperature=float(sampling.get("temperature", 1.0)),
            top_p=float(sampling.get("top_p", 1.0)),
            top_k=int(sampling.get("top_k", 0)),
            seed=int(sampling.get("seed", 0)),
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{source}: session sampling settings are invalid ({exc})") from exc
