"""Build a Tokenizer from a Hugging Face ``tokenizer.json`` and the files beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llamalens.model.config import LIMITS
from llamalens.model.errors import CheckpointError
from llamalens.model.fields import parse_json
from llamalens.model.files import read_limited
from llamalens.model.tokenizer.bpe_convert import (
    BpeTables,
    decode_byte_level,
    decode_merges,
    tables_from_merges,
)
from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import END_OF_TURN_TEXTS, SPECIAL_TOKEN_NAMES
from llamalens.model.tokenizer.chat_sources import hf_chat_template, special_token_texts
from llamalens.model.tokenizer.core import Tokenizer
from llamalens.model.tokenizer.hf_json_schema import check_tokenizer_json
from llamalens.model.tokenizer.hf_tokenizers import is_sentencepiece_kind, load_sentencepiece_json
from llamalens.model.tokenizer.pretokenize import hf_pretokenizer

MAX_TOKENIZER_JSON = 2**27  # the largest published tokenizer.json files are about 35 MB
_FALLBACK_BOS = ("<|begin_of_text|>", "<s>")
_FALLBACK_EOS = ("<|end_of_text|>", "<|endoftext|>", "</s>")


def load_hf_tokenizer_json(path: str | Path) -> Tokenizer:
    """A ``tokenizer.json``, plus ``tokenizer_config.json`` and ``chat_template.jinja`` beside it.

    Byte-level BPE files become a :class:`BpeTokenizer` (tiktoken); SentencePiece-style files
    (``▁`` spaces, byte fallback) an :class:`HfTokenizer` (Hugging Face ``tokenizers``). The
    config gives BOS/EOS and ``add_bos_token``; the chat template is the model's own (see
    :func:`~model.tokenizer.chat_sources.hf_chat_template`).

    Raises:
        CheckpointError: unreadable or invalid JSON, an unsupported kind, inconsistent vocab,
            a bad chat template.
    """
    path = Path(path)
    data = _read_json(path)
    if data is None:
        raise CheckpointError(path, "does not exist")
    check_tokenizer_json(path, data)
    config_path = path.parent / "tokenizer_config.json"
    config = _read_json(config_path) or {}
    try:
        literal, special = _added_tokens(data.get("added_tokens") or [])
    except ValueError as exc:
        raise CheckpointError(path, str(exc)) from exc
    spm = is_sentencepiece_kind(data)
    known = dict(literal)
    if spm and isinstance((data.get("model") or {}).get("vocab"), dict):
        known = {**data["model"]["vocab"], **literal}  # <s> may be an ordinary piece there
    bos = _special_id(config_path, config.get("bos_token"), known, _FALLBACK_BOS)
    eos = _special_id(config_path, config.get("eos_token"), known, _FALLBACK_EOS)
    add_bos = _add_bos(config, data, known, bos)
    stops = [i for text, i in literal.items() if text in END_OF_TURN_TEXTS]
    if spm:
        tok: Tokenizer = load_sentencepiece_json(
            path, data, literal, special, bos_id=bos, eos_id=eos, stop_ids=stops, add_bos=add_bos
        )
    else:
        tok = _byte_level(path, data, literal, special, bos, eos, stops, add_bos)
    texts = {key: _token_text(config.get(key)) for key in SPECIAL_TOKEN_NAMES}
    for key, i in (("bos_token", bos), ("eos_token", eos)):
        if texts[key] is None and i is not None:
            texts[key] = tok.token(i).text
    tok.chat_template = hf_chat_template(path.parent, config, special_token_texts(texts))
    return tok


def _byte_level(
    path: Path,
    data: dict[str, Any],
    literal: dict[str, int],
    special: list[int],
    bos: int | None,
    eos: int | None,
    stops: list[int],
    add_bos: bool,
) -> BpeTokenizer:
    model = _bpe_model(path, data)
    try:
        pre = hf_pretokenizer(data.get("pre_tokenizer"), data.get("normalizer"))
        tables = _tables(model, literal, special)
        return BpeTokenizer(
            name=f"gpt2-bpe:{pre.name}",
            tables=tables,
            pretokenizer=pre,
            bos_id=bos,
            eos_id=eos,
            stop_ids=stops,
            add_bos=add_bos,
        )
    except ValueError as exc:  # an unsupported step, a bad vocabulary, tiktoken rejects the regex
        raise CheckpointError(path, str(exc)) from exc


def _add_bos(
    config: dict[str, Any], data: dict[str, Any], known: dict[str, int], bos: int | None
) -> bool:
    """tokenizer_config.json's add_bos_token, else whether the post-processor adds BOS."""
    add_bos = config.get("add_bos_token")
    if isinstance(add_bos, bool):
        return add_bos
    bos_text = next((t for t, i in known.items() if i == bos), None)
    return bos_text is not None and _post_processor_adds(data.get("post_processor"), bos_text)


