"""Build a Tokenizer from a ``tokenizer.model`` (tiktoken or SentencePiece), or from any path."""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

from llamalens.model.config import LIMITS
from llamalens.model.errors import CheckpointError
from llamalens.model.files import read_limited
from llamalens.model.loaders.validate import read_json_object
from llamalens.model.tokenizer.bpe_convert import (
    tables_from_ranks,
)
from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import ChatTemplate, builtin_chat_template
from llamalens.model.tokenizer.chat_sources import hf_chat_template, special_token_texts
from llamalens.model.tokenizer.core import Tokenizer
from llamalens.model.tokenizer.gguf_tokenizer import load_gguf_tokenizer
from llamalens.model.tokenizer.hf_json import load_hf_tokenizer_json
from llamalens.model.tokenizer.pretokenize import LLAMA3_PATTERN, PreTokenizer
from llamalens.model.tokenizer.sentencepiece_model import (
    is_sentencepiece_file,
    load_sentencepiece_model,
)

logger = logging.getLogger(__name__)

MAX_TOKENIZER_MODEL = 2**27  # Llama 3's is 2 MB; a 4M-token vocabulary fits in 128 MB
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
    data = read_limited(path, MAX_TOKENIZER_MODEL, "a tokenizer.model")
    lines = data.count(b"\n") + 1
    if lines > LIMITS["vocab_size"]:
        raise CheckpointError(
            path, f"has {lines:,} lines; a vocabulary has at most {LIMITS['vocab_size']:,} tokens"
        )
    if not data.isascii():
        raise CheckpointError(
            path,
            "holds binary data, not 'base64-token rank' lines (a SentencePiece model is "
            "loaded with load_tokenizer or load_tokenizer_model)",
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
    if not fields[1].isdigit() or len(fields[1]) > 9 or int(fields[1]) >= LIMITS["vocab_size"]:
        raise CheckpointError(
            path,
            f"line {lineno}: rank {fields[1][:20]!r} is not an integer in "
            f"0..{LIMITS['vocab_size'] - 1:,}",
        )
    if not token:
        raise CheckpointError(path, f"line {lineno}: token is empty")
    return token, int(fields[1])


def load_tiktoken_model(path: str | Path, chat_template: ChatTemplate | None = None) -> Tokenizer:
    """A Llama 3 ``tokenizer.model``: tiktoken ranks + Meta's 256 specials and regex.

    The specials start right after the highest rank (128000 for Llama 3). Without a
    ``chat_template``, Meta's Llama 3 chat format is attached.
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
    texts = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
    return BpeTokenizer(
        name="llama3",
        tables=tables,
        pretokenizer=PreTokenizer("llama3", LLAMA3_PATTERN),
        bos_id=specials["<|begin_of_text|>"],
        eos_id=specials["<|end_of_text|>"],
        stop_ids=stops,
        add_bos=False,
        chat_template=chat_template or builtin_chat_template("llama3", texts),
    )


def load_tokenizer_model(path: str | Path) -> Tokenizer:
    """A ``tokenizer.model`` of either kind: SentencePiece (binary protobuf, Llama 1/2) or
    tiktoken (base64 lines, Llama 3).

    Beside a ``tokenizer_config.json`` (a Hugging Face directory), BOS/EOS/``add_bos_token``
    and the chat template come from there; otherwise the file gets Meta's chat format for
    its kind (Llama 2 for SentencePiece, Llama 3 for tiktoken).

    Raises:
        CheckpointError: missing, unreadable or malformed file or config.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "does not exist")
    config_path = path.parent / "tokenizer_config.json"
    config = read_json_object(config_path, "a tokenizer") if config_path.exists() else None
    if not is_sentencepiece_file(path):
        template = None
        if config is not None:
            texts = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
            template = hf_chat_template(path.parent, config, texts)
        return load_tiktoken_model(path, template)
    tok = load_sentencepiece_model(path, config=config, config_path=config_path)
    texts = {"bos_token": _text(tok, tok.bos_id), "eos_token": _text(tok, tok.eos_id)}
    texts["unk_token"] = _text(tok, tok.processor.unk_id())
    texts = special_token_texts(texts)
    if config is None:
        tok.chat_template = builtin_chat_template("llama2", texts)
    else:
        tok.chat_template = hf_chat_template(path.parent, config, texts)
    return tok


def _text(tok: Tokenizer, i: int | None) -> str | None:
    return tok.token(i).text if i is not None and 0 <= i < tok.n_vocab else None


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load the tokenizer at ``path``: a ``tokenizer.model``, a ``tokenizer.json``, a ``.gguf``
    file, or a directory holding ``tokenizer.json`` or ``tokenizer.model``.

    Raises:
        CheckpointError: no tokenizer there, or it cannot be loaded.
    """
    path = Path(path)
    if path.is_dir():
        for name in ("tokenizer.json", "tokenizer.model"):
            if (path / name).exists():
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
        return load_tokenizer_model(path)
    raise CheckpointError(
        path, "is not a tokenizer file (expected tokenizer.model, tokenizer.json or a .gguf file)"
    )
