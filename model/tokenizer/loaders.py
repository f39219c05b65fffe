"""Build a Tokenizer from a Llama 3 ``tokenizer.model``, GGUF metadata, or any tokenizer path."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer.bpe_convert import (
    BpeTables,
    decode_byte_level,
    decode_merges,
    tables_from_merges,
    tables_from_ranks,
)
from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import END_OF_TURN_TEXTS, ChatTemplate, detect_chat_template
from llamalens.model.tokenizer.core import Tokenizer
from llamalens.model.tokenizer.hf_json import load_hf_tokenizer_json
from llamalens.model.tokenizer.pretokenize import LLAMA3_PATTERN, PreTokenizer, gguf_pretokenizer

logger = logging.getLogger(__name__)

N_LLAMA3_SPECIALS = 256
LLAMA3_NAMED_SPECIALS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|step_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
    "<|image|>",
)
GGUF_CONTROL, GGUF_USER_DEFINED, GGUF_UNKNOWN, GGUF_UNUSED, GGUF_BYTE = 3, 4, 2, 5, 6


def llama3_special_tokens() -> list[str]:
    """Meta's 256 Llama 3 special tokens in id order (reserved ones numbered from 2)."""
    n_reserved = N_LLAMA3_SPECIALS - len(LLAMA3_NAMED_SPECIALS)
    reserved = [f"<|reserved_special_token_{2 + i}|>" for i in range(n_reserved)]
    return [*LLAMA3_NAMED_SPECIALS, *reserved]


def read_tiktoken_ranks(path: str | Path) -> dict[bytes, int]:
    """Parse a tiktoken BPE file: one ``base64(token) rank`` pair per line.

    Raises:
        CheckpointError: unreadable, empty, malformed line, duplicate token or rank.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(path, "does not exist") from None
    except OSError as exc:
        raise CheckpointError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not data.isascii():
        raise CheckpointError(
            path,
            "holds binary data, not 'base64-token rank' lines (a "
            "SentencePiece model? SentencePiece tokenizers are not "
            "supported yet)",
        )
    ranks: dict[bytes, int] = {}
    seen_ranks: set[int] = set()
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        token, rank = _parse_rank_line(path, lineno, line)
        if token in ranks:
            raise CheckpointError(path, f"line {lineno}: token {token!r} appears twice")
        if rank in seen_ranks:
            raise CheckpointError(path, f"line {lineno}: rank {rank} appears twice")
        ranks[token] = rank
        seen_ranks.add(rank)
    if not ranks:
        raise CheckpointError(path, "is empty, expected 'base64-token rank' lines")
    return ranks


def _parse_rank_line(path: Path, lineno: int, line: bytes) -> tuple[bytes, int]:
    fields = line.decode("ascii").split()
    if len(fields) != 2:
        raise CheckpointError(
            path, f"line {lineno}: expected 'base64-token rank', got {line.decode('ascii')[:60]!r}"
        )
    try:
        token = base64.b64decode(fields[0], validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(path, f"line {lineno}: {fields[0][:60]!r} is not base64") from None
    if not fields[1].isdigit():
        raise CheckpointError(
            path, f"line {lineno}: rank {fields[1][:20]!r} is not a non-negative integer"
        )
    if not token:
        raise CheckpointError(path, f"line {lineno}: token is empty")
    return token, int(fields[1])


def load_tiktoken_model(path: str | Path) -> Tokenizer:
    """A Llama 3 ``tokenizer.model``: tiktoken ranks + Meta's 256 specials and regex.

    The specials start right after the highest rank (128000 for Llama 3).
    """
    path = Path(path)
    ranks = read_tiktoken_ranks(path)
    first = max(ranks.values()) + 1
    specials = {text: first + i for i, text in enumerate(llama3_special_tokens())}
    try:
        tables = tables_from_ranks(ranks, specials)
    except ValueError as exc:
        raise CheckpointError(path, str(exc)) from exc
    stops = [specials[t] for t in ("<|eom_id|>", "<|eot_id|>")]
    return BpeTokenizer(
        name="llama3",
        tables=tables,
        pretokenizer=PreTokenizer("llama3", LLAMA3_PATTERN),
        bos_id=specials["<|begin_of_text|>"],
        eos_id=specials["<|end_of_text|>"],
        stop_ids=stops,
        add_bos=False,
        chat_template=ChatTemplate("llama3"),
    )


def load_gguf_tokenizer(metadata: dict[str, Any], path: str | Path) -> Tokenizer:
    """A byte-level BPE tokenizer from GGUF metadata (``tokenizer.ggml.model == "gpt2"``).

    Args:
        metadata: plain values from :func:`model.loaders.gguf_meta.read_metadata`.
        path: the GGUF file, named in errors.

    Raises:
        CheckpointError: SentencePiece or other unsupported tokenizer, missing or bad keys.
    """
    path = Path(path)
    kind = metadata.get("tokenizer.ggml.model")
    if kind == "llama":
        raise CheckpointError(
            path,
            "uses a SentencePiece tokenizer (tokenizer.ggml.model = "
            "'llama'); SentencePiece tokenizers are not supported yet, "
            "only byte-level BPE ('gpt2')",
        )
    if kind != "gpt2":
        raise CheckpointError(
            path, f"tokenizer.ggml.model is {kind!r}, expected 'gpt2' (byte-level BPE)"
        )
    tokens = _gguf_list(metadata, path, "tokenizer.ggml.tokens", str)
    merges = _gguf_list(metadata, path, "tokenizer.ggml.merges", str)
    types = metadata.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    if len(types) != len(tokens):
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
    ids = {
        key: _gguf_id(metadata, path, f"tokenizer.ggml.{key}_token_id", len(tokens))
        for key in ("bos", "eos", "eot", "eom")
    }
    stops = [ids["eot"], ids["eom"], *_end_of_turn_ids(tables.literal_ids)]
    return BpeTokenizer(
        name=f"gpt2-bpe:{pre or 'default'}",
        tables=tables,
        pretokenizer=gguf_pretokenizer(pre),
        bos_id=ids["bos"],
        eos_id=ids["eos"],
        stop_ids=[i for i in stops if i is not None],
        add_bos=bool(metadata.get("tokenizer.ggml.add_bos_token", False)),
        chat_template=detect_chat_template(metadata.get("tokenizer.chat_template")),
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


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load the tokenizer at ``path``: a ``tokenizer.model``, a ``tokenizer.json``, a ``.gguf``
    file, or a directory holding ``tokenizer.json`` or ``tokenizer.model``.

    Raises:
        CheckpointError: no tokenizer there, or it cannot be loaded.
    """
    path = Path(path)
    if path.is_dir():
        for name in ("tokenizer.json", "tokenizer.model"):
            if (path / name).is_file():
                return load_tokenizer(path / name)
        raise CheckpointError(path, "has no tokenizer.json or tokenizer.model")
    if not path.exists():
        raise CheckpointError(path, "does not exist")
    suffix = path.suffix.lower()
    if suffix == ".gguf":
        from llamalens.model.loaders.gguf_meta import read_metadata

        return load_gguf_tokenizer(read_metadata(path), path)
    if suffix == ".json":
        return load_hf_tokenizer_json(path)
    if suffix in (".model", ".tiktoken"):
        return load_tiktoken_model(path)
    raise CheckpointError(
        path, "is not a tokenizer file (expected tokenizer.model, tokenizer.json or a .gguf file)"
    )