def _token_text(value: Any) -> str | None:
    """A tokenizer_config.json special-token entry: a str or ``{"content": str}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when the file does not exist."""
    if not path.exists() and not path.is_symlink():
        return None
    text = read_limited(path, MAX_TOKENIZER_JSON, f"a {path.name}")
    if not text.strip():
        raise CheckpointError(path, "is empty, expected a JSON object")
    data = parse_json(text, path, "a JSON object")
    if not isinstance(data, dict):
        raise CheckpointError(path, f"holds a JSON {type(data).__name__}, expected an object")
    return data


def _bpe_model(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    model = data.get("model")
    kind = model.get("type") if isinstance(model, dict) else None
    if kind != "BPE":
        raise CheckpointError(
            path, f"model.type is {kind!r}, expected 'BPE' (byte-level BPE tokenizers only)"
        )
    if model.get("byte_fallback"):
        raise CheckpointError(
            path,
            "is a byte-fallback (SentencePiece-style) BPE; only "
            "byte-level BPE tokenizers are supported",
        )
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise CheckpointError(path, f"model.{key} = {model[key]!r} is not supported")
    if not isinstance(model.get("vocab"), dict) or not isinstance(model.get("merges"), list):
        raise CheckpointError(path, "model needs a 'vocab' object and a 'merges' list")
    return model


def _added_tokens(entries: list[Any]) -> tuple[dict[str, int], list[int]]:
    literal: dict[str, int] = {}
    special: list[int] = []
    for k, entry in enumerate(entries):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("content"), str)
            and isinstance(entry.get("id"), int)
            and not isinstance(entry.get("id"), bool)
            and 0 <= entry["id"] < LIMITS["vocab_size"]
        ):
            raise ValueError(
                f"added_tokens[{k}] needs a str 'content' and an int 'id' in "
                f"0..{LIMITS['vocab_size'] - 1:,}"
            )
        literal[entry["content"]] = entry["id"]
        if entry.get("special"):
            special.append(entry["id"])
    return literal, special


def _tables(model: dict[str, Any], literal: dict[str, int], special: list[int]) -> BpeTables:
    taken = set(literal.values())
    spelled: dict[str, bytes] = {}
    vocab: dict[bytes, int] = {}
    for token, token_id in model["vocab"].items():
        if token_id in taken or token in literal:
            continue  # added tokens are matched whole, never built by merges
        if not isinstance(token_id, int):
            raise ValueError(f"vocab id of {token!r} is {token_id!r}, expected an int")
        spelled[token] = data = decode_byte_level(token)
        vocab[data] = token_id
    return tables_from_merges(vocab, decode_merges(model["merges"], spelled), literal, special)


def _special_id(
    config_path: Path, value: Any, literal: dict[str, int], fallback: tuple[str, ...]
) -> int | None:
    """Id of a bos/eos entry of tokenizer_config.json (a str or ``{"content": str}``)."""
    if isinstance(value, dict):
        value = value.get("content")
    if value is None:
        return next((literal[t] for t in fallback if t in literal), None)
    if not isinstance(value, str) or value not in literal:
        raise CheckpointError(
            config_path, f"special token {value!r} is not an added token of tokenizer.json"
        )
    return literal[value]


def _post_processor_adds(config: Any, bos: str) -> bool:
    """True if a TemplateProcessing post-processor starts single sequences with ``bos``."""
    if not isinstance(config, dict):
        return False
    if config.get("type") == "Sequence":
        return any(_post_processor_adds(p, bos) for p in config.get("processors", []))
    if config.get("type") != "TemplateProcessing":
        return False
    single = config.get("single") or []
    first = single[0] if single and isinstance(single[0], dict) else {}
    return first.get("SpecialToken", {}).get("id") == bos
