"""Synthetic attention matrices shared by the widget tests."""

from __future__ import annotations

import numpy as np


def causal_probs(n: int, seed: int = 0) -> np.ndarray:
    """(T, T) float32 row softmax of random scores under a causal mask."""
    scores = np.random.default_rng(seed).normal(size=(n, n))
    scores[np.triu_indices(n, k=1)] = -np.inf
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
