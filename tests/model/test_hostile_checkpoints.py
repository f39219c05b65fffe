"""Hostile checkpoints, one test per class of finding: a clear error naming the file and
the problem, in bounded time and memory (measured in this process).

Classes: tiny files that declare huge structures; files that block (FIFOs, devices); files
accepted though wrong (aliased or misaligned tensors, relabelled types, infinite RoPE
bases, fractional layer counts, complex weights); untrusted paths and patterns; pickles
that would run code. Values of the wrong type are in test_hostile_checkpoint_values.py.
"""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch

from llamalens.model.engine import Engine
from llamalens.model.errors import Cancelled
from tests.model.hostile_ckpt import copy, refused, write_pristine
from tests.writers.gguf_writer import write_gguf
from tests.writers.hostile import (
    edit_json,
    edit_safetensors_header,
    gguf_tensor_offset,
    patch_gguf_tensor,
)
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import gguf_tokenizer_metadata


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return write_pristine(tmp_path_factory.mktemp("pristine"))


# ---- tiny files that declare huge structures --------------------------------------------
def test_gguf_declaring_10_8_layers(tmp_path):
    from tests.writers.checkpoints import tiny_config, tiny_tensors

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    meta = {**gguf_tokenizer_metadata(vocab), "llama.block_count": 10**8}
    path = write_gguf(tmp_path / "m.gguf", tiny_tensors(cfg), cfg, tokenizer_metadata=meta)
    refused(path, "llama.block_count is 100,000,000, but the tensors hold 2 layers")


def test_hf_and_meta_declaring_10_8_layers(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)
    edit_json(hf / "config.json", num_hidden_layers=10**8)
    refused(hf, "num_hidden_layers is 100,000,000, but the tensors hold 2 layers", at=hf)
    meta = copy(pristine, "meta", tmp_path)
    edit_json(meta / "params.json", n_layers=10**8)
    refused(meta, "n_layers is 100,000,000, but the tensors hold 2 layers", at=meta)


def test_token_ids_and_ranks_that_would_size_a_huge_table(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)
    data = json.loads((hf / "tokenizer.json").read_text())
    data["added_tokens"][0]["id"] = 10**9
    (hf / "tokenizer.json").write_text(json.dumps(data))
    refused(hf, "added_tokens[0] needs a str 'content' and an int 'id' in 0..", at=hf)
    meta = copy(pristine, "meta", tmp_path)
    with open(meta / "tokenizer.model", "a") as fh:
        fh.write("Zm9vYmFy 1000000000000\n")
    refused(meta, "rank '1000000000000' is not an integer in 0..4,194,303", at=meta)


def test_a_tokenizer_model_of_10_7_lines(pristine, tmp_path):
    """Refused from its line count, before a dictionary of ten million entries is built."""
    meta = copy(pristine, "meta", tmp_path)
    with open(meta / "tokenizer.model", "wb") as fh:
        fh.write(b"YQ== 0\n" * 10**7)
    refused(meta, "has 10,000,001 lines; a vocabulary has at most", at=meta, megabytes=160)


# ---- files that block -------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind,name",
    [
        ("meta", "consolidated.00.pth"),
        ("hf", "model.safetensors"),
        ("hf", "config.json"),
        ("hf", "tokenizer.json"),
        ("meta", "tokenizer.model"),
        ("hf3", "model-00002-of-00003.safetensors"),
    ],
)
def test_fifos_named_like_checkpoint_files(pristine, tmp_path, kind, name):
    folder = copy(pristine, kind, tmp_path)
    (folder / name).unlink()
    os.mkfifo(folder / name)
    refused(folder, "is a named pipe (FIFO), expected a regular file", at=folder / name)


def test_a_gguf_that_is_a_fifo_or_a_device(tmp_path):
    fifo = tmp_path / "m.gguf"
    os.mkfifo(fifo)
    refused(fifo, "named pipe (FIFO)")
    device = tmp_path / "zero.gguf"
    device.symlink_to("/dev/zero")
    refused(device, "character device")


# ---- accepted though wrong --------------------------------------------------------------
def test_gguf_tensors_aliased_to_one_offset(pristine, tmp_path):
    path = copy(pristine, "gguf-F32", tmp_path)
    first = gguf_tensor_offset(path, "blk.0.attn_q.weight")
    patch_gguf_tensor(path, "blk.1.attn_q.weight", offset=first)
    refused(path, "overlaps tensor", "aliased tensor data")


def test_gguf_misaligned_offset(pristine, tmp_path):
    path = copy(pristine, "gguf-F32", tmp_path)
    at = gguf_tensor_offset(path, "blk.1.ffn_up.weight")
    patch_gguf_tensor(path, "blk.1.ffn_up.weight", offset=at + 4)
    refused(path, "blk.1.ffn_up.weight", "is not aligned to 32 bytes (misaligned)")


def test_gguf_f32_tensor_relabelled_q4_0(pristine, tmp_path):
    path = copy(pristine, "gguf-F32", tmp_path)
    patch_gguf_tensor(path, "blk.0.ffn_down.weight", type_id=2)  # Q4_0
    refused(path, "unused bytes", "'blk.0.ffn_down.weight'", "relabelled tensor type")


