"""The Tokenizer: text <-> token ids through a tiktoken Encoding, with every token inspectable."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import tiktoken

from llamalens.model.tokenizer.bpe_convert import NO_ID, BpeTables
from llamalens.model.tokenizer.chat import ChatTemplate
from llamalens.model.tokenizer.pretokenize import PreTokenizer


@dataclass(frozen=True)
class Token:
    """One vocabulary entry.

    Attributes:
        id: the model's token id.
        bytes: the bytes the token stands for (special tokens: their text in UTF-8).
        text: ``bytes`` decoded as UTF-8, each undecodable byte shown as ``\\xNN``.
        special: True for control tokens such as ``<|begin_of_text|>``.
    """

    id: int
    bytes: bytes
    text: str
    special: bool


@dataclass(frozen=True)
class DroppedByte:
    """A byte of the input that the vocabulary has no token for.

    Attributes:
        offset: index of the character (in the input text) the byte belongs to.
        byte: the byte value.
    """

    offset: int
    byte: int


@dataclass(frozen=True)
class Encoded:
    """Token ids of a text and the bytes that could not be encoded (they are left out)."""

    ids: list[int]
    dropped: list[DroppedByte]


def show_bytes(data: bytes) -> str:
    """``data`` as UTF-8 text, with each byte that is not valid UTF-8 written as ``\\xNN``."""
    return data.decode("utf-8", errors="backslashreplace")


class Tokenizer:
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
        self._literals_all = _alternation(tables.literal_ids)
        self._literals_plain = _alternation(
            {t: i for t, i in tables.literal_ids.items() if i not in tables.special_ids}
        )
        self._literal_ids = dict(tables.literal_ids)
        for label, value in (("bos_id", bos_id), ("eos_id", eos_id)):
            if value is not None:
                self._check_id(value, label)
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.stop_ids = frozenset(i for i in (eos_id, *stop_ids) if i is not None)
        self.add_bos = add_bos
        self.chat_template = chat_template

    @property
    def n_vocab(self) -> int:
        """Highest token id + 1, special tokens included."""
        return len(self._id_bytes)

    def __repr__(self) -> str:
        return f"Tokenizer(name={self.name!r}, n_vocab={self.n_vocab})"

    def encode(
        self,
        text: str,
        *,
        allow_special: bool = True,
        bos: bool | None = None,
    ) -> list[int]:
        """Token ids of ``text``; see :meth:`encode_detailed`."""
        return self.encode_detailed(text, allow_special=allow_special, bos=bos).ids

    def encode_detailed(
        self,
        text: str,
        *,
        allow_special: bool = True,
        bos: bool | None = None,
    ) -> Encoded:
        """Encode ``text`` and report the bytes the vocabulary cannot encode.

        Args:
            text: the prompt.
            allow_special: True: special-token text in ``text`` (``"<|im_start|>"``) becomes that
                special token, as in Hugging Face; False: it is encoded as ordinary text.
            bos: prepend the BOS token; None follows :attr:`add_bos`.

        Raises:
            ValueError: ``text`` is not a str, contains a lone surrogate, or BOS is requested
                but the tokenizer has none.
        """
        raw = _utf8(text)
        exact = bool(self._missing) and bool(raw.translate(None, self._present))
        ids: list[int] = []
        dropped: list[DroppedByte] = []
        if self.add_bos if bos is None else bos:
            if self.bos_id is None:
                raise ValueError(f"tokenizer {self.name!r} has no BOS token")
            ids.append(self.bos_id)
        literals = self._literals_all if allow_special else self._literals_plain
        for offset, chunk, literal in _split_literals(text, literals):
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

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids`` (invalid UTF-8 becomes U+FFFD)."""
        return b"".join(self._bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token(self, id: int) -> Token:
        """The vocabulary entry of ``id``.

        Raises:
            ValueError: ``id`` is outside the vocabulary or names no token.
        """
        data = self._bytes(id)
        return Token(id, data, show_bytes(data), id in self._special_ids)

    def tokens(self, ids: Sequence[int]) -> list[Token]:
        """:meth:`token` for each id."""
        return [self.token(i) for i in ids]

    def apply_chat(self, user: str, system: str | None = None) -> str:
        """``user`` wrapped in the model's chat template, ending with the assistant prompt.

        Raises:
            ValueError: the tokenizer has no chat template.
        """
        if self.chat_template is None:
            raise ValueError(f"tokenizer {self.name!r} has no chat template")
        messages = [] if system is None else [{"role": "system", "content": system}]
        messages.append({"role": "user", "content": user})
        return self.chat_template.render(messages, add_generation_prompt=True)

    # -- internals -------------------------------------------------------------------------

    def _check_id(self, value: int, label: str = "token id") -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{label} must be an int, got {type(value).__name__}")
        if not 0 <= value < self.n_vocab:
            raise ValueError(
                f"{label} {value} is outside the vocabulary "
                f"(n_vocab={self.n_vocab}, valid ids 0..{self.n_vocab - 1})"
            )

    def _bytes(self, id: int) -> bytes:
        self._check_id(id)
        data = self._id_bytes[id]
        if data is None:
            raise ValueError(
                f"token id {id} has no token in this vocabulary (n_vocab={self.n_vocab})"
            )
        return data

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


def _utf8(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise ValueError(
            f"text has a lone surrogate U+{ord(char):04X} at character {exc.start}; "
            "it has no UTF-8 encoding, so it cannot be tokenized"
        ) from None


def _alternation(literals: dict[str, int]) -> re.Pattern[str] | None:
    """A regex matching any of ``literals``, longest first (leftmost-longest, like HF)."""
    if not literals:
        return None
    texts = sorted(literals, key=lambda t: (-len(t), t))
    return re.compile("|".join(re.escape(t) for t in texts))


def _split_literals(
    text: str,
    pattern: re.Pattern[str] | None,
) -> Iterator[tuple[int, str, bool]]:
    """(offset, chunk, is_literal) for the literal-token matches of ``text`` and the gaps."""
    pos = 0
    if pattern is not None:
        for match in pattern.finditer(text):
            if match.start() > pos:
                yield pos, text[pos : match.start()], False
            yield match.start(), match.group(), True
            pos = match.end()
    if pos < len(text):
        yield pos, text[pos:], False
