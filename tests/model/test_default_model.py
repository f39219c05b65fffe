"""End to end on the real default model: SmolLM2-135M-Instruct (Q4_1 GGUF)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    if n < 2:\n        return n\n",
    "In 1969, Neil Armstrong became the first person to walk on the",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
]


@pytest.fixture(scope="module")
def reference(default_gguf):
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(default_gguf.parent),
        gguf_file=default_gguf.name,
        attn_implementation="eager",
        dtype=torch.float32,
    )
    return model.eval()


def test_config_is_smollm2(default_model):
    cfg = default_model.checkpoint.config
    assert (cfg.n_layers, cfg.dim, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim) == (30, 576, 9, 3, 64)
    assert (cfg.vocab_size, cfg.hidden_dim, cfg.rope_theta) == (49152, 1536, 100000.0)
    assert cfg.tie_embeddings
    assert default_model.checkpoint.metadata["quantization"] == "Q4_1"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_logits_and_every_attention_map_equal_transformers(default_model, reference, prompt):
    ids = default_model.encode(prompt).ids
    tokens = torch.tensor([ids])
    with torch.no_grad():
        ref = reference(tokens, output_attentions=True)
    module = default_model.module
    module.set_explicit_attention(True)
    probs = []
    hooks = [
        layer.attention.probs.register_forward_hook(lambda m, i, o: probs.append(o[0]))
        for layer in module.layers
    ]
    try:
        logits = module(tokens)[0]
    finally:
        for h in hooks:
            h.remove()
        module.set_explicit_attention(False)
    d_logit = (logits[-1] - ref.logits[0, -1]).abs().max().item()
    assert d_logit <= 1e-3, d_logit
    assert len(probs) == 30
    for layer, (ours, theirs) in enumerate(zip(probs, ref.attentions)):
        assert ours.shape == (9, len(ids), len(ids))
        d_p = (ours - theirs[0]).abs().max().item()
        assert d_p <= 1e-4, f"layer {layer}: max |Δp| = {d_p}"


def test_fused_and_explicit_attention_agree(default_model):
    ids = torch.tensor([default_model.encode(PROMPTS[2]).ids])
    module = default_model.module
    fused = module(ids)
    module.set_explicit_attention(True)
    try:
        explicit = module(ids)
    finally:
        module.set_explicit_attention(False)
    assert (fused - explicit).abs().max().item() < 1e-3


def test_greedy_chat_answer_names_paris(default_model):
    ids = default_model.encode("What is the capital of France?", chat=True).ids
    assert ids[0] == default_model.tokenizer.encode("<|im_start|>")[0]
    out = default_model.generate(ids, 24)
    answer = default_model.tokenizer.decode(out)
    assert "Paris" in answer, answer


def test_kv_cache_steps_equal_one_full_run(default_model):
    ids = default_model.encode(PROMPTS[0]).ids
    full = default_model.logits(ids)
    module = default_model.module
    with torch.no_grad():
        module(torch.tensor([ids[:-2]]), use_cache=True)
        step1 = module(torch.tensor([ids[-2:-1]]), start_pos=len(ids) - 2, use_cache=True)
        step2 = module(torch.tensor([ids[-1:]]), start_pos=len(ids) - 1, use_cache=True)
    assert np.abs(step1[0, 0].numpy() - full[-2]).max() < 1e-3
    assert np.abs(step2[0, 0].numpy() - full[-1]).max() < 1e-3


def test_trace_maps_equal_transformers(default_model, reference):
    from llamalens.model.tracing import run_trace

    ids = default_model.encode(PROMPTS[1]).ids
    trace = run_trace(default_model.module, default_model.tokenizer, ids)
    with torch.no_grad():
        ref = reference(torch.tensor([ids]), output_attentions=True)
    worst = max(
        float(np.abs(trace.probs(layer, head) - ref.attentions[layer][0, head].numpy()).max())
        for layer in range(30)
        for head in range(9)
    )
    assert worst <= 1e-4
    assert np.abs(trace.last_logits - ref.logits[0, -1].numpy()).max() <= 1e-3
