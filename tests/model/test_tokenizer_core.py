"""Tokenizer behaviour on the tiny vocabulary: tokens, options, odd input, id translation."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer as HFTokenizer

from llamalens.model.tokenizer import DroppedByte, Encoded, Token, Tokenizer, load_hf_tokenizer_json
from llamalens.model.tokenizer.core import show_bytes
from tests.model.test_tokenizer_corpus import CORPUS
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import (
    byte_level,
    tokenizer_json_dict,
    write_tokenizer_config,
)

RANDOM = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ODD_TEXT = st.lists(
    st.sampled_from([*"ab theq.\n 1\x04é世", "\U00045678", "<|eot_id|>", "at"]), max_size=30
).map("".join)
MISSING = (0x04, 0xF1)


def write_json(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tokenizer.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def without_bytes(
    data: dict[str, Any],
    missing: tuple[int, ...],
    *,
    renumber: bool = True,
) -> dict[str, Any]:
    """Remove the tokens of single bytes; renumber the rest to close the gaps (the HF library
    reassigns added-token ids past a gap, ignoring the ids in the file)."""
    vocab = data["model"]["vocab"]
    removed = sorted(vocab.pop(byte_level(bytes([b]))) for b in missing)
    if renumber:

        def shift(i: int) -> int:
            return i - sum(r < i for r in removed)

        data["model"]["vocab"] = {tok: shift(i) for tok, i in vocab.items()}
        for entry in data["added_tokens"]:
            entry["id"] = shift(entry["id"])
    return data


def permuted_ids(data: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Shuffle the ids of the ordinary tokens, so they no longer follow the merge order."""
    vocab = data["model"]["vocab"]
    ids = sorted(vocab.values())
    shuffled = ids[:]
    random.Random(seed).shuffle(shuffled)
    new_id = dict(zip(ids, shuffled))
    data["model"]["vocab"] = {tok: new_id[i] for tok, i in vocab.items()}
    return data


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Tokenizer, HFTokenizer]]:
    """name -> (ours, Hugging Face reference) for edited copies of the tiny tokenizer.json."""
    root = tmp_path_factory.mktemp("variants")
    vocab = tiny_vocab()
    datas = {
        "plain": tokenizer_json_dict(vocab, merges_as_strings=True),
        "missing": without_bytes(tokenizer_json_dict(vocab), MISSING),
        "permuted": permuted_ids(tokenizer_json_dict(vocab)),
        "both": permuted_ids(without_bytes(tokenizer_json_dict(vocab), MISSING), seed=1),
    }
    out = {}
    for name, data in datas.items():
        path = write_json(root / name, data)
        out[name] = (load_hf_tokenizer_json(path), HFTokenizer.from_file(str(path)))
    return out


@pytest.fixture(scope="module")
def tok(variants: dict[str, tuple[Tokenizer, HFTokenizer]]) -> Tokenizer:
    return variants["plain"][0]


def test_token_shows_invalid_utf8_as_escapes(tok: Tokenizer) -> None:
    assert tok.token(ord("a")) == Token(97, b"a", "a", False)
    assert tok.token(0xE4) == Token(0xE4, b"\xe4", "\\xe4", False)
    assert show_bytes(b"ok\xe4\xb8 \xff") == "ok\\xe4\\xb8 \\xff"
    assert show_bytes("世".encode()) == "世"
    ids = tok.encode("the")
    assert [t.id for t in tok.tokens(ids)] == ids
    assert b"".join(t.bytes for t in tok.tokens(ids)) == b"the"


def test_token_lists_show_the_characters_their_byte_pieces_make(tok: Tokenizer) -> None:
    from llamalens.model.vocab_table import VocabTable

    ids = tok.encode("a中bé")  # 中 is three byte tokens in the tiny vocabulary, é two
    singles = ["a", "\\xe4", "\\xb8", "\\xad", "b", "\\xc3", "\\xa9"]
    assert [tok.token(i).text for i in ids] == singles
    for source in (tok, VocabTable.from_tokenizer(tok)):
        shown = source.tokens(ids)
        assert [t.text for t in shown] == ["a", "中", "中", "中", "b", "é", "é"]
        assert b"".join(t.bytes for t in shown) == "a中bé".encode()
    # pieces that complete no character keep their escapes; a special token breaks a run
    lone = [0xE4, 0xB8, tok.encode("x")[0], 0xAD]
    assert [t.text for t in tok.tokens(lone)] == ["\\xe4", "\\xb8", "x", "\\xad"]
    bos = tok.encode("<|begin_of_text|>")[0]
    assert [t.text for t in tok.tokens([0xE4, 0xB8, bos, 0xAD])][:2] == ["\\xe4", "\\xb8"]


@pytest.mark.parametrize("bad", [-1, 556, 10**9])
def test_token_rejects_ids_outside_the_vocabulary(tok: Tokenizer, bad: int) -> None:
    with pytest.raises(ValueError, match=rf"{bad}.*n_vocab=556"):
        tok.token(bad)
    with pytest.raises(ValueError, match=str(bad)):
        tok.decode([1, bad])


def test_decode_replaces_invalid_utf8(tok: Tokenizer) -> None:
    assert tok.decode([0xE4, ord("a")]) == "\ufffda"
    assert tok.decode([]) == ""


