"""The walkthrough's per-position values are the forward pass's own (hooks on the model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from llamalens.model.engine import Engine
from llamalens.model.position_capture import LAYER_ROWS, check_positions
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("walk") / "hf", tiny_tensors(cfg, 11), cfg, vocab)
    return Engine.load(path, device="cpu")


def hooked_forward(engine: Engine, ids: list[int], positions) -> dict[str, list[torch.Tensor]]:
    """Every module output the walkthrough shows, for every position, read with hooks."""
    model = engine.module
    seen: dict[str, list[torch.Tensor]] = {}

    def keep(name, use_input=False):
        def hook(_m, inputs, output):
            value = inputs[0] if use_input else output
            seen.setdefault(name, []).append(value[0].detach().float().clone())

        return hook

    points = [(model.tok_embeddings, "embeddings", False)]
    for layer in model.layers:
        att, ffn = layer.attention, layer.feed_forward
        points += [
            (layer.attention_norm, "resid_pre", True),
            (layer.attention_norm, "attn_normed", False),
            (att.out, "heads", False),
            (att.wo, "attn_out", False),
            (layer.resid_mid, "resid_mid", False),
            (layer.ffn_norm, "ffn_normed", False),
            (ffn.gate, "gate", False),
            (ffn.up, "up", False),
            (ffn.act, "act", False),
            (ffn.hidden, "hidden", False),
            (ffn.w2, "ffn_out", False),
            (layer.resid_post, "resid_post", False),
        ]
    points += [(model.norm, "final_normed", False), (model.logits, "logits", False)]
    handles = [m.register_forward_hook(keep(n, i)) for m, n, i in points]
    try:
        model(torch.tensor([ids]), positions=positions)
    finally:
        for h in handles:
            h.remove()
    return seen


def assert_exact(ours: np.ndarray, reference: torch.Tensor, what: str) -> None:
    ref = reference.numpy()
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    delta = float(np.abs(ours - ref).max()) if ours.size else 0.0
    assert delta <= 1e-5, f"{what}: max |Δ| = {delta}"


def check_against_hooks(engine: Engine, ids: list[int], positions: tuple[int, ...]) -> None:
    detail = engine.walk(ids, positions)
    seen = hooked_forward(engine, ids, positions)
    pos = list(positions)
    assert detail.positions == positions
    assert_exact(detail.embeddings, seen["embeddings"][0], "embeddings")
    for name in LAYER_ROWS:
        if name.endswith("_rms"):
            continue
        for layer, full in enumerate(seen[name]):
            assert_exact(getattr(detail, name)[layer], full[pos], f"{name}[{layer}]")
    assert_exact(detail.final_normed, seen["final_normed"][0], "final_normed")
    assert_exact(detail.logits, seen["logits"][0], "logits")


def test_every_value_equals_the_forward_pass_tiny(tiny):
    ids = tiny.encode(PROMPT).ids
    check_against_hooks(tiny, ids, (len(ids) - 1,))
    check_against_hooks(tiny, ids, (0, 3, len(ids) - 2))


@pytest.mark.slow
def test_every_value_equals_the_forward_pass_default(default_model):
    ids = default_model.encode("The capital of France is").ids
    check_against_hooks(default_model, ids, (len(ids) - 1,))
    check_against_hooks(default_model, ids, (1,))


def test_values_obey_the_math_of_each_step(tiny):
    """Independent of hooks: the norms, the residual adds and SwiGLU, recomputed."""
    ids = tiny.encode(PROMPT).ids
    p = len(ids) - 3
    d = tiny.walk(ids, [p])
    trace = tiny.trace(ids)
    model = tiny.module
    eps = model.config.norm_eps
    for layer in range(d.n_layers):
        x = d.resid_pre[layer, 0]
        rms = np.sqrt(np.mean(x.astype(np.float64) ** 2) + eps)
        np.testing.assert_allclose(d.attn_rms[layer, 0], rms, rtol=1e-5)
        np.testing.assert_allclose(
            d.attn_normed[layer, 0], d.attn_gain[layer] * x / rms, rtol=1e-4, atol=1e-6
        )
        np.testing.assert_array_equal(d.resid_mid[layer], d.resid_pre[layer] + d.attn_out[layer])
        np.testing.assert_array_equal(d.resid_post[layer], d.resid_mid[layer] + d.ffn_out[layer])
        np.testing.assert_array_equal(d.hidden[layer], d.act[layer] * d.up[layer])
        gate = d.gate[layer, 0].astype(np.float64)
        np.testing.assert_allclose(d.act[layer, 0], gate / (1 + np.exp(-gate)), rtol=1e-5)
        w1 = model.layers[layer].feed_forward.w1.weight.detach().numpy()
        np.testing.assert_allclose(d.gate[layer, 0], w1 @ d.ffn_normed[layer, 0], atol=1e-5)
        hd = trace.head_dim
        for head in range(trace.n_heads):
            v = trace.v[layer, trace.kv_head(head)]  # (T, hd)
            expect = trace.probs(layer, head)[p] @ v
            got = d.heads[layer, 0, head * hd : (head + 1) * hd]
            np.testing.assert_allclose(got, expect, atol=1e-5)
        # the next block starts from this one's output, which the trace kept too
        np.testing.assert_array_equal(d.resid_post[layer, 0], trace.resid_post[layer, p])
    silu = F.silu(torch.from_numpy(d.gate[0, 0])).numpy()
    np.testing.assert_allclose(d.act[0, 0], silu, rtol=1e-6)


def test_last_position_logits_are_what_sampling_uses(tiny):
    ids = tiny.encode(PROMPT).ids
    trace = tiny.trace(ids)
    d = tiny.walk(ids, [len(ids) - 1])
    np.testing.assert_array_equal(d.logits[0], trace.last_logits)
    full = tiny.logits(ids)
    for p in (0, 4):
        row = tiny.walk(ids, [p]).logits[0]
        np.testing.assert_allclose(row, full[p], atol=1e-5)


def test_walk_leaves_the_kv_cache_for_append(tiny):
    ids = tiny.encode(PROMPT).ids
    trace = tiny.trace(ids[:-1])
    tiny.walk(ids, [2])  # another prompt length in between must not disturb the cache
    appended = tiny.append(trace, ids[-1:])
    full = tiny.trace(ids)
    np.testing.assert_allclose(appended.last_logits, full.last_logits, atol=1e-5)


def test_detail_is_small_and_checks_its_positions(tiny):
    ids = tiny.encode(PROMPT).ids
    d = tiny.walk(ids, [5, 2, 5])
    assert d.positions == (2, 5)
    assert d.index(5) == 1
    assert d.fits(ids, 2) and not d.fits(ids, 3) and not d.fits(ids[:-1], 2)
    cfg = tiny.config
    assert d.gate.shape == (cfg.n_layers, 2, cfg.hidden_dim)
    assert d.heads.shape == (cfg.n_layers, 2, cfg.n_heads * cfg.head_dim)
    assert d.logits.shape == (2, cfg.vocab_size)
    assert d.embeddings.shape == (len(ids), cfg.dim)
    with pytest.raises(ValueError, match="out of range 0..11"):
        check_positions([12], 12)
    with pytest.raises(ValueError, match="no position"):
        tiny.walk(ids, [])
    with pytest.raises(ValueError, match="was not captured"):
        d.index(3)


def test_walk_runs_the_traces_variant_and_keeps_the_current(tiny):
    """A variant's trace walks on that variant, whatever the engine runs now."""
    from llamalens.model.variants import HeadAblation, RopeChange, Variant

    ids = tiny.encode(PROMPT).ids
    variant = Variant((HeadAblation(0, 1, "mean"),), RopeChange(theta=500.0))
    with tiny.varied(variant):
        varied = tiny.trace(ids)
    model = tiny.trace(ids)
    detail = tiny.walk(ids, [2, 5], variant=Variant.from_dict(varied.variant))
    assert detail.agrees_with(varied.resid_post)
    assert not detail.agrees_with(model.resid_post)
    assert tiny.variant == Variant()
    ablated = detail.heads[0, :, tiny.config.head_dim : 2 * tiny.config.head_dim]  # (P, hd)
    np.testing.assert_allclose(ablated[0], ablated[1], atol=1e-6)  # the mean of every position
    assert tiny.walk(ids, [2]).agrees_with(model.resid_post)
