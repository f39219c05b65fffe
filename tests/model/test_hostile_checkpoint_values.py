"""Values of the wrong type or range in every format: one line naming the file, the field,
the value and what was expected; never a traceback (these used to be 35 of them).

Each case is also run through the command line: ``llamalens info --model X`` ends with
exactly one ``llamalens: error: ...`` line (after any progress lines) and exit code 2.
"""

from __future__ import annotations

import struct

import pytest
import torch

from llamalens.app.cli import main
from tests.model.hostile_ckpt import copy, refused, write_pristine
from tests.writers.hostile import edit_json, edit_safetensors_header, replace_json_text


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return write_pristine(tmp_path_factory.mktemp("pristine-values"))


def _gguf(tmp_path, **metadata):
    from tests.writers.checkpoints import tiny_config, tiny_tensors
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tiny_vocab import tiny_vocab
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    meta = {**gguf_tokenizer_metadata(vocab), **metadata}
    path = write_gguf(tmp_path / "m.gguf", tiny_tensors(cfg), cfg, tokenizer_metadata=meta)
    return path, path


def _header(pristine, tmp_path, change):
    hf = copy(pristine, "hf", tmp_path)
    edit_safetensors_header(hf / "model.safetensors", change)
    return hf, hf / "model.safetensors"


def _set(name, key, value):
    def change(header):
        header[name][key] = value

    return change


def _deep_header(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)
    header = b"[" * 100_000 + b"]" * 100_000
    (hf / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    return hf, hf / "model.safetensors"


def _config(pristine, tmp_path, **changes):
    hf = copy(pristine, "hf", tmp_path)
    edit_json(hf / "config.json", **changes)
    return hf, hf / "config.json"


def _config_text(pristine, tmp_path, old, new):
    hf = copy(pristine, "hf", tmp_path)
    replace_json_text(hf / "config.json", old, new)
    return hf, hf / "config.json"


def _params(pristine, tmp_path, **changes):
    meta = copy(pristine, "meta", tmp_path)
    edit_json(meta / "params.json", **changes)
    return meta, meta / "params.json"


def _params_text(pristine, tmp_path, old, new):
    meta = copy(pristine, "meta", tmp_path)
    replace_json_text(meta / "params.json", old, new)
    return meta, meta / "params.json"


def _state(pristine, tmp_path, change, kind="meta", shard=0):
    meta = copy(pristine, kind, tmp_path)
    path = meta / f"consolidated.{shard:02d}.pth"
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)
    return meta, path


def _mixed_keys(state):
    state[7] = torch.zeros(3)


def _zero_dim(state):
    state["norm.weight"] = torch.tensor(1.0)


def _resized(state):
    state["layers.0.attention.wq.weight"] = state["layers.0.attention.wq.weight"][:, :5].clone()


def _retyped(state):
    state["layers.0.attention.wk.weight"] = state["layers.0.attention.wk.weight"].half()


def _dropped(state):
    del state["layers.1.feed_forward.w2.weight"]


CASES = {
    "gguf token_type scalar": (
        lambda p, t: _gguf(t, **{"tokenizer.ggml.token_type": 1}),
        "tokenizer.ggml.token_type list (got int)",
    ),
    "gguf pre as array": (
        lambda p, t: _gguf(t, **{"tokenizer.ggml.pre": ["llama-bpe"]}),
        "tokenizer.ggml.pre is ['llama-bpe'], expected a string",
    ),
    "safetensors dtype list": (
        lambda p, t: _header(p, t, _set("model.norm.weight", "dtype", ["F32"])),
        "header: model.norm.weight.dtype is ['F32'], expected a string",
    ),
    "safetensors shape -1": (
        lambda p, t: _header(p, t, _set("lm_head.weight", "shape", [-1, -1])),
        "lm_head.weight.shape is [-1, -1], expected a list of at most 8 non-negative",
    ),
    "safetensors shape 2^32 squared": (
        lambda p, t: _header(p, t, _set("lm_head.weight", "shape", [2**32, 2**32])),
        "needs 73,786,976,294,838,206,464 bytes but its data_offsets",
    ),
    "safetensors header 100000 deep": (
        _deep_header,
        "its header nests too deep to be a safetensors header object",
    ),
    "config Infinity": (
        lambda p, t: _config_text(p, t, '"rms_norm_eps": 1e-05', '"rms_norm_eps": Infinity'),
        "is not valid JSON (Infinity is not a JSON number)",
    ),
    "config model_type list": (
        lambda p, t: _config(p, t, model_type=["llama"]),
        "model_type is ['llama'], expected a string",
    ),
    "config rope_scaling int": (
        lambda p, t: _config(p, t, rope_scaling=3),
        "rope_scaling holds an int, expected an object",
    ),
    "config rope_scaling list": (
        lambda p, t: _config(p, t, rope_scaling=["llama3"]),
        "rope_scaling holds a list, expected an object",
    ),
    "params dim null": (
        lambda p, t: _params(p, t, dim=None),
        "dim is missing",
    ),
    "params dim list": (
        lambda p, t: _params(p, t, dim=[64]),
        "dim is [64], expected an integer in 1..",
    ),
    "params dim Infinity": (
        lambda p, t: _params_text(p, t, '"dim": 64', '"dim": Infinity'),
        "is not valid JSON (Infinity is not a JSON number)",
    ),
    "params multiple_of 0": (
        lambda p, t: _params(p, t, multiple_of=0),
        "multiple_of is 0, expected an integer in 1..",
    ),
    "params vocab_size list": (
        lambda p, t: _params(p, t, vocab_size=[556]),
        "vocab_size is [556], expected an integer in -1..",
    ),
    "params use_scaled_rope garbage": (
        lambda p, t: _params(p, t, use_scaled_rope="yes please"),
        "use_scaled_rope is 'yes please', expected true or false",
    ),
    "state dict mixed key types": (
        lambda p, t: _state(p, t, _mixed_keys),
        "has a key 7 (int), expected tensor names",
    ),
    "state dict 0-dim tensor": (
        lambda p, t: _state(p, t, _zero_dim),
        "tensor 'norm.weight' has shape () and strides (); expected a contiguous vector",
    ),
    "shards with mismatched shapes": (
        lambda p, t: _state(p, t, _resized, "meta2", 1),
        "tensor 'layers.0.attention.wq.weight' has shapes [(32, 64), (32, 5)] in the shards",
    ),
    "shards with mismatched dtypes": (
        lambda p, t: _state(p, t, _retyped, "meta2", 1),
        "tensor 'layers.0.attention.wk.weight' is stored as float32, float16 in the shards",
    ),
    "shard missing a key": (
        lambda p, t: _state(p, t, _dropped, "meta2", 1),
        "disagree: only consolidated.00.pth holds 'layers.1.feed_forward.w2.weight'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_value_is_one_line(pristine, tmp_path, capsys, case):
    build, fragment = CASES[case]
    path, at = build(pristine, tmp_path)
    refused(path, fragment, at=at)
    assert main(["info", "--model", str(path)]) == 2
    out, err = capsys.readouterr()
    *progress, last = err.splitlines()  # (progress lines come first when stderr is no tty)
    assert out == "" and last.startswith(f"llamalens: error: {at}") and fragment in last
    assert all(line.startswith("llamalens: ") and "error" not in line for line in progress)
