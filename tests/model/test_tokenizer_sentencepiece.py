"""SentencePiece (Llama 1/2) tokenizers against their references.

A byte-fallback BPE model is trained here as Llama 2's was; its ``tokenizer.model`` (run by
``sentencepiece``), its GGUF form (pieces, scores, types) and its Hugging Face
``tokenizer.json`` forms (run by ``tokenizers``) must give the reference's ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sentencepiece as spm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer import (
    HfTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    load_gguf_tokenizer,
    load_tokenizer,
)
from llamalens.model.vocab_table import VocabTable
from tests.model.test_tokenizer_corpus import CORPUS
from tests.writers.sentencepiece_files import (
    gguf_sentencepiece_metadata,
    train_llama2_tokenizer,
    write_hf_tokenizer_files,
)

RANDOM = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SP_CORPUS = [
    *CORPUS,
    "<s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nhi [/INST] ok </s>",
    "<unk> and <0x0A> written out, ▁already ▁marked",
    "   \t\n  ",
    "ᚠᚢᚦ runes and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 the vocabulary never saw",
]
# Meta's Llama 2 chat markers (llama/generation.py)
B_INST, E_INST, B_SYS, E_SYS = "[INST]", "[/INST]", "<<SYS>>\n", "\n<</SYS>>\n\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("llama2-tokenizer")
    model = train_llama2_tokenizer(root / "meta" / "tokenizer.model")
    return {
        "model": model,
        "hf-metaspace": write_hf_tokenizer_files(root / "hf", model),
        "hf-2023": write_hf_tokenizer_files(root / "hf23", model, tokenizer_json="normalizer"),
        "hf-model-only": write_hf_tokenizer_files(root / "hfsp", model, tokenizer_json=None),
        "gguf": root / "llama2.gguf",
    }


@pytest.fixture(scope="module")
def reference(files: dict[str, Path]) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_file=str(files["model"]))


@pytest.fixture(scope="module")
def kinds(files: dict[str, Path]) -> dict[str, Tokenizer]:
    """Every way a Llama 2 tokenizer reaches LlamaLens."""
    metadata = gguf_sentencepiece_metadata(files["model"])
    return {
        "tokenizer.model": load_tokenizer(files["model"]),
        "gguf": load_gguf_tokenizer(metadata, files["gguf"]),
        "hf tokenizer.model": load_tokenizer(files["hf-model-only"]),
        "hf tokenizer.json (2023)": load_tokenizer(files["hf-2023"]),
        "hf tokenizer.json": load_tokenizer(files["hf-metaspace"]),
    }


@pytest.fixture(scope="module")
def ours(kinds: dict[str, Tokenizer]) -> Tokenizer:
    return kinds["tokenizer.model"]


def test_kinds_and_specials(kinds: dict[str, Tokenizer], reference: Any) -> None:
    assert reference.get_piece_size() == 600 and reference.IsByte(3)
    for name, tok in kinds.items():
        expected = HfTokenizer if "json" in name else SentencePieceTokenizer
        assert isinstance(tok, expected), name
        assert (tok.n_vocab, tok.bos_id, tok.eos_id) == (600, 1, 2), name
        assert tok.add_bos and tok.stop_ids == {2}, name
        assert [tok.token(i).special for i in range(4)] == [True, True, True, False], name


@pytest.mark.parametrize("text", SP_CORPUS)
def test_ids_equal_sentencepiece(kinds: dict[str, Tokenizer], reference: Any, text: str) -> None:
    """Plain text (special-token text kept as text) gets sentencepiece's ids, BOS first."""
    expected = reference.encode(text)
    for name in ("tokenizer.model", "gguf", "hf tokenizer.model", "hf tokenizer.json (2023)"):
        tok = kinds[name]
        assert tok.encode(text, allow_special=False) == [1, *expected], name
        assert tok.encode(text, allow_special=False, bos=False) == expected, name


