"""Tokenizers stored in GGUF metadata (``tokenizer.ggml.*``): byte-level BPE and SentencePiece."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from llamalens.model.config import LIMITS
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import Fields, shown
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


def load_gguf_tokenizer(
    metadata: dict[str, Any], path: str | Path, step: Callable[[], None] | None = None
) -> Tokenizer:
    """The tokenizer in GGUF metadata, with the file's chat template.

    ``tokenizer.ggml.model`` ``"gpt2"`` is byte-level BPE (tiktoken); ``"llama"`` is a
    SentencePiece vocabulary (pieces, scores, types), run by ``sentencepiece``.

    Args:
        metadata: plain values from :func:`model.loaders.gguf_meta.read_metadata`.
        path: the GGUF file, named in errors.
        step: called between the stages of building the tables (raising in it stops).

    Raises:
        CheckpointError: another tokenizer kind, missing or malformed keys.
    """
    path = Path(path)
    f = Fields(metadata, path, what="GGUF metadata")
    kind = f.string("tokenizer.ggml.model", max_len=64, choices=("gpt2", "llama"))
    tokens = _gguf_list(metadata, path, "tokenizer.ggml.tokens", str)
    ids = {
        key: _gguf_id(metadata, path, f"tokenizer.ggml.{key}_token_id", len(tokens))
        for key in ("bos", "eos", "eot", "eom", "unknown", "padding")  # llama.cpp's key names
    }
    step = step or (lambda: None)
    step()
    if kind == "llama":
        tok: Tokenizer = gguf_sentencepiece(metadata, path, tokens, ids)
    else:
        tok = _byte_level(metadata, path, tokens, ids, step)
    step()
    roles = {"bos_token": "bos", "eos_token": "eos", "unk_token": "unknown", "pad_token": "padding"}
    texts = {name: tokens[i] for name, key in roles.items() if (i := ids[key]) is not None}
    tok.chat_template = gguf_chat_template(metadata, path, special_token_texts(texts))
    return tok


def _byte_level(
    metadata: dict[str, Any],
    path: Path,
    tokens: list[str],
    ids: dict[str, int | None],
    step: Callable[[], None],
) -> BpeTokenizer:
    merges = _gguf_list(metadata, path, "tokenizer.ggml.merges", str)
    types = token_types(metadata, path, len(tokens))
    step()
    try:
        tables = _gguf_tables(tokens, types, merges, step)
    except ValueError as exc:
        raise CheckpointError(path, f"tokenizer: {exc}") from exc
    f = Fields(metadata, path, what="GGUF metadata")
    pre = f.string("tokenizer.ggml.pre", None, max_len=256)
    add_bos = f.boolean("tokenizer.ggml.add_bos_token", False)
    stops = [ids["eot"], ids["eom"], *_end_of_turn_ids(tables.literal_ids)]
    return BpeTokenizer(
        name=f"gpt2-bpe:{pre or 'default'}",
        tables=tables,
        pretokenizer=gguf_pretokenizer(pre),
        bos_id=ids["bos"],
        eos_id=ids["eos"],
        stop_ids=[i for i in stops if i is not None],
        add_bos=add_bos,
    )


def _gguf_tables(
    tokens: list[str], types: list[int], merges: list[str], step: Callable[[], None]
) -> BpeTables:
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
    step()
    pairs = decode_merges(merges, spelled)
    step()
    return tables_from_merges(vocab, pairs, literal, special, inert)


def _gguf_list(metadata: dict[str, Any], path: Path, key: str, kind: type) -> list:
    """A non-empty list whose every item is a ``kind``, of at most LIMITS vocab_size items."""
    value = metadata.get(key)
    if not isinstance(value, list) or not value:
        raise CheckpointError(path, f"metadata has no {key} list (got {type(value).__name__})")
    if len(value) > LIMITS["vocab_size"]:
        raise CheckpointError(
            path, f"{key} has {len(value):,} entries, expected at most {LIMITS['vocab_size']:,}"
        )
    if set(map(type, value)) - {kind}:  # (a bool is not an int here; one C-level pass)
        bad = next(v for v in value if type(v) is not kind)
        raise CheckpointError(
            path, f"{key} holds {type(bad).__name__} {shown(bad)}, expected {kind.__name__} items"
        )
    return value


def token_types(metadata: dict[str, Any], path: Path, n_tokens: int) -> list[int]:
    """``tokenizer.ggml.token_type``: one llama.cpp token type (0..6) per token; all normal
    when absent."""
    if metadata.get("tokenizer.ggml.token_type") is None:
        return [GGUF_NORMAL] * n_tokens
    types = _gguf_list(metadata, path, "tokenizer.ggml.token_type", int)
    if len(types) != n_tokens:
        raise CheckpointError(
            path,
            f"tokenizer.ggml.token_type has {len(types)} entries, "
            f"expected {n_tokens} (one per token)",
        )
    bad = next((t for t in types if not 0 <= t <= GGUF_BYTE), None)
    if bad is not None:
        raise CheckpointError(path, f"tokenizer.ggml.token_type holds {bad}, expected 0..6")
    return types


def _gguf_id(metadata: dict[str, Any], path: Path, key: str, n_tokens: int) -> int | None:
    value = metadata.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_tokens:
        raise CheckpointError(path, f"{key} is {value!r}, expected a token id in 0..{n_tokens - 1}")
    return value


def _end_of_turn_ids(literal_ids: dict[str, int]) -> Iterable[int]:
    return [i for text, i in literal_ids.items() if text in END_OF_TURN_TEXTS]