def test_empty_and_non_text_input(tok: Tokenizer) -> None:
    assert tok.encode("") == []
    assert tok.encode_detailed("") == Encoded([], [])
    assert tok.encode("", bos=True) == [tok.bos_id]
    with pytest.raises(ValueError, match="must be a str"):
        tok.encode(b"bytes")  # type: ignore[arg-type]


def test_lone_surrogate_is_a_clear_error(tok: Tokenizer) -> None:
    with pytest.raises(ValueError, match=r"surrogate U\+D800 at character 2"):
        tok.encode("ab\ud800cd")


def test_bos_follows_add_bos_unless_asked(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    write_json(tmp_path, tokenizer_json_dict(vocab))
    write_tokenizer_config(vocab, tmp_path / "tokenizer_config.json", add_bos_token=True)
    with_bos = load_hf_tokenizer_json(tmp_path / "tokenizer.json")
    assert with_bos.add_bos and with_bos.bos_id == vocab.special_id("<|begin_of_text|>")
    hi = with_bos.encode("hi", bos=False)
    assert with_bos.encode("hi") == [with_bos.bos_id, *hi]
    assert with_bos.encode_detailed("hi").ids == [with_bos.bos_id, *hi]


def test_bos_without_a_bos_token_is_an_error(tmp_path: Path) -> None:
    data = tokenizer_json_dict(tiny_vocab())
    data["added_tokens"] = []
    tok = load_hf_tokenizer_json(write_json(tmp_path, data))
    assert tok.bos_id is None and tok.eos_id is None and tok.n_vocab == 300
    assert tok.encode("<|begin_of_text|>hi") == tok.encode("<|begin_of_text|>hi", bos=False)
    with pytest.raises(ValueError, match="no BOS"):
        tok.encode("hi", bos=True)


def test_plain_text_mode_keeps_special_text(tok: Tokenizer) -> None:
    vocab = tiny_vocab()
    text = "a<|eot_id|>b"
    assert tok.encode(text) == [97, vocab.special_id("<|eot_id|>"), 98]
    plain = tok.encode(text, allow_special=False)
    assert vocab.special_id("<|eot_id|>") not in plain
    assert tok.decode(plain) == text


@pytest.mark.parametrize("name", ["plain", "missing", "permuted", "both"])
@pytest.mark.parametrize("text", CORPUS[:12])
def test_variants_match_hugging_face(variants: dict[str, Any], name: str, text: str) -> None:
    ours, reference = variants[name]
    assert ours.encode(text) == reference.encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize("name", ["missing", "permuted", "both"])
@RANDOM
@given(text=ODD_TEXT)
def test_variants_match_hugging_face_on_random_text(
    variants: dict[str, Any], name: str, text: str
) -> None:
    ours, reference = variants[name]
    assert ours.encode(text) == reference.encode(text, add_special_tokens=False).ids


def test_id_translation_is_used_only_when_needed(variants: dict[str, Any]) -> None:
    plain, permuted = variants["plain"][0], variants["permuted"][0]
    assert plain.encoding.encode_ordinary("the cat") == plain.encode("the cat")
    assert permuted.encoding.encode_ordinary("the cat") != permuted.encode("the cat")
    assert permuted.decode(permuted.encode("the cat")) == "the cat"
    assert [t.bytes for t in permuted.tokens(permuted.encode("the cat"))] == [
        t.bytes for t in plain.tokens(plain.encode("the cat"))
    ]


def test_missing_bytes_are_dropped_and_reported(variants: dict[str, Any]) -> None:
    for name in ("missing", "both"):
        ours = variants[name][0]
        detailed = ours.encode_detailed("h\x04e\U00045678!<|eot_id|>\x04")
        assert detailed.dropped == [
            DroppedByte(1, 0x04),
            DroppedByte(3, 0xF1),
            DroppedByte(15, 0x04),
        ]
        assert ours.decode(detailed.ids) == "he\x85\x99\xb8!<|eot_id|>".encode("latin-1").decode(
            "utf-8", "replace"
        )
        assert all(0 <= i < ours.n_vocab for i in detailed.ids)
    assert variants["plain"][0].encode_detailed("h\x04").dropped == []


def test_ids_without_a_token(tmp_path: Path) -> None:
    data = without_bytes(tokenizer_json_dict(tiny_vocab()), MISSING, renumber=False)
    tok = load_hf_tokenizer_json(write_json(tmp_path, data))
    assert tok.n_vocab == 556
    assert tok.encode_detailed("a\x04").dropped == [DroppedByte(1, 4)]
    with pytest.raises(ValueError, match="4 has no token"):
        tok.token(4)


def test_huge_prompt_with_long_run(tok: Tokenizer) -> None:
    """A 1,000,000-character prompt round-trips (benchmarks/tokenizer_speed.py times it)."""
    chunk = "the cat sat on the mat, 42 times.\n"
    text = chunk * (450_000 // len(chunk)) + "q" * 100_000 + chunk * (450_000 // len(chunk))
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    # the run is cut every 25,000 characters and nowhere else
    assert tok.encode("q" * 100_000) == tok.encode("q" * 25_000) * 4
    assert tok.encode(chunk * 3) == tok.encode(chunk) * 3