def test_corpus_uses_byte_fallback(ours: Tokenizer, reference: Any) -> None:
    """The corpus holds characters the vocabulary lacks: they become byte pieces, none unknown."""
    ids = [i for text in SP_CORPUS for i in reference.encode(text)]
    assert sum(reference.IsByte(i) for i in ids) > 100
    assert reference.unk_id() not in ids


@RANDOM
@given(text=st.text())
def test_random_text_equals_sentencepiece(ours: Tokenizer, reference: Any, text: str) -> None:
    assert ours.encode(text, allow_special=False, bos=False) == reference.encode(text)


@RANDOM
@given(text=st.lists(st.sampled_from([*"ab 中\n\t1é😀", "<s>", "</s>"]), max_size=30).map("".join))
def test_gguf_and_2023_json_equal_the_model_file(kinds: dict[str, Tokenizer], text: str) -> None:
    expected = kinds["tokenizer.model"].encode(text)
    for name in ("gguf", "hf tokenizer.model", "hf tokenizer.json (2023)"):
        assert kinds[name].encode(text) == expected, name


def test_special_text_is_split_as_meta_and_hugging_face_do(ours: Tokenizer, reference: Any) -> None:
    """``<s>`` typed in a prompt is BOS; the text between special tokens is encoded chunk by
    chunk, each with its dummy prefix (what Meta's code does turn by turn)."""
    text = "<s>[INST] hi [/INST] ok </s><s>[INST] more [/INST]"
    first, second = "[INST] hi [/INST] ok ", "[INST] more [/INST]"
    expected = [1, *reference.encode(first), 2, 1, *reference.encode(second)]
    assert ours.encode(text, bos=False) == expected
    assert ours.encode(text) == [1, *expected]  # add_bos, as Hugging Face's encode does
    assert ours.encode(text, allow_special=False, bos=False) == reference.encode(text)


@pytest.mark.parametrize(
    "text", ["<s>[INST] hi [/INST] ok </s><s>[INST] more [/INST]", "plain", "x <unk>"]
)
def test_tokenizer_json_equals_transformers(
    files: dict[str, Path], kinds: dict[str, Tokenizer], text: str
) -> None:
    import transformers

    for key, name in (
        ("hf-metaspace", "hf tokenizer.json"),
        ("hf-2023", "hf tokenizer.json (2023)"),
    ):
        reference = transformers.AutoTokenizer.from_pretrained(files[key])
        assert kinds[name].encode(text, bos=False) == reference.encode(
            text, add_special_tokens=False
        ), name
        assert kinds[name].encode(text) == reference.encode(text), name


def test_token_bytes_are_what_pieces_decode_to(ours: Tokenizer, reference: Any) -> None:
    the = reference.piece_to_id("\u2581the")
    newline = reference.piece_to_id("<0x0A>")
    assert ours.token(the).bytes == b" the" and ours.token(the).text == " the"
    assert ours.token(newline).bytes == b"\n" and not ours.token(newline).special
    assert ours.token(1).bytes == b"<s>" and ours.token(1).special
    assert ours.token(0).text == "<unk>"
    text = "the ᚠ rune\n"
    ids = ours.encode(text, bos=False)
    assert ours.decode(ids) == " " + text  # the dummy prefix is a space, as Meta's pieces say
    assert reference.decode(ids) == text
    shown = [t.text for t in ours.tokens(ids)]
    assert shown.count("ᚠ") == 3  # ᚠ is three byte pieces, each shown as the character
    assert [t.text for t in VocabTable.from_tokenizer(ours).tokens(ids)] == shown


def test_every_kind_labels_every_id_alike(kinds: dict[str, Tokenizer]) -> None:
    tables = {name: VocabTable.from_tokenizer(tok) for name, tok in kinds.items()}
    arrays = [t.to_arrays() for t in tables.values()]
    for other in arrays[1:]:
        for key, value in arrays[0].items():
            assert (other[key] == value).all(), key


