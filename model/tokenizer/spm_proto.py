"""Write a SentencePiece ``ModelProto`` from a vocabulary, so GGUF files run through the
``sentencepiece`` library itself.

A GGUF file of a SentencePiece model (``tokenizer.ggml.model = "llama"``) keeps the pieces,
their scores and types, but not the protobuf ``tokenizer.model`` they came from. The fields
that decide how text is encoded are written back here in protobuf wire format (field numbers
from sentencepiece's ``sentencepiece_model.proto``):

- ``ModelProto``: 1 pieces (repeated), 2 trainer_spec, 3 normalizer_spec.
- ``SentencePiece``: 1 piece (string), 2 score (float), 3 type (enum: 1 normal, 2 unknown,
  3 control, 4 user defined, 5 unused, 6 byte).
- ``TrainerSpec``: 3 model_type (1 unigram, 2 BPE), 35 byte_fallback, 45..48 the unk, bos,
  eos and pad pieces.
- ``NormalizerSpec``: 1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces,
  5 escape_whitespaces.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

UNIGRAM, BPE = 1, 2
PIECE_TYPES = range(1, 7)  # normal, unknown, control, user defined, unused, byte


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _key(field, 2) + _varint(len(value)) + value


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


@dataclass(frozen=True)
class SpmSettings:
    """How the model normalizes and which pieces play the special roles.

    Attributes:
        model_type: :data:`BPE` or :data:`UNIGRAM`.
        byte_fallback: unknown characters become ``<0xNN>`` byte pieces.
        add_dummy_prefix: a ``▁`` is put before the text (Llama's "space prefix").
        remove_extra_whitespaces: runs of spaces are squeezed and the ends trimmed.
        unk_piece, bos_piece, eos_piece, pad_piece: the pieces in those roles ("" for none).
    """

    model_type: int = BPE
    byte_fallback: bool = True
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = False
    unk_piece: str = "<unk>"
    bos_piece: str = "<s>"
    eos_piece: str = "</s>"
    pad_piece: str = ""


def model_proto(
    pieces: Sequence[str], scores: Sequence[float], types: Sequence[int], settings: SpmSettings
) -> bytes:
    """A serialized ``ModelProto`` for ``sentencepiece.SentencePieceProcessor(model_proto=...)``.

    Args:
        pieces: piece text by id.
        scores: piece scores by id (BPE merges the pair whose result scores highest).
        types: piece types by id (see :data:`PIECE_TYPES`).
        settings: normalization and special pieces.

    Raises:
        ValueError: the three lists differ in length or a type is unknown.
    """
    if not len(pieces) == len(scores) == len(types):
        raise ValueError(
            f"{len(pieces)} pieces, {len(scores)} scores and {len(types)} types, expected as "
            "many of each"
        )
    out = bytearray()
    for i, (piece, score, kind) in enumerate(zip(pieces, scores, types)):
        if kind not in PIECE_TYPES:
            raise ValueError(f"piece {i} ({piece!r}) has type {kind!r}, expected 1..6")
        entry = _bytes(1, piece.encode("utf-8")) + _float(2, score) + _int(3, kind)
        out += _bytes(1, entry)
    trainer = _int(3, settings.model_type) + _int(35, int(settings.byte_fallback))
    for field, piece in ((45, settings.unk_piece), (46, settings.bos_piece)):
        trainer += _bytes(field, piece.encode("utf-8"))
    for field, piece in ((47, settings.eos_piece), (48, settings.pad_piece)):
        trainer += _bytes(field, piece.encode("utf-8"))
    normalizer = (
        _bytes(1, b"identity")
        + _int(3, int(settings.add_dummy_prefix))
        + _int(4, int(settings.remove_extra_whitespaces))
        + _int(5, 1)
    )
    out += _bytes(2, trainer) + _bytes(3, normalizer)
    return bytes(out)
