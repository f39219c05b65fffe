"""The shape of a ``tokenizer.json``, checked before anything reads it.

The loaders read the model (type, vocab, merges, flags), the added tokens and the
pipeline sections (normalizer, pre_tokenizer, post_processor, decoder: steps, nested
step lists, patterns, special-token templates). Every one of those values is checked
here for its JSON type, so that a file holding a list where a string belongs is one
CheckpointError naming the field, not an exception deep inside a loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError
from llamalens.model.fields import shown

SECTIONS = ("normalizer", "pre_tokenizer", "post_processor", "decoder")
_STRINGS = {"type", "replacement", "content", "behavior", "prepend_scheme", "id", "Regex",
            "String", "prefix", "suffix", "pattern_str"}  # fmt: skip
_BOOLS = {"individual_digits", "use_regex", "add_prefix_space", "invert", "trim_offsets",
          "split", "byte_fallback", "fuse_unk", "ignore_merges", "lowercase", "strip_accents",
          "clean_text", "handle_chinese_chars", "special", "single_word", "lstrip", "rstrip",
          "normalized"}  # fmt: skip
_OBJECTS = {"pattern", "SpecialToken", "Sequence", "special_tokens"}
_LISTS = {"normalizers", "pretokenizers", "processors", "decoders", "single", "pair"}
MAX_DEPTH = 16


def check_tokenizer_json(path: Path, data: dict[str, Any]) -> None:
    """Raise CheckpointError unless every field the loaders read has its JSON type."""
    model = data.get("model")
    if not isinstance(model, dict):
        raise CheckpointError(path, f"model is {shown(model)}, expected an object")
    _check_model(path, model)
    added = data.get("added_tokens")
    if added is not None and not isinstance(added, list):
        raise CheckpointError(path, f"added_tokens is {shown(added)}, expected a list")
    for section in SECTIONS:
        _check_step(path, section, data.get(section), 0)


def _check_model(path: Path, model: dict[str, Any]) -> None:
    for key in ("type", "continuing_subword_prefix", "end_of_word_suffix", "unk_token"):
        if model.get(key) is not None and not isinstance(model[key], str):
            raise CheckpointError(path, f"model.{key} is {shown(model[key])}, expected a string")
    if model.get("byte_fallback") is not None and not isinstance(model["byte_fallback"], bool):
        raise CheckpointError(path, f"model.byte_fallback is {shown(model['byte_fallback'])}")
    vocab = model.get("vocab")
    if isinstance(vocab, dict):
        bad = next((v for v in vocab.values() if not _is_int(v)), None)
        if bad is not None:
            raise CheckpointError(path, f"model.vocab holds the id {shown(bad)}, expected ints")
    elif isinstance(vocab, list):  # Unigram: [piece, score] pairs
        ok = all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and _is_number(e[1])
            for e in vocab
        )
        if not ok:
            raise CheckpointError(path, "model.vocab entries must be [piece, score] pairs")
    elif vocab is not None:
        raise CheckpointError(path, f"model.vocab is {shown(vocab)}, expected an object or a list")
    merges = model.get("merges")
    if merges is not None and not isinstance(merges, list):
        raise CheckpointError(path, f"model.merges is {shown(merges)}, expected a list")


def _check_step(path: Path, where: str, step: Any, depth: int) -> None:
    if step is None:
        return
    if depth > MAX_DEPTH:
        raise CheckpointError(path, f"{where} nests more than {MAX_DEPTH} levels deep")
    if not isinstance(step, dict):
        raise CheckpointError(path, f"{where} is {shown(step)}, expected an object")
    for key, value in step.items():
        at = f"{where}.{key}"
        if key in _STRINGS and not isinstance(value, str):
            raise CheckpointError(path, f"{at} is {shown(value)}, expected a string")
        if key in _BOOLS and not isinstance(value, bool):
            raise CheckpointError(path, f"{at} is {shown(value)}, expected true or false")
        if key in _OBJECTS:
            _check_step(path, at, value, depth + 1)
        if key in _LISTS:
            if not isinstance(value, list):
                raise CheckpointError(path, f"{at} is {shown(value)}, expected a list")
            for i, item in enumerate(value):
                _check_step(path, f"{at}[{i}]", item, depth + 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
