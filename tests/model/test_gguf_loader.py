"""GGUF loading: tiny written files round-trip; the default model equals the reference.

Broken files are tested in test_gguf_bad_input.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from llamalens.model.loaders.gguf_file import read_gguf
from llamalens.model.loaders.gguf_loader import config_from_metadata, load_gguf, meta_name
from llamalens.model.stored import materialize
from llamalens.model.tokenizer import load_gguf_tokenizer
from tests.writers.checkpoints import tiny_config, tiny_tensors
from tests.writers.gguf_writer import write_gguf
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import gguf_tokenizer_metadata


@pytest.fixture
def tiny(tmp_path: Path):
    config = tiny_config()
    return SimpleNamespace(config=config, tensors=tiny_tensors(config, seed=7), dir=tmp_path)


def _write(tiny, name: str = "m.gguf", tensors=None, config=None, **kwargs) -> Path:
    return write_gguf(
        tiny.dir / name,
        tiny.tensors if tensors is None else tensors,
        config or tiny.config,
        **kwargs,
    )


def test_f32_round_trip_is_exact(tiny) -> None:
    ckpt = load_gguf(_write(tiny))
    assert ckpt.format == "gguf" and ckpt.config == tiny.config
    assert ckpt.tensors.keys() == tiny.tensors.keys()
    for name, tensor in tiny.tensors.items():
        loaded = materialize(ckpt.tensors[name])
        assert loaded.dtype == torch.float32 and loaded.device.type == "cpu"
        assert torch.equal(loaded, tensor), name
    assert ckpt.tokenizer is None  # no tokenizer.ggml.* keys written
    assert ckpt.metadata["quantization"] == "F32" and "cache" not in ckpt.metadata


@pytest.mark.parametrize("qtype,bits", [("Q8_0", 8), ("Q4_1", 4), ("Q4_0", 4), ("F16", 11)])
def test_quantized_round_trip_is_within_quantization_error(tiny, qtype: str, bits: int) -> None:
    ckpt = load_gguf(_write(tiny, qtype=qtype))
    for name, tensor in tiny.tensors.items():
        err = (materialize(ckpt.tensors[name]) - tensor).abs()
        if tensor.ndim == 1:
            assert torch.equal(materialize(ckpt.tensors[name]), tensor), f"{name} (norms stay F32)"
            continue
        block_max = tensor.abs().reshape(-1, 32).amax(dim=1, keepdim=True)
        # loose on purpose: two steps of a symmetric grid with 2^(bits-1) levels per sign
        bound = block_max * (2.0 / 2 ** (bits - 1)) + 1e-6
        assert (err.reshape(-1, 32) <= bound).all(), name
        assert err.max() > 0, f"{name} was not quantized"
    assert ckpt.metadata["quantization"] == qtype
    assert ckpt.metadata["tensor_types"] == {qtype: 16, "F32": 5}


def test_metadata_summary(tiny) -> None:
    template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    ckpt = load_gguf(
        _write(tiny, qtype="Q4_1", tokenizer_metadata={"tokenizer.chat_template": template})
    )
    assert ckpt.metadata["name"] == "tiny-llama"
    assert ckpt.metadata["architecture"] == "llama"
    assert ckpt.metadata["file_type"] == "MOSTLY_Q4_1"
    assert ckpt.metadata["chat_template"] == template


def test_tied_embeddings_bias_rope_freqs_and_head_dim(tiny) -> None:
    config = tiny_config(qkv_bias=True, head_dim=32)  # head_dim != dim // n_heads
    tensors = tiny_tensors(config, seed=3)
    del tensors["output.weight"]
    tensors["rope_freqs"] = torch.linspace(1.0, 8.0, config.head_dim // 2)
    ckpt = load_gguf(_write(tiny, tensors=tensors, config=config))
    assert ckpt.config.tie_embeddings and ckpt.config.qkv_bias and ckpt.config.head_dim == 32
    assert "output.weight" not in ckpt.tensors
    assert torch.equal(materialize(ckpt.tensors["rope_freqs"]), tensors["rope_freqs"])
    assert torch.equal(
        materialize(ckpt.tensors["layers.1.attention.wk.bias"]),
        tensors["layers.1.attention.wk.bias"],
    )


def test_tokenizer_comes_from_metadata(tiny) -> None:
    vocab = tiny_vocab()
    path = _write(tiny, tokenizer_metadata=gguf_tokenizer_metadata(vocab))
    ckpt = load_gguf(path)
    assert ckpt.tokenizer is not None and ckpt.tokenizer.n_vocab == vocab.size
    expected = load_gguf_tokenizer(read_gguf(path).metadata, path)
    text = "the cat sat on the mat. hello world!"
    assert ckpt.tokenizer.encode(text) == expected.encode(text)
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode(text)) == text


def test_meta_names() -> None:
    assert meta_name("blk.12.ffn_up.weight") == "layers.12.feed_forward.w3.weight"
    assert meta_name("blk.0.ffn_gate.weight") == "layers.0.feed_forward.w1.weight"
    assert meta_name("blk.0.ffn_down.weight") == "layers.0.feed_forward.w2.weight"
    assert meta_name("blk.3.attn_output.weight") == "layers.3.attention.wo.weight"
    assert meta_name("rope_freqs.weight") == "rope_freqs"
    assert meta_name("blk.0.attn_output.bias") is None
    assert meta_name("blk.x.attn_q.weight") is None


def test_vocab_size_falls_back_to_embedding_rows_then_tokens(tiny) -> None:
    meta = {
        "llama.embedding_length": 64,
        "llama.block_count": 2,
        "llama.feed_forward_length": 128,
        "llama.attention.head_count": 4,
    }
    layers = {f"blk.{i}.attn_norm.weight": SimpleNamespace(shape=(64,)) for i in range(2)}
    infos = {"token_embd.weight": SimpleNamespace(shape=(77, 64)), **layers}  # (vocab, dim)
    config = config_from_metadata(tiny.dir / "x.gguf", meta, infos)
    assert config.vocab_size == 77 and config.n_kv_heads == 4 and config.head_dim == 16
    assert config.rope_theta == 10000.0 and config.tie_embeddings
    meta["tokenizer.ggml.tokens"] = ["a"] * 50  # Qwen2 pads its embedding past the tokens
    assert config_from_metadata(tiny.dir / "x.gguf", meta, infos).vocab_size == 77
    assert config_from_metadata(tiny.dir / "x.gguf", meta, layers).vocab_size == 50
    meta["llama.vocab_size"] = 60
    assert config_from_metadata(tiny.dir / "x.gguf", meta, infos).vocab_size == 60


def test_progress_is_bounded_monotonic_and_complete(tiny) -> None:
    from llamalens.model.build import build_model

    calls: list[tuple[float, str]] = []
    ckpt = load_gguf(_write(tiny, qtype="Q8_0"), lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert len(calls) <= 101  # the header only: tensors are read while the model is built
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert calls[0][1] == "Reading metadata of m.gguf"
    assert calls[-1] == (1.0, "Done")
    n = len(ckpt.tensors)
    calls.clear()  # the weights are read (dequantized) while the model is built
    build_model(ckpt, "cpu", progress=lambda f, m: calls.append((f, m)))
    assert len(calls) == n - ("rope_freqs" in tiny.tensors) and ckpt.tensors == {}
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] < 1.0
    assert all(m.startswith("Reading ") for _, m in calls)


# ---- the real default model -----------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2(default_gguf: Path):
    """The default model's parsed header and its loaded checkpoint: (gguf_file, checkpoint)."""
    return read_gguf(default_gguf), load_gguf(default_gguf)


