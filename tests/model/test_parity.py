"""Every loader gives the same model, and it equals transformers' LlamaForCausalLM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.build import build_model
from llamalens.model.config import RopeScaling
from llamalens.model.loaders import load_checkpoint
from tests.model.tiny import make_all_formats

PROMPT = "the quick brown fox: attention rotates pairs. hello world!"


@pytest.fixture(scope="module", params=["plain", "llama3-scaled"])
def formats(request, tmp_path_factory):
    overrides = {}
    if request.param == "llama3-scaled":
        # Llama 3.1's constants: with hd=16 and θ=10000 they scale the low frequencies
        # and blend the middle band, so the test sees all three regimes
        overrides["rope_scaling"] = RopeScaling(8.0, 1.0, 4.0, 8192)
    root = tmp_path_factory.mktemp(request.param)
    return make_all_formats(root, seed=3, **overrides)


def our_logits(path, ids: list[int]) -> np.ndarray:
    model = build_model(load_checkpoint(path), "cpu")
    return model(torch.tensor([ids]))[0].numpy()


def reference(hf_dir, ids: list[int]):
    ref = transformers.LlamaForCausalLM.from_pretrained(
        hf_dir, attn_implementation="eager", dtype=torch.float32
    ).eval()
    with torch.no_grad():
        out = ref(torch.tensor([ids]), output_attentions=True)
    return out.logits[0].numpy(), [a[0].numpy() for a in out.attentions]


def test_every_format_tokenizes_alike(formats):
    ids = {name: load_checkpoint(p).tokenizer.encode(PROMPT) for name, p in formats.items()}
    first = ids["meta"]
    assert len(first) > 10
    assert all(v == first for v in ids.values()), ids


def test_logits_equal_transformers_in_every_exact_format(formats):
    ids = load_checkpoint(formats["hf"]).tokenizer.encode(PROMPT)
    ref_logits, _ = reference(formats["hf"], ids)
    assert np.abs(ref_logits).max() > 0.1  # a model that says something
    for name in ("meta", "meta-2-shards", "hf", "hf-sharded", "gguf-F32"):
        delta = np.abs(our_logits(formats[name], ids) - ref_logits).max()
        assert delta <= 1e-4, f"{name}: max |Δlogit| = {delta}"


def test_quantized_gguf_is_within_quantization_error(formats):
    ids = load_checkpoint(formats["hf"]).tokenizer.encode(PROMPT)
    exact = our_logits(formats["gguf-F32"], ids)
    q8 = our_logits(formats["gguf-Q8_0"], ids)
    delta = np.abs(q8 - exact).max()
    assert 0 < delta < 0.05 * np.abs(exact).max() + 0.02, delta
    # a tiny random model has near-ties, so a few argmax flips are within quantization error
    assert (q8.argmax(-1) == exact.argmax(-1)).mean() >= 0.8


def test_attention_probabilities_equal_transformers(formats):
    ids = load_checkpoint(formats["hf"]).tokenizer.encode(PROMPT)
    _, ref_attn = reference(formats["hf"], ids)
    model = build_model(load_checkpoint(formats["meta"]), "cpu")
    model.set_explicit_attention(True)
    seen = []
    hooks = [
        layer.attention.probs.register_forward_hook(lambda m, i, o: seen.append(o[0]))
        for layer in model.layers
    ]
    try:
        model(torch.tensor([ids]))
    finally:
        for h in hooks:
            h.remove()
    assert len(seen) == len(ref_attn) == 2
    for ours, ref in zip(seen, ref_attn):
        assert ours.shape == ref.shape  # (H, T, T)
        assert np.abs(ours.numpy() - ref).max() <= 1e-5