def test_llama2_chat_equals_metas_chat_completion(ours: Tokenizer, reference: Any) -> None:
    """apply_chat + the engine's encode rule gives the ids Meta's chat_completion builds."""
    for system in (None, "Answer in one line."):
        user = "  What is attention?  "
        content = user if system is None else B_SYS + system + E_SYS + user
        meta = [1, *reference.encode(f"{B_INST} {content.strip()} {E_INST}")]
        text = ours.apply_chat(user, system=system)
        assert ours.encode(text, allow_special=True, bos=False) == meta


def test_hf_directory_with_tokenizer_model_only(files: dict[str, Path]) -> None:
    tok = load_tokenizer(files["hf-model-only"])
    assert isinstance(tok, SentencePieceTokenizer) and tok.chat_template is None


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"bos_token": "<start>"}, "bos_token '<start>' is not a piece"),
        ({"eos_token": 7}, "eos_token is 7, expected a token string"),
        ({"add_bos_token": "yes"}, "add_bos_token is 'yes', expected true or false"),
    ],
)
def test_bad_tokenizer_config_beside_a_model(
    tmp_path: Path, files: dict[str, Path], config: dict[str, Any], problem: str
) -> None:
    model = tmp_path / "tokenizer.model"
    model.write_bytes(files["model"].read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=problem) as info:
        load_tokenizer(model)
    assert info.value.path.name == "tokenizer_config.json"


def test_corrupt_model_file(tmp_path: Path, files: dict[str, Path]) -> None:
    path = tmp_path / "tokenizer.model"
    path.write_bytes(files["model"].read_bytes()[:100])
    with pytest.raises(CheckpointError, match="is not a valid SentencePiece model") as info:
        load_tokenizer(path)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m.pop("tokenizer.ggml.scores"), "has no tokenizer.ggml.scores list"),
        (lambda m: m["tokenizer.ggml.scores"].pop(), "scores has 599 entries, expected 600"),
        (lambda m: m["tokenizer.ggml.token_type"].__setitem__(5, 9), "type 9, expected 1..6"),
        (lambda m: m["tokenizer.ggml.token_type"].__setitem__(300, 6), "refuses.*byte piece"),
        (lambda m: m["tokenizer.ggml.token_type"].__setitem__(300, 2), "unk is already defined"),
        (lambda m: m.update({"tokenizer.ggml.add_space_prefix": 1}), "expected a bool"),
    ],
)
def test_bad_gguf_sentencepiece_metadata(
    tmp_path: Path, files: dict[str, Path], change: Any, problem: str
) -> None:
    metadata = gguf_sentencepiece_metadata(files["model"])
    change(metadata)
    with pytest.raises(CheckpointError, match=problem):
        load_gguf_tokenizer(metadata, tmp_path / "x.gguf")


def test_gguf_without_space_prefix(tmp_path: Path, files: dict[str, Path]) -> None:
    metadata = gguf_sentencepiece_metadata(files["model"])
    with_prefix = load_gguf_tokenizer(metadata, tmp_path / "x.gguf")
    metadata["tokenizer.ggml.add_space_prefix"] = False
    without = load_gguf_tokenizer(metadata, tmp_path / "x.gguf")
    assert with_prefix.decode(with_prefix.encode("hello world", bos=False)) == " hello world"
    assert without.decode(without.encode("hello world", bos=False)) == "hello world"


def test_gguf_special_pieces_by_their_ids(tmp_path: Path, files: dict[str, Path]) -> None:
    """The unknown, BOS and EOS pieces are the ones the metadata's ids name, whatever their
    text."""
    metadata = gguf_sentencepiece_metadata(files["model"])
    metadata["tokenizer.ggml.tokens"][:3] = ["[UNK]", "[BOS]", "[EOS]"]
    tok = load_gguf_tokenizer(metadata, tmp_path / "x.gguf")
    assert (tok.bos_id, tok.eos_id, tok.processor.unk_id()) == (1, 2, 0)
    assert tok.encode("[BOS]hi") == [1, 1, *tok.encode("hi", bos=False)]
    assert tok.token(0).text == "[UNK]" and tok.token(0).special
