"""Synthetic attention matrices shared by the widget tests."""

from __future__ import annotations

import numpy as np


def causal_probs(n: int, seed: int = 0) -> np.ndarray:
    """(T, T) float32 row softmax of random scores under a causal mask."""
    scores = np.random.default_rng(seed).normal(size=(n, n))
    scores[np.triu_indices(n, k=1)] = -np.inf
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def future_mask(n: int) -> np.ndarray:
    """(T, T) bool, True above the diagonal: the cells a causal mask hides."""
    return np.triu(np.ones((n, n), dtype=bool), k=1)


def stage_args(stage: str, matrix: np.ndarray) -> dict:
    """The ``set_map`` arguments the app gives for a stage's (T, T) map."""
    n = np.asarray(matrix).shape[0]
    if stage == "scores":
        return {"kind": "score", "value_label": "raw QKᵀ/√d"}
    kind = "probability" if stage == "probs" else "score"
    return {"mask": future_mask(n), "kind": kind, "value_label": stage}
