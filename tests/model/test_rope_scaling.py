"""Every RoPE scaling method equals transformers' ``ROPE_INIT_FUNCTIONS`` and its paper.

A checkpoint's own ``rope_scaling`` and a what-if variant go through the same
:func:`~llamalens.model.rope.rope_frequencies`; these tests pin its numbers to the
reference implementation for the same config, to 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import transformers
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from llamalens.model.config import RopeScaling
from llamalens.model.engine import build_model
from llamalens.model.loaders import load_checkpoint
from llamalens.model.rope import rope_frequencies
from llamalens.model.rope_scaling import attention_factor
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

TOL = 1e-6


def hf_frequencies(
    kind: str, params: dict, head_dim: int, theta: float, max_pos: int = 8192, **kw
) -> tuple[np.ndarray, float]:
    """transformers' inverse frequencies and attention factor for one rope config."""
    config = transformers.LlamaConfig(
        hidden_size=head_dim * 4,
        num_attention_heads=4,
        max_position_embeddings=max_pos,
        rope_parameters={"rope_type": kind, "rope_theta": theta, **params},
    )
    inv_freq, factor = ROPE_INIT_FUNCTIONS[kind](config, "cpu", **kw)
    return inv_freq.double().numpy(), float(factor)


def ours(scaling: RopeScaling | None, head_dim: int, theta: float, fraction: float = 1.0):
    return rope_frequencies(head_dim, theta, scaling, rotary_fraction=fraction).numpy()


