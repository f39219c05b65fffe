"""Fuzzed checkpoints of every format: a clean CheckpointError naming a file of the
checkpoint, or a valid load that runs, within a time and memory bound.

Mutations of valid tiny checkpoints: GGUF (llama F32 and Q4_0, qwen2, SentencePiece) bytes
(mostly in the header), tensor offsets aliased and types changed, metadata values of any
type; Hugging Face config.json, safetensors headers and index entries changed to random
JSON, header bytes flipped; Meta params.json values and state dicts with other dtypes,
shapes, keys; tokenizer files of every kind (tiktoken and SentencePiece tokenizer.model,
byte-level and SentencePiece tokenizer.json, chat templates) cut and rewritten.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llamalens.model.engine import Engine
from llamalens.model.errors import CheckpointError
from llamalens.model.loaders import load_checkpoint
from llamalens.model.tokenizer import load_tokenizer
from tests.bounds import bounded
from tests.model.hostile_ckpt import write_pristine
from tests.writers.hostile import gguf_tensor_fields

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.sentencepiece_files import (
        gguf_sentencepiece_metadata,
        n_pieces,
        train_llama2_tokenizer,
        write_hf_tokenizer_files,
    )
    from tests.writers.tiny_vocab import tiny_vocab
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    root = tmp_path_factory.mktemp("fuzz-checkpoints")
    paths = write_pristine(root)
    vocab = tiny_vocab()
    biased = tiny_config(vocab, qkv_bias=True)
    paths["gguf-qwen2"] = write_gguf(
        root / "qwen2.gguf", tiny_tensors(biased, 3), biased, arch="qwen2",
        tokenizer_metadata=gguf_tokenizer_metadata(vocab),
    )  # fmt: skip
    model = train_llama2_tokenizer(root / "spm.model")
    spm = tiny_config(vocab_size=n_pieces(), hidden_dim=192, n_kv_heads=4)
    weights = tiny_tensors(spm, 4)
    paths["gguf-spm"] = write_gguf(
        root / "spm.gguf", weights, spm, tokenizer_metadata=gguf_sentencepiece_metadata(model)
    )
    paths["meta-spm"] = write_meta(root / "meta-spm", weights, spm, sentencepiece_model=model)
    paths["hf-spm"] = write_hf(
        root / "hf-spm", weights, spm, write_tokenizer=lambda d: write_hf_tokenizer_files(d, model)
    )
    return paths


def _fresh(src: Path) -> tuple[Path, tempfile.TemporaryDirectory]:
    keep = tempfile.TemporaryDirectory(prefix="llamalens-fuzz-")
    dst = Path(keep.name) / src.name
    (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return dst, keep


def clean_error_or_valid(path: Path) -> None:
    """Load within bounds; a refusal names a file of the checkpoint, a load runs."""
    try:
        with bounded(megabytes=96, timeout=60):
            ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        message = str(exc)
        assert message.startswith(str(path)) and "\n" not in message, message
        event("refused: " + " ".join(exc.problem.split()[:2]))
        return
    engine = Engine(ckpt, "cpu")
    logits = engine.logits([0, 1, 2])
    assert logits.shape == (3, ckpt.config.vocab_size)
    event("loaded")


# ---- mutations ------------------------------------------------------------------------------
@st.composite
def byte_edit(draw, data: bytes, hot: int) -> bytes:
    """Cut, flip, insert or overwrite bytes, three times in four inside ``data[:hot]``."""
    end = hot if draw(st.integers(0, 3)) else len(data)
    at = draw(st.integers(0, max(0, end - 1)))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "overwrite"]))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    junk = draw(st.binary(min_size=1, max_size=16))
    return data[:at] + junk + data[at + (0 if kind == "insert" else len(junk)) :]


@st.composite
def json_edit(draw, data):
    """Set or delete one key somewhere in a JSON document (three levels deep at most)."""
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    target = data
    for key in path[:-1]:
        target = target[key]
    if isinstance(target, dict) and draw(st.booleans()) and draw(st.booleans()):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = draw(json_values)
    return data


def _paths(data, prefix=(), depth=0):
    if depth >= 3 or not isinstance(data, (dict, list)):
        return
    items = data.items() if isinstance(data, dict) else enumerate(data[:4])
    for key, value in list(items)[:200]:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key), depth + 1)


# ---- GGUF ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["gguf-F32", "gguf-Q4_0", "gguf-qwen2", "gguf-spm"])
def test_fuzzed_gguf(pristine, kind):
    from llamalens.model.loaders.gguf_file import read_gguf

    src = pristine[kind]
    parsed = read_gguf(src)
    names = [t.name for t in parsed.tensors]

    @FUZZ
    @given(data=st.data())
    def check(data):
        path, keep = _fresh(src)
        with keep:
            raw = path.read_bytes()
            how = data.draw(st.sampled_from(["bytes", "alias", "retype"]))
            if how == "bytes":
                raw = data.draw(byte_edit(raw, parsed.data_offset))
            else:
                name, other = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
                type_at, offset_at = gguf_tensor_fields(raw, name)
                if how == "alias":
                    value = raw[gguf_tensor_fields(raw, other)[1] :][:8]
                    raw = raw[:offset_at] + value + raw[offset_at + 8 :]
                else:
                    new = struct.pack("<I", data.draw(st.integers(0, 40)))
                    raw = raw[:type_at] + new + raw[type_at + 4 :]
            path.write_bytes(raw)
            clean_error_or_valid(path)

    check()


@FUZZ
@given(data=st.data())
def test_fuzzed_gguf_metadata(pristine, data):
    """Any key of the metadata given a random value of any GGUF type."""
    from llamalens.model.loaders.gguf_file import read_gguf
    from tests.writers.checkpoints import tiny_config, tiny_tensors
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tiny_vocab import tiny_vocab
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    meta = gguf_tokenizer_metadata(vocab)
    keys = sorted(read_gguf(pristine["gguf-F32"]).metadata)
    key = data.draw(st.sampled_from(keys))
    scalar = st.one_of(
        st.integers(-(2**31), 2**31 - 1), st.floats(width=32), st.booleans(), st.text(max_size=8)
    )
    value = data.draw(st.one_of(scalar, st.lists(st.integers(0, 2**31 - 1), max_size=4),
                                st.lists(st.text(max_size=4), min_size=1, max_size=4)))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.gguf"
        try:
            write_gguf(path, tiny_tensors(cfg), cfg, tokenizer_metadata={**meta, key: value})
        except (ValueError, TypeError, OverflowError):  # gguf's writer refuses the value
            return
        clean_error_or_valid(path)


# ---- Hugging Face ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["hf", "hf3", "hf-spm"])
def test_fuzzed_hf(pristine, kind):
    src = pristine[kind]

    @FUZZ
    @given(data=st.data())
    def check(data):
        folder, keep = _fresh(src)
        with keep:
            files = sorted(
                p.name for p in folder.iterdir() if p.suffix in (".json", ".safetensors")
            )
            name = data.draw(st.sampled_from(files))
            target = folder / name
            if name.endswith(".json"):
                doc = json.loads(target.read_text())
                target.write_text(json.dumps(data.draw(json_edit(doc))))
            elif data.draw(st.booleans()):
                raw = target.read_bytes()
                (n,) = struct.unpack_from("<Q", raw, 0)
                target.write_bytes(data.draw(byte_edit(raw, 8 + n)))
            else:
                raw = target.read_bytes()
                (n,) = struct.unpack_from("<Q", raw, 0)
                header = data.draw(json_edit(json.loads(raw[8 : 8 + n])))
                text = json.dumps(header).encode()
                target.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n :])
            clean_error_or_valid(folder)

    check()


# ---- Meta -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["meta", "meta2", "meta-spm"])
def test_fuzzed_meta(pristine, kind):
    src = pristine[kind]

    @FUZZ
    @given(data=st.data())
    def check(data):
        folder, keep = _fresh(src)
        with keep:
            how = data.draw(st.sampled_from(["params", "state", "bytes"]))
            shard = data.draw(st.sampled_from(sorted(folder.glob("consolidated.*.pth"))))
            if how == "params":
                doc = json.loads((folder / "params.json").read_text())
                (folder / "params.json").write_text(json.dumps(data.draw(json_edit(doc))))
            elif how == "bytes":
                raw = shard.read_bytes()
                shard.write_bytes(data.draw(byte_edit(raw, len(raw))))
            else:
                state = torch.load(shard, weights_only=True)
                torch.save(data.draw(_state_edit(state)), shard)
            clean_error_or_valid(folder)

    check()


@st.composite
def _state_edit(draw, state):
    name = draw(st.sampled_from(sorted(state)))
    kind = draw(st.sampled_from(["values", "dtype", "shape", "drop", "key", "alias"]))
    t = state[name]
    if kind == "values":  # weights a file may well hold: NaN, infinities, huge numbers
        state[name] = torch.full_like(t, draw(st.sampled_from([float("nan"), float("inf"), 3e38])))
    elif kind == "dtype":
        state[name] = t.to(draw(st.sampled_from([torch.float16, torch.int64, torch.complex64,
                                                 torch.bool, torch.bfloat16])))  # fmt: skip
    elif kind == "shape":
        state[name] = draw(
            st.sampled_from([t.reshape(-1), t[None], t.sum(), t[..., None], t[..., :1]])
        )
    elif kind == "drop":
        del state[name]
    elif kind == "key":
        state[draw(st.sampled_from([3, ("a",), "layers.9.x.weight", ""]))] = t
    else:
        other = draw(st.sampled_from(sorted(state)))
        state[name] = state[other]
    return state


# ---- tokenizer files --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind,name",
    [("meta", "tokenizer.model"), ("meta-spm", "tokenizer.model"), ("hf", "tokenizer.json"),
     ("hf-spm", "tokenizer.json"), ("hf-spm", "tokenizer_config.json")],
)  # fmt: skip
def test_fuzzed_tokenizer_files(pristine, kind, name):
    src = pristine[kind]

    @FUZZ
    @given(data=st.data())
    def check(data):
        folder, keep = _fresh(src)
        with keep:
            target = folder / name
            raw = target.read_bytes()
            if name.endswith(".json") and data.draw(st.booleans()):
                doc = json.loads(raw)
                if name == "tokenizer_config.json" and data.draw(st.booleans()):
                    doc["chat_template"] = data.draw(_templates)
                else:
                    doc = data.draw(json_edit(doc))
                target.write_text(json.dumps(doc))
            else:
                target.write_bytes(data.draw(byte_edit(raw, min(len(raw), 4096))))
            _tokenizer_clean_or_valid(
                folder / ("tokenizer.json" if kind.startswith("hf") else name)
            )

    check()


_templates = st.one_of(
    st.sampled_from([
        "{% for m in messages %}{{ m.content }}{% endfor %}",
        "{{ 'a' * 10**9 }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "{{ messages.__class__.__mro__ }}",
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "{{ raise_exception('no') }}",
        "{{ (messages|string) * 100000 }}",
        "{{ '%0999999999d' % 1 }}",
    ]),
    st.text(max_size=60),
)  # fmt: skip


def _tokenizer_clean_or_valid(path: Path) -> None:
    try:
        with bounded(megabytes=96, timeout=60):
            tok = load_tokenizer(path)
    except CheckpointError as exc:
        message = str(exc)
        assert message.startswith(str(path.parent)) and "\n" not in message, message
        event("refused")
        return
    with bounded(megabytes=96, timeout=60):
        ids = tok.encode("hello <s> world 漢字\n\t 123 <|eot_id|>")
        assert all(0 <= i < tok.n_vocab for i in ids)
        if tok.chat_template is not None:
            try:
                tok.apply_chat("hi")
            except ValueError as exc:  # a template may fail; it says so in one line
                assert "\n" not in str(exc).strip()
    event("loaded")
