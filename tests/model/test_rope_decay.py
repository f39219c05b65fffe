"""RoPE's expected score against distance: the closed form, and what real rotations give."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llamalens.model.rope import apply_rotary_emb, precompute_freqs_cis, rope_frequencies
from llamalens.model.rope_decay import (
    decay_curve,
    distances,
    expected_scores,
    head_weights,
    random_weights,
)


def closed_form(delta: int, theta: float = 10000.0, d: int = 64) -> float:
    """(2/√d) Σ_{i<d/2} cos(Δ·θ^(-2i/d)), written out term by term."""
    return 2 / math.sqrt(d) * sum(math.cos(delta * theta ** (-2 * i / d)) for i in range(d // 2))


def test_theta_10000_at_hd_64_matches_the_closed_form():
    theta = rope_frequencies(64, 10000.0).numpy()
    dist = distances(4096)
    curve = expected_scores(theta, random_weights(64), dist)
    want = np.array([closed_form(int(x)) for x in dist])
    np.testing.assert_allclose(curve, want, rtol=1e-12, atol=1e-12)
    assert curve[0] == pytest.approx(2 * 32 / 8)  # Δ = 0: every pair in phase
    # the long-range decay: far keys score well below near ones on average
    assert np.abs(curve[dist > 1000]).mean() < 0.2 * curve[0]


def test_random_curve_is_the_mean_of_real_rotated_scores():
    """q = k ~ N(0, I) rotated by the model's own RoPE code, averaged over many draws."""
    gen = torch.Generator().manual_seed(0)
    n, hd, far = 20000, 64, 300
    x = torch.randn(n, 1, 1, hd, generator=gen, dtype=torch.float64)  # (N, T=1, H=1, hd)
    freqs = rope_frequencies(hd, 10000.0)
    table = precompute_freqs_cis(freqs, far + 1).to(torch.complex128)
    dist = np.array([0, 1, 5, 20, 100, 300])
    scores = []
    for delta in dist:
        q = apply_rotary_emb(x, table[delta : delta + 1])  # query at position Δ
        k = apply_rotary_emb(x, table[0:1])  # the same vector as a key at position 0
        scores.append((q * k).sum(-1).flatten() / math.sqrt(hd))
    sampled = torch.stack(scores).double()  # (D, N)
    mean, sem = sampled.mean(1).numpy(), (sampled.std(1) / math.sqrt(n)).numpy()
    want = expected_scores(freqs.numpy(), random_weights(hd), dist)
    assert (np.abs(mean - want) <= 5 * sem + 1e-3).all(), (mean, want, sem)


def test_head_weights_and_before_after():
    rng = np.random.default_rng(1)
    q, k = rng.normal(1.0, 1.0, (50, 16)), rng.normal(0.5, 1.0, (50, 16))
    w = head_weights(q, k)
    qz = q[:, 0::2] + 1j * q[:, 1::2]
    kz = k[:, 0::2] + 1j * k[:, 1::2]
    # the mean over every (query, key) pair of Re Σ q_i conj(k_i) e^{jΔθ}
    theta = rope_frequencies(16, 100.0).numpy()
    pairs = np.einsum("mi,ni->i", qz, np.conj(kz)) / (50 * 50)
    np.testing.assert_allclose(w, pairs)
    after = rope_frequencies(16, 10000.0).numpy()
    curve = decay_curve((theta, 1.0), (after, 1.2), w, 100, "head", "layer 0 · head 0")
    assert curve.distance[0] == 0 and curve.distance[-1] == 100
    np.testing.assert_allclose(curve.before, expected_scores(theta, w, curve.distance))
    np.testing.assert_allclose(curve.after, 1.44 * expected_scores(after, w, curve.distance))
    with pytest.raises(ValueError, match="decay source"):
        decay_curve((theta, 1.0), (theta, 1.0), w, 10, "cosine")


def test_distances_are_dense_then_log_spread():
    assert distances(10).tolist() == list(range(11))
    far = distances(100_000, 400)
    assert far[0] == 0 and far[-1] == 100_000 and len(far) <= 400 and (np.diff(far) > 0).all()
