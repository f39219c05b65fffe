"""Turn a byte-level BPE vocabulary (tokens, ids, merges) into tiktoken mergeable ranks.

tiktoken uses a token's rank both as its merge priority and as the id it returns, while a
Hugging Face / llama.cpp BPE merges pairs in the order of the ``merges`` list and returns the
vocabulary ids. When the ids grow with the merge order (true for GPT-2 style vocabularies) the
ids are the ranks. Otherwise the ranks follow the merge order and a table maps them back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from llamalens.model.config import LIMITS

logger = logging.getLogger(__name__)

NO_ID = -1


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from each byte to a printable character.

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space, NBSP,
    soft hyphen) take the characters from U+0100 on, in byte order.
    """
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(0x100 + extra)
            extra += 1
    return mapping


_UNSPELLABLE = 0xFFFF  # not Latin-1, so encoding it fails
_UNICODE_TO_BYTE = {ord(ch): b for b, ch in byte_to_unicode().items()}
_TRANSLATE = {cp: (_UNICODE_TO_BYTE.get(cp, _UNSPELLABLE)) for cp in range(0x100 + 68)}


def decode_byte_level(token: str) -> bytes:
    """The bytes a byte-level token string stands for (``"Ġthe"`` -> ``b" the"``).

    Raises:
        ValueError: the string uses a character outside GPT-2's byte alphabet.
    """
    try:
        return token.translate(_TRANSLATE).encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = token[exc.start]
        raise ValueError(
            f"token {token!r} has {bad!r} (U+{ord(bad):04X}), which is not in the "
            "GPT-2 byte-level alphabet"
        ) from None


def decode_merges(merges: Sequence[Any], known: dict[str, bytes]) -> list[tuple[bytes, bytes]]:
    """Merges as byte pairs, from ``"a b"`` strings or ``[a, b]`` pairs of byte-level tokens.

    Args:
        merges: the merge list as stored in tokenizer.json or GGUF.
        known: byte-level spelling -> bytes of tokens already decoded (saves decoding again).

    Raises:
        ValueError: an entry is not a pair of byte-level tokens.
    """
    cache = dict(known)
    out: list[tuple[bytes, bytes]] = []
    for k, merge in enumerate(merges):
        try:
            a, b = merge.split(" ") if isinstance(merge, str) else merge
            out.append((cache[a], cache[b]))
        except (KeyError, TypeError, ValueError):
            parts = merge.split(" ") if isinstance(merge, str) else merge
            if (
                not isinstance(parts, (list, tuple))
                or len(parts) != 2
                or not all(isinstance(p, str) for p in parts)
            ):
                raise ValueError(f"merge {k} {merge!r} is not a pair of tokens") from None
            out.append((decode_byte_level(parts[0]), decode_byte_level(parts[1])))
    return out


def encode_byte_level(data: bytes) -> str:
    """Inverse of :func:`decode_byte_level`."""
    table = byte_to_unicode()
    return "".join(table[b] for b in data)


@dataclass(frozen=True)
class BpeTables:
    """What a :class:`~model.tokenizer.core.Tokenizer` needs besides its pre-tokenizer.

    Attributes:
        mergeable_ranks: token bytes -> tiktoken rank; every single byte is present.
        special_ranks: text of every special or added token -> tiktoken rank.
        id_bytes: model id -> token bytes (None where the id has no token).
        literal_ids: text of every special or added token -> model id.
        special_ids: model ids of control tokens.
        rank_to_id: tiktoken rank -> model id (NO_ID for bytes the vocabulary lacks), or None
            when ranks are the model ids.
        missing_bytes: bytes without a token; they got synthetic ranks >= ``len(id_bytes)``.
    """

    mergeable_ranks: dict[bytes, int]
    special_ranks: dict[str, int]
    id_bytes: list[bytes | None]
    literal_ids: dict[str, int]
    special_ids: frozenset[int]
    rank_to_id: list[int] | None
    missing_bytes: frozenset[int]


def tables_from_ranks(ranks: dict[bytes, int], specials: dict[str, int]) -> BpeTables:
    """Tables for a tiktoken vocabulary (ranks are ids) plus special tokens."""
    literal = dict(specials)
    _check_ids([*ranks.values(), *literal.values()])
    id_bytes = _id_bytes(ranks, literal)
    mergeable = dict(ranks)
    missing = _add_missing_bytes(mergeable, len(id_bytes))
    return BpeTables(
        mergeable, dict(literal), id_bytes, literal, frozenset(literal.values()), None, missing
    )


