"""The Trace equals what the forward pass computed, and its views obey the math."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.build import build_model
from llamalens.model.capture import capture
from llamalens.model.head_stats import head_stats, induction_scores, logit_lens
from llamalens.model.trace_io import load_trace, save_trace
from llamalens.model.tracing import extend_trace, run_trace, trace_from_recording
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox jumps over the lazy dog. hello world!"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """A tiny random Llama in Hugging Face layout (what transformers can load too)."""
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("trace") / "hf", tiny_tensors(cfg, 11), cfg, vocab)


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    from llamalens.model.loaders import load_checkpoint

    ckpt = load_checkpoint(tiny_dir)
    return build_model(ckpt, "cpu"), ckpt.tokenizer


@pytest.fixture(scope="module")
def recorded(tiny):
    model, tok = tiny
    ids = tok.encode(PROMPT)
    with capture(model, maps=True) as rec:  # the explicit path: maps materialised
        model(torch.tensor([ids]))
    return ids, rec, trace_from_recording(rec, ids, tok, model, keep_logits=True)


def test_capture_removes_hooks_even_on_failure(tiny):
    model, _ = tiny
    with pytest.raises(IndexError), capture(model):
        model(torch.tensor([[10**6]]))  # an id outside the vocabulary
    assert all(not m._forward_hooks for m in model.modules())
    assert not model.layers[0].attention.explicit


def test_on_demand_maps_equal_the_forward_pass(recorded):
    ids, rec, trace = recorded
    for layer in range(trace.n_layers):
        for head in range(trace.n_heads):
            for stage in ("scores", "masked", "probs"):
                ours = trace.attention_map(layer, head, stage)
                used = rec.layers[layer][stage][head].numpy()
                finite = np.isfinite(used)
                assert (np.isfinite(ours) == finite).all()
                assert np.abs(ours[finite] - used[finite]).max() <= 1e-6


def test_fused_run_rebuilds_the_same_maps(recorded, tiny):
    """A plain traced run keeps SDPA; its rebuilt maps equal the explicit path's."""
    ids, rec, explicit = recorded
    model, tok = tiny
    fused = run_trace(model, tok, ids, keep_logits=True)
    assert not model.layers[0].attention.explicit
    np.testing.assert_allclose(fused.logits, explicit.logits, atol=1e-4)
    for layer in range(fused.n_layers):
        np.testing.assert_allclose(fused.q_rot[layer], explicit.q_rot[layer], atol=1e-5)
        for head in range(fused.n_heads):
            np.testing.assert_allclose(
                fused.probs(layer, head), rec.layers[layer]["probs"][head].numpy(), atol=1e-5
            )


def test_probability_rows_and_mask(recorded):
    _, _, trace = recorded
    t = trace.n_tokens
    upper = np.triu(np.ones((t, t), dtype=bool), k=1)
    for layer in range(trace.n_layers):
        for head in range(trace.n_heads):
            p = trace.probs(layer, head)
            np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5)
            assert (p[upper] == 0).all()
            m = trace.masked(layer, head)
            assert np.isneginf(m[upper]).all()
            assert np.isfinite(m[~upper]).all()
            np.testing.assert_array_equal(m[~upper], trace.scores(layer, head)[~upper])


def test_probs_times_v_is_the_attention_output(recorded):
    _, rec, trace = recorded
    hd = trace.head_dim
    for layer in range(trace.n_layers):
        out = rec.layers[layer]["out"].numpy()  # (T, H·hd)
        for head in range(trace.n_heads):
            v = trace.v[layer, trace.kv_head(head)]  # (T, hd)
            mixed = trace.probs(layer, head) @ v  # Σ_s p[t, s] · v[s]
            np.testing.assert_allclose(mixed, out[:, head * hd : (head + 1) * hd], atol=1e-5)


