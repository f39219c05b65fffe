"""The GGUF parser agrees with gguf.GGUFReader on metadata, tensor tables and tensor bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest

from llamalens.model.loaders.gguf_file import GGUFFile, read_gguf
from llamalens.model.loaders.gguf_meta import open_reader, read_metadata
from tests.writers.checkpoints import tiny_config, tiny_tensors
from tests.writers.gguf_writer import write_gguf
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import gguf_tokenizer_metadata

T = gguf.GGUFValueType


def reference_metadata(reader: gguf.GGUFReader) -> dict[str, Any]:
    return {
        key: fld.contents() for key, fld in reader.fields.items() if not key.startswith("GGUF.")
    }


def kinds(value: Any) -> Any:
    """The Python types inside a value, so that True and 1 (or 1.0 and 1) differ."""
    if isinstance(value, list):
        return ["list", *sorted({type(v).__name__ for v in value})]
    return type(value).__name__


def assert_same_as_reader(parsed: GGUFFile, reader: gguf.GGUFReader, data_names=None) -> None:
    """Metadata, tensor table and (for data_names, or all tensors) data bytes are equal."""
    expected = reference_metadata(reader)
    assert list(parsed.metadata) == list(expected)
    for key, value in expected.items():
        assert parsed.metadata[key] == value, key
        assert kinds(parsed.metadata[key]) == kinds(value), key
    assert [t.name for t in parsed.tensors] == [t.name for t in reader.tensors]
    for mine, theirs in zip(parsed.tensors, reader.tensors, strict=True):
        assert mine.ggml_shape == tuple(int(n) for n in theirs.shape), mine.name
        assert mine.shape == tuple(reversed(mine.ggml_shape))
        assert mine.type_name == theirs.tensor_type.name, mine.name
        assert mine.type_id == int(theirs.tensor_type)
        assert mine.offset == int(theirs.data_offset), mine.name
        assert mine.n_elements == int(theirs.n_elements), mine.name
        assert mine.nbytes == int(theirs.n_bytes) == theirs.data.nbytes, mine.name
        if data_names is None or mine.name in data_names:
            assert mine.data().tobytes() == theirs.data.tobytes(), mine.name


@pytest.fixture(scope="module")
def tokenizer_metadata() -> dict[str, Any]:
    return gguf_tokenizer_metadata(tiny_vocab())


@pytest.mark.parametrize("qtype", ["F32", "F16", "Q8_0", "Q4_0", "Q4_1", "Q5_0"])
def test_tiny_model_matches_the_reference_reader(
    tmp_path: Path, qtype: str, tokenizer_metadata: dict[str, Any]
) -> None:
    config = tiny_config(qkv_bias=True)
    path = write_gguf(
        tmp_path / "m.gguf",
        tiny_tensors(config, seed=1),
        config,
        qtype=qtype,
        tokenizer_metadata=tokenizer_metadata,
    )
    parsed = read_gguf(path)
    assert parsed.version == 3 and parsed.alignment == 32 and parsed.data_offset % 32 == 0
    assert parsed.file_size == path.stat().st_size
    assert_same_as_reader(parsed, gguf.GGUFReader(path))
    assert parsed.metadata["tokenizer.ggml.tokens"] == tokenizer_metadata["tokenizer.ggml.tokens"]
    assert {t.type_name for t in parsed.tensors} == {qtype, "F32"}


def _write_all_value_types(path: Path) -> dict[str, Any]:
    """Every scalar type, strings, arrays of each, with custom alignment; returns the values."""
    values = {
        "u8": (255, T.UINT8),
        "i8": (-128, T.INT8),
        "u16": (65535, T.UINT16),
        "i16": (-32768, T.INT16),
        "u32": (2**32 - 1, T.UINT32),
        "i32": (-(2**31), T.INT32),
        "f32": (0.1, T.FLOAT32),
        "yes": (True, T.BOOL),
        "no": (False, T.BOOL),
        "u64": (2**64 - 1, T.UINT64),
        "i64": (-(2**63), T.INT64),
        "f64": (0.1, T.FLOAT64),
        "text": ('Grüße, 世界 🦙\n"q"', T.STRING),
        "empty": ("", T.STRING),
    }
    arrays = {
        "a.u8": ([0, 7, 255], T.UINT8),
        "a.i16": ([-3, 4], T.INT16),
        "a.u32": ([1, 2, 3], T.UINT32),
        "a.i64": ([-(2**40), 5], T.INT64),
        "a.f32": ([0.5, -1e-5, 3.25], T.FLOAT32),
        "a.f64": ([0.1, 2.5], T.FLOAT64),
        "a.bool": ([True, False, True], T.BOOL),
        "a.str": (["a", "", "ü", "x y"], T.STRING),
    }
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_custom_alignment(64)
    for key, (value, kind) in values.items():
        writer.add_key_value(key, value, kind)
    for key, (value, kind) in arrays.items():
        writer.add_key_value(key, value, T.ARRAY, sub_type=kind)
    writer.add_tensor("w", np.arange(12, dtype=np.float32).reshape(3, 4))
    writer.add_tensor("b", np.arange(5, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {key: value for key, (value, _) in {**values, **arrays}.items()}


def test_every_value_type_and_custom_alignment(tmp_path: Path) -> None:
    path = tmp_path / "types.gguf"
    written = _write_all_value_types(path)
    parsed = read_gguf(path)
    assert_same_as_reader(parsed, gguf.GGUFReader(path))
    assert parsed.alignment == 64 and parsed.data_offset % 64 == 0
    assert all(t.offset % 64 == 0 for t in parsed.tensors)
    for key in ("u8", "i8", "u64", "i64", "text", "empty", "a.str", "a.i64", "a.bool"):
        assert parsed.metadata[key] == written[key], key
    assert parsed.metadata["f32"] == float(np.float32(0.1)) and parsed.metadata["f64"] == 0.1
    w = parsed.tensors[0]
    assert (w.name, w.shape, w.ggml_shape, w.type_name, w.nbytes) == (
        "w",
        (3, 4),
        (4, 3),
        "F32",
        48,
    )
    np.testing.assert_array_equal(
        w.data().view(np.float32).reshape(w.shape), np.arange(12, dtype=np.float32).reshape(3, 4)
    )


def test_nested_arrays_stay_nested(tmp_path: Path) -> None:
    writer = gguf.GGUFWriter(tmp_path / "n.gguf", "llama")
    writer.add_key_value("nested", [[1, 2], [3], [4, 5, 6]], T.ARRAY)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    # gguf.GGUFReader flattens these to [1, 2, 3, 4, 5, 6]; the structure is kept here
    assert read_gguf(tmp_path / "n.gguf").metadata["nested"] == [[1, 2], [3], [4, 5, 6]]


def test_data_is_a_read_only_uint8_view(tmp_path: Path) -> None:
    config = tiny_config()
    path = write_gguf(tmp_path / "m.gguf", tiny_tensors(config, seed=2), config, qtype="Q8_0")
    tensor = next(t for t in read_gguf(path).tensors if t.name == "blk.0.attn_q.weight")
    data = tensor.data()
    assert data.dtype == np.uint8 and data.shape == (tensor.nbytes,)
    assert not data.flags.writeable and isinstance(data, np.memmap)
    assert tensor.nbytes == tensor.n_elements // 32 * 34
    raw = path.read_bytes()
    assert data.tobytes() == raw[tensor.offset : tensor.offset + tensor.nbytes]


def test_version_2_files_parse_the_same(tmp_path: Path) -> None:
    config = tiny_config()
    path = write_gguf(tmp_path / "m.gguf", tiny_tensors(config, seed=3), config)
    v3 = read_gguf(path)
    raw = bytearray(path.read_bytes())
    raw[4:8] = (2).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    v2 = read_gguf(path)
    assert v2.version == 2 and v2.metadata == v3.metadata and v2.tensors == v3.tensors


def test_a_large_vocabulary_parses_exactly(tmp_path: Path) -> None:
    """300,000 strings round-trip (their parse time is in benchmarks/gguf_parse.py)."""
    tokens = [f"tok{i}\u0120{i % 97}" for i in range(150_000)]
    merges = [f"t{i % 500} o{i}" for i in range(150_000)]
    writer = gguf.GGUFWriter(tmp_path / "v.gguf", "llama")
    writer.add_token_list(tokens)
    writer.add_token_merges(merges)
    writer.add_token_scores([float(i) for i in range(150_000)])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    parsed = read_gguf(tmp_path / "v.gguf")
    assert parsed.metadata["tokenizer.ggml.tokens"] == tokens
    assert parsed.metadata["tokenizer.ggml.merges"] == merges
    assert parsed.metadata["tokenizer.ggml.scores"] == [float(i) for i in range(150_000)]


def test_read_metadata_accepts_a_path_or_a_parsed_file(
    tmp_path: Path, tokenizer_metadata: dict
) -> None:
    config = tiny_config()
    path = write_gguf(
        tmp_path / "m.gguf",
        tiny_tensors(config, seed=4),
        config,
        tokenizer_metadata=tokenizer_metadata,
    )
    parsed = open_reader(path)
    assert isinstance(parsed, GGUFFile)
    from_path, from_file = read_metadata(path), read_metadata(parsed)
    assert from_path == from_file == parsed.metadata
    from_file["llama.block_count"] = 99  # a copy: the parsed file is not changed
    assert parsed.metadata["llama.block_count"] == config.n_layers


# ---- the real default model -----------------------------------------------------------


@pytest.fixture(scope="module")
def default_pair(default_gguf: Path) -> tuple[GGUFFile, gguf.GGUFReader]:
    return read_gguf(default_gguf), gguf.GGUFReader(default_gguf)


@pytest.mark.slow
def test_default_model_matches_the_reference_reader(default_pair) -> None:
    parsed, reader = default_pair
    names = {
        "token_embd.weight",
        "output_norm.weight",
        "blk.0.attn_q.weight",
        "blk.17.ffn_down.weight",
        "blk.29.attn_v.weight",
    }
    assert_same_as_reader(parsed, reader, data_names=names)
    assert len(parsed.tensors) == 272 and len(parsed.metadata["tokenizer.ggml.tokens"]) == 49152
    assert parsed.metadata["general.architecture"] == "llama"
    last = max(parsed.tensors, key=lambda t: t.offset)
    assert last.offset + last.nbytes <= parsed.file_size


def test_q8_1_tensors_have_ggml_block_size(tmp_path: Path) -> None:
    """ggml's Q8_1 block is 36 bytes (f16 d, f16 s, 32 int8), not gguf-py's 40."""
    from llamalens.model.loaders.dequant import dequantize
    from tests.model.test_gguf_bad_input import raw_gguf, vector

    quants = np.arange(-64, 64, dtype=np.int8).reshape(4, 32)
    d = np.full((4, 1), 0.25, "<f2").view(np.uint8)
    blocks = np.concatenate([d, np.zeros((4, 2), np.uint8), quants.view(np.uint8)], axis=1)
    raw = raw_gguf([], [("w", (64, 2), 9, blocks.tobytes()), vector("after", 4)])
    (tmp_path / "q81.gguf").write_bytes(raw)
    w, after = read_gguf(tmp_path / "q81.gguf").tensors
    assert (w.type_name, w.shape, w.nbytes) == ("Q8_1", (2, 64), 144)
    expected = (quants.reshape(-1) * 0.25).tolist()
    assert dequantize(w.data(), "Q8_1", w.shape).flatten().tolist() == expected
    assert after.data().view(np.float32).tolist() == [0.0, 1.0, 2.0, 3.0]
