"""RoPE variants equal transformers configured the same way; labels, JSON and the
command line's spelling; ranking heads equals ablating them one by one."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.config import RopeScaling
from llamalens.model.engine import Engine
from llamalens.model.variants import (
    Baseline,
    HeadAblation,
    RopeChange,
    Variant,
    parse_ablations,
    parse_scaling,
    variant_from_options,
)
from tests.writers.checkpoints import hf_rope_scaling, tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox: attention rotates pairs. hello world, again and again!"


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("var") / "hf", tiny_tensors(cfg, 4), cfg, vocab)


@pytest.fixture(scope="module")
def engine(hf_dir):
    return Engine.load(hf_dir, device="cpu")


@pytest.fixture(autouse=True)
def _model_again(engine):
    yield
    engine.set_variant(None)


def hf_logits(hf_dir, ids, **config_changes) -> np.ndarray:
    """transformers' eager model on the same weights with a changed config."""
    config = transformers.AutoConfig.from_pretrained(hf_dir)
    for key, value in config_changes.items():
        setattr(config, key, value)
    model = transformers.LlamaForCausalLM.from_pretrained(
        hf_dir, config=config, attn_implementation="eager", dtype=torch.float32
    ).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


@pytest.mark.parametrize(
    ("change", "rope_parameters"),
    [
        (RopeChange(theta=500.0), {"rope_type": "default", "rope_theta": 500.0}),
        (
            RopeChange(scaling=RopeScaling(factor=4.0, rope_type="linear")),
            {"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0},
        ),
        (
            RopeChange(
                theta=1000.0,
                scaling=RopeScaling(factor=4.0, original_max_position=32, rope_type="yarn"),
            ),
            {
                **hf_rope_scaling(
                    RopeScaling(factor=4.0, original_max_position=32, rope_type="yarn")
                ),
                "rope_theta": 1000.0,
            },
        ),
        (
            RopeChange(scaling=RopeScaling(8.0, 1.0, 4.0, 64)),
            {**hf_rope_scaling(RopeScaling(8.0, 1.0, 4.0, 64)), "rope_theta": 10000.0},
        ),
    ],
    ids=["theta", "linear", "yarn", "llama3"],
)
def test_rope_variant_equals_transformers_configured_alike(engine, hf_dir, change, rope_parameters):
    ids = engine.encode(PROMPT).ids
    plain = engine.logits(ids)
    engine.set_variant(Variant(rope=change))
    mine = engine.logits(ids)
    ref = hf_logits(hf_dir, ids, rope_parameters=rope_parameters)
    assert np.abs(mine - plain).max() > 1e-3
    assert np.abs(mine - ref).max() <= 1e-4
    trace = engine.trace(ids)
    theta, scale = engine.rope()
    np.testing.assert_array_equal(trace.theta, theta)
    assert trace.rope_scale == scale


def test_ntk_variant_equals_transformers_at_the_base_it_implies(engine, hf_dir):
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant(rope=RopeChange(scaling=RopeScaling(4.0, rope_type="ntk"))))
    hd = engine.config.head_dim
    base = 10000.0 * 4.0 ** (hd / (hd - 2))
    ref = hf_logits(hf_dir, ids, rope_parameters={"rope_type": "default", "rope_theta": base})
    assert np.abs(engine.logits(ids) - ref).max() <= 1e-4


