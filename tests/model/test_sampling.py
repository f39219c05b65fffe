"""Sampling: greedy, Meta's top-p rule, top-k, seeds, and the law of the draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llamalens.model.sampling import SamplingParams, nucleus, sample, softmax

LOGITS = np.array([2.0, 1.5, 1.0, 0.5, 0.0, -1.0, -3.0, -6.0])


def test_temperature_zero_is_argmax():
    rng = np.random.default_rng(0)
    for _ in range(50):
        logits = rng.normal(size=100) * 3
        assert sample(logits, SamplingParams(temperature=0.0)).token == int(np.argmax(logits))


def test_top_p_keeps_smallest_prefix_reaching_p():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    assert nucleus(probs, 0.49, 0).tolist() == [0]
    # Meta drops a token only when the mass before it is strictly greater than p
    assert nucleus(probs, 0.5, 0).tolist() == [0, 1]
    assert nucleus(probs, 0.51, 0).tolist() == [0, 1]
    assert nucleus(probs, 0.79, 0).tolist() == [0, 1]
    assert nucleus(probs, 0.81, 0).tolist() == [0, 1, 2]
    assert nucleus(probs, 1.0, 0).tolist() == [0, 1, 2, 3]


def test_top_k_then_top_p():
    probs = softmax(LOGITS)
    assert nucleus(probs, 1.0, 3).tolist() == [0, 1, 2]
    assert nucleus(probs, 0.3, 3).tolist() == [0]


def test_result_carries_every_stage():
    r = sample(LOGITS, SamplingParams(temperature=0.5, top_p=0.9, seed=3))
    np.testing.assert_allclose(r.probs, softmax(LOGITS))
    np.testing.assert_allclose(r.tempered, softmax(LOGITS / 0.5))
    assert r.final.sum() == pytest.approx(1.0)
    assert set(np.flatnonzero(r.final)) == set(r.kept.tolist())
    assert r.token in r.kept
    # lower temperature sharpens the distribution
    assert r.tempered[0] > r.probs[0]


def test_seed_reproduces_draws():
    params = SamplingParams(temperature=1.0, seed=42)
    a = [sample(LOGITS, params, np.random.default_rng(42)).token for _ in range(5)]
    b = [sample(LOGITS, params, np.random.default_rng(42)).token for _ in range(5)]
    assert a == b


def test_draws_stay_in_nucleus_and_follow_it_chi_square():
    params = SamplingParams(temperature=0.8, top_p=0.9, seed=7)
    rng = np.random.default_rng(7)
    first = sample(LOGITS, params, rng)
    draws = np.array([sample(LOGITS, params, rng).token for _ in range(20_000)])
    assert set(np.unique(draws)) <= set(first.kept.tolist())
    kept = first.kept
    observed = np.array([(draws == k).sum() for k in kept])
    expected = first.final[kept] * len(draws)
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    # critical value of chi-square at p = 0.001 for up to 7 degrees of freedom is 24.3
    assert chi2 < 24.3, (chi2, observed, expected)
    assert len(kept) >= 3


def test_chi_square_detects_a_wrong_law():
    """The test above can fail: draws from the untruncated law are rejected."""
    params = SamplingParams(temperature=0.8, top_p=0.9)
    first = sample(LOGITS, params, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    wrong = rng.choice(len(LOGITS), size=20_000, p=first.tempered)
    kept = first.kept
    observed = np.array([(wrong == k).sum() for k in kept])
    expected = first.final[kept] * len(wrong)
    assert float(((observed - expected) ** 2 / expected).sum()) > 24.3


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(temperature=-1),
        dict(top_p=0),
        dict(top_p=1.5),
        dict(top_k=-2),
        dict(temperature=float("nan")),
    ],
)
def test_bad_params_are_named(kwargs):
    with pytest.raises(ValueError) as info:
        SamplingParams(**kwargs)
    assert next(iter(kwargs)) in str(info.value)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-20, 20), min_size=1, max_size=50),
    st.floats(0.01, 1.0),
    st.integers(0, 10),
    st.floats(0.05, 3.0),
)
def test_final_is_a_distribution_over_kept(logits, top_p, top_k, temperature):
    r = sample(np.array(logits), SamplingParams(temperature, top_p, top_k, seed=0))
    assert r.final.sum() == pytest.approx(1.0)
    assert len(r.kept) >= 1 and (top_k == 0 or len(r.kept) <= top_k)
    assert r.token in r.kept
    assert r.kept[0] == int(np.argmax(r.tempered)) or r.tempered[r.kept[0]] == r.tempered.max()