def test_rope_keeps_norms_and_contributions_sum_to_score(recorded):
    _, _, trace = recorded
    for layer, head, query, key in [(0, 0, 5, 2), (1, 3, 12, 12), (1, 2, 9, 0)]:
        qv = trace.rope_query(layer, head, query)
        np.testing.assert_allclose(np.abs(qv.after), np.abs(qv.before), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(qv.after, qv.before * np.exp(1j * qv.angle), atol=1e-5)
        kv = trace.rope_key(layer, head, key)
        np.testing.assert_allclose(np.abs(kv.after), np.abs(kv.before), rtol=1e-5, atol=1e-6)
        parts = trace.pair_contributions(layer, head, query, key)
        assert parts.shape == (trace.head_dim // 2,)
        assert parts.sum() == pytest.approx(float(trace.scores(layer, head)[query, key]), abs=1e-5)
    # relative position: rotating q and k by the same extra angle keeps their score
    q = trace.rope_query(1, 0, 8).before
    k = trace.rope_key(1, 0, 3).before
    theta = trace.theta
    s1 = np.real((q * np.exp(1j * 8 * theta)) * np.conj(k * np.exp(1j * 3 * theta))).sum()
    s2 = np.real((q * np.exp(1j * 20 * theta)) * np.conj(k * np.exp(1j * 15 * theta))).sum()
    assert s1 == pytest.approx(s2, rel=1e-6)


def test_kv_cache_extension_equals_full_run(tiny):
    model, tok = tiny
    ids = tok.encode(PROMPT)
    short = run_trace(model, tok, ids[:-3])
    ext = extend_trace(model, tok, short, ids[-3:-1])
    ext = extend_trace(model, tok, ext, ids[-1:])
    full = run_trace(model, tok, ids)
    assert ext.token_ids.tolist() == ids
    for name in ("q_rot", "k_rot", "v", "q", "k"):
        np.testing.assert_allclose(getattr(ext, name), getattr(full, name), atol=1e-5)
    np.testing.assert_allclose(ext.last_logits, full.last_logits, atol=1e-4)
    np.testing.assert_allclose(ext.probs(1, 3), full.probs(1, 3), atol=1e-6)


def test_extension_after_another_run_rebuilds_the_cache(tiny):
    model, tok = tiny
    ids = tok.encode(PROMPT)
    short = run_trace(model, tok, ids[:-1])
    run_trace(model, tok, tok.encode("something else entirely"))  # overwrites the cache
    ext = extend_trace(model, tok, short, ids[-1:])
    np.testing.assert_allclose(ext.last_logits, run_trace(model, tok, ids).last_logits, atol=1e-4)


def test_save_and_load_round_trip(recorded, tmp_path):
    _, _, trace = recorded
    path = tmp_path / "t.npz"
    save_trace(trace, path)
    back = load_trace(path)
    assert back.token_strs == trace.token_strs and back.token_bytes == trace.token_bytes
    np.testing.assert_array_equal(back.probs(1, 2), trace.probs(1, 2))
    np.testing.assert_array_equal(back.logits, trace.logits)
    with np.load(path, allow_pickle=False) as data:
        assert str(data["format"]) == "llamalens-trace" and int(data["version"]) == 1


def test_foreign_file_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a LlamaLens trace"):
        load_trace(tmp_path / "x.npz")
    (tmp_path / "y.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="y.npz"):
        load_trace(tmp_path / "y.npz")


def test_head_stats_match_direct_computation(recorded, tiny):
    _, _, trace = recorded
    model, _ = tiny
    ind = induction_scores(model, n_tokens=20, low=0, high=256)
    stats = head_stats(trace, ind)
    assert stats["entropy"].shape == (2, 4) and ind.shape == (2, 4)
    p = trace.probs(1, 2).astype(np.float64)
    rows = np.arange(1, trace.n_tokens)
    assert stats["sink"][1, 2] == pytest.approx(p[rows, 0].mean(), abs=1e-6)
    assert stats["previous"][1, 2] == pytest.approx(p[rows, rows - 1].mean(), abs=1e-6)
    assert stats["self"][1, 2] == pytest.approx(p[rows, rows].mean(), abs=1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(p > 0, p * np.log(p), 0), axis=-1)
    assert stats["entropy"][1, 2] == pytest.approx(ent[rows].mean(), abs=1e-5)


def test_induction_scores_equal_transformers_attention(tiny, tiny_dir):
    """On [R, R], row i of the second copy attending to key i - n + 1 (the token after the
    same token in the first copy), averaged: read from transformers' eager attention."""
    model, _ = tiny
    n = 20
    ind = induction_scores(model, n_tokens=n, seed=5, low=0, high=256)
    r = torch.randint(0, 256, (n,), generator=torch.Generator().manual_seed(5))
    reference = transformers.LlamaForCausalLM.from_pretrained(
        tiny_dir, attn_implementation="eager", dtype=torch.float32
    ).eval()
    with torch.no_grad():
        attentions = reference(torch.cat([r, r])[None], output_attentions=True).attentions
    rows = np.arange(n, 2 * n)
    expected = np.stack([a[0].numpy()[:, rows, rows - n + 1].mean(-1) for a in attentions])
    assert ind.shape == expected.shape == (2, 4)
    np.testing.assert_allclose(ind, expected, atol=1e-5)
    # a random model has no induction head: far below the 1.0 of a perfect one, and not
    # what it would be under uniform attention over the causal prefix either
    uniform = np.mean(1.0 / (rows + 1))
    assert ind.max() < 0.5 and not np.allclose(ind, uniform, atol=1e-3)


def test_logit_lens_last_layer_is_the_output(recorded, tiny):
    _, _, trace = recorded
    model, _ = tiny
    ids, probs = logit_lens(model, trace, [trace.n_tokens - 1, 3], k=5)
    assert ids.shape == (2, 2, 5)
    assert ids[-1, 0, 0] == int(np.argmax(trace.last_logits))
    assert ids[-1, 1, 0] == int(np.argmax(trace.logits[3]))
    assert (np.diff(probs, axis=-1) <= 0).all()


def test_long_prompt_statistics_use_spread_rows(recorded, monkeypatch):
    import llamalens.model.head_stats as hs

    _, _, trace = recorded
    monkeypatch.setattr(hs, "MAX_ROWS", 5)
    rows = hs.stat_rows(trace.n_tokens).numpy()
    assert len(rows) == 5 and rows[0] == 1 and rows[-1] == trace.n_tokens - 1
    stats = hs.head_stats(trace)
    p = trace.probs(1, 3).astype(np.float64)
    assert stats["sink"][1, 3] == pytest.approx(p[rows, 0].mean(), abs=1e-6)
    assert stats["previous"][1, 3] == pytest.approx(p[rows, rows - 1].mean(), abs=1e-6)
