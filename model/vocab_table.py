"""VocabTable: a model's vocabulary as plain arrays, to label token ids without the model.

It answers :meth:`token` and :meth:`tokens` like :class:`~model.tokenizer.core.Tokenizer`
(same :class:`~model.tokenizer.core.Token`, same ``\\xNN`` text for invalid UTF-8), so code
that only labels ids can use either. It cannot encode text.

Arrays (see :meth:`VocabTable.to_arrays`):

==============  =============  ======================================================
key             dtype, shape   meaning
==============  =============  ======================================================
vocab_bytes     uint8 [N]      every token's bytes, concatenated in id order
vocab_offsets   int64 [V+1]    token ``i`` is ``vocab_bytes[offsets[i]:offsets[i+1]]``
vocab_special   bool [V]       control tokens
vocab_valid     bool [V]       False for ids that name no token (holes in the vocabulary)
==============  =============  ======================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from llamalens.model.tokenizer.core import Token, show_bytes, with_characters

ARRAY_KEYS = ("vocab_bytes", "vocab_offsets", "vocab_special", "vocab_valid")


class VocabTable:
    """Token id → :class:`Token`, built from a tokenizer or from saved arrays.

    The entries stay in the four arrays (a 128k vocabulary is about 1 MB); a token's
    bytes are sliced out when it is asked for.

    Attributes:
        name: the tokenizer's name (informational).
    """

    def __init__(
        self, entries: Sequence[bytes | None], special: Sequence[bool], name: str = "vocab"
    ) -> None:
        if len(entries) != len(special):
            raise ValueError(
                f"vocabulary has {len(entries)} entries and {len(special)} special flags"
            )
        lengths = [0 if e is None else len(e) for e in entries]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        self._set(
            b"".join(e for e in entries if e is not None),
            offsets,
            np.array(special, dtype=bool).reshape(len(entries)),
            np.array([e is not None for e in entries], dtype=bool).reshape(len(entries)),
            name,
        )

    def _set(
        self, blob: bytes, offsets: np.ndarray, special: np.ndarray, valid: np.ndarray, name: str
    ) -> None:
        self.name = name
        self._blob, self._offsets, self._special, self._valid = blob, offsets, special, valid

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> VocabTable:
        """Copy every entry of a Tokenizer (or of another VocabTable)."""
        entries: list[bytes | None] = []
        special: list[bool] = []
        for i in range(tokenizer.n_vocab):
            try:
                tok = tokenizer.token(i)
            except ValueError:  # an id that names no token
                entries.append(None)
                special.append(False)
            else:
                entries.append(tok.bytes)
                special.append(tok.special)
        return cls(entries, special, getattr(tokenizer, "name", "vocab"))

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray], name: str = "vocab") -> VocabTable:
        """Rebuild from :meth:`to_arrays` output (checked with array operations, no loop).

        Raises:
            KeyError: an array is missing.
            ValueError: the arrays disagree in length or the offsets do not index the bytes.
        """
        blob = np.asarray(data["vocab_bytes"])
        offsets = np.asarray(data["vocab_offsets"])
        special = np.asarray(data["vocab_special"])
        valid = np.asarray(data["vocab_valid"])
        kinds = (blob.dtype.kind, offsets.dtype.kind, special.dtype.kind, valid.dtype.kind)
        if kinds[0] not in "ui" or kinds[1] not in "ui" or kinds[2:] != ("b", "b"):
            raise ValueError(f"vocabulary arrays have dtypes {kinds}, expected u/i, i, b, b")
        n = special.size
        if special.shape != (n,) or offsets.shape != (n + 1,) or valid.shape != (n,):
            raise ValueError(
                f"vocabulary arrays disagree: {special.shape} special flags, {valid.shape} "
                f"valid flags, {offsets.shape} offsets (expected ({n + 1},))"
            )
        offsets = offsets.astype(np.int64)
        if n and (offsets[0] != 0 or offsets[-1] != blob.size or np.any(np.diff(offsets) < 0)):
            raise ValueError("vocabulary offsets do not index the byte table")
        table = cls.__new__(cls)
        table._set(blob.astype(np.uint8).tobytes(), offsets, special.copy(), valid.copy(), name)
        return table

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The four ``vocab_*`` arrays (compact: a Llama 3 vocabulary is about 1 MB)."""
        return {
            "vocab_bytes": np.frombuffer(self._blob, dtype=np.uint8).copy(),
            "vocab_offsets": self._offsets.copy(),
            "vocab_special": self._special.copy(),
            "vocab_valid": self._valid.copy(),
        }

    @property
    def n_vocab(self) -> int:
        """Highest token id + 1, special tokens included."""
        return len(self._special)

    def __repr__(self) -> str:
        return f"VocabTable(name={self.name!r}, n_vocab={self.n_vocab})"

    def token(self, id: int) -> Token:
        """The vocabulary entry of ``id``.

        Raises:
            ValueError: ``id`` is outside the vocabulary or names no token.
        """
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(f"token id must be an int, got {type(id).__name__}")
        id = int(id)
        if not 0 <= id < self.n_vocab:
            raise ValueError(
                f"token id {id} is outside the vocabulary "
                f"(n_vocab={self.n_vocab}, valid ids 0..{self.n_vocab - 1})"
            )
        if not self._valid[id]:
            raise ValueError(
                f"token id {id} has no token in this vocabulary (n_vocab={self.n_vocab})"
            )
        data = self._blob[self._offsets[id] : self._offsets[id + 1]]
        return Token(id, data, show_bytes(data), bool(self._special[id]))

    def tokens(self, ids: Sequence[int]) -> list[Token]:
        """:meth:`token` for each id; pieces of one character show that character."""
        return with_characters([self.token(i) for i in ids])


def token_label(vocab: Any, id: int) -> str:
    """The text of token ``id`` in ``vocab`` (a Tokenizer or a VocabTable), or a label
    saying the id has no token (a padded embedding row, a hole in the vocabulary)."""
    try:
        return vocab.token(int(id)).text
    except ValueError:
        return f"<id {int(id)}: no token>"
