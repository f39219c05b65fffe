"""Head ablation equals the same ablation done by hand in transformers; nothing ablated
changes nothing, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.engine import Engine
from llamalens.model.trace_io import load_trace, save_trace
from llamalens.model.variants import HeadAblation, RopeChange, Variant
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox: attention rotates pairs. hello world!"
ABLATED = ((0, 1), (1, 3))  # (layer, head) of the tiny model's 2 layers × 4 heads


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("abl") / "hf", tiny_tensors(cfg, 11), cfg, vocab)


@pytest.fixture(scope="module")
def engine(hf_dir):
    return Engine.load(hf_dir, device="cpu")


@pytest.fixture(scope="module")
def reference(hf_dir):
    return transformers.LlamaForCausalLM.from_pretrained(
        hf_dir, attn_implementation="eager", dtype=torch.float32
    ).eval()


@pytest.fixture(autouse=True)
def _model_again(engine):
    yield
    engine.set_variant(None)


def hf_ablated(reference, ids, heads, mode):
    """Logits and attentions of transformers with each head's o_proj input replaced by
    zeros or by its mean over the sequence (the hand-made reference)."""
    hd = reference.config.head_dim

    def pre_hook(head):
        def hook(_module, args):
            x = args[0].clone()  # (B, T, H·hd)
            part = x[..., head * hd : (head + 1) * hd]
            part[:] = 0 if mode == "zero" else part.mean(dim=1, keepdim=True)
            return (x,)

        return hook

    handles = [
        reference.model.layers[layer].self_attn.o_proj.register_forward_pre_hook(pre_hook(head))
        for layer, head in heads
    ]
    try:
        with torch.no_grad():
            out = reference(torch.tensor([ids]), output_attentions=True)
    finally:
        for h in handles:
            h.remove()
    return out.logits[0].numpy(), [a[0].numpy() for a in out.attentions]


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_ablation_equals_transformers_with_hooks(engine, reference, mode):
    ids = engine.encode(PROMPT).ids
    plain = engine.logits(ids)
    ref_logits, ref_attn = hf_ablated(reference, ids, ABLATED, mode)
    engine.set_variant(Variant(tuple(HeadAblation(l_, h, mode) for l_, h in ABLATED)))
    logits = engine.logits(ids)
    assert np.abs(logits - plain).max() > 1e-2  # the ablation matters
    assert np.abs(logits - ref_logits).max() <= 1e-5
    trace = engine.trace(ids)
    # layer 1's maps see layer 0's ablated head through the residual stream
    for h in range(trace.n_heads):
        np.testing.assert_allclose(trace.probs(1, h), ref_attn[1][h], atol=1e-5)
    assert np.abs(trace.last_logits - ref_logits[-1]).max() <= 1e-5
    assert trace.variant["ablations"] == [[l_, h, mode] for l_, h in ABLATED]


def test_ablating_nothing_is_bit_exact(engine):
    ids = engine.encode(PROMPT).ids
    fresh = engine.logits(ids)
    first = engine.trace(ids, keep_logits=True)
    engine.set_variant(Variant((HeadAblation(0, 0),), RopeChange(theta=500.0)))
    assert not np.array_equal(engine.logits(ids), fresh)
    engine.set_variant(Variant())
    again = engine.trace(ids, keep_logits=True)
    assert np.array_equal(engine.logits(ids), fresh)
    for name in ("q", "k", "q_rot", "k_rot", "v", "logits", "resid_post"):
        assert np.array_equal(getattr(again, name), getattr(first, name)), name
    assert again.variant == {} and engine.module.rope_divisors is None


def test_zero_ablation_with_the_kv_cache_equals_a_fresh_run(engine):
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant((HeadAblation(1, 2),)))
    longer = engine.generate_trace(engine.trace(ids[:-3]), 3)
    fresh = engine.trace(longer.token_ids.tolist())
    np.testing.assert_allclose(longer.last_logits, fresh.last_logits, atol=1e-5)
    np.testing.assert_allclose(longer.q_rot, fresh.q_rot, atol=1e-5)


def test_mean_ablation_of_an_appended_token_uses_the_mean_so_far(engine, reference):
    """A token appended with the KV cache sees the mean over every position up to it: for
    the last position that is the mean of the whole sequence, as in a fresh run."""
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant((HeadAblation(1, 0, "mean"),)))  # the last layer
    longer = engine.append(engine.trace(ids[:-1]), ids[-1:])
    ref_logits, _ = hf_ablated(reference, ids, [(1, 0)], "mean")
    assert np.abs(longer.last_logits - ref_logits[-1]).max() <= 1e-5


def test_varied_restores_the_variant_and_the_kv_cache(engine):
    ids = engine.encode(PROMPT).ids
    trace = engine.trace(ids[:-1])
    with engine.varied(Variant((HeadAblation(0, 3),))) as varied:
        other = varied.trace(ids)
        assert other.variant["label"] == "ablated L0.H3"
    assert engine.variant.is_model()
    cache = engine.module.layers[0].attention.cache_k
    assert cache is not None and cache.shape[1] == len(ids) - 1  # the first trace's
    longer = engine.append(trace, ids[-1:])
    np.testing.assert_allclose(longer.last_logits, engine.trace(ids).last_logits, atol=1e-5)
    assert not np.allclose(other.last_logits, longer.last_logits, atol=1e-3)


def test_appending_to_another_variants_trace_is_refused(engine):
    ids = engine.encode(PROMPT).ids
    trace = engine.trace(ids)
    engine.set_variant(Variant((HeadAblation(0, 0, "mean"),)))
    with pytest.raises(ValueError, match="made by the model, not by ablated L0.H0 mean"):
        engine.append(trace, [ids[0]])


def test_saved_trace_keeps_its_variant(engine, tmp_path):
    engine.set_variant(Variant((HeadAblation(1, 1),), RopeChange(theta=1234.0)))
    trace = engine.trace(engine.encode(PROMPT).ids)
    save_trace(trace, tmp_path / "t.npz")
    back = load_trace(tmp_path / "t.npz")
    assert back.variant == trace.variant and back.variant_label == "ablated L1.H1 · RoPE θ 1234"
    assert back.config["rope_theta"] == 1234.0
    assert Variant.from_dict(back.variant) == engine.variant


def test_bad_heads_are_refused_and_change_nothing(engine):
    with pytest.raises(ValueError, match="ablated head 4 is out of range 0..3"):
        engine.set_variant(Variant((HeadAblation(0, 4),)))
    with pytest.raises(ValueError, match="ablated layer 2 is out of range 0..1"):
        engine.set_variant(Variant((HeadAblation(2, 0),)))
    with pytest.raises(ValueError, match="rotary_fraction"):
        engine.set_variant(Variant(rope=RopeChange(rotary_fraction=0.1)))
    assert engine.variant.is_model()
