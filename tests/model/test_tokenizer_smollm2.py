"""The default model's tokenizer (SmolLM2-135M-Instruct GGUF) against Hugging Face.

The reference is ``transformers.AutoTokenizer`` loaded from the same GGUF. Its GGUF converter
knows no ``smollm`` pre-tokenizer and falls back to plain ``ByteLevel`` (GPT-2 regex), while
SmolLM2's own ``tokenizer.json`` and llama.cpp isolate every digit first (``Digits`` +
``ByteLevel``; the vocabulary has no token mixing digits with anything else). We follow the
model's own tokenizer, so the main reference is the transformers tokenizer with that
pre-tokenizer restored; plain transformers is matched exactly on text without digits.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
import transformers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamalens.model.tokenizer import DroppedByte, Tokenizer, load_gguf_tokenizer
from tests.model.test_tokenizer_corpus import CORPUS

RANDOM = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def gguf_path(default_gguf: Path) -> Path:
    """The default model's GGUF, found (or downloaded) by the app's own resolver."""
    return default_gguf


@pytest.fixture(scope="module")
def metadata(gguf_path: Path) -> dict[str, Any]:
    from llamalens.model.loaders.gguf_meta import read_metadata

    return read_metadata(gguf_path)


@pytest.fixture(scope="module")
def ours(metadata: dict[str, Any], gguf_path: Path) -> Tokenizer:
    return load_gguf_tokenizer(metadata, gguf_path)


@pytest.fixture(scope="module")
def hf(gguf_path: Path) -> Any:
    """transformers' tokenizer as loaded from the GGUF (ByteLevel pre-tokenizer)."""
    return transformers.AutoTokenizer.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name
    )


