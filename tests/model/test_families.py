"""Llama 2, Llama 3 and Qwen2 in every format equal transformers (eager, fp32).

Exact formats are compared with transformers running the Hugging Face directory of the same
weights; quantized GGUFs with transformers running the GGUF's weights as gguf's own decoder
reads them. Tolerances: max |Δlogit| ≤ 1e-4, max |Δp| ≤ 1e-5 over every position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.engine import build_model
from llamalens.model.loaders import load_checkpoint
from llamalens.model.tokenizer import HfTokenizer, SentencePieceTokenizer, Tokenizer
from tests.writers.families import (
    EXACT,
    GGUF_TYPES,
    Family,
    dequantized_reference,
    llama2_family,
    llama3_family,
    qwen2_family,
)

PROMPT = "the quick brown fox: attention rotates pairs. hello world! 这是 12345"
MAX_LOGIT, MAX_PROB = 1e-4, 1e-5
BUILDERS: dict[str, Callable[[Path], Family]] = {
    "llama2": llama2_family,
    "llama3": llama3_family,
    "qwen2": qwen2_family,
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Family]:
    made: dict[str, Family] = {}

    def get(name: str) -> Family:
        if name not in made:
            made[name] = BUILDERS[name](tmp_path_factory.mktemp(name))
        return made[name]

    return get


@pytest.fixture(scope="module", params=list(BUILDERS))
def family(request: pytest.FixtureRequest, build: Callable[[str], Family]) -> Family:
    return build(request.param)


def prompt_ids(family: Family) -> list[int]:
    tokenizer = load_checkpoint(family.hf).tokenizer
    ids = tokenizer.encode(PROMPT)
    assert len(ids) > 20
    return ids


def ours(path: Path, ids: list[int]) -> np.ndarray:
    model = build_model(load_checkpoint(path), "cpu", torch.float32)
    with torch.no_grad():
        return model(torch.tensor([ids]))[0].numpy()


def reference(family: Family, directory: Path, ids: list[int]) -> np.ndarray:
    cls = (
        transformers.Qwen2ForCausalLM
        if family.model_type == "qwen2"
        else transformers.LlamaForCausalLM
    )
    model = cls.from_pretrained(directory, attn_implementation="eager", dtype=torch.float32).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def deltas(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(max |Δlogit|, max |Δp|) over every position."""
    pa, pb = (torch.from_numpy(x).double().softmax(-1).numpy() for x in (a, b))
    return float(np.abs(a - b).max()), float(np.abs(pa - pb).max())


def test_each_family_has_its_features(family: Family) -> None:
    for name, path in family.paths.items():
        ckpt = load_checkpoint(path)
        cfg, tok = ckpt.config, ckpt.tokenizer
        # Llama 2's params.json has no context length; GGUF keeps Llama 3.1 scaling as rope_freqs
        same = {
            "max_seq_len": family.config.max_seq_len,
            "rope_scaling": family.config.rope_scaling,
        }
        assert replace(cfg, **same) == family.config, name
        if family.name == "llama2":
            assert cfg.n_heads == cfg.n_kv_heads and cfg.rope_theta == 10000.0
            kind = HfTokenizer if name in ("hf", "hf-sharded") else SentencePieceTokenizer
            assert isinstance(tok, kind) and tok.add_bos, name
        if family.name == "llama3":
            gguf = name.startswith("gguf")
            assert cfg.n_kv_heads < cfg.n_heads and (cfg.rope_scaling is None) == gguf, name
            assert ("rope_freqs" in ckpt.tensors) == gguf, name
        if family.name == "qwen2":
            assert cfg.qkv_bias and not cfg.tie_embeddings and "output.weight" in ckpt.tensors
            assert tok.chat_template.name == "chatml" and not tok.add_bos, name


def test_every_format_tokenizes_alike(family: Family) -> None:
    expected = prompt_ids(family)
    for name, path in family.paths.items():
        tok: Tokenizer = load_checkpoint(path).tokenizer
        assert tok.encode(PROMPT) == expected, name
        assert tok.encode(PROMPT, allow_special=False) == expected, name


def test_exact_formats_equal_transformers(family: Family) -> None:
    ids = prompt_ids(family)
    expected = reference(family, family.hf, ids)
    assert np.abs(expected).max() > 0.1  # a model that says something
    for name in (n for n in EXACT if n in family.paths):
        logit, prob = deltas(ours(family.paths[name], ids), expected)
        assert logit <= MAX_LOGIT and prob <= MAX_PROB, f"{name}: {logit=:.2e} {prob=:.2e}"


@pytest.mark.parametrize("qtype", GGUF_TYPES[1:])
def test_quantized_ggufs_equal_transformers_on_the_same_weights(
    family: Family, qtype: str, tmp_path: Path
) -> None:
    path = family.paths[f"gguf-{qtype}"]
    types = load_checkpoint(path).metadata["tensor_types"]
    assert qtype in types
    ids = prompt_ids(family)
    expected = reference(family, dequantized_reference(family, path, tmp_path / "ref"), ids)
    logit, prob = deltas(ours(path, ids), expected)
    assert logit <= MAX_LOGIT and prob <= MAX_PROB, f"{qtype}: {logit=:.2e} {prob=:.2e}"
    exact = ours(family.paths["gguf-F32"], ids)
    assert np.abs(exact - expected).max() > 10 * MAX_LOGIT  # the quantization is real


@pytest.mark.parametrize("name", ["llama2", "qwen2"])
def test_transformers_reading_the_gguf_agrees(build: Callable[[str], Family], name: str) -> None:
    """transformers' own GGUF reader (which un-permutes llama q/k rows and leaves qwen2's)
    is an independent check of the row order; it ignores rope_freqs, so Llama 3.1 is left out."""
    family = build(name)
    ids = prompt_ids(family)
    for qtype in ("F32", "Q8_0"):
        path = family.paths[f"gguf-{qtype}"]
        cls = transformers.Qwen2ForCausalLM if name == "qwen2" else transformers.LlamaForCausalLM
        model = cls.from_pretrained(
            path.parent, gguf_file=path.name, attn_implementation="eager", dtype=torch.float32
        ).eval()
        with torch.no_grad():
            expected = model(torch.tensor([ids])).logits[0].numpy()
        logit, prob = deltas(ours(path, ids), expected)
        assert logit <= MAX_LOGIT and prob <= MAX_PROB, f"{qtype}: {logit=:.2e} {prob=:.2e}"


def test_chat_prompts_follow_each_family(build: Callable[[str], Family]) -> None:
    """The engine's rule (apply_chat, then encode with special tokens and no extra BOS)."""
    llama2 = load_checkpoint(build("llama2").paths["meta"]).tokenizer
    text = llama2.apply_chat("hi", system="Be brief.")
    assert text == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhi [/INST]"
    assert llama2.encode(text, allow_special=True, bos=False)[0] == llama2.bos_id
    qwen2 = load_checkpoint(build("qwen2").paths["gguf-Q8_0"]).tokenizer
    text = qwen2.apply_chat("hi")
    assert text.startswith("<|im_start|>system\nYou are a tiny test model.<|im_end|>\n")
    ids = qwen2.encode(text, allow_special=True, bos=False)
    assert qwen2.token(ids[0]).text == "<|im_start|>" and qwen2.token(ids[0]).special
    assert qwen2.eos_id in qwen2.stop_ids and qwen2.token(qwen2.eos_id).text == "<|im_end|>"
