"""What every tokenizer offers: the :class:`Tokenizer` interface, tokens and encode results.

Three kinds implement it: byte-level BPE through tiktoken
(:class:`~model.tokenizer.byte_bpe.BpeTokenizer`), SentencePiece ``tokenizer.model`` files
through the ``sentencepiece`` library
(:class:`~model.tokenizer.sentencepiece_model.SentencePieceTokenizer`) and SentencePiece-style
``tokenizer.json`` files through Hugging Face ``tokenizers``
(:class:`~model.tokenizer.hf_tokenizers.HfTokenizer`). The engine, the trace, the vocabulary
table and the CLI use only this interface.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llamalens.model.tokenizer.chat import ChatTemplate

# A UTF-8 character is at most 4 bytes, so at most 4 tokens share one.
_MAX_PIECES_PER_CHARACTER = 4


@dataclass(frozen=True)
class Token:
    """One vocabulary entry.

    Attributes:
        id: the model's token id.
        bytes: the bytes the token stands for (special tokens: their text in UTF-8;
            SentencePiece pieces: what they decode to, ``▁the`` -> ``b" the"``,
            ``<0x0A>`` -> ``b"\\n"``).
        text: ``bytes`` decoded as UTF-8, each undecodable byte shown as ``\\xNN``; in a list of
            tokens (:meth:`Tokenizer.tokens`), tokens that together make up characters all show
            those characters.
        special: True for control tokens such as ``<|begin_of_text|>`` or ``<s>``.
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


def with_characters(tokens: Sequence[Token]) -> list[Token]:
    """Tokens that are each a piece of a UTF-8 character, and together complete characters,
    all get the text of those characters (``<0xE4>`` ``<0xB8>`` ``<0xAD>`` each show ``中``).

    Tokens that cannot be completed by their neighbours keep their ``\\xNN`` text.
    """
    out = list(tokens)
    i = 0
    while i < len(out):
        end = _character_run_end(out, i)
        if end > i + 1:
            text = b"".join(t.bytes for t in out[i:end]).decode("utf-8")
            out[i:end] = [replace(t, text=text) for t in out[i:end]]
            i = end
        else:
            i += 1
    return out


def _character_run_end(tokens: Sequence[Token], start: int) -> int:
    """End of the shortest run of partial tokens from ``start`` that decodes, else ``start``."""
    joined = b""
    for end in range(start, min(len(tokens), start + _MAX_PIECES_PER_CHARACTER)):
        token = tokens[end]
        if token.special or _is_utf8(token.bytes):
            return start
        joined += token.bytes
        if _is_utf8(joined):
            return end + 1
    return start


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Tokenizer(ABC):
    """Text <-> token ids, with every token inspectable.

    Attributes:
        name: e.g. ``"llama3"``, ``"gpt2-bpe:smollm"``, ``"sentencepiece:bpe"``.
        bos_id, eos_id: beginning / end of sequence ids, or None.
        stop_ids: ids that end generation (eos, end of turn...).
        add_bos: whether plain prompts get BOS prepended by default.
        chat_template: the model's chat template, or None.
    """

    name: str
    bos_id: int | None
    eos_id: int | None
    stop_ids: frozenset[int]
    add_bos: bool
    chat_template: ChatTemplate | None

    def _set_specials(
        self,
        *,
        bos_id: int | None,
        eos_id: int | None,
        stop_ids: Iterable[int],
        add_bos: bool,
        chat_template: ChatTemplate | None,
    ) -> None:
        """Set and check the attributes every kind shares (call once :attr:`n_vocab` works).

        Raises:
            ValueError: bos_id or eos_id is outside the vocabulary.
        """
        for label, value in (("bos_id", bos_id), ("eos_id", eos_id)):
            if value is not None:
                self._check_id(value, label)
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.stop_ids = frozenset(i for i in (eos_id, *stop_ids) if i is not None)
        self.add_bos = add_bos
        self.chat_template = chat_template

    @property
    @abstractmethod
    def n_vocab(self) -> int:
        """Highest token id + 1, special tokens included."""

    @abstractmethod
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
            allow_special: True: special-token text in ``text`` (``"<|im_start|>"``, ``"<s>"``)
                becomes that special token, as in Hugging Face; False: it is encoded as
                ordinary text.
            bos: prepend the BOS token; None follows :attr:`add_bos`.

        Raises:
            ValueError: ``text`` is not a str, contains a lone surrogate, or BOS is requested
                but the tokenizer has none.
        """

    @abstractmethod
    def _entry(self, id: int) -> tuple[bytes, bool] | None:
        """(bytes, special) of a valid id, or None when the id names no token."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, n_vocab={self.n_vocab})"

    def encode(
        self, text: str, *, allow_special: bool = True, bos: bool | None = None
    ) -> list[int]:
        """Token ids of ``text``; see :meth:`encode_detailed`."""
        return self.encode_detailed(text, allow_special=allow_special, bos=bos).ids

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``: their bytes joined (invalid UTF-8 becomes U+FFFD).

        Decoding is byte concatenation, so decoding ids one at a time and joining the bytes
        gives the same text; SentencePiece's ``▁`` decodes to a space wherever it is.
        """
        return b"".join(self._bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token(self, id: int) -> Token:
        """The vocabulary entry of ``id``.

        Raises:
            ValueError: ``id`` is outside the vocabulary or names no token.
        """
        self._check_id(id)
        entry = self._entry(id)
        if entry is None:
            raise ValueError(
                f"token id {id} has no token in this vocabulary (n_vocab={self.n_vocab})"
            )
        data, special = entry
        return Token(id, data, show_bytes(data), special)

    def tokens(self, ids: Sequence[int]) -> list[Token]:
        """:meth:`token` for each id; pieces of one character show that character."""
        return with_characters([self.token(i) for i in ids])

    def apply_chat(self, user: str, system: str | None = None) -> str:
        """``user`` wrapped in the model's chat template, ending with the assistant prompt.

        Raises:
            ValueError: the tokenizer has no chat template, or the template fails.
        """
        if self.chat_template is None:
            raise ValueError(f"tokenizer {self.name!r} has no chat template")
        messages = [] if system is None else [{"role": "system", "content": system}]
        messages.append({"role": "user", "content": user})
        return self.chat_template.render(messages, add_generation_prompt=True)

    # -- for the implementations -----------------------------------------------------------

    def _bos_prefix(self, bos: bool | None) -> list[int]:
        """``[bos_id]`` when BOS is asked for (or, for None, when :attr:`add_bos`), else []."""
        if not (self.add_bos if bos is None else bos):
            return []
        if self.bos_id is None:
            raise ValueError(f"tokenizer {self.name!r} has no BOS token")
        return [self.bos_id]

    def _check_id(self, value: int, label: str = "token id") -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{label} must be an int, got {type(value).__name__}")
        if not 0 <= value < self.n_vocab:
            raise ValueError(
                f"{label} {value} is outside the vocabulary "
                f"(n_vocab={self.n_vocab}, valid ids 0..{self.n_vocab - 1})"
            )

    def _bytes(self, id: int) -> bytes:
        return self.token(id).bytes


def check_text(text: str) -> bytes:
    """``text`` as UTF-8.

    Raises:
        ValueError: ``text`` is not a str or holds a lone surrogate (it has no UTF-8 form).
    """
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


def literal_pattern(literals: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching any of ``literals``, longest first (leftmost-longest, like HF)."""
    texts = sorted(set(literals), key=lambda t: (-len(t), t))
    if not texts:
        return None
    return re.compile("|".join(re.escape(t) for t in texts))


def split_literals(
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
