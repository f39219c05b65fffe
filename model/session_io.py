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

The ``session`` JSON is described in :mod:`llamalens.model.session_meta`. The vocabulary
lets a reader label any token id without loading the model.

Reading checks the whole file before anything is returned: only the members above, each
checked from its ``.npy`` header (dtype, and the shape the trace's config implies) before
its data is read, the JSON field by field, the view inside the trace; any problem is one
:class:`~llamalens.model.errors.SessionError` (a ValueError) naming the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llamalens.model.analysis import STAT_NAMES, Analysis, LogitLens
from llamalens.model.array_schema import ArrayReader
from llamalens.model.config import LlamaConfig
from llamalens.model.npz_archive import MemoryArrays, NpzArchive
from llamalens.model.position_capture import (
    ARRAY_FIELDS,
    PositionDetail,
    detail_arrays,
    detail_from_arrays,
    detail_shapes,
)
from llamalens.model.session_meta import FORMAT, MAX_JSON_CHARS, VERSION, check_view, read_meta
from llamalens.model.session_meta import new_meta as new_meta
from llamalens.model.trace import Trace
from llamalens.model.trace_io import (
    MAX_TOKEN_CHARS,
    TRACE_MEMBERS,
    check_format,
    read_trace,
    trace_arrays,
)
from llamalens.model.variants import Baseline, Variant
from llamalens.model.vocab_table import ARRAY_KEYS, VocabTable

SUFFIX = ".llamalens"
BASELINE_KEYS = ("baseline_logits", "baseline_theta", "baseline_scale")
LENS_KEYS = ("lens_text", "lens_probs", "lens_positions", "lens_ids")
MEMBERS = (
    "format",
    "version",
    "session",
    *(f"trace_{k}" for k in TRACE_MEMBERS),
    *(f"stats_{k}" for k in STAT_NAMES),
    *LENS_KEYS,
    *ARRAY_KEYS,
    *(f"detail_{k}" for k in (*ARRAY_FIELDS, "positions")),
    *BASELINE_KEYS,
)
MAX_LENS_K = 1000  # top-k tokens per logit-lens cell


@dataclass
class Session:
    """Everything a session file holds.

    Attributes:
        trace: the Trace. vocab: labels for every token id.
        meta: the ``session`` JSON as a dict (see :mod:`~llamalens.model.session_meta`).
        analysis: the head statistics and lens, or None.
        detail: the walkthrough's per-position values (so a lesson runs without the
            model), or None.
    """

    trace: Trace
    vocab: VocabTable
    meta: dict[str, Any]
    analysis: Analysis | None = None
    detail: PositionDetail | None = None
    baseline: Baseline | None = None


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
    """Read and check a whole session file (nothing is returned from a bad one).

    Raises:
        SessionError: (a ValueError) the file is unreadable, truncated, foreign, newer than
            this version, larger than it can be, or inconsistent; the message names the
            file and the problem.
    """
    with NpzArchive(path, "a LlamaLens session") as archive:
        return read_session(ArrayReader(archive))


def session_from_arrays(data: dict[str, np.ndarray], source: str = "<arrays>") -> Session:
    """Rebuild a Session from a mapping of arrays, with every check of :func:`load_session`."""
    return read_session(ArrayReader(MemoryArrays(data, source)))


def read_session(r: ArrayReader) -> Session:
    """Check every member of a session (headers before data), then build it."""
    source = r.src.source
    check_format(r, FORMAT, VERSION, "session", MEMBERS)
    meta = read_meta(r.text("session", max_chars=MAX_JSON_CHARS), source)
    trace = read_trace(ArrayReader(r.src, "trace_"))
    vocab = _vocab(r, trace, str(meta["model"].get("name") or "vocab"))
    analysis = _analysis(r, trace)
    check_view(meta["view"], trace.layers, trace.n_heads, trace.n_tokens, source)
    _check_variants(r, meta, trace)
    return Session(trace, vocab, meta, analysis, _detail(r, trace), _baseline(r, trace))


def _vocab(r: ArrayReader, trace: Trace, name: str) -> VocabTable:
    """The saved vocabulary: as many entries as the model's embedding at most."""
    (n,) = r.shape("vocab_special", "b", 1)
    limit = int(trace.config["vocab_size"])
    if not 1 <= n <= limit:
        raise r.fail(f"vocabulary has {n:,} entries, expected 1..{limit:,} (the model's)")
    (n_bytes,) = r.shape("vocab_bytes", "u", 1)
    arrays = {
        "vocab_bytes": r.array("vocab_bytes", "u", (n_bytes,), itemsizes=(1,)),
        "vocab_offsets": r.integers("vocab_offsets", (n + 1,), 0, n_bytes + 1),
        "vocab_special": r.array("vocab_special", "b", (n,)),
        "vocab_valid": r.array("vocab_valid", "b", (n,)),
    }
    try:
        vocab = VocabTable.from_arrays(arrays, name=name)
    except ValueError as exc:
        raise r.fail(f"vocabulary is corrupt ({exc})") from exc
    ids = trace.token_ids
    if ids.max() >= vocab.n_vocab:
        raise r.fail(
            f"trace token id {int(ids.max())} is outside the saved vocabulary "
            f"(n_vocab={vocab.n_vocab})"
        )
    return vocab


def _analysis(r: ArrayReader, trace: Trace) -> Analysis | None:
    """Head statistics (L, H) and the logit lens (L, P, k), if the file has them."""
    L, H, T = trace.n_layers, trace.n_heads, trace.n_tokens  # noqa: N806
    stats = {k: r.array(f"stats_{k}", "f", (L, H)) for k in STAT_NAMES if r.has(f"stats_{k}")}
    present = [k for k in LENS_KEYS[:3] if r.has(k)]
    if not stats and not present:
        return None
    lens = None
    if present:
        if len(present) != 3:
            raise r.fail(
                "the logit lens needs lens_text, lens_probs and lens_positions; "
                f"found only {', '.join(present)}"
            )
        (P,) = r.shape("lens_positions", "iu", 1)  # noqa: N806
        shape = r.shape("lens_probs", "f", 3)
        if shape[:2] != (L, P) or not 1 <= shape[2] <= MAX_LENS_K or P > T:
            raise r.fail(
                f"logit lens lens_probs has shape {shape}, expected ({L}, {P}, k) "
                f"with k in 1..{MAX_LENS_K} and at most {T} positions"
            )
        positions = r.integers("lens_positions", (P,), 0, T)
        ids = None
        if r.has("lens_ids"):
            ids = r.integers("lens_ids", shape, 0, int(trace.config["vocab_size"]))
        probs = r.array("lens_probs", "f", shape)
        text = r.array("lens_text", "U", shape, max_chars=MAX_TOKEN_CHARS)
        lens = LogitLens(ids, probs, text, tuple(int(p) for p in positions))
    return Analysis(stats=stats, lens=lens)


def _detail(r: ArrayReader, trace: Trace) -> PositionDetail | None:
    """The walkthrough's saved values (shapes from the trace's config, checked from the
    headers), which must agree with the trace's residual stream; None when absent."""
    if not any(name.startswith("detail_") for name in r.src.names()):
        return None
    T = trace.n_tokens  # noqa: N806
    (P,) = r.shape("detail_positions", "iu", 1)  # noqa: N806
    if not 1 <= P <= T:
        raise r.fail(f"walkthrough detail keeps {P:,} positions, expected 1..{T}")
    saved = {"positions": r.integers("detail_positions", (P,), 0, T)}
    for name, shape in detail_shapes(trace.config, T, P).items():
        saved[name] = r.array(f"detail_{name}", "f", shape)
    try:
        detail = detail_from_arrays(saved, trace.token_ids, trace.config, r.src.source)
    except ValueError as exc:
        raise r.fail(f"walkthrough detail is corrupt ({exc})") from exc
    if not detail.agrees_with(trace.resid_post):
        raise r.fail("the walkthrough detail does not belong to the trace")
    return detail


def _check_variants(r: ArrayReader, meta: dict[str, Any], trace: Trace) -> None:
    """The variant to run next and the trace's own must fit the trace's model."""
    for what, data in (("session JSON variant", meta.get("variant")), ("trace", trace.variant)):
        if not data:
            continue  # the model itself
        try:
            Variant.from_dict(data).check(LlamaConfig.from_dict(trace.config))
        except (ValueError, TypeError, KeyError) as exc:
            raise r.fail(f"{what} is not a variant of this model ({exc})") from exc


def _baseline(r: ArrayReader, trace: Trace) -> Baseline | None:
    """For a variant's trace, the unchanged model's logits (V,), θ_i (hd/2,) and scale."""
    found = [k for k in BASELINE_KEYS if r.has(k)]
    if not found:
        return None
    if len(found) != len(BASELINE_KEYS):
        raise r.fail(f"the baseline needs {', '.join(BASELINE_KEYS)}; found {', '.join(found)}")
    logits = r.array("baseline_logits", "f", trace.last_logits.shape, itemsizes=(4,))
    theta = r.array("baseline_theta", "f", trace.theta.shape, itemsizes=(4, 8))
    scale = float(r.array("baseline_scale", "f", ()))
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(theta).all()):
        raise r.fail(f"baseline RoPE is not finite and positive (scale {scale})")
    return Baseline(logits.astype(np.float32), theta.astype(np.float64), scale)
