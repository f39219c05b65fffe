"""SentencePiece-style ``tokenizer.json`` files (Llama 2, Mistral, TinyLlama: ``▁`` for spaces,
``<0xNN>`` byte fallback) run by the Hugging Face ``tokenizers`` library.

tiktoken cannot express these (the space marker, byte fallback, score- or merge-ordered
pieces over characters rather than bytes), so the library that wrote them encodes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tokenizers

from llamalens.model.config import LIMITS
from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer.chat import ChatTemplate
from llamalens.model.tokenizer.core import Encoded, Tokenizer, check_text

SPACE = "\u2581"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


class HfTokenizer(Tokenizer):
    """A ``tokenizers.Tokenizer`` behind the :class:`Tokenizer` interface.

    Two copies of the library's tokenizer are kept: one that matches special-token text and
    one that encodes it as text (``encode_special_tokens``), for ``allow_special=False``.
    """

    def __init__(
        self,
        *,
        name: str,
        json_text: str,
        entries: list[tuple[bytes, bool] | None],
        bos_id: int | None,
        eos_id: int | None,
        stop_ids: Iterable[int] = (),
        add_bos: bool = True,
        chat_template: ChatTemplate | None = None,
    ) -> None:
        self.name = name
        self._special = tokenizers.Tokenizer.from_str(json_text)
        self._plain = tokenizers.Tokenizer.from_str(json_text)
        self._plain.encode_special_tokens = True
        for tok in (self._special, self._plain):
            tok.no_truncation()
            tok.no_padding()
        self._entries = entries
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
        """See :meth:`Tokenizer.encode_detailed`; the library's post-processor is not run
        (BOS follows ``bos`` and :attr:`add_bos`)."""
        check_text(text)
        ids = self._bos_prefix(bos)
        library = self._special if allow_special else self._plain
        try:
            ids.extend(library.encode(text, add_special_tokens=False).ids)
        except BaseException as exc:  # a PanicException of the Rust library is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise ValueError(f"the tokenizers library failed on this text ({exc})") from None
        return Encoded(ids, [])

    def _entry(self, id: int) -> tuple[bytes, bool] | None:
        return self._entries[id]


def is_sentencepiece_kind(data: Mapping[str, Any]) -> bool:
    """A tokenizer.json that marks spaces with ``▁`` or falls back to byte pieces."""
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    if model.get("type") == "Unigram" or model.get("byte_fallback"):
        return True
    return space_marker(data) is not None


def space_marker(data: Mapping[str, Any]) -> str | None:
    """The character standing for a space: a Metaspace replacement, or what a Replace
    normalizer turns ``" "`` into; None if the file has neither."""
    for step in _steps(data.get("pre_tokenizer")) + _steps(data.get("decoder")):
        if step.get("type") == "Metaspace":
            return str(step.get("replacement", SPACE))
    for step in _steps(data.get("normalizer")):
        if step.get("type") == "Replace" and (step.get("pattern") or {}).get("String") == " ":
            return str(step.get("content"))
    return None


def _steps(config: Any) -> list[dict[str, Any]]:
    if not isinstance(config, dict):
        return []
    for key in ("pretokenizers", "decoders", "normalizers"):
        if isinstance(config.get(key), list):
            return [s for sub in config[key] for s in _steps(sub)]
    return [config]


def hf_entries(
    path: Path, data: Mapping[str, Any], added: Mapping[str, int], special: Iterable[int]
) -> list[tuple[bytes, bool] | None]:
    """(bytes, special) for every id: added tokens are their text; pieces decode ``▁`` to a
    space and, with byte fallback, ``<0xNN>`` to the byte.

    Raises:
        CheckpointError: the vocabulary is not a piece -> id object, or ids collide.
    """
    model = data["model"]
    vocab = model.get("vocab")
    if model.get("type") == "Unigram" and isinstance(vocab, list):
        vocab = {entry[0]: i for i, entry in enumerate(vocab) if isinstance(entry, list) and entry}
    limit = LIMITS["vocab_size"]
    if not isinstance(vocab, dict) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < limit for i in vocab.values()
    ):
        raise CheckpointError(path, f"model.vocab must map each piece to an id in 0..{limit - 1:,}")
    if any(not 0 <= i < limit for i in added.values()):
        raise CheckpointError(path, f"added_tokens ids must lie in 0..{limit - 1:,}")
    marker = space_marker(data) or SPACE
    byte_fallback = bool(model.get("byte_fallback"))
    special = set(special)
    by_id: dict[int, tuple[bytes, bool]] = {}
    for piece, i in vocab.items():
        match = _BYTE_PIECE.fullmatch(piece) if byte_fallback else None
        by_id[i] = (
            (bytes([int(match.group(1), 16)]), False)
            if match
            else (
                piece.replace(marker, " ").encode("utf-8"),
                False,
            )
        )
    for text, i in added.items():
        by_id[i] = (text.encode("utf-8"), i in special)
    entries: list[tuple[bytes, bool] | None] = [None] * (max(by_id, default=-1) + 1)
    for i, entry in by_id.items():
        entries[i] = entry
    return entries


def load_sentencepiece_json(
    path: Path,
    data: Mapping[str, Any],
    added: Mapping[str, int],
    special: Iterable[int],
    *,
    bos_id: int | None,
    eos_id: int | None,
    stop_ids: Iterable[int],
    add_bos: bool,
) -> HfTokenizer:
    """An :class:`HfTokenizer` for a parsed SentencePiece-style tokenizer.json.

    Raises:
        CheckpointError: the library refuses the file.
    """
    entries = hf_entries(path, data, added, special)
    kind = str(data["model"].get("type", "?")).lower()
    for section in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
        found = _regex_in(data.get(section))
        if found is not None:
            raise CheckpointError(
                path,
                f"{section} has a Regex pattern {found!r:.60}; the tokenizers library would run "
                "it with no time limit, so regexes are refused in this kind of tokenizer.json",
            )
    try:
        return HfTokenizer(
            name=f"tokenizers:{kind}",
            json_text=json.dumps(data),
            entries=entries,
            bos_id=bos_id,
            eos_id=eos_id,
            stop_ids=stop_ids,
            add_bos=add_bos,
        )
    except BaseException as exc:  # the Rust library raises Exception, or PanicException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):  # (a BaseException) on a bug
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(path, f"is refused by the tokenizers library ({first})") from None


def _regex_in(config: Any, depth: int = 0) -> str | None:
    """The first ``{"Regex": ...}`` pattern anywhere in a pipeline section, or None."""
    if depth > 32:
        return "<nested too deep>"
    if isinstance(config, dict):
        if "Regex" in config:
            return str(config["Regex"])
        items = config.values()
    elif isinstance(config, list):
        items = config
    else:
        return None
    return next((r for v in items if (r := _regex_in(v, depth + 1)) is not None), None)
