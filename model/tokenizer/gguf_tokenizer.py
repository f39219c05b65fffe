"""Tokenizers stored in GGUF metadata (``tokenizer.ggml.*``): byte-level BPE and SentencePiece."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer.bpe_convert import (
    BpeTables,
    decode_byte_level,
    decode_merges,
    tables_from_merges,
)
from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import END_OF_TURN_TEXTS
from llamalens.model.tokenizer.chat_sources import gguf_chat_template, special_token_texts
from llamalens.model.tokenizer.core import Tokenizer
from llamalens.model.tokenizer.pretokenize import gguf_pretokenizer
from llamalens.model.tokenizer.sentencepiece_model import gguf_sentencepiece

# llama.cpp's token types
GGUF_NORMAL, GGUF_UNKNOWN, GGUF_CONTROL, GGUF_USER_DEFINED, GGUF_UNUSED, GGUF_BYTE = range(1, 7)


def load_gguf_tokenizer(metadata: dict[str, Any], path: str | Path) -> Tokenizer:
    """The tokenizer in GGUF metadata, with the file's chat template.

    ``tokenizer.ggml.model`` ``"gpt2"`` is byte-level BPE (tiktoken); ``"llama"`` is a
    SentencePiece vocabulary (pieces, scores, types), run by ``sentencepiece``.

    Args:
        metadata: plain values from :func:`model.loaders.gguf_meta.read_metadata`.
        path: the GGUF file, named in errors.

    Raises:
        CheckpointError: another tokenizer kind, missing or malformed keys.
    """
    path = Path(path)
    kind = metadata.get("tokenizer.ggml.model")
    if kind not in ("gpt2", "llama"):
        raise CheckpointError(
            path,
            f"tokenizer.ggml.model is {kind!r}, expected 'gpt2' (byte-level BPE) or 'llama' "
            "(SentencePiece)",
        )
    tokens = _gguf_list(metadata, path, "tokenizer.ggml.tokens", str)
    ids = {
        key: _gguf_id(metadata, path, f"tokenizer.ggml.{key}_token_id", len(tokens))
        for key in ("bos", "eos", "eot", "eom", "unknown", "padding")  # llama.cpp's key names
    }
    if kind == "llama":
        tok: Tokenizer = gguf_sentencepiece(metadata, path, tokens, ids)
    else:
        tok = _byte_level(metadata, path, tokens, ids)
    roles = {"bos_token": "bos", "eos_token": "eos", "unk_token": "unknown", "pad_token": "padding"}
    texts = {name: tokens[i] for name, key in roles.items() if (i := ids[key]) is not None}
    tok.chat_template = gguf_chat_template(metadata, path, special_token_texts(texts))
    return tok


def _byte_level(
    metadata: dict[str, Any], path: Path, tokens: list[str], ids: dict[str, int | None]
) -> BpeTokenizer:
    merges = _gguf_list(metadata, path, "tokenizer.ggml.merges", str)
    types = metadata.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    if not isinstance(types, list) or len(types) != len(tokens):
        raise CheckpointError(
            path,
            f"tokenizer.ggml.token_type has {len(types)} entries, "
            f"expected {len(tokens)} (one per token)",
        )
    try:
        tables = _gguf_tables(tokens, types, merges)
    except ValueError as exc:
        raise CheckpointError(path, f"tokenizer: {exc}") from exc
    pre = metadata.get("tokenizer.ggml.pre")
    stops = [ids["eot"], ids["eom"], *_end_of_turn_ids(tables.literal_ids)]
    return BpeTokenizer(
        name=f"gpt2-bpe:{pre or 'default'}",
        tables=tables,
        pretokenizer=gguf_pretokenizer(pre),
        bos_id=ids["bos"],
        eos_id=ids["eos"],
        stop_ids=[i for i in stops if i is not None],
        add_bos=bool(metadata.get("tokenizer.ggml.add_bos_token", False)),
    )


def _gguf_tables(tokens: list[str], types: list[int], merges: list[str]) -> BpeTables:
    spelled: dict[str, bytes] = {}
    vocab: dict[bytes, int] = {}
    literal: dict[str, int] = {}
    special: list[int] = []
    inert: dict[int, bytes] = {}  # unused / byte tokens: they have ids but are never produced
    for i, (token, kind) in enumerate(zip(tokens, types)):
        if kind in (GGUF_CONTROL, GGUF_UNKNOWN):
            literal[token] = i
            special.append(i)
        elif kind == GGUF_USER_DEFINED:
            literal[token] = i
        elif kind in (GGUF_UNUSED, GGUF_BYTE):
            inert[i] = token.encode("utf-8")
        else:
            spelled[token] = data = decode_byte_level(token)
            vocab[data] = i
    pairs = decode_merges(merges, spelled)
    return tables_from_merges(vocab, pairs, literal, special, inert)


def _gguf_list(metadata: dict[str, Any], path: Path, key: str, kind: type) -> list:
    value = metadata.get(key)
    if not isinstance(value, list) or not value:
        raise CheckpointError(path, f"metadata has no {key} list (got {type(value).__name__})")
    if not isinstance(value[0], kind):
        raise CheckpointError(
            path, f"{key} holds {type(value[0]).__name__}, expected {kind.__name__}"
        )
    return value


def _gguf_id(metadata: dict[str, Any], path: Path, key: str, n_tokens: int) -> int | None:
    value = metadata.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_tokens:
        raise CheckpointError(path, f"{key} is {value!r}, expected a token id in 0..{n_tokens - 1}")
    return value


def _end_of_turn_ids(literal_ids: dict[str, int]) -> Iterable[int]:
    return [i for text, i in literal_ids.items() if text in END_OF_TURN_TEXTS]
