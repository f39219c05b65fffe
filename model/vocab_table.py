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
        self.name = name
        self._entries = list(entries)
        self._special = [bool(s) for s in special]

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
        """Rebuild from :meth:`to_arrays` output.

        Raises:
            KeyError: an array is missing.
            ValueError: the arrays disagree in length or the offsets are not increasing.
        """
        blob = np.asarray(data["vocab_bytes"], dtype=np.uint8).tobytes()
        offsets = np.asarray(data["vocab_offsets"], dtype=np.int64)
        special = np.asarray(data["vocab_special"], dtype=bool)
        valid = np.asarray(data["vocab_valid"], dtype=bool)
        n = len(special)
        if offsets.shape != (n + 1,) or valid.shape != (n,):
            raise ValueError(
                f"vocabulary arrays disagree: {n} special flags, {len(valid)} "
                f"valid flags, {len(offsets)} offsets (expected {n + 1})"
            )
        if n and (offsets[0] != 0 or offsets[-1] != len(blob) or np.any(np.diff(offsets) < 0)):
            raise ValueError("vocabulary offsets do not index the byte table")
        bounds = offsets.tolist()
        entries = [blob[bounds[i] : bounds[i + 1]] if valid[i] else None for i in range(n)]
        return cls(entries, special.tolist(), name)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The four ``vocab_*`` arrays (compact: a Llama 3 vocabulary is about 1 MB)."""
        lengths = [0 if e is None else len(e) for e in self._entries]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = b"".join(e for e in self._entries if e is not None)
        return {
            "vocab_bytes": np.frombuffer(blob, dtype=np.uint8).copy(),
            "vocab_offsets": offsets,
            "vocab_special": np.array(self._special, dtype=bool),
            "vocab_valid": np.array([e is not None for e in self._entries], dtype=bool),
        }

    @property
    def n_vocab(self) -> int:
        """Highest token id + 1, special tokens included."""
        return len(self._entries)

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
        data = self._entries[id]
        if data is None:
            raise ValueError(
                f"token id {id} has no token in this vocabulary (n_vocab={self.n_vocab})"
            )
        return Token(id, data, show_bytes(data), self._special[id])

    def tokens(self, ids: Sequence[int]) -> list[Token]:
        """:meth:`token` for each id; pieces of one character show that character."""
        return with_characters([self.token(i) for i in ids])
