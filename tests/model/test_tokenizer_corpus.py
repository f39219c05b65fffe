"""The tiny vocabulary written as tokenizer.model, tokenizer.json and GGUF: same ids everywhere.

Also defines CORPUS, the varied text every tokenizer test compares against its reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer as HFTokenizer

from llamalens.model.tokenizer import Tokenizer, load_tokenizer
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import (
    gguf_tokenizer_metadata,
    write_tiktoken_model,
    write_tokenizer_json,
)

CORPUS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll say we've done it; you'd agree? WE'RE DONE. It's 'quoted'.",
    "这是一个测试句子，用于检查中文分词。",
    "日本語のテキストも正しく処理できるはずです。カタカナとひらがな。",
    "def f(x):\n    if x > 0:\n        return x * 2\n    return -x\n",
    "class A:\n\tdef g(self):\n\t\tpass  # comment\n\n\n",
    "emoji 😀 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 thumbs 👍🏽 heart ❤️",
    "pi = 3.14159, e = 2.71828, n = -42, big = 12345678901234567890",
    "1000000 0.5 -0.25 1e-9 2024-01-31 12:30 $19.99 50%",
    "x\n\n1 and  23 and \t45 and\n678",
    "many    spaces   here  ",
    "lines\n\n\nmore lines\n \n",
    "windows\r\nline\r\nendings\r\n\r\n",
    "café naïve e\u0301 a\u0300 combining marks",
    "مرحبا بالعالم",
    "שלום עולם",
    "Ünïcödé ÀÉÎÕÜ ß ẞ Ελληνικά Русский",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "\u00a0nbsp\u2009thin\u3000ideographic",
    "tabs\t\t\tand\x0bvertical\x0cform",
    "<|im_start|>user\nhi<|im_end|>",
    "<|begin_of_text|>text<|end_of_text|>",
    "almost <|special|> but <|im_start no",
    "   leading spaces",
    "trailing newline\n",
    "a",
    " ",
    "",
]


def write_gguf(path: Path, metadata: dict[str, Any]) -> Path:
    """A GGUF file holding only ``metadata`` (no tensors)."""
    writer = gguf.GGUFWriter(str(path), "llama")
    for key, value in metadata.items():
        if isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_array(key, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_tok")
    vocab = tiny_vocab()
    return {
        "meta": write_tiktoken_model(vocab, root / "tokenizer.model"),
        "hf": write_tokenizer_json(vocab, root / "tokenizer.json"),
        "gguf": write_gguf(root / "tiny.gguf", gguf_tokenizer_metadata(vocab)),
    }


@pytest.fixture(scope="module")
def tiny(tiny_files: dict[str, Path]) -> dict[str, Tokenizer]:
    return {kind: load_tokenizer(path) for kind, path in tiny_files.items()}


@pytest.fixture(scope="module")
def hf_reference(tiny_files: dict[str, Path]) -> HFTokenizer:
    return HFTokenizer.from_file(str(tiny_files["hf"]))


def test_loaders_agree_on_vocabulary(tiny: dict[str, Tokenizer]) -> None:
    vocab = tiny_vocab()
    assert tiny["meta"].n_vocab == tiny["hf"].n_vocab == tiny["gguf"].n_vocab == vocab.size
    for tok in tiny.values():
        assert tok.bos_id == vocab.special_id("<|begin_of_text|>")
        assert tok.eos_id == vocab.special_id("<|end_of_text|>")
        assert [t.bytes for t in tok.tokens(range(vocab.n_bpe))] == vocab.tokens
        assert tok.add_bos is False
    assert tiny["hf"].name == "gpt2-bpe:llama3"
    assert tiny["gguf"].name == "gpt2-bpe:llama-bpe"


@pytest.mark.parametrize("text", CORPUS)
def test_same_ids_and_round_trip_in_every_format(tiny: dict[str, Tokenizer], text: str) -> None:
    ids = tiny["meta"].encode(text)
    assert tiny["hf"].encode(text) == ids
    assert tiny["gguf"].encode(text) == ids
    assert tiny["meta"].decode(ids) == text
    assert tiny["meta"].encode_detailed(text).dropped == []


@pytest.mark.parametrize("text", CORPUS)
def test_tokenizer_json_matches_hugging_face(
    tiny: dict[str, Tokenizer], hf_reference: HFTokenizer, text: str
) -> None:
    assert tiny["hf"].encode(text) == hf_reference.encode(text, add_special_tokens=False).ids


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text())
def test_tokenizer_json_matches_hugging_face_on_random_text(
    tiny: dict[str, Tokenizer], hf_reference: HFTokenizer, text: str
) -> None:
    expected = hf_reference.encode(text, add_special_tokens=False).ids
    assert tiny["hf"].encode(text) == expected
    assert tiny["gguf"].encode(text) == expected
    assert tiny["meta"].encode(text) == expected
    assert tiny["meta"].decode(expected) == text


def test_special_ids_agree(tiny: dict[str, Tokenizer]) -> None:
    vocab = tiny_vocab()
    text = "<|begin_of_text|>hi<|eot_id|>"
    hi = tiny["hf"].encode("hi")
    plain = tiny["hf"].encode(text, allow_special=False)
    assert vocab.special_id("<|eot_id|>") == vocab.n_bpe + 9  # Meta's order
    for tok in tiny.values():
        assert tok.encode(text) == [vocab.n_bpe, *hi, vocab.n_bpe + 9]
        assert tok.encode(text, allow_special=False) == plain
        assert len(plain) > 10 and vocab.n_bpe not in plain
        assert tok.token(vocab.n_bpe + 9) == tok.token(vocab.special_id("<|eot_id|>"))
        eot = tok.token(vocab.n_bpe + 9)
        assert eot.special and eot.text == "<|eot_id|>"
        assert tok.decode(tok.encode(text)) == text
        assert tok.stop_ids >= {vocab.special_id("<|end_of_text|>"), vocab.special_id("<|eot_id|>")}
    assert tiny["meta"].chat_template.name == tiny["gguf"].chat_template.name == "llama3"
    for message in ("hi", " spaced out \n"):
        assert tiny["gguf"].apply_chat(message) == tiny["meta"].apply_chat(message)
