"""Weights as stored, computation in a chosen dtype, and maps that are what the forward used."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from llamalens.model.capture import capture
from llamalens.model.engine import Engine
from llamalens.model.errors import CheckpointError
from llamalens.model.tracing import trace_from_recording
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox jumps over the lazy dog. hello world!"


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """The same bf16 weights stored as bf16 (HF and Meta) and upcast to float32 (HF)."""
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    bf16 = {k: v.to(torch.bfloat16) for k, v in tiny_tensors(cfg, 3).items()}
    root = tmp_path_factory.mktemp("precision")
    return {
        "hf_bf16": write_hf(root / "hf_bf16", bf16, cfg, vocab),
        "meta_bf16": write_meta(root / "meta_bf16", bf16, cfg, vocab),
        "hf_fp32": write_hf(root / "hf_fp32", {k: v.float() for k, v in bf16.items()}, cfg, vocab),
    }


@pytest.mark.parametrize("fmt", ["hf_bf16", "meta_bf16"])
def test_fp32_compute_over_bf16_weights_equals_float32_weights(dirs, fmt):
    ours = Engine.load(dirs[fmt], device="cpu", dtype="fp32")
    assert ours.weights == "bf16" and ours.info().dtype == "fp32"
    assert ours.module.layers[0].attention.wq.weight.dtype == torch.bfloat16  # as stored
    full = Engine.load(dirs["hf_fp32"], device="cpu", dtype="fp32")
    ids = ours.encode(PROMPT).ids
    np.testing.assert_allclose(ours.logits(ids), full.logits(ids), atol=1e-5)
    reference = transformers.LlamaForCausalLM.from_pretrained(
        dirs["hf_bf16"], attn_implementation="eager", dtype=torch.float32
    ).eval()
    with torch.no_grad():
        expected = reference(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(ours.logits(ids), expected, atol=1e-4)


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_half_precision_maps_are_what_the_forward_used(dirs, dtype):
    engine = Engine.load(dirs["hf_fp32"], device="cpu", dtype=dtype)
    model, tok = engine.module, engine.tokenizer
    assert model.layers[0].attention.wq.weight.dtype == {"bf16": torch.bfloat16,
                                                         "fp16": torch.float16}[dtype]  # fmt: skip
    ids = engine.encode(PROMPT).ids
    with capture(model, maps=True) as rec:  # the explicit path: every stage through a tap
        model(torch.tensor([ids]))
    trace = trace_from_recording(rec, ids, tok, model, keep_logits=False)
    for layer in range(trace.n_layers):
        for head in range(trace.n_heads):
            used = rec.layers[layer]["probs"][head].numpy()
            np.testing.assert_allclose(trace.probs(layer, head), used, atol=1e-6, rtol=0)
    outs = {}
    hooks = [
        block.attention.out.register_forward_hook(
            lambda _m, _i, out, i=i: outs.__setitem__(i, out[0].float().numpy())
        )
        for i, block in enumerate(model.layers)
    ]
    try:
        fused = engine.trace(ids)  # the fused path: no matrix is ever materialised
    finally:
        for h in hooks:
            h.remove()
    hd = fused.head_dim
    for layer in range(fused.n_layers):
        for head in range(fused.n_heads):
            v = fused.v[layer, fused.kv_head(head)]  # (T, hd), the forward's own values
            mixed = fused.probs(layer, head) @ v  # what the drawn map multiplies V to
            used = outs[layer][:, head * hd : (head + 1) * hd]
            eps = torch.finfo(model.compute_dtype).eps
            np.testing.assert_allclose(mixed, used, atol=4 * eps * np.abs(v).max(), rtol=0)


def test_weights_are_not_copied_and_the_checkpoint_lets_go(dirs):
    engine = Engine.load(dirs["hf_bf16"], device="cpu", dtype="fp32")
    assert engine.checkpoint.tensors == {}  # the module owns every weight now
    assert engine.n_params > 0 and engine.info().parameters == engine.n_params
    assert "weights bf16 · compute fp32" in engine.info().summary()


def test_a_model_that_does_not_fit_is_refused_before_it_is_built(dirs, monkeypatch):
    import llamalens.model.engine as engine_module

    monkeypatch.setattr(engine_module, "available_bytes", lambda _device: 10 * 2**20)
    with pytest.raises(CheckpointError) as err:
        Engine.load(dirs["hf_fp32"], device="cpu", dtype="fp32")
    message = str(err.value)
    assert str(dirs["hf_fp32"]) in message
    assert "needs about" in message and "only 0.0 GiB is free" in message
    assert "--dtype bf16" in message and "--offload-dir" in message


def test_bad_dtype_is_named():
    with pytest.raises(ValueError, match="--dtype is 'fp64'"):
        Engine.load(None, dtype="fp64")


def test_a_large_upcast_goes_a_block_of_rows_at_a_time(monkeypatch):
    import llamalens.model.llama as llama

    layer = llama.Linear(48, 100, bias=True)
    layer.weight.data = layer.weight.data.to(torch.bfloat16)
    layer.bias.data = layer.bias.data.to(torch.bfloat16)
    x = torch.randn(3, 5, 48)
    whole = torch.nn.functional.linear(x, layer.weight.float(), layer.bias.float())
    monkeypatch.setattr(llama, "UPCAST_ROWS_BYTES", 7 * 48 * 4)  # blocks of 7 rows
    with torch.no_grad():
        np.testing.assert_allclose(layer(x).numpy(), whole.detach().numpy(), atol=1e-6)


@pytest.fixture(scope="module")
def bf16_default(default_gguf):
    return Engine.load(default_gguf, device="cpu", dtype="bf16")


@pytest.mark.parametrize(
    "prompt, chat",
    [
        ("The capital of France is", False),
        ("def fibonacci(n):\n    if n < 2:\n        return n\n    return", False),
        ("法国的首都是", False),
        ("What is the capital of France?", True),
    ],
)
def test_bf16_keeps_the_default_models_next_token(bf16_default, default_model, prompt, chat):
    bf16 = bf16_default
    ids = default_model.encode(prompt, chat=chat).ids
    exact, half = default_model.trace(ids), bf16.trace(ids)
    assert int(np.argmax(half.last_logits)) == int(np.argmax(exact.last_logits))
    assert np.abs(half.last_logits - exact.last_logits).max() < 1.5  # measured: 0.4-0.7
    np.testing.assert_allclose(half.probs(29, 4).sum(-1), 1.0, atol=1e-5)
