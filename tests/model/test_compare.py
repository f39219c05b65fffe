"""Compare: B − A of maps and of the next-token distribution."""

from __future__ import annotations

import numpy as np
import pytest

from llamalens.model.compare import map_difference, next_token_difference
from llamalens.model.engine import Engine
from llamalens.model.variants import HeadAblation, Variant
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("cmp") / "hf", tiny_tensors(cfg, 2), cfg, vocab)
    return Engine.load(path, device="cpu")


@pytest.mark.parametrize("stage", ["scores", "masked", "probs"])
def test_a_run_compared_with_itself_is_all_zeros(engine, stage):
    trace = engine.trace(engine.encode("hello world, the cat sat").ids)
    diff = map_difference(trace, trace, stage, (1, 2), (1, 2))
    assert diff.values.shape == (trace.n_tokens,) * 2
    assert np.array_equal(diff.values, np.zeros_like(diff.values))
    assert diff.labels == trace.token_strs
    assert (diff.mask is None) == (stage == "scores")
    nt = next_token_difference(trace.last_logits, trace.last_logits)
    assert np.array_equal(nt.delta_logprob, np.zeros(len(nt.ids)))
    np.testing.assert_array_equal(nt.prob_a, nt.prob_b)


def test_model_against_variant_and_two_prompts(engine):
    ids = engine.encode("hello world, the cat sat on the mat").ids
    a = engine.trace(ids)
    with engine.varied(Variant((HeadAblation(0, 1),))):
        b = engine.trace(ids)
    diff = map_difference(a, b, "probs", (1, 0), (1, 0))
    np.testing.assert_array_equal(diff.values, b.probs(1, 0) - a.probs(1, 0))
    assert np.abs(diff.values).max() > 1e-4
    assert np.array_equal(map_difference(a, b, "probs", (0, 0), (0, 0)).values, 0 * diff.values)
    nt = next_token_difference(a.last_logits, b.last_logits, top=5)
    pa = np.exp(a.last_logits - np.logaddexp.reduce(a.last_logits.astype(np.float64)))
    assert nt.ids[0] == int(np.argmax(a.last_logits))
    np.testing.assert_allclose(nt.prob_a, pa[nt.ids], rtol=1e-9)
    np.testing.assert_allclose(nt.delta_logprob, np.log(nt.prob_b) - np.log(nt.prob_a))
    assert 5 <= len(nt.ids) <= 10
    other = engine.trace(engine.encode("hello world, a dog").ids)
    d2 = map_difference(a, other, "masked", (1, 1), (1, 1))
    n = other.n_tokens
    assert d2.values.shape == (n, n) and not np.isnan(d2.values).any()
    assert d2.labels[0] == a.token_strs[0] and "|" in d2.labels[-1]
    visible = ~d2.mask
    want = other.masked(1, 1)[:n, :n][visible] - a.masked(1, 1)[:n, :n][visible]
    np.testing.assert_array_equal(d2.values[visible], want)


def test_two_heads_of_one_trace(engine):
    t = engine.trace(engine.encode("hello world").ids)
    diff = map_difference(t, t, "probs", (0, 0), (1, 3))
    np.testing.assert_array_equal(diff.values, t.probs(1, 3) - t.probs(0, 0))
