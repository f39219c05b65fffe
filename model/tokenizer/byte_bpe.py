"""Byte-level BPE through tiktoken: Llama 3 ``tokenizer.model``, GPT-2-style ``tokenizer.json``
and GGUF ``gpt2`` vocabularies."""

from __future__ import annotations

from collections.abc import Iterable

import tiktoken

from llamalens.model.tokenizer.bpe_convert import NO_ID, BpeTables
from llamalens.model.tokenizer.chat import ChatTemplate
from llamalens.model.tokenizer.core import (
    DroppedByte,
    Encoded,
    Tokenizer,
    check_text,
    literal_pattern,
    split_literals,
)
from llamalens.model.tokenizer.pretokenize import PreTokenizer


class BpeTokenizer(Tokenizer):
    """A byte-level BPE tokenizer backed by a ``tiktoken.Encoding``.

    Build one with the loaders (:func:`~model.tokenizer.load_tokenizer`); the constructor takes
    already validated tables.

    Attributes:
        encoding: the tiktoken Encoding. Its ids are the model's ids unless the vocabulary's
            ids do not follow its merge order (then :meth:`encode` translates them); bytes the
            vocabulary lacks have extra ranks >= :attr:`n_vocab` in it.
        name: e.g. ``"llama3"``, ``"gpt2-bpe:smollm"``.
        pretokenizer: how text is cut into pieces before BPE.
        bos_id, eos_id: beginning / end of sequence ids, or None.
        stop_ids: ids that end generation (eos, end of turn...).
        add_bos: whether plain prompts get BOS prepended by default.
        chat_template: the model's chat format, or None.
    """

    def __init__(
        self,
        *,
        name: str,
        tables: BpeTables,
        pretokenizer: PreTokenizer,
        bos_id: int | None = None,
        eos_id: int | None = None,
        stop_ids: Iterable[int] = (),
        add_bos: bool = False,
        chat_template: ChatTemplate | None = None,
    ) -> None:
        self.name = name
        self.encoding = tiktoken.Encoding(
            name,
            pat_str=pretokenizer.pat_str,
            mergeable_ranks=tables.mergeable_ranks,
            special_tokens=tables.special_ranks,
        )
        self.pretokenizer = pretokenizer
        self._id_bytes = tables.id_bytes
        self._special_ids = tables.special_ids
        self._rank_to_id = tables.rank_to_id
        self._present = bytes(b for b in range(256) if b not in tables.missing_bytes)
        self._missing = tables.missing_bytes
        self._literals_all = literal_pattern(tables.literal_ids)
        self._literals_plain = literal_pattern(
            t for t, i in tables.literal_ids.items() if i not in tables.special_ids
        )
        self._literal_ids = dict(tables.literal_ids)
        self._set_specials(
            bos_id=bos_id,
            eos_id=eos_id,
            stop_ids=stop_ids,
            add_bos=add_bos,
            chat_template=chat_template,
        )

    @property
    def n_vocab(self) -> int:
        """Highest token id + 1, special tokens included."""
        return len(self._id_bytes)

    def encode_detailed(
        self,
        text: str,
        *,
        allow_special: bool = True,
        bos: bool | None = None,
    ) -> Encoded:
        """See :meth:`Tokenizer.encode_detailed`; bytes without a token are dropped."""
        raw = check_text(text)
        exact = bool(self._missing) and bool(raw.translate(None, self._present))
        ids = self._bos_prefix(bos)
        dropped: list[DroppedByte] = []
        literals = self._literals_all if allow_special else self._literals_plain
        for offset, chunk, literal in split_literals(text, literals):
            if literal:
                ids.append(self._literal_ids[chunk])
                continue
            for sub, segment in self.pretokenizer.segments(chunk):
                if exact:
                    ranks = self._encode_exact(segment, offset + sub, dropped)
                else:
                    ranks = self.encoding.encode_ordinary(segment)
                ids.extend(self._to_ids(ranks))
        return Encoded(ids, dropped)

    # -- internals -------------------------------------------------------------------------

    def _entry(self, id: int) -> tuple[bytes, bool] | None:
        data = self._id_bytes[id]
        return None if data is None else (data, id in self._special_ids)

    def _to_ids(self, ranks: list[int]) -> list[int]:
        if self._rank_to_id is None:
            return ranks
        table = self._rank_to_id
        return [table[r] for r in ranks if table[r] != NO_ID]

    def _encode_exact(self, segment: str, offset: int, dropped: list[DroppedByte]) -> list[int]:
        """Like ``encode_ordinary``, but bytes without a token are removed from their piece
        before BPE runs on it (as Hugging Face and llama.cpp do), and reported."""
        ranks: list[int] = []
        for match in self.pretokenizer.pieces(segment):
            piece = match.group()
            raw = piece.encode("utf-8")
            if raw.translate(None, self._present):
                raw = self._strip_missing(piece, offset + match.start(), dropped)
            if raw:
                ranks.extend(self.encoding._encode_single_piece(raw))
        return ranks

    def _strip_missing(self, piece: str, offset: int, dropped: list[DroppedByte]) -> bytes:
        kept = bytearray()
        for k, char in enumerate(piece):
            for b in char.encode("utf-8"):
                if b in self._missing:
                    dropped.append(DroppedByte(offset + k, b))
                else:
                    kept.append(b)
        return bytes(kept)
