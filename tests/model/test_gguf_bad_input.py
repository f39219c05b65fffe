"""Broken GGUF files: every problem is a CheckpointError naming the file, found quickly.

"Quickly" is measured by benchmarks/gguf_parse.py, not asserted here: wall-clock limits fail
on a loaded machine. The peak memory of garbage counts is asserted (small_memory).
"""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
import torch

from llamalens.model.errors import CheckpointError
from llamalens.model.loaders.gguf_file import GGUFFile, read_gguf
from llamalens.model.loaders.gguf_loader import load_gguf
from tests.writers.checkpoints import tiny_config, tiny_tensors
from tests.writers.gguf_writer import write_gguf
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import gguf_tokenizer_metadata

U32, STRING, ARRAY, F32, Q8_0, Q4_0, IQ4_NL = 4, 8, 9, 0, 8, 2, 20


def text(value: str | bytes) -> bytes:
    """A GGUF string: u64 length + bytes."""
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("<Q", len(raw)) + raw


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return text(key) + struct.pack("<I", vtype) + payload


def raw_gguf(
    kvs: list[bytes],
    tensors: list[tuple[str, tuple[int, ...], int, bytes]],
    version: int = 3,
    counts: tuple[int, int] | None = None,
) -> bytes:
    """A GGUF file byte by byte: kvs from :func:`kv`, tensors as (name, ne, type id, data)."""
    n_tensors, n_kv = counts or (len(tensors), len(kvs))
    head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + b"".join(kvs)
    data = b""
    for name, ne, type_id, payload in tensors:
        head += text(name) + struct.pack(f"<I{len(ne)}QIQ", len(ne), *ne, type_id, len(data))
        data += payload + b"\0" * (-len(payload) % 32)
    return head + b"\0" * (-len(head) % 32) + data


def vector(name: str = "v", n: int = 8) -> tuple[str, tuple[int, ...], int, bytes]:
    return name, (n,), F32, struct.pack(f"<{n}f", *range(n))


def parse(tmp_path: Path, raw: bytes) -> GGUFFile:
    path = tmp_path / "x.gguf"
    path.write_bytes(raw)
    return read_gguf(path)


def fails(tmp_path: Path, raw: bytes, *phrases: str) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        parse(tmp_path, raw)
    assert str(info.value).startswith(str(tmp_path / "x.gguf"))
    for phrase in phrases:
        assert phrase in str(info.value)
    return info.value


# ---- one problem at a time ------------------------------------------------------------


def test_a_hand_written_file_parses(tmp_path: Path) -> None:
    raw = raw_gguf(
        [
            kv("name", STRING, text("ok")),
            kv("n", U32, struct.pack("<I", 7)),
            kv("bad", STRING, text(b"a\xffb")),
            kv("none", ARRAY, struct.pack("<IQ", STRING, 0)),
        ],
        [vector("a"), ("odd", (4, 2), 99, b"\1" * 8), vector("b", 3)],
    )
    parsed = parse(tmp_path, raw)
    assert parsed.metadata == {"name": "ok", "n": 7, "bad": "a\ufffdb", "none": []}
    a, odd, b = parsed.tensors
    assert list(a.data().view("<f4")) == list(range(8)) and list(b.data().view("<f4")) == [0, 1, 2]
    assert (odd.type_name, odd.nbytes, odd.shape) == ("type_99", None, (2, 4))
    with pytest.raises(CheckpointError, match="tensor odd has unknown type type_99"):
        odd.data()


@pytest.mark.parametrize(
    "raw,phrases",
    [
        (b"", ["is empty (0 bytes)"]),
        (b"GGU", ["is not a GGUF file (starts with b'GGU'"]),
        (b"PK\3\4 a zip file", ["is not a GGUF file (starts with b'PK\\x03\\x04'"]),
        (raw_gguf([], [], version=1), ["has GGUF version 1, expected one of 2, 3"]),
        (raw_gguf([], [], version=4), ["has GGUF version 4, expected one of 2, 3"]),
        (raw_gguf([], [], version=3 << 24), ["big-endian GGUF file (version 3)"]),
        (b"GGUF\3\0\0", ["truncated or corrupt: the header: 1 u32 needs 4 bytes at offset 4"]),
    ],
)
def test_not_a_usable_gguf(tmp_path: Path, raw: bytes, phrases: list[str]) -> None:
    fails(tmp_path, raw, *phrases)


