"""Pre-tokenizers: long-run cutting, and tokenizer.json pre-tokenizers against Hugging Face."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_models.llama3.tokenizer import Tokenizer as MetaTokenizer
from tokenizers import Tokenizer as HFTokenizer

from llamalens.model.tokenizer import Tokenizer, load_hf_tokenizer_json
from llamalens.model.tokenizer.pretokenize import (
    GPT2_PATTERN,
    LLAMA3_PATTERN,
    gguf_pretokenizer,
    hf_pretokenizer,
    split_long_runs,
)
from tests.model.test_tokenizer_corpus import CORPUS
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import tokenizer_json_dict

RANDOM = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
BYTE_LEVEL = {
    "type": "ByteLevel",
    "add_prefix_space": False,
    "trim_offsets": True,
    "use_regex": True,
}
NO_REGEX = {**BYTE_LEVEL, "use_regex": False}


def split(pattern: dict[str, str]) -> dict[str, Any]:
    return {"type": "Split", "pattern": pattern, "behavior": "Isolated", "invert": False}


PRE_TOKENIZERS = {
    "gpt2": BYTE_LEVEL,
    "digits+gpt2": {
        "type": "Sequence",
        "pretokenizers": [{"type": "Digits", "individual_digits": True}, BYTE_LEVEL],
    },
    "digit-runs+gpt2": {
        "type": "Sequence",
        "pretokenizers": [{"type": "Digits", "individual_digits": False}, BYTE_LEVEL],
    },
    "letters-only": {"type": "Sequence", "pretokenizers": [split({"Regex": r"\p{L}+"}), NO_REGEX]},
    "newline+digits+llama3": {
        "type": "Sequence",
        "pretokenizers": [
            split({"String": "\n"}),
            {"type": "Digits", "individual_digits": True},
            split({"Regex": LLAMA3_PATTERN}),
            NO_REGEX,
        ],
    },
    "whole": NO_REGEX,
}
TEXT = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from([*"ab 1 2\n\t.,", "  ", "the", "12", "é", "世", "\r\n"]), max_size=25
    ).map("".join),
)


def meta_split(text: str, limit: int) -> list[str]:
    return list(MetaTokenizer._split_whitespaces_or_nonwhitespaces(text, limit))


@RANDOM
@given(
    text=st.text(alphabet=st.sampled_from("ab \n\u00a0\u3000x"), max_size=60),
    limit=st.integers(1, 6),
)
def test_long_runs_are_cut_where_meta_cuts(text: str, limit: int) -> None:
    pieces = split_long_runs(text, limit)
    assert [p for _, p in pieces] == [p for p in meta_split(text, limit) if p]
    assert all(text[offset : offset + len(p)] == p for offset, p in pieces)


def test_ordinary_text_is_not_cut() -> None:
    for text in CORPUS:
        assert split_long_runs(text) == ([(0, text)] if text else [])


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Tokenizer, Any]]:
    root = tmp_path_factory.mktemp("pre")
    out = {}
    for name, pre in PRE_TOKENIZERS.items():
        data = tokenizer_json_dict(tiny_vocab())
        data["pre_tokenizer"] = pre
        path = root / name / "tokenizer.json"
        path.parent.mkdir()
        path.write_text(json.dumps(data), encoding="utf-8")
        out[name] = (load_hf_tokenizer_json(path), HFTokenizer.from_file(str(path)))
    return out


@pytest.mark.parametrize("name", sorted(PRE_TOKENIZERS))
@RANDOM
@given(text=TEXT)
def test_converted_pre_tokenizers_match_hugging_face(
    converted: dict[str, Any], name: str, text: str
) -> None:
    ours, reference = converted[name]
    assert ours.encode(text) == reference.encode(text, add_special_tokens=False).ids


def test_converted_names() -> None:
    assert hf_pretokenizer(BYTE_LEVEL).name == "gpt2"
    assert hf_pretokenizer(PRE_TOKENIZERS["digits+gpt2"]).name == "smollm"
    llama3 = {"type": "Sequence", "pretokenizers": [split({"Regex": LLAMA3_PATTERN}), NO_REGEX]}
    assert hf_pretokenizer(llama3).name == "llama3"
    assert hf_pretokenizer(llama3).pat_str == LLAMA3_PATTERN
    assert hf_pretokenizer(PRE_TOKENIZERS["letters-only"]).name == "custom"


def test_nfc_normalizer(tmp_path: Path) -> None:
    data = tokenizer_json_dict(tiny_vocab())
    data["normalizer"] = {"type": "NFC"}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    ours, reference = load_hf_tokenizer_json(path), HFTokenizer.from_file(str(path))
    for text in ("e\u0301te\u0301", "A\u030a", "plain"):
        assert ours.encode(text) == reference.encode(text, add_special_tokens=False).ids
    assert ours.encode("e\u0301") == ours.encode("\u00e9")


def test_gguf_presets() -> None:
    assert gguf_pretokenizer("smollm").isolate == (r"\p{N}",)
    assert gguf_pretokenizer("smollm").pat_str == GPT2_PATTERN
    assert gguf_pretokenizer("llama-bpe").pat_str == LLAMA3_PATTERN
    assert gguf_pretokenizer(None).name == "gpt2"
    segments = gguf_pretokenizer("smollm").segments("ab 12")
    assert segments == [(0, "ab "), (3, "1"), (4, "2")]
