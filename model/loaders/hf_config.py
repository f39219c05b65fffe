"""A Hugging Face ``config.json`` as a :class:`LlamaConfig`, every value type-checked.

transformers 4 writes RoPE scaling as ``rope_scaling``, transformers 5 as
``rope_parameters`` (which also holds ``rope_theta``); both are read, with the types
linear, yarn and llama3. A value of the wrong
type (``model_type`` as a list, ``rope_scaling`` as an int, ``num_hidden_layers: 2.9``,
``Infinity``) is one CheckpointError naming the file, the field, the value and what was
expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llamalens.model.config import LIMITS, LlamaConfig, RopeScaling
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields
from llamalens.model.loaders.validate import check_config, check_layers
from llamalens.model.rope_scaling import yarn_mscale

SUPPORTED_TYPES = ("llama", "mistral", "qwen2")


def config_from_hf(
    path: Path, c: dict[str, Any], has_lm_head: bool, layers: set[int]
) -> LlamaConfig:
    """LlamaConfig from ``config.json``.

    Args:
        path: the config.json, named in errors.
        c: its parsed object.
        has_lm_head: the weights hold ``lm_head.weight`` (else embeddings are tied).
        layers: the layer numbers the weight names hold (checked against
            ``num_hidden_layers`` first).
    """
    f = Fields(c, path)
    kind = f.string("model_type", max_len=64)
    if kind not in SUPPORTED_TYPES:
        raise CheckpointError(
            path, f"model_type is {kind!r}; supported are {list(SUPPORTED_TYPES)}"
        )
    n_layers = f.integer("num_hidden_layers", 1, 2**63)
    check_layers(path, n_layers, layers, "num_hidden_layers")
    rope = _rope(path, f)
    heads = f.integer("num_attention_heads", 1, LIMITS["n_heads"])
    cfg = LlamaConfig(
        dim=f.integer("hidden_size", 1, LIMITS["dim"]),
        n_layers=n_layers,
        n_heads=heads,
        n_kv_heads=f.integer("num_key_value_heads", 1, LIMITS["n_kv_heads"], heads),
        vocab_size=f.integer("vocab_size", 1, LIMITS["vocab_size"]),
        hidden_dim=f.integer("intermediate_size", 1, LIMITS["hidden_dim"]),
        norm_eps=f.number("rms_norm_eps", 0, 1, 1e-6, above=True),
        rope_theta=rope.number(
            "rope_theta", 0, 1e30, f.number("rope_theta", 0, 1e30, 1e4, above=True), above=True
        ),
        rope_scaling=_scaling(rope),
        max_seq_len=f.integer("max_position_embeddings", 1, LIMITS["max_seq_len"], 8192),
        tie_embeddings=f.boolean("tie_word_embeddings", False) or not has_lm_head,
        qkv_bias=f.boolean("attention_bias", kind == "qwen2"),
        head_dim=f.integer("head_dim", 1, LIMITS["head_dim"], 0),
    )
    check_config(path, cfg)
    return cfg


def _rope(path: Path, f: Fields) -> Fields:
    """``rope_parameters`` updated by ``rope_scaling`` (each an object or null)."""
    merged = {**f.obj("rope_parameters", None).data, **f.obj("rope_scaling", None).data}
    return Fields(merged, path, "rope_scaling.")


HF_ROPE_TYPES = ("linear", "yarn", "llama3")


def _scaling(rope: Fields) -> RopeScaling | None:
    """The ``rope_type`` default (None), linear, yarn or llama3 as a RopeScaling."""
    kind = rope.string("rope_type", rope.string("type", "default", max_len=64), max_len=64)
    if kind == "default":
        return None
    if kind not in HF_ROPE_TYPES:
        expected = "'default', " + ", ".join(repr(k) for k in HF_ROPE_TYPES)
        raise rope.fail("rope_type", kind, f"{expected} (the supported RoPE types)")
    factor = rope.number("factor", 0, 1e6, above=True)
    if kind == "linear":
        return RopeScaling(factor=factor, rope_type="linear")
    original = rope.integer("original_max_position_embeddings", 1, LIMITS["max_seq_len"])
    if kind == "llama3":
        return RopeScaling(
            factor=factor,
            low_freq_factor=rope.number("low_freq_factor", 0, 1e6, above=True),
            high_freq_factor=rope.number("high_freq_factor", 0, 1e6, above=True),
            original_max_position=original,
        )
    return RopeScaling(
        factor=factor,
        original_max_position=original,
        rope_type="yarn",
        beta_fast=rope.number("beta_fast", 0, 1e6, 32.0, above=True),
        beta_slow=rope.number("beta_slow", 0, 1e6, 1.0, above=True),
        attention_factor=_yarn_attention(rope, factor),
        truncate=rope.boolean("truncate", True),
    )


def _yarn_attention(rope: Fields, factor: float) -> float | None:
    """YaRN's attention factor as written, or from DeepSeek's mscale pair (None: default)."""
    if rope.has("attention_factor"):
        return rope.number("attention_factor", 0, 1e6, above=True)
    if rope.has("mscale") and rope.has("mscale_all_dim"):
        mscale = rope.number("mscale", 0, 1e6, above=True)
        mscale_all = rope.number("mscale_all_dim", 0, 1e6, above=True)
        return yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all)
    return None