@pytest.fixture
def small_memory():
    """Fail the test if parsing allocates more than 16 MB of Python objects at any point."""
    tracemalloc.start()
    yield
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak >> 20} MB while parsing garbage counts"


@pytest.mark.usefixtures("small_memory")
def test_counts_larger_than_the_file(tmp_path: Path) -> None:
    fails(tmp_path, raw_gguf([], [], counts=(0, 2**64 - 1)), "kv_count 18446744073709551615")
    fails(tmp_path, raw_gguf([], [], counts=(10**12, 0)), "tensor_count 1000000000000")
    fails(
        tmp_path,
        raw_gguf([kv("k", STRING, struct.pack("<Q", 2**63))], []),
        "metadata key 'k': a string of length 9223372036854775808",
    )
    fails(
        tmp_path,
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 50) + b"general.al",
        "metadata entry #0: a string of length 50 needs 50 bytes at offset 32, only 10 remain",
    )
    fails(
        tmp_path,
        raw_gguf([kv("k", ARRAY, struct.pack("<IQ", STRING, 2**40))], []),
        "an array of 1099511627776 strings needs",
    )
    fails(
        tmp_path,
        raw_gguf([kv("k", ARRAY, struct.pack("<IQ", U32, 2**61))], []),
        "2305843009213693952 UINT32 array items needs 9223372036854775808 bytes",
    )
    fails(
        tmp_path,
        raw_gguf([kv("k", ARRAY, struct.pack("<IQ", ARRAY, 2**50))], []),
        "an array of 1125899906842624 arrays",
    )
    strings = struct.pack("<IQ", STRING, 3) + text("a") + struct.pack("<Q", 10**9) + b"xy"
    fails(tmp_path, raw_gguf([kv("k", ARRAY, strings)], []), "string 1 of 3 (length 1000000000)")


@pytest.mark.parametrize(
    "kvs,tensors,phrases",
    [
        ([kv("k", 13, b"\0")], [], ["metadata key 'k' has unknown value type id 13"]),
        ([kv("k", ARRAY, struct.pack("<IQ", 77, 1))], [], ["array of unknown value type id 77"]),
        (
            [kv("k", U32, b"\1\0\0\0"), kv("k", U32, b"\2\0\0\0")],
            [],
            ["metadata key 'k' appears twice"],
        ),
        ([], [vector("w"), vector("w")], ["tensor 'w' appears twice", "duplicate tensor name"]),
        ([], [("w", (1, 1, 1, 1, 8), F32, b"\0" * 32)], ["tensor 'w' has 5 dimensions, expected"]),
        ([], [("w", (33, 1), Q8_0, b"\0" * 68)], ["rows of 33 Q8_0 weights", "block size 32"]),
        ([], [("w", (2**40,), F32, b"")], ["is truncated: tensor 'w' data", "past the end"]),
        (
            [kv("general.alignment", U32, struct.pack("<I", 24))],
            [],
            ["general.alignment is 24, expected a positive power of two"],
        ),
        ([kv("general.alignment", STRING, text("32"))], [], ["general.alignment is '32'"]),
    ],
)
def test_corrupt_content(
    tmp_path: Path, kvs: list[bytes], tensors: list, phrases: list[str]
) -> None:
    fails(tmp_path, raw_gguf(kvs, tensors), *phrases)


def test_deeply_nested_arrays(tmp_path: Path) -> None:
    nest = struct.pack("<IQ", ARRAY, 1) * 10 + struct.pack("<IQ", U32, 0)
    fails(tmp_path, raw_gguf([kv("k", ARRAY, nest)], []), "nests arrays more than 4 deep")


def test_tensor_data_cut_short(tmp_path: Path) -> None:
    raw = raw_gguf([], [vector("a"), vector("b", 64)])
    fails(tmp_path, raw[:-1], "tensor 'b' data", f"past the end of the file ({len(raw) - 1} bytes)")
    parsed = parse(tmp_path, raw)
    (tmp_path / "x.gguf").write_bytes(raw[:-8])  # shrinks after parsing, before reading
    with pytest.raises(CheckpointError, match=f"tensor b needs .* now has {len(raw) - 8} bytes"):
        parsed.tensors[1].data()


