"""Cancelling stops a run, a generation and an analysis at the next layer, and leaves the
engine ready: the next append or run equals a fresh one.

"Within a second" is measured by benchmarks/cancel_latency.py; here the property is
counted, not timed: after the cancel takes effect not one more layer runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from llamalens.model.engine import Engine
from llamalens.model.errors import Cancelled
from llamalens.model.sampling import SamplingParams
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the cat sat on the mat"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab, n_layers=4)
    path = write_hf(tmp_path_factory.mktemp("cancel") / "hf", tiny_tensors(cfg, 9), cfg, vocab)
    return Engine.load(path, device="cpu")


class CancelAt:
    """An on_layer callback that raises Cancelled at its n-th call and counts every call."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self, _layer: int) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise Cancelled()


def test_a_cancelled_run_stops_at_that_layer_and_forgets_its_cache(engine):
    ids = engine.encode(PROMPT).ids
    reference = engine.trace(ids)
    stop = CancelAt(2)
    with pytest.raises(Cancelled):
        engine.trace(ids[:-1], on_layer=stop)
    assert stop.calls == 2  # layer 1 raised; layers 2 and 3 never ran
    assert all(layer.attention.cache_k is None for layer in engine.module.layers)
    # appending to the earlier trace recomputes the prefix: the answer is still exact
    longer = engine.append(reference, [5])
    fresh = engine.trace([*ids, 5])
    np.testing.assert_allclose(longer.q_rot, fresh.q_rot, atol=1e-5)
    np.testing.assert_allclose(longer.last_logits, fresh.last_logits, atol=1e-4)


def test_a_cancelled_generation_keeps_the_tokens_made_so_far(engine):
    ids = engine.encode(PROMPT).ids
    trace = engine.trace(ids)
    n_layers = engine.config.n_layers
    full = engine.generate_trace(trace, 5, SamplingParams(temperature=0.0))
    # cancel in the middle of the third token (second of its four layers)
    stop = CancelAt(2 * n_layers + 2)
    part = engine.generate_trace(
        engine.trace(ids), 5, SamplingParams(temperature=0.0), on_layer=stop
    )
    assert stop.calls == 2 * n_layers + 2
    assert part.n_tokens == trace.n_tokens + 2
    assert part.token_ids.tolist() == full.token_ids[: part.n_tokens].tolist()
    # the next token continues exactly where the full generation went
    more = engine.generate_trace(part, 1, SamplingParams(temperature=0.0))
    assert more.token_ids.tolist() == full.token_ids[: part.n_tokens + 1].tolist()
    np.testing.assert_allclose(
        more.last_logits, engine.trace(more.token_ids.tolist()).last_logits, atol=1e-4
    )


def test_keep_going_stops_before_the_next_token(engine):
    trace = engine.trace(engine.encode(PROMPT).ids)
    asked = []

    def keep_going(i: int) -> bool:
        asked.append(i)
        return i < 3

    out = engine.generate_trace(trace, 10, keep_going=keep_going)
    assert out.n_tokens == trace.n_tokens + 3 and asked == [0, 1, 2, 3]


def test_plain_generation_stops_at_the_layer_too(engine):
    stop = CancelAt(3)
    with pytest.raises(Cancelled):
        engine.generate(engine.encode(PROMPT).ids, 10, on_layer=stop)
    assert stop.calls == 3


def test_a_cancelled_analysis_stops_at_that_layer(engine):
    trace = engine.trace(engine.encode(PROMPT).ids)
    stop = CancelAt(1)
    with pytest.raises(Cancelled):
        engine.analyse(trace, on_layer=stop)
    assert stop.calls == 1
    analysis = engine.analyse(trace)  # and it runs whole afterwards
    rows = trace.probs(0, 0)[1:]
    np.testing.assert_allclose(analysis.stats["sink"][0, 0], rows[:, 0].mean(), rtol=1e-5)


def test_interruptible_stops_half_way_through_a_layer(engine):
    """The worker's check also runs between each layer's attention and feed-forward."""
    ids = engine.encode(PROMPT).ids
    halves, layers = [], []

    def check() -> None:
        halves.append(len(layers))
        if len(halves) == 3:
            raise Cancelled()

    with engine.interruptible(check), pytest.raises(Cancelled):
        engine.trace(ids, on_layer=layers.append)
    assert halves == [0, 1, 2] and layers == [0, 1]  # stopped inside layer 2, before its FFN
    assert all(layer.interrupt is None for layer in engine.module.layers)
    np.testing.assert_allclose(
        engine.trace(ids).last_logits, engine.logits(ids)[-1], rtol=1e-4, atol=1e-4
    )
