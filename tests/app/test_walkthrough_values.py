"""Every walkthrough step's tensor is the model's own value: hooks on the forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llamalens.app.walkthrough.steps import STEP_IDS, STEPS
from llamalens.app.walkthrough.tensors import WalkContext, step_tensors
from llamalens.model.engine import Engine
from llamalens.model.sampling import SamplingParams, distribution, sample, softmax
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

TOL = 1e-5
ATTENTION_TAPS = ("q", "k", "v", "q_rot", "k_rot", "scores", "masked", "probs")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("steps") / "hf", tiny_tensors(cfg, 5), cfg, vocab)
    return Engine.load(path, device="cpu")


def forward_values(engine: Engine, ids: list[int], position: int) -> dict:
    """What the forward pass computed, read with forward hooks on the model's modules.

    Two passes over the same ids: the fused one the walkthrough captures (every layer's
    modules, the kept position projected to the vocabulary), and one with the explicit
    attention path, whose taps hold the score, mask and softmax matrices.
    """
    model = engine.module
    seen: dict = {}

    def keep(name, layer=None, use_input=False):
        def hook(_m, inputs, output):
            value = (inputs[0] if use_input else output)[0].detach().float().clone()
            seen[name if layer is None else (name, layer)] = value

        return hook

    modules = [(model.tok_embeddings, "embeddings", None), (model.norm, "final", None)]
    modules.append((model.logits, "logits", None))
    for i, layer in enumerate(model.layers):
        att, ffn = layer.attention, layer.feed_forward
        modules += [
            (layer.attention_norm, "attention_norm", i),
            (att.out, "out", i),
            (att.wo, "wo", i),
            (layer.resid_mid, "resid_mid", i),
            (layer.ffn_norm, "ffn_norm", i),
            (ffn.gate, "gate", i),
            (ffn.up, "up", i),
            (ffn.act, "act", i),
            (ffn.hidden, "hidden", i),
            (ffn.w2, "w2", i),
            (layer.resid_post, "resid_post", i),
        ]
        modules += [(getattr(att, n), n, i) for n in ATTENTION_TAPS]
    handles = [m.register_forward_hook(keep(n, i)) for m, n, i in modules]
    tokens = torch.tensor([ids])
    try:
        model(tokens, positions=(position,))
        fused = {
            k: v
            for k, v in seen.items()
            if not (isinstance(k, tuple) and k[0] in ATTENTION_TAPS[5:])
        }
        model.set_explicit_attention(True)
        model(tokens, positions=(position,))
    finally:
        model.set_explicit_attention(False)
        for h in handles:
            h.remove()
    explicit = {k: v for k, v in seen.items() if isinstance(k, tuple) and k[0] in ATTENTION_TAPS}
    return {**fused, **explicit}


def expected(step: str, f: dict, ctx: WalkContext, engine: Engine, ids: list[int]) -> list:
    """The hooked values each step's tensors must equal, in the step's order."""
    ly, h, p = ctx.layer, ctx.head, ctx.position
    kv, hd = ctx.kv, ctx.trace.head_dim
    logits = f["logits"][0].numpy()
    params = ctx.sampling
    order = np.argsort(-logits, kind="stable")[:10]
    per_layer = lambda name: f[(name, ly)][p].numpy()  # noqa: E731
    table = {
        "tokens": [np.array([engine.tokenizer.token(i).text for i in ids])],
        "ids": [np.array(ids)],
        "embedding": [f["embeddings"].numpy()],
        "attention_norm": [per_layer("attention_norm")],
        "wq": [f[("q", ly)][:, h].numpy()],
        "wk": [f[("k", ly)][:, kv].numpy()],
        "wv": [f[("v", ly)][:, kv].numpy()],
        "rope": [f[("q_rot", ly)][p, h].numpy(), f[("k_rot", ly)][p, kv].numpy()],
        "scores": [f[("scores", ly)][h].numpy()],
        "mask": [f[("masked", ly)][h].numpy()],
        "softmax": [f[("probs", ly)][h].numpy()],
        "weighted_values": [
            f[("probs", ly)][h, p].numpy(),
            f[("v", ly)][:, kv].numpy(),
            f[("out", ly)][p, h * hd : (h + 1) * hd].numpy(),
        ],
        "concat": [per_layer("out")],
        "wo": [per_layer("wo")],
        "attention_residual": [per_layer("resid_mid")],
        "ffn_norm": [per_layer("ffn_norm")],
        "w1_gate": [per_layer("gate")],
        "w3_up": [per_layer("up")],
        "silu": [per_layer("act")],
        "product": [per_layer("hidden")],
        "w2_down": [per_layer("w2")],
        "ffn_residual": [per_layer("resid_post")],
        "next_layer": [np.stack([f[("resid_post", i)][p].numpy() for i in range(ctx.n_layers)])],
        "final_norm": [f["final"][0].numpy()],
        "logits": [logits, softmax(logits)[order]],
        "sampling": [distribution(logits, params).final],
        "next_token": [np.array(sample(logits, params).token)],
    }
    return table[step]


def check_every_step(
    engine: Engine, prompt: str, layer: int, head: int, position: int, layers=None
) -> None:
    ids = engine.encode(prompt).ids
    trace = engine.trace(ids, layers=layers)
    detail = engine.walk(ids, [position])
    params = SamplingParams(temperature=0.8, top_p=0.9, seed=3)
    ctx = WalkContext(trace, detail, layer, head, position, params, engine.tokenizer)
    f = forward_values(engine, ids, position)
    for step in STEP_IDS:
        tensors = step_tensors(step, ctx)
        wanted = expected(step, f, ctx, engine, ids)
        assert len(tensors) == len(wanted), step
        for tensor, want in zip(tensors, wanted):
            assert tensor.shape == want.shape, (step, tensor.name, tensor.shape, want.shape)
            if want.dtype.kind in "US":
                assert tensor.value.tolist() == want.tolist(), step
                continue
            np.testing.assert_allclose(
                tensor.value, want, rtol=0, atol=TOL, err_msg=f"{step}: {tensor.name}"
            )


def test_every_step_equals_the_forward_pass_tiny(tiny):
    prompt = "hello world, the cat sat on the mat"
    n = len(tiny.encode(prompt).ids)
    check_every_step(tiny, prompt, layer=1, head=3, position=n - 1)
    check_every_step(tiny, prompt, layer=0, head=0, position=4)
    # a run that captured only the last layer: the walkthrough reads it at its own slot
    check_every_step(tiny, prompt, layer=1, head=2, position=3, layers=[1])


@pytest.mark.slow
def test_every_step_equals_the_forward_pass_default(default_model):
    check_every_step(default_model, "The capital of France is", layer=3, head=4, position=4)
    check_every_step(default_model, "The capital of France is", layer=29, head=8, position=1)


def test_steps_follow_the_forward_pass_and_name_their_blocks():
    assert len(set(STEP_IDS)) == len(STEP_IDS) == 27
    order = [s.block for s in STEPS]
    blocks = list(dict.fromkeys(order))  # first appearances
    assert blocks == [
        "tokens",
        "embedding",
        "attention_norm",
        "attention",
        "attention_residual",
        "ffn_norm",
        "feed_forward",
        "ffn_residual",
        "next_layer",
        "norm",
        "output",
        "sampling",
    ]
    for b in blocks:  # each block's steps are contiguous
        first, last = order.index(b), len(order) - 1 - order[::-1].index(b)
        assert set(order[first : last + 1]) == {b}
