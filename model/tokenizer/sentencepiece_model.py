"""SentencePiece tokenizers (Llama 1/2 ``tokenizer.model``, GGUF ``llama`` vocabularies)
run by the ``sentencepiece`` library itself.

Special-token text (``<s>``, ``</s>``, ``<unk>``) in a prompt becomes the token, as in
Hugging Face; the text between is encoded by SentencePiece chunk by chunk, each with its
dummy prefix ``▁``, which is how Meta's Llama 2 code encodes a chat (one ``encode`` call per
turn) and how Hugging Face's Llama tokenizers split around special tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sentencepiece

from llamalens.model.config import LIMITS
from llamalens.model.errors import CheckpointError
from llamalens.model.files import open_regular, read_limited
from llamalens.model.tokenizer.chat import END_OF_TURN_TEXTS, ChatTemplate
from llamalens.model.tokenizer.core import (
    Encoded,
    Tokenizer,
    check_text,
    literal_pattern,
    split_literals,
)
from llamalens.model.tokenizer.spm_proto import BPE, SpmSettings, model_proto

SPACE = "\u2581"  # ▁, SentencePiece's visible space
_FLOAT32_MAX = 3.4028234663852886e38
MAX_MODEL_BYTES = 2**27  # Llama 2's is 500 kB, Gemma's 4 MB
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


class SentencePieceTokenizer(Tokenizer):
    """A ``sentencepiece.SentencePieceProcessor`` behind the :class:`Tokenizer` interface.

    A token's bytes are what it decodes to: ``▁the`` -> ``b" the"``, ``<0x0A>`` -> ``b"\\n"``;
    control and unknown pieces (``<s>``, ``<unk>``) are special and stand for their text.
    """

    def __init__(
        self,
        *,
        name: str,
        processor: sentencepiece.SentencePieceProcessor,
        bos_id: int | None,
        eos_id: int | None,
        stop_ids: Iterable[int] = (),
        add_bos: bool = True,
        chat_template: ChatTemplate | None = None,
    ) -> None:
        self.name = name
        self.processor = processor
        self._entries = [_piece_entry(processor, i) for i in range(processor.get_piece_size())]
        self._literal_ids = {
            data.decode("utf-8"): i for i, (data, special) in enumerate(self._entries) if special
        }
        self._literals = literal_pattern(self._literal_ids)
        self._set_specials(
            bos_id=bos_id,
            eos_id=eos_id,
            stop_ids=stop_ids,
            add_bos=add_bos,
            chat_template=chat_template,
        )

    @property
    def n_vocab(self) -> int:
        return len(self._entries)

    def encode_detailed(
        self,
        text: str,
        *,
        allow_special: bool = True,
        bos: bool | None = None,
    ) -> Encoded:
        """See :meth:`Tokenizer.encode_detailed`. Nothing is dropped: with byte fallback every
        byte has a piece, without it unknown characters become ``<unk>``."""
        check_text(text)
        ids = self._bos_prefix(bos)
        literals = self._literals if allow_special else None
        for _offset, chunk, literal in split_literals(text, literals):
            if literal:
                ids.append(self._literal_ids[chunk])
            else:
                ids.extend(self.processor.encode(chunk))
        return Encoded(ids, [])

    def _entry(self, id: int) -> tuple[bytes, bool]:
        return self._entries[id]


def _piece_entry(processor: sentencepiece.SentencePieceProcessor, i: int) -> tuple[bytes, bool]:
    """(bytes, special) of piece i."""
    piece = processor.id_to_piece(i)
    if processor.is_byte(i):
        return bytes([int(piece[3:5], 16)]), False  # "<0xE4>"
    if processor.is_control(i) or processor.is_unknown(i):
        return piece.encode("utf-8"), True
    return piece.replace(SPACE, " ").encode("utf-8"), False


_TIKTOKEN_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2} [0-9]+\r?\n")


def is_sentencepiece_file(path: Path) -> bool:
    """True for a protobuf ``tokenizer.model`` (Llama 1/2), False for tiktoken's
    ``base64 rank`` lines (Llama 3) and for unreadable files."""
    try:
        with open_regular(path) as fh:
            head = fh.read(256)
    except CheckpointError:
        return False
    return bool(head) and _TIKTOKEN_LINE.match(head) is None


def load_sentencepiece_model(
    path: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    config_path: Path | None = None,
    chat_template: ChatTemplate | None = None,
) -> SentencePieceTokenizer:
    """A SentencePiece ``tokenizer.model``.

    Args:
        path: the file.
        config: ``tokenizer_config.json`` beside it, if any: ``bos_token``, ``eos_token``
            (strings or ``{"content": ...}``) and ``add_bos_token`` override the model's own.
        config_path: that file, named in errors.
        chat_template: the template to attach.

    Raises:
        CheckpointError: unreadable, not a SentencePiece model, or a config naming unknown
            pieces.
    """
    path = Path(path)
    data = read_limited(path, MAX_MODEL_BYTES, "a SentencePiece tokenizer.model")
    processor = _processor(path, data)
    config = config or {}
    where = config_path or path
    bos = _configured_id(where, processor, config.get("bos_token"), "bos_token", processor.bos_id())
    eos = _configured_id(where, processor, config.get("eos_token"), "eos_token", processor.eos_id())
    add_bos = config.get("add_bos_token", True)
    if not isinstance(add_bos, bool):
        raise CheckpointError(where, f"add_bos_token is {add_bos!r}, expected true or false")
    return _tokenizer(processor, bos, eos, add_bos, chat_template)


def _processor(
    path: Path, data: bytes, what: str = "is not a valid SentencePiece model"
) -> sentencepiece.SentencePieceProcessor:
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.LoadFromSerializedProto(data)
    except (RuntimeError, OSError, TypeError, ValueError) as exc:  # ValueError: bad UTF-8
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(path, f"{what} ({first})") from None
    n = processor.get_piece_size()
    if n == 0:
        raise CheckpointError(path, "is a SentencePiece model without pieces")
    if n > LIMITS["vocab_size"]:
        raise CheckpointError(path, f"has {n:,} pieces, more than {LIMITS['vocab_size']:,}")
    for i in range(n):  # the library hands pieces out as str: each must be valid UTF-8
        try:
            processor.id_to_piece(i)
        except ValueError:
            raise CheckpointError(path, f"piece {i} is not valid UTF-8") from None
    return processor


def _configured_id(
    where: Path,
    processor: sentencepiece.SentencePieceProcessor,
    value: Any,
    key: str,
    default: int,
) -> int | None:
    if isinstance(value, dict):
        value = value.get("content")
    if value is None:
        return default if default >= 0 else None
    if not isinstance(value, str):
        raise CheckpointError(where, f"{key} is {value!r}, expected a token string")
    i = processor.piece_to_id(value)
    if processor.id_to_piece(i) != value:
        raise CheckpointError(where, f"{key} {value!r} is not a piece of the SentencePiece model")
    return i


def _tokenizer(
    processor: sentencepiece.SentencePieceProcessor,
    bos: int | None,
    eos: int | None,
    add_bos: bool,
    chat_template: ChatTemplate | None,
) -> SentencePieceTokenizer:
    stops = [
        i
        for i in range(processor.get_piece_size())
        if processor.is_control(i) and processor.id_to_piece(i) in END_OF_TURN_TEXTS
    ]
    return SentencePieceTokenizer(
        name="sentencepiece",
        processor=processor,
        bos_id=bos,
        eos_id=eos,
        stop_ids=stops,
        add_bos=add_bos,
        chat_template=chat_template,
    )


def gguf_sentencepiece(
    metadata: Mapping[str, Any],
    path: Path,
    tokens: list[str],
    ids: Mapping[str, int | None],
) -> SentencePieceTokenizer:
    """The SentencePiece tokenizer of a GGUF file (``tokenizer.ggml.model == "llama"``).

    The pieces, scores and types become a ``ModelProto`` (:func:`model_proto`) with llama.cpp's
    defaults: BPE, identity normalization, a space prefix unless
    ``tokenizer.ggml.add_space_prefix`` is false, byte fallback when there are byte pieces.

    Args:
        metadata: the file's metadata.
        path: the file, named in errors.
        tokens: ``tokenizer.ggml.tokens`` (already checked to be a list of str).
        ids: checked ``bos``, ``eos``, ``unknown`` ids (None where absent).

    Raises:
        CheckpointError: scores or types missing or malformed, or sentencepiece refuses them.
    """
    scores = _gguf_numbers(metadata, path, "tokenizer.ggml.scores", len(tokens), float)
    types = _gguf_numbers(metadata, path, "tokenizer.ggml.token_type", len(tokens), int)
    role = {k: tokens[i] if i is not None else "" for k, i in ids.items()}
    settings = SpmSettings(
        model_type=BPE,
        byte_fallback=BYTE in types,
        add_dummy_prefix=_gguf_flag(metadata, path, "add_space_prefix", True),
        remove_extra_whitespaces=_gguf_flag(metadata, path, "remove_extra_whitespaces", False),
        unk_piece=role["unknown"] or "<unk>",
        bos_piece=role["bos"],
        eos_piece=role["eos"],
    )
    try:
        proto = model_proto(tokens, scores, types, settings)
    except ValueError as exc:
        raise CheckpointError(path, f"tokenizer.ggml.token_type: {exc}") from exc
    processor = _processor(path, proto, "has tokenizer.ggml.* keys that sentencepiece refuses")
    add_bos = _gguf_flag(metadata, path, "add_bos_token", True)  # llama.cpp's default for SPM
    return _tokenizer(processor, ids["bos"], ids["eos"], add_bos, None)


def _gguf_flag(metadata: Mapping[str, Any], path: Path, name: str, default: bool) -> bool:
    value = metadata.get(f"tokenizer.ggml.{name}", default)
    if not isinstance(value, bool):
        raise CheckpointError(path, f"tokenizer.ggml.{name} is {value!r}, expected a bool")
    return value


def _gguf_numbers(
    metadata: Mapping[str, Any], path: Path, key: str, n: int, kind: type
) -> list[Any]:
    value = metadata.get(key)
    if not isinstance(value, list):
        raise CheckpointError(path, f"has no {key} list (got {type(value).__name__})")
    if len(value) != n:
        raise CheckpointError(path, f"{key} has {len(value)} entries, expected {n} (one per token)")
    if n and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise CheckpointError(path, f"{key} holds non-numbers, expected {kind.__name__} values")
    if n and not all(abs(v) <= _FLOAT32_MAX for v in value):  # also refuses NaN
        raise CheckpointError(path, f"{key} holds a value that is not a finite float32")
    return [kind(v) for v in value]
