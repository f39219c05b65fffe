"""The Engine: the one encoding rule, traces, the one generation loop, analysis."""

from __future__ import annotations

import numpy as np
import pytest

from llamalens.model.analysis import STAT_NAMES
from llamalens.model.engine import Engine, encode_prompt
from llamalens.model.sampling import SamplingParams
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox jumps over the lazy dog. hello world!"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("engine") / "hf", tiny_tensors(cfg, 11), cfg, vocab)
    return Engine.load(path, device="cpu")


def test_encode_rule_plain_special_and_chat(engine):
    tok = engine.tokenizer
    special = next(t for t in (tok.token(i) for i in range(tok.n_vocab)) if t.special)
    text = f"hello {special.text} world"
    as_special = engine.encode(text).ids
    assert special.id in as_special
    as_text = engine.encode(text, plain=True).ids
    assert special.id not in as_text
    assert tok.decode(as_text) == (tok.decode([tok.bos_id]) if tok.add_bos else "") + text
    assert encode_prompt(tok, text, plain=True).ids == as_text  # the engine uses the rule
    if tok.chat_template is not None:
        chat = engine.encode("hi", chat=True).ids
        assert chat == tok.encode(tok.apply_chat("hi"), allow_special=True, bos=False)


def test_encode_refuses_empty_and_too_long_prompts(engine):
    with pytest.raises(ValueError, match="empty"):
        engine.encode("", plain=True)
    with pytest.raises(ValueError, match="context"):
        engine.trace([1] * (engine.config.max_seq_len + 1))


def test_trace_logits_equal_a_plain_forward(engine):
    ids = engine.encode(PROMPT).ids
    trace = engine.trace(ids, keep_logits=True)
    np.testing.assert_allclose(trace.logits, engine.logits(ids), atol=1e-5)
    top = engine.top_next(ids, 3)
    assert top[0].id == int(np.argmax(trace.last_logits))
    assert top[0].prob > top[1].prob > top[2].prob


def test_generate_trace_equals_greedy_generation_and_a_full_run(engine):
    ids = engine.encode(PROMPT).ids
    start = engine.trace(ids)
    out = engine.generate_trace(start, 4)
    new = out.token_ids.tolist()[len(ids) :]
    assert 1 <= len(new) <= 4
    assert new == engine.generate(ids, 4)  # the same loop, without capture
    expected, t = [], start
    for _ in range(len(new)):
        expected.append(int(np.argmax(t.last_logits)))
        t = engine.append(t, expected[-1:])
    assert new == expected
    full = engine.trace(out.token_ids.tolist())
    np.testing.assert_allclose(out.k_rot, full.k_rot, atol=1e-5)
    np.testing.assert_allclose(out.last_logits, full.last_logits, atol=1e-4)


def test_seeded_sampling_is_reproducible_and_streams(engine):
    ids = engine.encode(PROMPT).ids
    params = SamplingParams(temperature=1.3, top_p=0.95, seed=7)
    seen: list[int] = []
    first = engine.generate(ids, 6, params, on_token=seen.append)
    assert seen == first
    assert engine.generate(ids, 6, params) == first
    traced = engine.generate_trace(engine.trace(ids), 6, params)
    assert traced.token_ids.tolist()[len(ids) :] == first


def test_generation_stops_when_asked_and_keeps_what_it_made(engine):
    ids = engine.encode(PROMPT).ids
    out = engine.generate_trace(engine.trace(ids), 10, keep_going=lambda i: i < 2)
    assert out.n_tokens == len(ids) + 2
    assert engine.generate(ids, 10, keep_going=lambda i: i < 3) == engine.generate(ids, 3)
    assert engine.generate(ids, 0) == []
    with pytest.raises(ValueError, match="max_new_tokens"):
        engine.generate(ids, -1)


def test_generation_stops_at_a_stop_token(engine, monkeypatch):
    ids = engine.encode(PROMPT).ids
    greedy = engine.generate(ids, 5)
    stop = greedy[1]
    monkeypatch.setattr(engine.tokenizer, "stop_ids", {stop})
    assert engine.generate(ids, 5) == greedy[: greedy.index(stop) + 1]


def test_generation_ends_at_the_context(engine):
    limit = engine.config.max_seq_len
    ids = (engine.encode(PROMPT).ids * limit)[: limit - 2]
    assert len(engine.generate(ids, 10)) <= 2


def test_analyse_names_every_statistic_and_decodes_the_lens(engine):
    trace = engine.trace(engine.encode(PROMPT).ids, keep_logits=True)
    analysis = engine.analyse(trace, lens_positions=3)
    assert tuple(analysis.stats) == STAT_NAMES
    for values in analysis.stats.values():
        assert values.shape == (trace.n_layers, trace.n_heads)
    lens = analysis.lens
    assert lens.positions == tuple(range(trace.n_tokens - 3, trace.n_tokens))
    assert lens.ids[-1, -1, 0] == int(np.argmax(trace.last_logits))  # the last layer = output
    assert lens.text[-1, -1, 0] == engine.tokenizer.token(int(lens.ids[-1, -1, 0])).text
    analysis.check(trace.n_layers, trace.n_heads, trace.n_tokens)


def test_info_describes_the_loaded_model(engine):
    info = engine.info()
    assert info.format == "hf" and info.device == "cpu" and info.dtype == "fp32"
    assert info.n_layers == engine.config.n_layers
    assert info.tokenizer["n_vocab"] == engine.tokenizer.n_vocab
    assert info.to_dict()["config"]["n_heads"] == engine.config.n_heads
    assert info.name in info.summary() and "compute fp32 on cpu" in info.summary()


def test_a_trace_may_capture_some_layers_only(engine, tmp_path):
    from llamalens.model.trace_io import load_trace, save_trace

    ids = engine.encode(PROMPT).ids
    full = engine.trace(ids)
    part = engine.trace(ids, layers=[1])
    assert part.layers == (1,) and part.n_layers == 1 and part.q_rot.shape[0] == 1
    np.testing.assert_array_equal(part.probs(1, 2), full.probs(1, 2))
    np.testing.assert_array_equal(part.last_logits, full.last_logits)  # the run is whole
    with pytest.raises(ValueError, match="layer 0 was not captured .*layers 1"):
        part.probs(0, 0)
    longer = engine.generate_trace(part, 2)
    assert longer.layers == (1,)
    np.testing.assert_allclose(
        longer.k_rot[0], engine.trace(longer.token_ids.tolist()).k_rot[1], atol=1e-5
    )
    analysis = engine.analyse(part)
    assert analysis.stats["sink"].shape == (1, part.n_heads)
    np.testing.assert_array_equal(
        analysis.stats["induction"], engine.analyse(full).stats["induction"][[1]]
    )
    save_trace(part, tmp_path / "part.npz")
    assert load_trace(tmp_path / "part.npz").layers == (1,)
    with pytest.raises(ValueError, match="not layers of this model"):
        engine.trace(ids, layers=[7])