def tables_from_merges(
    vocab: dict[bytes, int],
    merges: list[tuple[bytes, bytes]],
    literal_ids: dict[str, int],
    special_ids: Iterable[int],
    inert: dict[int, bytes] | None = None,
) -> BpeTables:
    """Tables for a merges-based byte-level BPE.

    Args:
        vocab: bytes of every ordinary (non-added) token -> model id.
        merges: the merge list, highest priority first.
        literal_ids: text of special and added tokens -> model id (matched whole in the text).
        special_ids: the ids among ``literal_ids`` that are control tokens.
        inert: id -> bytes of tokens that exist but are never produced (unused slots).

    Raises:
        ValueError: a merge uses a token that is not in the vocabulary, or ids collide.
    """
    inert = inert or {}
    _check_ids([*vocab.values(), *literal_ids.values(), *inert])
    results = _merge_results(vocab, merges)
    singles = [t for t in vocab if len(t) == 1]
    orphans = len(vocab) - len(singles) - len(results)
    if orphans:
        logger.info("%d vocabulary tokens are made by no merge; BPE never produces them", orphans)
    id_bytes = _id_bytes(vocab, literal_ids, inert)
    result_ids = [vocab[t] for t in results]
    if all(a < b for a, b in zip(result_ids, result_ids[1:])):
        mergeable = {t: vocab[t] for t in (*singles, *results)}
        missing = _add_missing_bytes(mergeable, len(id_bytes))
        return BpeTables(
            mergeable,
            dict(literal_ids),
            id_bytes,
            dict(literal_ids),
            frozenset(special_ids),
            None,
            missing,
        )
    logger.info("vocabulary ids do not follow the merge order; translating tiktoken ranks")
    return _translated(vocab, singles, results, literal_ids, special_ids, id_bytes)


def _translated(
    vocab: dict[bytes, int],
    singles: list[bytes],
    results: list[bytes],
    literal_ids: dict[str, int],
    special_ids: Iterable[int],
    id_bytes: list[bytes | None],
) -> BpeTables:
    """Ranks: bytes 0..255 by value, merge results 256.. in merge order, then literals."""
    mergeable = {bytes([b]): b for b in range(256)}
    rank_to_id = [NO_ID] * 256
    for t in singles:
        rank_to_id[t[0]] = vocab[t]
    missing = frozenset(b for b in range(256) if rank_to_id[b] == NO_ID)
    for t in results:
        mergeable[t] = len(rank_to_id)
        rank_to_id.append(vocab[t])
    special_ranks = {}
    for text, model_id in literal_ids.items():
        special_ranks[text] = len(rank_to_id)
        rank_to_id.append(model_id)
    return BpeTables(
        mergeable,
        special_ranks,
        id_bytes,
        dict(literal_ids),
        frozenset(special_ids),
        rank_to_id,
        missing,
    )


def _merge_results(vocab: dict[bytes, int], merges: list[tuple[bytes, bytes]]) -> list[bytes]:
    """The token each merge makes, in merge order, first occurrence only."""
    results = [a + b for a, b in merges]
    needed = set(chain.from_iterable(merges))
    needed.update(results)
    if not needed <= vocab.keys():
        for i, (a, b) in enumerate(merges):
            part = next((p for p in (a, b, a + b) if p not in vocab), None)
            if part is not None:
                raise ValueError(
                    f"merge {i} ({encode_byte_level(a)} {encode_byte_level(b)}) "
                    f"needs token {encode_byte_level(part)!r}, which is not in "
                    "the vocabulary"
                )
    unique = list(dict.fromkeys(results))
    if len(unique) < len(merges):
        logger.info("%d merges repeat a token made by an earlier merge", len(merges) - len(unique))
    return unique


def _check_ids(ids: list[int]) -> None:
    """Ids are distinct and in 0..LIMITS vocab_size - 1 (the id table is as long as the
    largest id, so a stray 10**9 would size a 10**9-entry table)."""
    if any(i < 0 for i in ids):
        raise ValueError(f"negative token id {min(ids)}")
    top = max(ids, default=0)
    if top >= LIMITS["vocab_size"]:
        raise ValueError(
            f"token id {top:,} is past the largest allowed, {LIMITS['vocab_size'] - 1:,}"
        )
    seen: set[int] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"token id {i} is used by more than one token")
        seen.add(i)


def _id_bytes(
    vocab: dict[bytes, int], literal_ids: dict[str, int], inert: dict[int, bytes] | None = None
) -> list[bytes | None]:
    inert = inert or {}
    ids = [*vocab.values(), *literal_ids.values(), *inert]
    table: list[bytes | None] = [None] * (max(ids, default=-1) + 1)
    for i, data in inert.items():
        table[i] = data
    for data, i in vocab.items():
        table[i] = data
    for text, i in literal_ids.items():
        table[i] = text.encode("utf-8")
    return table


def _add_missing_bytes(mergeable: dict[bytes, int], first_free: int) -> frozenset[int]:
    """Give bytes without a token a synthetic rank, so tiktoken never fails on them."""
    missing = [b for b in range(256) if bytes([b]) not in mergeable]
    for k, b in enumerate(missing):
        mergeable[bytes([b])] = first_free + k
    return frozenset(missing)