@pytest.fixture(scope="module")
def hf_digits(hf: Any) -> Any:
    """The same vocabulary with SmolLM2's own pre-tokenizer (Digits + ByteLevel)."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import pre_tokenizers

    backend = HFTokenizer.from_str(hf.backend_tokenizer.to_str())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    return backend


def reference(backend: Any, text: str, *, special: bool = True) -> list[int]:
    backend.encode_special_tokens = not special
    return backend.encode(text, add_special_tokens=False).ids


def has_digit(text: str) -> bool:
    return any(unicodedata.category(c).startswith("N") for c in text)


def test_facts_from_metadata(ours: Tokenizer) -> None:
    assert ours.name == "gpt2-bpe:smollm"
    assert ours.n_vocab == 49152
    assert (ours.bos_id, ours.eos_id, ours.add_bos) == (1, 2, False)
    assert ours.stop_ids == {0, 2}  # <|endoftext|>, <|im_end|>
    assert [t.text for t in ours.tokens([0, 1, 2])] == [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
    ]
    assert all(ours.token(i).special for i in range(17))
    assert not ours.token(17).special
    assert ours.chat_template is not None and ours.chat_template.name == "chatml"
    assert ours.chat_template.origin.endswith("(tokenizer.chat_template)")  # the file's own
    assert ours.apply_chat("hi").startswith(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n"
    )


def test_building_twice_from_metadata_gives_the_same_tokenizer(
    metadata: dict[str, Any], gguf_path: Path, ours: Tokenizer
) -> None:
    """The build reads only the metadata (its time is in benchmarks/tokenizer_speed.py)."""
    again = load_gguf_tokenizer(metadata, gguf_path)
    assert again.n_vocab == ours.n_vocab and again.stop_ids == ours.stop_ids
    text = "Hello, SmolLM2! 12345 <|im_start|>user\n世界"
    assert again.encode(text) == ours.encode(text)


def test_known_ids(ours: Tokenizer, hf: Any, hf_digits: Any) -> None:
    assert ours.encode("<|im_start|>user\nhi<|im_end|>") == [1, 4093, 198, 6004, 2]
    assert ours.encode("This is a test sentence.") == [1348, 314, 253, 1028, 6330, 30]
    # Digits isolated first: the two spaces before "123" stay one piece, "ĠĠ" (256).
    assert ours.encode("abc  123 4567") == [25276, 256, 33, 34, 35, 216, 36, 37, 38, 39]
    assert reference(hf_digits, "abc  123 4567") == ours.encode("abc  123 4567")
    # transformers' GGUF path uses the GPT-2 regex alone and splits them: a known difference.
    assert hf.encode("abc  123 4567", add_special_tokens=False) == [
        25276,
        216,
        216,
        33,
        34,
        35,
        216,
        36,
        37,
        38,
        39,
    ]


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_matches_reference(ours: Tokenizer, hf: Any, hf_digits: Any, text: str) -> None:
    ids = ours.encode(text)
    assert ids == reference(hf_digits, text)
    assert ours.encode(text, allow_special=False) == reference(hf_digits, text, special=False)
    if not has_digit(text):
        assert ids == hf.encode(text, add_special_tokens=False)
    assert ours.decode(ids) == text


@RANDOM
@given(text=st.text())
def test_random_text_matches_reference(ours: Tokenizer, hf: Any, hf_digits: Any, text: str) -> None:
    ids = ours.encode(text)
    assert ids == reference(hf_digits, text)
    if not has_digit(text):
        assert ids == hf.encode(text, add_special_tokens=False)


@RANDOM
@given(
    text=st.text(alphabet=st.sampled_from(" \t\n\r0123456789.-,aZé世😀\x04\U00045678"), max_size=40)
)
def test_digit_and_whitespace_mixtures_match_reference(
    ours: Tokenizer, hf_digits: Any, text: str
) -> None:
    assert ours.encode(text) == reference(hf_digits, text)


def test_every_token_merges_like_hugging_face(ours: Tokenizer, hf: Any) -> None:
    """BPE inside one piece: tiktoken's rank order gives HF's merge order for every token."""
    model = hf.backend_tokenizer.model
    vocab = hf.backend_tokenizer.get_vocab(with_added_tokens=False)
    ordinary = {t: i for t, i in vocab.items() if not ours.token(i).special}
    assert len(ordinary) == 49152 - 17
    for token, token_id in ordinary.items():
        piece = ours.token(token_id).bytes
        assert ours.encoding._encode_single_piece(piece) == [t.id for t in model.tokenize(token)]


def test_bytes_without_a_token_are_dropped_and_reported(ours: Tokenizer, hf: Any) -> None:
    for text in ("\x04", "a\x04b", "!\x04!", "é\x04\U00040000x", "<|im_start|>\x06"):
        assert ours.encode(text) == hf.encode(text, add_special_tokens=False), text
    assert ours.encode_detailed("!\x04!").ids == ours.encode("!!") == [10095]
    detailed = ours.encode_detailed("é\x04\U00040000x")
    assert detailed.dropped == [DroppedByte(1, 0x04), DroppedByte(2, 0xF1)]
    assert detailed.ids == [2756, 218, 218, 218, 104]
    assert ours.encode_detailed("<|im_start|>\x06").dropped == [DroppedByte(12, 0x06)]
    assert ours.encode_detailed("hello 123").dropped == []


def test_chat_matches_transformers_template(ours: Tokenizer, hf: Any) -> None:
    for system in (None, "Be brief."):
        messages = [] if system is None else [{"role": "system", "content": system}]
        messages.append({"role": "user", "content": "What is 2+2?"})
        expected = hf.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        assert ours.apply_chat("What is 2+2?", system=system) == expected
        assert ours.encode(ours.apply_chat("What is 2+2?", system=system)) == reference_ids(
            hf, expected
        )


def reference_ids(hf: Any, text: str) -> list[int]:
    return hf.encode(text, add_special_tokens=False)


def test_token_text_shows_invalid_utf8(ours: Tokenizer) -> None:
    ids = ours.encode("世界")
    tokens = ours.tokens(ids)
    assert b"".join(t.bytes for t in tokens) == "世界".encode()
    assert any("\\x" in ours.token(i).text for i in ids)  # one by one: partial characters
    assert all(t.text in ("世", "界", "世界") for t in tokens)  # listed: the characters they make
    assert ours.token(7906).text == "\\xe4\\xb8" and ours.token(7906).bytes == b"\xe4\xb8"