def test_gguf_infinite_rope_base(tmp_path):
    from tests.writers.checkpoints import tiny_config, tiny_tensors

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    meta = {**gguf_tokenizer_metadata(vocab), "llama.rope.freq_base": float("inf")}
    path = write_gguf(tmp_path / "m.gguf", tiny_tensors(cfg), cfg, tokenizer_metadata=meta)
    refused(path, "llama.rope.freq_base is inf, expected a finite number")


def test_safetensors_entries_sharing_one_byte_range(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)

    def alias(header):
        header["model.layers.1.mlp.up_proj.weight"]["data_offsets"] = header[
            "model.layers.0.mlp.up_proj.weight"
        ]["data_offsets"]

    edit_safetensors_header(hf / "model.safetensors", alias)
    refused(hf, "overlaps tensor", "aliased data would be read twice", at=hf / "model.safetensors")


def test_safetensors_dtype_that_does_not_match_its_bytes(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)

    def relabel(header):
        entry = header["model.norm.weight"]
        entry["dtype"] = "F16"
        begin = entry["data_offsets"][0]
        entry["data_offsets"] = [begin, begin + 2 * entry["shape"][0]]

    edit_safetensors_header(hf / "model.safetensors", relabel)
    refused(hf, "belong to no tensor", at=hf / "model.safetensors")


def test_fractional_layer_count(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)
    edit_json(hf / "config.json", num_hidden_layers=2.9)
    refused(hf, "num_hidden_layers is 2.9, expected an integer", at=hf / "config.json")


def test_complex_weights_are_refused_not_truncated(pristine, tmp_path):
    meta = copy(pristine, "meta", tmp_path)
    state = torch.load(meta / "consolidated.00.pth", weights_only=True)
    state = {k: v.to(torch.complex64) for k, v in state.items()}
    torch.save(state, meta / "consolidated.00.pth")
    refused(
        meta,
        "torch.strided torch.complex64, expected a dense real float type",
        at=meta / "consolidated.00.pth",
    )


# ---- untrusted paths and patterns -------------------------------------------------------
@pytest.mark.parametrize("entry", ["../outside.safetensors", "/etc/passwd", "a/../../b"])
def test_index_entries_must_stay_in_the_directory(pristine, tmp_path, entry):
    hf = copy(pristine, "hf3", tmp_path)
    index = hf / "model.safetensors.index.json"
    data = json.loads(index.read_text())
    name = next(iter(data["weight_map"]))
    data["weight_map"][name] = entry
    index.write_text(json.dumps(data))
    (tmp_path / "outside.safetensors").write_bytes(b"")
    refused(hf, f"weight_map entry {entry!r} is {entry!r}", "no absolute path or ..", at=index)


def test_a_backtracking_split_regex_is_refused(pristine, tmp_path):
    hf = copy(pristine, "hf", tmp_path)
    data = json.loads((hf / "tokenizer.json").read_text())
    steps = data["pre_tokenizer"]["pretokenizers"]
    steps.insert(0, {"type": "Split", "pattern": {"Regex": r"(\w+\s?)*$"}, "behavior": "Isolated"})
    (hf / "tokenizer.json").write_text(json.dumps(data))
    refused(
        hf, "takes more than 0.5 s", "backtracks without end is refused", at=hf / "tokenizer.json"
    )


# ---- pickles ----------------------------------------------------------------------------
class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/llamalens-pwned",))


@pytest.mark.parametrize("zipped", [True, False])
def test_a_pickle_that_would_run_code_is_named_so(pristine, tmp_path, zipped):
    meta = copy(pristine, "meta", tmp_path)
    shard = meta / "consolidated.00.pth"
    if zipped:
        torch.save({"x": _RunsCode()}, shard)
    else:
        shard.write_bytes(pickle.dumps({"x": _RunsCode()}))
    refused(meta, "loading it would run code, so it was refused", at=shard)
    assert not os.path.exists("/tmp/llamalens-pwned")


# ---- a load stops at the next tensor when cancelled -------------------------------------
@pytest.mark.parametrize("kind", ["hf", "hf3", "meta", "meta2", "gguf-F32", "gguf-Q4_0"])
def test_loading_stops_at_the_next_tensor(pristine, kind):
    done = []
    Engine.load(pristine[kind], device="cpu", progress=lambda f, m: done.append(m))
    reads = [i for i, m in enumerate(done) if m.startswith("Reading ")]
    assert len(reads) >= 21  # a call per tensor (2 layers x 9, embeddings, norm, output)
    calls = []

    def progress(fraction, message):
        calls.append(message)
        if len(calls) == reads[2] + 1:  # cancelled while the third tensor is read
            raise Cancelled()

    with pytest.raises(Cancelled):
        Engine.load(pristine[kind], device="cpu", progress=progress)
    assert calls == done[: reads[2] + 1]  # nothing ran past the cancel