@pytest.mark.parametrize("factor", [2.0, 4.0, 8.0])
def test_linear_equals_transformers_and_divides_every_frequency(factor):
    ref, att = hf_frequencies("linear", {"factor": factor}, 64, 10000.0)
    mine = ours(RopeScaling(factor=factor, rope_type="linear"), 64, 10000.0)
    np.testing.assert_allclose(mine, ref, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(mine * factor, ours(None, 64, 10000.0), rtol=1e-12)
    assert att == attention_factor(RopeScaling(factor=factor, rope_type="linear")) == 1.0


@pytest.mark.parametrize(
    ("head_dim", "theta", "factor", "original", "extra"),
    [
        (64, 10000.0, 4.0, 2048, {}),
        (128, 500000.0, 8.0, 8192, {}),
        (64, 10000.0, 16.0, 4096, {"beta_fast": 16.0, "beta_slow": 2.0}),
        (64, 10000.0, 4.0, 2048, {"truncate": False}),
        (64, 10000.0, 4.0, 2048, {"attention_factor": 1.5}),
    ],
)
def test_yarn_equals_transformers(head_dim, theta, factor, original, extra):
    params = {"factor": factor, "original_max_position_embeddings": original, **extra}
    ref, ref_att = hf_frequencies("yarn", params, head_dim, theta)
    scaling = RopeScaling(
        factor=factor,
        original_max_position=original,
        rope_type="yarn",
        beta_fast=extra.get("beta_fast", 32.0),
        beta_slow=extra.get("beta_slow", 1.0),
        attention_factor=extra.get("attention_factor"),
        truncate=extra.get("truncate", True),
    )
    mine = ours(scaling, head_dim, theta)
    np.testing.assert_allclose(mine, ref, rtol=TOL, atol=TOL)
    assert attention_factor(scaling) == pytest.approx(ref_att, abs=1e-12)
    plain = ours(None, head_dim, theta)
    # the paper's three regimes: kept high frequencies, divided low ones, a ramp between
    assert mine[0] == plain[0] and mine[-1] == pytest.approx(plain[-1] / factor, rel=1e-12)
    ratio = plain / mine
    assert ((ratio > 1 + 1e-9) & (ratio < factor - 1e-9)).any()


def test_yarn_default_attention_factor_is_the_papers():
    s = RopeScaling(factor=4.0, original_max_position=2048, rope_type="yarn")
    assert attention_factor(s) == pytest.approx(0.1 * math.log(4.0) + 1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("head_dim", "theta", "factor", "low", "high", "original"),
    [(128, 500000.0, 8.0, 1.0, 4.0, 8192), (64, 10000.0, 32.0, 1.0, 4.0, 8192)],
)
def test_llama3_equals_transformers(head_dim, theta, factor, low, high, original):
    params = {
        "factor": factor,
        "low_freq_factor": low,
        "high_freq_factor": high,
        "original_max_position_embeddings": original,
    }
    ref, _ = hf_frequencies("llama3", params, head_dim, theta)
    mine = ours(RopeScaling(factor, low, high, original), head_dim, theta)
    np.testing.assert_allclose(mine, ref, rtol=TOL, atol=TOL)


@pytest.mark.parametrize(("factor", "max_pos"), [(4.0, 2048), (2.0, 4096), (8.0, 1024)])
def test_ntk_aware_equals_transformers_dynamic_at_the_same_scale(factor, max_pos):
    """transformers' dynamic NTK at length L uses the scale s·L/max − (s − 1); at
    L = max·(2s − 1)/s that scale is s, which is static NTK-aware scaling by s."""
    length = max_pos * (2 * factor - 1) / factor
    assert length == int(length)
    ref, _ = hf_frequencies(
        "dynamic", {"factor": factor}, 64, 10000.0, max_pos, seq_len=int(length)
    )
    mine = ours(RopeScaling(factor=factor, rope_type="ntk"), 64, 10000.0)
    np.testing.assert_allclose(mine, ref, rtol=TOL, atol=TOL)
    # the formula of the NTK-aware post: base' = base·s^(d/(d-2)); θ_0 kept, θ_last / s
    d = 64
    closed = (10000.0 * factor ** (d / (d - 2))) ** (-np.arange(0, d, 2) / d)
    np.testing.assert_allclose(mine, closed, rtol=1e-12)
    plain = ours(None, 64, 10000.0)
    assert mine[0] == plain[0] and mine[-1] == pytest.approx(plain[-1] / factor, rel=1e-12)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_rotary_fraction_equals_transformers_partial_rotary_factor(fraction):
    ref, _ = hf_frequencies("linear", {"factor": 2.0, "partial_rotary_factor": fraction}, 64, 1e4)
    mine = ours(RopeScaling(factor=2.0, rope_type="linear"), 64, 1e4, fraction)
    rotated = int(64 * fraction) // 2
    np.testing.assert_allclose(mine[:rotated], ref, rtol=TOL, atol=TOL)
    assert (mine[rotated:] == 0).all() and len(mine) == 32  # the other pairs do not turn


def test_bad_rotary_fraction_is_one_clear_error():
    with pytest.raises(ValueError, match="rotates 3 dimensions"):
        rope_frequencies(16, 1e4, rotary_fraction=3 / 16)
    with pytest.raises(ValueError, match="expected an even number"):
        rope_frequencies(16, 1e4, rotary_fraction=1.5)


@pytest.mark.parametrize(
    "scaling",
    [
        RopeScaling(factor=4.0, rope_type="linear"),
        RopeScaling(factor=4.0, original_max_position=64, rope_type="yarn"),
        RopeScaling(factor=8.0, original_max_position=128, rope_type="yarn", beta_fast=8.0),
    ],
    ids=["linear", "yarn", "yarn-beta8"],
)
def test_hf_checkpoint_with_its_own_scaling_equals_transformers(tmp_path, scaling):
    """config.json's rope_scaling is read and the logits equal transformers' eager model
    (YaRN's attention factor included)."""
    vocab = tiny_vocab()
    cfg = tiny_config(vocab, rope_scaling=scaling)
    path = write_hf(tmp_path / "hf", tiny_tensors(cfg, 5), cfg, vocab)
    ckpt = load_checkpoint(path)
    assert ckpt.config.rope_scaling == scaling
    ids = ckpt.tokenizer.encode("the quick brown fox jumps over the lazy dog, again and again")
    mine = build_model(ckpt, "cpu")(torch.tensor([ids]))[0].numpy()
    ref_model = transformers.LlamaForCausalLM.from_pretrained(
        path, attn_implementation="eager", dtype=torch.float32
    ).eval()
    with torch.no_grad():
        ref = ref_model(torch.tensor([ids])).logits[0].numpy()
    plain = tiny_config(vocab)
    unscaled = build_model_from(plain, tmp_path, ids)
    assert np.abs(unscaled - ref).max() > 1e-3  # the scaling changed the logits
    assert np.abs(mine - ref).max() <= 1e-4


def build_model_from(cfg, root, ids) -> np.ndarray:
    vocab = tiny_vocab()
    path = write_hf(root / "plain", tiny_tensors(cfg, 5), cfg, vocab)
    return build_model(load_checkpoint(path), "cpu")(torch.tensor([ids]))[0].numpy()


def test_unsupported_hf_rope_type_is_named(tmp_path):
    import json

    from llamalens.model.errors import CheckpointError

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path / "hf", tiny_tensors(cfg, 1), cfg, vocab)
    raw = json.loads((path / "config.json").read_text())
    raw["rope_scaling"] = {"rope_type": "longrope", "factor": 2.0}
    (path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(
        CheckpointError,
        match="rope_type is 'longrope', expected 'default', 'linear', 'yarn', 'llama3'",
    ):
        load_checkpoint(path)
