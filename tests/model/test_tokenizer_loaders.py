"""Loader edge cases: every bad tokenizer file is a CheckpointError naming file and problem."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer import (
    load_gguf_tokenizer,
    load_hf_tokenizer_json,
    load_tiktoken_model,
    load_tokenizer,
)
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import (
    gguf_tokenizer_metadata,
    tokenizer_json_dict,
    write_tiktoken_model,
    write_tokenizer_json,
)


def expect_error(path: Path, problem: str, load: Any, *args: Any) -> CheckpointError:
    with pytest.raises(CheckpointError, match=problem) as info:
        load(*args) if args else load(path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"YQ== 0\nnot*base64 1\n", "line 2: .*not base64"),
        (b"YQ== 0 extra\n", "line 1: expected 'base64-token rank'"),
        (b"YQ== 0\nYg== 0\n", "line 2: rank 0 appears twice"),
        (b"YQ== 0\nYQ== 1\n", "line 2: token b'a' appears twice"),
        (b"YQ== -3\n", "line 1: rank '-3' is not an integer in 0..4,194,303"),
        (b"YQ== 1000000000000\n", "line 1: rank '1000000000000' is not an integer in 0.."),
        (b"\x0a\x05\x0a\x03<s>\x15\x00\x00\x80\x3f", "binary data.*SentencePiece"),
    ],
)
def test_bad_tiktoken_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "tokenizer.model"
    path.write_bytes(content)
    expect_error(path, problem, load_tiktoken_model)


def test_missing_files(tmp_path: Path) -> None:
    expect_error(tmp_path / "tokenizer.model", "does not exist", load_tiktoken_model)
    expect_error(tmp_path / "tokenizer.json", "does not exist", load_hf_tokenizer_json)
    expect_error(tmp_path / "x.gguf", "does not exist", load_tokenizer)
    expect_error(tmp_path, "has no tokenizer.json or tokenizer.model", load_tokenizer)
    (tmp_path / "vocab.txt").write_text("hello")
    expect_error(tmp_path / "vocab.txt", "is not a tokenizer file", load_tokenizer)


def test_tiktoken_file_without_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.model"
    path.write_text(f"{b64(b'a')} 0\n{b64(b'b')} 1\n{b64(b'ab')} 2\n")
    tok = load_tiktoken_model(path)
    assert tok.n_vocab == 3 + 256 and tok.bos_id == 3
    detailed = tok.encode_detailed("abc ab")
    assert detailed.ids == [2, 2]
    assert [(d.offset, d.byte) for d in detailed.dropped] == [(2, ord("c")), (3, ord(" "))]


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["model"].update(continuing_subword_prefix="##"), "continuing_subword_prefix"),
        (lambda d: d["model"].pop("merges"), "'merges' list"),
        (
            lambda d: d.update(
                pre_tokenizer={
                    "type": "Sequence",
                    "pretokenizers": [
                        {"type": "Whitespace"},
                        {"type": "ByteLevel", "use_regex": True},
                    ],
                }
            ),
            "'Whitespace' is not supported",
        ),
        (
            lambda d: d.update(pre_tokenizer={"type": "ByteLevel", "add_prefix_space": True}),
            "add_prefix_space",
        ),
        (lambda d: d.update(normalizer={"type": "Lowercase"}), "normalizer 'Lowercase'"),
        (
            lambda d: d["pre_tokenizer"]["pretokenizers"][0].update(pattern={"Regex": "(open"}),
            "regex '\\(open' does not compile",
        ),
        (lambda d: d["model"]["merges"].insert(0, ["q", "zz"]), "merge 0 .*'zz'.*not in the vocab"),
        (lambda d: d["model"]["merges"].insert(0, ["a", "b", "c"]), "merge 0 .*is not a pair"),
        (lambda d: d["model"]["vocab"].update({"with space": 7}), "not in the GPT-2 byte-level"),
        (lambda d: d["model"]["vocab"].update({"Ġzz": 5}), "token id 5 is used by more than one"),
        (lambda d: d["added_tokens"].append({"content": 3}), "added_tokens\\[256\\]"),
    ],
)
def test_bad_tokenizer_json(tmp_path: Path, edit: Any, problem: str) -> None:
    data = tokenizer_json_dict(tiny_vocab())
    edit(data)
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    expect_error(path, problem, load_hf_tokenizer_json)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "is empty"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "holds a JSON list, expected an object"),
        ('{"model": {"type": "WordPiece"}}', "expected 'BPE'"),
    ],
)
def test_tokenizer_json_that_is_not_a_tokenizer(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text(content, encoding="utf-8")
    expect_error(path, problem, load_hf_tokenizer_json)


def test_tokenizer_config_is_read(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    path = write_tokenizer_json(vocab, tmp_path / "tokenizer.json")
    config = tmp_path / "tokenizer_config.json"
    config.write_text(
        json.dumps(
            {
                "bos_token": {"content": "<|begin_of_text|>"},
                "eos_token": "<|eot_id|>",
                "chat_template": [
                    {"name": "default", "template": "{{'<|im_start|>' + m + '\\n'}}"}
                ],
            }
        )
    )
    tok = load_hf_tokenizer_json(path)
    assert tok.eos_id == vocab.special_id("<|eot_id|>") and tok.add_bos is False
    assert tok.chat_template is not None and tok.chat_template.name == "chatml"
    config.write_text(json.dumps({"eos_token": "<|nope|>"}))
    expect_error(config, "'<\\|nope\\|>' is not an added token", load_hf_tokenizer_json, path)
    config.write_text("{broken")
    expect_error(config, "is not valid JSON", load_hf_tokenizer_json, path)


def test_post_processor_decides_add_bos_without_config(tmp_path: Path) -> None:
    data = tokenizer_json_dict(tiny_vocab())
    data["post_processor"] = {
        "type": "Sequence",
        "processors": [
            {"type": "ByteLevel"},
            {
                "type": "TemplateProcessing",
                "single": [
                    {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}},
                ],
            },
        ],
    }
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data))
    tok = load_hf_tokenizer_json(path)
    assert tok.add_bos and tok.encode("hi")[0] == tok.bos_id


def test_load_tokenizer_prefers_tokenizer_json_in_a_directory(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    write_tiktoken_model(vocab, tmp_path / "tokenizer.model")
    assert load_tokenizer(tmp_path).name == "llama3"
    write_tokenizer_json(vocab, tmp_path / "tokenizer.json")
    assert load_tokenizer(tmp_path).name == "gpt2-bpe:llama3"


def gguf_meta(**changes: Any) -> dict[str, Any]:
    meta = gguf_tokenizer_metadata(tiny_vocab())
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"tokenizer.ggml.model": "llama"}, "has no tokenizer.ggml.scores list"),
        (
            {"tokenizer.ggml.model": "bert"},
            "tokenizer.ggml.model is 'bert', expected one of 'gpt2'",
        ),
        ({"tokenizer.ggml.model": None}, "tokenizer.ggml.model is missing"),
        (
            {"tokenizer.ggml.model": ["gpt2"]},
            r"tokenizer.ggml.model is \['gpt2'\], expected a string",
        ),
        ({"tokenizer.ggml.token_type": 1}, "tokenizer.ggml.token_type list"),
        (
            {"tokenizer.ggml.pre": ["llama-bpe"]},
            r"tokenizer.ggml.pre is \['llama-bpe'\], expected a",
        ),
        ({"tokenizer.ggml.tokens": None}, "no tokenizer.ggml.tokens"),
        ({"tokenizer.ggml.merges": [1, 2]}, "tokenizer.ggml.merges holds int 1, expected str"),
        ({"tokenizer.ggml.token_type": [1, 1]}, "token_type has 2 entries, expected 556"),
        ({"tokenizer.ggml.merges": ["Ġ t x"]}, "merge 0 'Ġ t x' is not a pair of tokens"),
        ({"tokenizer.ggml.bos_token_id": 9999}, "bos_token_id is 9999, expected a token id"),
    ],
)
def test_bad_gguf_metadata(tmp_path: Path, changes: dict[str, Any], problem: str) -> None:
    path = tmp_path / "model.gguf"
    expect_error(path, problem, load_gguf_tokenizer, gguf_meta(**changes), path)


def test_gguf_pre_tokenizer_names(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "model.gguf"
    assert load_gguf_tokenizer(gguf_meta(), path).pretokenizer.name == "llama3"
    assert (
        load_gguf_tokenizer(gguf_meta(**{"tokenizer.ggml.pre": None}), path).pretokenizer.name
        == "gpt2"
    )
    assert load_gguf_tokenizer(gguf_meta(**{"tokenizer.ggml.pre": "qwen2"}), path).encode(
        "12345"
    ) == [ord(c) for c in "12345"]
    with caplog.at_level(logging.WARNING):
        tok = load_gguf_tokenizer(gguf_meta(**{"tokenizer.ggml.pre": "martian"}), path)
    assert "unknown GGUF pre-tokenizer 'martian'" in caplog.text
    assert tok.name == "gpt2-bpe:martian" and tok.pretokenizer.name == "martian(gpt2 fallback)"


def test_gguf_user_defined_and_unused_tokens(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    meta = gguf_meta()
    meta["tokenizer.ggml.tokens"] = [*meta["tokenizer.ggml.tokens"], "<think>", "[UNUSED]"]
    meta["tokenizer.ggml.token_type"] = [*meta["tokenizer.ggml.token_type"], 4, 5]
    tok = load_gguf_tokenizer(meta, tmp_path / "m.gguf")
    think = vocab.size
    assert tok.n_vocab == vocab.size + 2
    assert tok.encode("a<think>b") == [97, think, 98]
    assert tok.encode("a<think>b", allow_special=False) == [97, think, 98]  # not special
    assert not tok.token(think).special
    assert tok.encode("[UNUSED]") != [vocab.size + 1]