# ---- many damaged copies of a realistic tiny file -------------------------------------


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """(bytes of a tiny Q8_0 model with a tokenizer, offset where its tensor data starts)."""
    config = tiny_config()
    path = write_gguf(
        tmp_path_factory.mktemp("fuzz") / "m.gguf",
        tiny_tensors(config, seed=5),
        config,
        qtype="Q8_0",
        tokenizer_metadata=gguf_tokenizer_metadata(tiny_vocab()),
    )
    return path.read_bytes(), read_gguf(path).data_offset


def _survives(path: Path) -> str:
    """Parse a damaged file: "error" (a CheckpointError) or "ok" (every tensor is then readable).

    How long the worst of them takes is measured by benchmarks/gguf_parse.py.
    """
    try:
        parsed = read_gguf(path)
    except CheckpointError:
        return "error"
    for tensor in parsed.tensors:
        if tensor.nbytes is not None:
            assert tensor.data().size == tensor.nbytes
    return "ok"


def test_truncated_anywhere_is_an_error(tmp_path: Path, tiny_file: tuple[bytes, int]) -> None:
    raw, data_offset = tiny_file
    path = tmp_path / "cut.gguf"
    cuts = [*range(0, data_offset + 1, 7), data_offset, data_offset + 1, len(raw) - 1]
    for cut in cuts:
        path.write_bytes(raw[:cut])
        assert _survives(path) == "error", f"cut at byte {cut}"


@pytest.mark.parametrize(
    "first,garbage",
    [
        (4, b"\xff" * 8),
        (6, struct.pack("<Q", 10**8)),
        (9, b"\0" * 8),
        (11, b"\x09\0\0\0\x09\0\0\0"),
    ],
)
def test_garbled_header_fails_fast_or_parses(
    tmp_path: Path, tiny_file: tuple[bytes, int], first: int, garbage: bytes
) -> None:
    """Overwrite 8 bytes at every 7th offset of the header (counts, lengths, type ids, text)."""
    raw, data_offset = tiny_file
    path = tmp_path / "garbled.gguf"
    path.write_bytes(raw)
    outcomes = {"error": 0, "ok": 0}
    with open(path, "r+b") as fh:
        for at in range(first, data_offset, 7):
            fh.seek(at)
            fh.write(garbage)
            fh.flush()
            outcomes[_survives(path)] += 1
            fh.seek(at)
            fh.write(raw[at : at + len(garbage)])
    assert outcomes["error"] > 100 and outcomes["ok"] > 100  # text bytes may change harmlessly


# ---- the loader names the file and the problem -----------------------------------------


@pytest.fixture
def tiny(tmp_path: Path):
    config = tiny_config()
    return config, tiny_tensors(config, seed=7), tmp_path


def _write(tiny, tensors=None, config=None, **kwargs) -> Path:
    cfg, weights, folder = tiny
    return write_gguf(
        folder / "m.gguf", weights if tensors is None else tensors, config or cfg, **kwargs
    )


def _load_fails(path: Path, *phrases: str) -> None:
    with pytest.raises(CheckpointError) as info:
        load_gguf(path)
    assert str(info.value).startswith(str(path)) and info.value.path == path
    for phrase in phrases:
        assert phrase in str(info.value)


@pytest.mark.parametrize("keep,phrase", [(200, "truncated or corrupt"), (-1000, "is truncated")])
def test_loader_truncated_file(tiny, keep: int, phrase: str) -> None:
    path = _write(tiny, qtype="Q8_0")
    path.write_bytes(path.read_bytes()[:keep])
    _load_fails(path, phrase)


def test_loader_empty_text_and_missing_files(tiny) -> None:
    folder = tiny[2]
    (folder / "empty.gguf").write_bytes(b"")
    _load_fails(folder / "empty.gguf", "empty")
    (folder / "notes.gguf").write_text("these are not weights\n")
    _load_fails(folder / "notes.gguf", "not a GGUF file")
    _load_fails(folder / "nowhere.gguf", "does not exist")


def test_loader_other_architecture(tiny) -> None:
    _load_fails(_write(tiny, arch="gpt2"), "unsupported architecture 'gpt2', expected 'llama'")


