"""Every kind of bad checkpoint ends in a CheckpointError that names the file and problem."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from llamalens.model.errors import CheckpointError
from llamalens.model.loaders import load_checkpoint
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture
def meta_dir(tmp_path):
    cfg = tiny_config()
    return write_meta(tmp_path / "meta", tiny_tensors(cfg), cfg)


@pytest.fixture
def hf_dir(tmp_path):
    cfg = tiny_config()
    return write_hf(tmp_path / "hf", tiny_tensors(cfg), cfg)


def fails(path, *words):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def test_missing_path(tmp_path):
    msg = fails(tmp_path / "nope.gguf", "does not exist")
    assert "nope.gguf" in msg


def test_directory_without_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    fails(tmp_path, "holds no checkpoint")


def test_empty_pth(meta_dir):
    (meta_dir / "consolidated.00.pth").write_bytes(b"")
    fails(meta_dir, "consolidated.00.pth", "corrupt")


def test_truncated_pth(meta_dir):
    path = meta_dir / "consolidated.00.pth"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    fails(meta_dir, "consolidated.00.pth", "corrupt")


def test_truncated_safetensors(hf_dir):
    path = hf_dir / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    fails(hf_dir, "model.safetensors", "truncated")


def test_safetensors_with_garbage_header(hf_dir):
    (hf_dir / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}xxxx")
    fails(hf_dir, "model.safetensors")


def test_params_json_not_json(meta_dir):
    (meta_dir / "params.json").write_text("{dim: 64")
    fails(meta_dir, "params.json", "not valid JSON")


def test_config_disagrees_with_tensors_meta(meta_dir):
    params = json.loads((meta_dir / "params.json").read_text())
    params["n_heads"] = 8  # head_dim 8 instead of 16: wk/wv rows no longer match
    (meta_dir / "params.json").write_text(json.dumps(params))
    fails(meta_dir, "shape", "config implies")


def test_config_disagrees_with_vocab_meta(meta_dir):
    params = json.loads((meta_dir / "params.json").read_text())
    params["vocab_size"] = 1000
    (meta_dir / "params.json").write_text(json.dumps(params))
    fails(meta_dir, "vocab_size is 1000", "rows")


def test_config_disagrees_with_tensors_hf(hf_dir):
    config = json.loads((hf_dir / "config.json").read_text())
    config["num_hidden_layers"] = 3
    (hf_dir / "config.json").write_text(json.dumps(config))
    fails(hf_dir, "config.json", "num_hidden_layers is 3, but the tensors hold 2 layers")


def test_unsupported_architecture_hf(hf_dir):
    config = json.loads((hf_dir / "config.json").read_text())
    config["model_type"] = "gpt2"
    (hf_dir / "config.json").write_text(json.dumps(config))
    fails(hf_dir, "config.json", "gpt2", "supported")


def test_tokenizer_larger_than_embedding(tmp_path):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab, vocab_size=vocab.size - 10)
    path = write_hf(tmp_path / "hf", tiny_tensors(cfg), cfg, vocab)
    fails(path, "tokenizer has", "rows")


def test_missing_tensor_meta(meta_dir):
    state = torch.load(meta_dir / "consolidated.00.pth", weights_only=True)
    del state["layers.1.feed_forward.w3.weight"]
    torch.save(state, meta_dir / "consolidated.00.pth")
    fails(meta_dir, "layers.1.feed_forward.w3.weight", "missing")


class _Payload:
    """Pickles to a call of os.system: what a malicious checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_does_not_run(meta_dir, tmp_path):
    marker = tmp_path / "pwned"
    state = torch.load(meta_dir / "consolidated.00.pth", weights_only=True)
    state["evil"] = _Payload(marker)
    torch.save(state, meta_dir / "consolidated.00.pth")
    fails(meta_dir, "consolidated.00.pth", "would run code", "refused")
    assert not marker.exists(), "the pickle payload ran"


def test_text_file_named_pth(tmp_path):
    src = tmp_path / "meta"
    cfg = tiny_config()
    write_meta(src, tiny_tensors(cfg), cfg)
    (src / "consolidated.00.pth").write_text("this is not a checkpoint\n" * 10)
    fails(src, "consolidated.00.pth")


def test_hf_index_pointing_to_missing_shard(tmp_path):
    cfg = tiny_config()
    path = write_hf(tmp_path / "hf", tiny_tensors(cfg), cfg, n_shards=2)
    os.remove(path / "model-00002-of-00002.safetensors")
    fails(path, "model-00002-of-00002.safetensors", "missing")


def test_bad_tokenizer_file_is_named(meta_dir):
    (meta_dir / "tokenizer.model").write_text("%%% not base64 %%%\n")
    fails(meta_dir, "tokenizer.model")


def test_unreadable_directory_copy_still_fine(meta_dir, tmp_path):
    """A good checkpoint copied elsewhere loads: the fixtures above are not broken to begin."""
    copy = tmp_path / "copy"
    shutil.copytree(meta_dir, copy)
    ckpt = load_checkpoint(copy)
    assert ckpt.format == "meta" and ckpt.config.n_layers == 2