def test_rotary_fraction_leaves_the_last_pairs_unrotated(engine):
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant(rope=RopeChange(rotary_fraction=0.5)))
    trace = engine.trace(ids)
    hd = trace.head_dim
    assert (trace.theta[hd // 4 :] == 0).all() and (trace.theta[: hd // 4] > 0).all()
    np.testing.assert_array_equal(trace.q_rot[..., hd // 2 :], trace.q[..., hd // 2 :])
    assert not np.allclose(trace.q_rot[:, :, 1:, : hd // 2], trace.q[:, :, 1:, : hd // 2])


def test_baseline_is_the_model_while_the_variant_stays(engine):
    ids = engine.encode(PROMPT).ids
    plain = engine.trace(ids).last_logits  # the same last-position-only projection
    variant = Variant((HeadAblation(0, 2),), RopeChange(theta=300.0))
    engine.set_variant(variant)
    base = engine.baseline(ids)
    assert isinstance(base, Baseline) and engine.variant == variant
    np.testing.assert_array_equal(base.last_logits, plain)
    np.testing.assert_array_equal(base.theta, engine.rope(Variant())[0])
    assert engine.rope()[0][1] == pytest.approx(300.0 ** (-2 / engine.config.head_dim))


def test_label_json_and_equality():
    v = Variant(
        (HeadAblation(5, 0), HeadAblation(3, 1, "mean")),
        RopeChange(
            theta=5e5, scaling=RopeScaling(4.0, original_max_position=8192, rope_type="yarn")
        ),
    )
    assert v.label() == "ablated L3.H1 mean, L5.H0 · RoPE θ 500000, YaRN ×4"
    assert v.title("SmolLM2") == f"SmolLM2 [variant: {v.label()}]"
    data = json.loads(json.dumps(v.to_dict()))
    assert Variant.from_dict(data) == v and data["label"] == v.label()
    assert Variant().to_dict() == {} and Variant().label() == "" and Variant().is_model()
    assert Variant(rope=RopeChange()).is_model()  # an unchanged RoPE is no variant
    no_scaling = Variant(rope=RopeChange(scaling=None))
    assert no_scaling.label() == "RoPE no scaling"
    assert Variant.from_dict(no_scaling.to_dict()) == no_scaling
    assert v.with_ablation(3, 1, None).with_ablation(0, 0, "zero").ablations == (
        HeadAblation(0, 0),
        HeadAblation(5, 0),
    )
    with pytest.raises(ValueError, match="ablated twice"):
        Variant((HeadAblation(1, 1), HeadAblation(1, 1, "mean")))
    with pytest.raises(ValueError, match="ablation mode is 'half'"):
        HeadAblation(1, 1, "half")
    with pytest.raises(ValueError, match="variant is malformed"):
        Variant.from_dict({"ablations": [[1]]})


def test_command_line_spelling(engine):
    assert parse_ablations("3.1,5.0") == (HeadAblation(3, 1), HeadAblation(5, 0))
    assert parse_ablations("3.1:mean") == (HeadAblation(3, 1, "mean"),)
    for bad in ("3", "3.x", "3.1:half", ","):
        with pytest.raises(ValueError, match="--ablate"):
            parse_ablations(bad)
    assert parse_scaling("yarn:4", 2048) == RopeScaling(
        4.0, original_max_position=2048, rope_type="yarn"
    )
    assert parse_scaling("llama3:8", 8192) == RopeScaling(8.0, 1.0, 4.0, 8192)
    assert parse_scaling("none", 8) is None
    for bad in ("cubic:2", "linear", "ntk:-1", "linear:x"):
        with pytest.raises(ValueError, match="--rope-scaling"):
            parse_scaling(bad, 8192)
    v = variant_from_options(engine.config, ablate="1.2:mean", rope_scaling="linear:2")
    assert v.label() == "ablated L1.H2 mean · RoPE linear ×2"
    with pytest.raises(ValueError, match="ablated layer 7 is out of range 0..1"):
        variant_from_options(engine.config, ablate="7.0")
    with pytest.raises(ValueError, match="--rope-theta is -1"):
        variant_from_options(engine.config, rope_theta=-1.0)


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_ranking_equals_ablating_each_head_alone(engine, mode):
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant((HeadAblation(0, 0),)))  # ranked on top of the variant
    seen = []
    ranking = engine.rank_heads(ids, mode=mode, on_layer=lambda d, n: seen.append((d, n)))
    assert seen == [(1, 2), (2, 2)] and ranking.layers == (0, 1)
    assert ranking.token_ids == tuple(ids)
    base = engine.logits(ids)[-1].astype(np.float64)
    base_lp = base - np.logaddexp.reduce(base)
    assert ranking.target == int(np.argmax(base)) and ranking.variant == engine.variant.to_dict()
    assert ranking.base_logprob == pytest.approx(base_lp[ranking.target], abs=1e-6)
    for layer in range(2):
        for head in range(4):
            one = engine.variant.with_ablation(layer, head, mode)
            if (layer, head) == (0, 0):
                one = engine.variant  # already ablated (zero): ranking adds its own mode on top
                if mode == "zero":
                    assert abs(ranking.effect[0, 0]) <= 1e-6
                continue
            with engine.varied(one):
                lp = engine.logits(ids)[-1].astype(np.float64)
            lp -= np.logaddexp.reduce(lp)
            want = lp[ranking.target] - base_lp[ranking.target]
            assert ranking.effect[layer, head] == pytest.approx(want, abs=1e-4)
            kl = float(np.sum(np.exp(base_lp) * (base_lp - lp)))
            assert ranking.kl[layer, head] == pytest.approx(kl, abs=1e-4)
    order = ranking.order()
    assert len(order) == 8 and ranking.effect[order[0]] == np.nanmin(ranking.effect)


def test_ranking_one_layer_leaves_the_others_unranked(engine):
    ranking = engine.rank_heads(engine.encode(PROMPT).ids, layers=[1], target=5)
    assert np.isnan(ranking.effect[0]).all() and not np.isnan(ranking.effect[1]).any()
    assert ranking.target == 5
    with pytest.raises(ValueError, match="layers \\[3\\] must be in 0..1"):
        engine.rank_heads([1, 2, 3], layers=[3])