@pytest.mark.slow
def test_default_model_config_and_metadata(smollm2) -> None:
    _, ckpt = smollm2
    c = ckpt.config
    assert (c.n_layers, c.dim, c.n_heads, c.n_kv_heads, c.head_dim) == (30, 576, 9, 3, 64)
    assert (c.rope_theta, c.vocab_size, c.hidden_dim, c.norm_eps) == (100000.0, 49152, 1536, 1e-5)
    assert c.tie_embeddings and not c.qkv_bias and c.max_seq_len == 8192
    assert len(ckpt.tensors) == 2 + 30 * 9 and "output.weight" not in ckpt.tensors
    assert ckpt.metadata["quantization"] == "Q4_1"
    assert ckpt.metadata["file_type"] == "MOSTLY_Q4_1"
    assert "<|im_start|>" in ckpt.metadata["chat_template"]
    assert materialize(ckpt.tensors["tok_embeddings.weight"]).shape == (49152, 576)


@pytest.mark.slow
@pytest.mark.parametrize(
    "gguf_name,name",
    [
        ("blk.0.attn_q.weight", "layers.0.attention.wq.weight"),
        ("token_embd.weight", "tok_embeddings.weight"),
        ("blk.29.ffn_down.weight", "layers.29.feed_forward.w2.weight"),
    ],
)
def test_default_model_tensor_equals_reference(smollm2, gguf_name: str, name: str) -> None:
    import gguf

    gguf_file, ckpt = smollm2
    info = next(t for t in gguf_file.tensors if t.name == gguf_name)
    reference = gguf.quants.dequantize(info.data(), gguf.GGMLQuantizationType[info.type_name])
    np.testing.assert_array_equal(
        materialize(ckpt.tensors[name]).numpy(), reference.reshape(info.shape)
    )


@pytest.mark.slow
def test_default_model_tokenizer(smollm2) -> None:
    _, ckpt = smollm2
    tok = ckpt.tokenizer
    assert tok is not None and tok.n_vocab == 49152 and tok.name == "gpt2-bpe:smollm"
    # ids from SmolLM2's own tokenizer (tests/model/test_tokenizer_smollm2.py checks many more)
    assert tok.encode("This is a test sentence.") == [1348, 314, 253, 1028, 6330, 30]
    assert tok.encode("<|im_start|>user\nhi<|im_end|>") == [1, 4093, 198, 6004, 2]
