"""Llama 3 ``tokenizer.model`` against Meta's own tokenizer and chat format (llama-models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import llama_models
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_models.llama3.tokenizer import Tokenizer as MetaTokenizer

from llamalens.model.tokenizer import (
    Tokenizer,
    llama3_special_tokens,
    load_tiktoken_model,
    load_tokenizer,
)
from tests.model.test_tokenizer_corpus import CORPUS

RANDOM = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def model_path() -> Path:
    """Meta's Llama 3 ``tokenizer.model``, shipped inside llama-models (the test extra)."""
    path = Path(llama_models.__file__).parent / "llama3" / "tokenizer.model"
    assert path.is_file(), f"{path}: llama-models is installed without its tokenizer.model"
    return path


@pytest.fixture(scope="module")
def meta(model_path: Path) -> Any:
    return MetaTokenizer.get_instance()


@pytest.fixture(scope="module")
def ours(model_path: Path) -> Tokenizer:
    return load_tiktoken_model(model_path)


def meta_ids(meta: Any, text: str, *, special: bool = True) -> list[int]:
    if special:
        return meta.encode(text, bos=False, eos=False, allowed_special="all")
    return meta.encode(text, bos=False, eos=False, allowed_special=set(), disallowed_special=())


def test_vocabulary_and_specials(ours: Tokenizer, meta: Any) -> None:
    assert ours.name == "llama3"
    assert ours.n_vocab == meta.n_words == 128256
    assert (ours.bos_id, ours.eos_id) == (128000, 128001) == (meta.bos_id, meta.eos_id)
    assert ours.stop_ids == set(meta.stop_tokens)
    assert {t: 128000 + i for i, t in enumerate(llama3_special_tokens())} == meta.special_tokens
    assert ours.add_bos is False
    first = ours.token(128000)
    assert (first.text, first.special, first.bytes) == (
        "<|begin_of_text|>",
        True,
        b"<|begin_of_text|>",
    )
    assert ours.token(128255).text == "<|reserved_special_token_245|>"
    assert ours.encoding.n_vocab == 128256


def test_known_values(ours: Tokenizer) -> None:
    assert ours.encode("This is a test sentence.") == [2028, 374, 264, 1296, 11914, 13]
    assert ours.encode("This is a test sentence.", bos=True)[0] == 128000
    assert ours.encode("<|begin_of_text|>") == [128000]
    assert ours.decode([2028, 374, 264, 1296, 11914, 13]) == "This is a test sentence."
    assert ours.encode("") == []


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_matches_meta(ours: Tokenizer, meta: Any, text: str) -> None:
    ids = ours.encode(text)
    assert ids == meta_ids(meta, text)
    assert ours.encode(text, allow_special=False) == meta_ids(meta, text, special=False)
    assert ours.decode(ids) == meta.decode(ids) == text


@RANDOM
@given(text=st.text())
def test_random_text_matches_meta(ours: Tokenizer, meta: Any, text: str) -> None:
    assert ours.encode(text) == meta_ids(meta, text)
    assert ours.encode(text, allow_special=False) == meta_ids(meta, text, special=False)


def test_chat_matches_meta_chat_format(ours: Tokenizer, meta: Any) -> None:
    from llama_models.datatypes import RawMessage
    from llama_models.llama3.chat_format import ChatFormat

    formatter = ChatFormat(meta)
    for system in (None, "You are terse."):
        messages = [] if system is None else [RawMessage(role="system", content=system)]
        messages.append(RawMessage(role="user", content="Why is the sky blue?"))
        expected = formatter.encode_dialog_prompt(messages).tokens
        assert ours.encode(ours.apply_chat("Why is the sky blue?", system=system)) == expected
    assert ours.apply_chat("hi") == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>"
        "\n\nhi<|eot_id|><|start_header_id|>assistant"
        "<|end_header_id|>\n\n"
    )


def test_chat_strips_each_message_like_the_published_format(ours: Tokenizer, meta: Any) -> None:
    """Meta's llama3 ChatFormat and the Instruct models' published template strip each message
    (``| trim``); llama-models' later ChatFormat encodes it as given. Stripped, they agree."""
    from llama_models.datatypes import RawMessage
    from llama_models.llama3.chat_format import ChatFormat

    expected = (
        ChatFormat(meta).encode_dialog_prompt([RawMessage(role="user", content="hello")]).tokens
    )
    assert ours.encode(ours.apply_chat("\n hello \t\n")) == expected


def test_long_runs_are_cut_like_meta(ours: Tokenizer, meta: Any) -> None:
    """A 100,000-letter run: both cut it every 25,000 characters (prompts under 400,000)."""
    text = "Start. " + "a" * 100_000 + " end " + " " * 30_000 + "x"
    assert ours.encode(text) == meta_ids(meta, text)


def test_huge_prompt_round_trips(ours: Tokenizer) -> None:
    """A 1,000,000-character prompt (benchmarks/tokenizer_speed.py times it). Not compared
    with Meta: above 400,000 characters Meta encodes separate chunks, we do not."""
    words = "The quick brown fox jumps over the lazy dog 12345. "
    text = words * (450_000 // len(words)) + "z" * 100_000 + words * (450_000 // len(words))
    assert len(text) > 990_000
    ids = ours.encode(text)
    assert ours.decode(ids) == text


def test_load_tokenizer_dispatches_on_model_file(model_path: Path, ours: Tokenizer) -> None:
    assert load_tokenizer(model_path).encode("Hello world") == ours.encode("Hello world")
