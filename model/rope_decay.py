"""The expected attention score against relative distance: RoPE's long-range decay.

RoPE makes the raw score of a query at position m and a key at position n depend on
Δ = m − n only through rotations: with pairs q_i, k_i before rotation and scale a
(1, or YaRN's attention factor),

    score(Δ) = a² · Re Σ_i q_i · conj(k_i) · e^{jΔθ_i} / √hd.

Averaged over contents, only E[q_i · conj(k_i)] =: w_i matters, so the expected score is
the same sum with w_i. Two choices of w:

- ``random``: q = k drawn from N(0, I) (a token meeting an identical one Δ away), so
  w_i = E|z_i|² = 2 and the curve is the closed form (2a²/√hd) Σ_i cos(Δ·θ_i) whose
  decay RoFormer (Su et al., §3.4.3) describes.
- ``head``: a head's real queries and keys, contents independent of positions, so
  w_i = mean_m(q_m,i) · conj(mean_n(k_n,i)) over the trace's positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DECAY_SOURCES = ("random", "head")


@dataclass(frozen=True)
class DecayCurve:
    """Expected raw score against distance, before and after a RoPE change.

    Attributes:
        distance: (D,) int64 relative distances Δ.
        before: (D,) float64 with the model's RoPE.
        after: (D,) float64 with the variant's RoPE (equal to before without a change).
        source: ``random`` or ``head``.
        label: what the weights came from (e.g. ``layer 3 · head 5``).
    """

    distance: np.ndarray
    before: np.ndarray
    after: np.ndarray
    source: str
    label: str


def distances(max_distance: int, n: int = 400) -> np.ndarray:
    """(D,) int64: 0..max_distance, every one up to n, else n spread log-evenly."""
    if max_distance < 1:
        raise ValueError(f"max_distance is {max_distance}, expected >= 1")
    if max_distance + 1 <= n:
        return np.arange(max_distance + 1, dtype=np.int64)
    spread = np.geomspace(1, max_distance, n - 1).round().astype(np.int64)
    return np.unique(np.concatenate([[0], spread]))


def random_weights(head_dim: int) -> np.ndarray:
    """(hd/2,) w_i = E|z_i|² = 2 for q = k ~ N(0, I)."""
    return np.full(head_dim // 2, 2.0 + 0j)


def head_weights(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(hd/2,) complex w_i = mean_m(q_m,i) · conj(mean_n(k_n,i)).

    Args:
        q: (T, hd) one head's queries before RoPE (pairs adjacent).
        k: (T, hd) the keys it reads, before RoPE.
    """
    pairs = lambda x: x[:, 0::2].astype(np.float64) + 1j * x[:, 1::2].astype(np.float64)  # noqa: E731
    return pairs(q).mean(0) * np.conj(pairs(k).mean(0))


def expected_scores(
    theta: np.ndarray, weights: np.ndarray, dist: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """(D,) a²·Re Σ_i w_i e^{jΔθ_i} / √hd for each Δ in ``dist``.

    Args:
        theta: (hd/2,) θ_i.
        weights: (hd/2,) w_i.
        dist: (D,) distances.
        scale: a, how much RoPE scales q and k.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if weights.shape != theta.shape:
        raise ValueError(f"weights have shape {weights.shape}, expected {theta.shape}")
    head_dim = 2 * theta.shape[0]
    phases = np.exp(1j * np.outer(np.asarray(dist, dtype=np.float64), theta))  # (D, hd/2)
    return scale**2 * np.real(phases @ weights) / np.sqrt(head_dim)


def decay_curve(
    before: tuple[np.ndarray, float],
    after: tuple[np.ndarray, float],
    weights: np.ndarray,
    max_distance: int,
    source: str = "random",
    label: str = "random q = k",
) -> DecayCurve:
    """The curve for RoPE ``before`` and ``after`` (each (θ_i, scale)) with weights w_i."""
    if source not in DECAY_SOURCES:
        raise ValueError(f"decay source is {source!r}, expected one of {DECAY_SOURCES}")
    dist = distances(max_distance)
    return DecayCurve(
        distance=dist,
        before=expected_scores(before[0], weights, dist, before[1]),
        after=expected_scores(after[0], weights, dist, after[1]),
        source=source,
        label=label,
    )


def trace_decay(
    trace,
    before: tuple[np.ndarray, float] | None = None,
    source: str = "random",
    layer: int = 0,
    head: int = 0,
    max_distance: int | None = None,
) -> DecayCurve:
    """The decay curve of a trace's RoPE ("after") against ``before``.

    Args:
        trace: a :class:`~llamalens.model.trace.Trace` (its θ_i and scale are "after").
        before: (θ_i, scale) of the model, e.g. ``engine.rope(Variant())``; None: the
            trace's own (no change).
        source: ``random`` (q = k ~ N(0, I)) or ``head`` (this head's real q and k).
        layer, head: the head, for ``head``.
        max_distance: the longest distance (default the model's context).
    """
    after = (trace.theta, trace.rope_scale)
    if source == "head":
        if not 0 <= head < trace.n_heads:
            raise ValueError(f"head {head} is out of range 0..{trace.n_heads - 1}")
        slot = trace.slot(layer)  # a trace may keep only some layers
        weights = head_weights(trace.q[slot, head], trace.k[slot, trace.kv_head(head)])
        label = f"layer {layer} · head {head} (its q, k)"
    else:
        weights, label = random_weights(trace.head_dim), "random q = k"
    far = max_distance or int(trace.config.get("max_seq_len", 4096))
    return decay_curve(before or after, after, weights, far, source, label)