def test_loader_wrong_missing_and_unknown_tensors(tiny) -> None:
    tensors = dict(tiny[1])
    tensors["layers.1.attention.wk.weight"] = torch.zeros(64, 64)  # metadata implies (32, 64)
    _load_fails(
        _write(tiny, tensors=tensors), "blk.1.attn_k.weight has shape (64, 64)", "expected (32, 64)"
    )
    tensors = dict(tiny[1])
    del tensors["layers.1.feed_forward.w3.weight"]
    _load_fails(_write(tiny, tensors=tensors), "blk.1.ffn_up.weight", "is missing")
    tensors = dict(tiny[1], **{"layers.2.ffn_norm.weight": torch.zeros(64)})
    _load_fails(
        _write(tiny, tensors=tensors),
        "llama.block_count is 2, but the tensors hold 3 layers (numbers 0..2)",
    )
    tensors = dict(tiny[1], **{"mystery.weight": torch.zeros(4)})
    _load_fails(_write(tiny, tensors=tensors), "unknown tensors", "mystery.weight")


def test_loader_unsupported_and_unknown_tensor_types(tiny) -> None:
    # IQ4_NL blocks are 32 weights in 18 bytes, like Q4_0: relabelled, the file stays whole
    path = _write(tiny, qtype="Q4_0")
    raw = bytearray(path.read_bytes())
    name = b"blk.0.attn_k.weight"
    at = raw.index(struct.pack("<Q", len(name)) + name) + 8 + len(name) + 4 + 2 * 8
    assert struct.unpack_from("<I", raw, at)[0] == Q4_0
    raw[at : at + 4] = struct.pack("<I", IQ4_NL)
    path.write_bytes(bytes(raw))
    _load_fails(path, "blk.0.attn_k.weight has type IQ4_NL; supported types are F32, F16")
    path = _write(tiny)
    raw = bytearray(path.read_bytes())
    name = b"blk.0.attn_q.weight"
    at = raw.index(struct.pack("<Q", len(name)) + name) + 8 + len(name) + 4 + 2 * 8
    assert struct.unpack_from("<I", raw, at)[0] == F32
    raw[at : at + 4] = struct.pack("<I", 99)
    path.write_bytes(bytes(raw))
    _load_fails(path, "tensor blk.0.attn_q.weight has type type_99; supported types are")


def test_loader_inconsistent_metadata(tiny) -> None:
    config = tiny_config(n_kv_heads=3)
    _load_fails(
        _write(tiny, tensors=tiny_tensors(config), config=config),
        "n_heads (4) is not a multiple of n_kv_heads (3)",
    )


@pytest.mark.parametrize(
    "key,value,phrase",
    [
        ("llama.attention.head_count", [4, 4], "llama.attention.head_count is [4, 4], expected"),
        ("llama.rope.freq_base", "high", "llama.rope.freq_base is 'high', expected a finite"),
    ],
)
def test_loader_metadata_of_the_wrong_type(tiny, key: str, value, phrase: str) -> None:
    _load_fails(_write(tiny, tokenizer_metadata={key: value}), phrase)


def test_loader_unsupported_rope_scaling(tiny) -> None:
    path = _write(
        tiny,
        tokenizer_metadata={"llama.rope.scaling.type": "yarn", "llama.rope.scaling.factor": 4.0},
    )
    _load_fails(path, "rope scaling 'yarn'")


def test_loader_qwen2_metadata_and_tensors(tiny) -> None:
    """A qwen2 file reads qwen2.* keys and needs the biases its config implies."""
    cfg, weights, _ = tiny
    biased = tiny_config(qkv_bias=True)
    _load_fails(_write(tiny, arch="qwen2"), "attn_q.bias", "is missing")
    path = _write(tiny, tensors=tiny_tensors(biased, seed=7), config=biased, arch="qwen2")
    assert load_gguf(path).config == biased
    path = _write(
        tiny,
        tensors=tiny_tensors(biased, seed=7),
        config=biased,
        arch="qwen2",
        tokenizer_metadata={"qwen2.attention.head_count_kv": 3},
    )
    _load_fails(path, "n_heads (4) is not a multiple of n_kv_heads (3)")
