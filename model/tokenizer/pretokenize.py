"""Pre-tokenization: how text is cut into pieces before BPE merges run inside each piece.

A byte-level BPE never merges across a piece boundary, so the pieces decide a lot of the
token ids. tiktoken cuts pieces with one regex (``pat_str``). Some tokenizers first cut the
text with other regexes (Hugging Face ``Sequence`` pre-tokenizers, e.g. SmolLM2 isolates every
digit before the GPT-2 regex runs); those cuts are done here in Python, and tiktoken then runs
its regex inside each segment.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import regex

logger = logging.getLogger(__name__)

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
ONE_DIGIT = r"\p{N}"
DIGIT_RUN = r"\p{N}+"
WHOLE_SEGMENT = r"[\s\S]+"
KNOWN_PATTERNS = (GPT2_PATTERN, LLAMA3_PATTERN, QWEN2_PATTERN, ONE_DIGIT, DIGIT_RUN)

# A regex read from a tokenizer file runs with a time limit: at load against texts that
# make backtracking patterns explode (refused if one takes longer than PROBE_SECONDS), and
# on every prompt (a ValueError past REGEX_SECONDS).
PROBE_SECONDS = 0.5
REGEX_SECONDS = 5.0
_PROBES = tuple(
    run * 3000 + end
    for run in ("a", "1", " ", "\u00e9", "ab", "a1 ", "\n")
    for end in ("!", "\x00", "")
)

# Longest run of whitespace, or of non-whitespace, handed to BPE in one go. Meta's reference
# cuts at the same length; old tiktoken versions are quadratic in the length of one piece.
MAX_RUN = 25_000


def _long_run_pattern(limit: int) -> re.Pattern[str]:
    # The lookbehinds anchor each attempt at the start of a run, keeping the scan linear.
    n = limit + 1
    return re.compile(rf"(?<!\s)\s{{{n},}}|(?<!\S)\S{{{n},}}")


_LONG_RUN = _long_run_pattern(MAX_RUN)


@dataclass(frozen=True)
class PreTokenizer:
    """Cuts text into the segments that tiktoken's ``pat_str`` then cuts into pieces.

    Attributes:
        name: short description, e.g. ``"gpt2"``, ``"llama3"``, ``"smollm"``.
        pat_str: the tiktoken regex run inside every segment.
        isolate: regexes applied first, in order; each match becomes a segment of its own and
            the text between matches is kept as segments too (Hugging Face ``Isolated``).
        normalize: ``"NFC"`` to normalize each segment first, else None (offsets then refer
            to the normalized text).

    Raises:
        ValueError: a regex does not compile.
    """

    name: str
    pat_str: str
    isolate: tuple[str, ...] = ()
    normalize: str | None = None
    _compiled: tuple[Any, ...] = field(default=(), init=False, repr=False, compare=False)
    _pieces: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(_compile(p) for p in self.isolate))
        object.__setattr__(self, "_pieces", _compile(self.pat_str))

    def pieces(self, segment: str) -> Iterator[Any]:
        """The ``pat_str`` matches in ``segment`` (the pieces BPE runs on), as regex matches."""
        return self._pieces.finditer(segment)

    def segments(self, text: str) -> list[tuple[int, str]]:
        """The non-empty segments of ``text`` with their character offsets in ``text``."""
        if self.normalize is not None:
            text = unicodedata.normalize(self.normalize, text)
        parts = split_long_runs(text)
        for pattern in self._compiled:
            parts = [cut for off, seg in parts for cut in _isolate(pattern, seg, off)]
        return parts


def split_long_runs(text: str, limit: int = MAX_RUN) -> list[tuple[int, str]]:
    """Cut runs of more than ``limit`` whitespace (or non-whitespace) characters every ``limit``.

    Text without such runs comes back whole, so ordinary prompts keep their ids.
    """
    pattern = _LONG_RUN if limit == MAX_RUN else _long_run_pattern(limit)
    cuts = [0]
    for match in pattern.finditer(text):
        cuts.extend(range(match.start() + limit, match.end(), limit))
    cuts.append(len(text))
    return [(a, text[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a]


def _compile(pattern: str) -> Any:
    try:
        compiled = regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"pre-tokenizer regex {pattern!r:.80} does not compile ({exc})") from None
    if pattern not in KNOWN_PATTERNS:
        _probe(compiled)
    return compiled


def _probe(compiled: Any) -> None:
    """Refuse a regex that backtracks catastrophically on simple long runs."""
    for text in _PROBES:
        try:
            for _ in compiled.finditer(text, timeout=PROBE_SECONDS):
                pass
        except TimeoutError:
            raise ValueError(
                f"pre-tokenizer regex {compiled.pattern!r:.80} takes more than {PROBE_SECONDS} s "
                f"on a run of {len(text):,} characters ({text[:2]!r}...): a pattern that "
                "backtracks without end is refused"
            ) from None


def _isolate(pattern: Any, text: str, offset: int) -> list[tuple[int, str]]:
    """Matches of ``pattern`` and the gaps between them, in order, with absolute offsets.

    Raises:
        ValueError: a regex from a tokenizer file ran past :data:`REGEX_SECONDS`.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    try:
        matches = list(pattern.finditer(text, timeout=REGEX_SECONDS))
    except TimeoutError:
        raise ValueError(
            f"the tokenizer's pre-tokenizer regex {pattern.pattern!r:.80} ran for more than "
            f"{REGEX_SECONDS} s on this text ({len(text):,} characters): it cannot be tokenized"
        ) from None
    for match in matches:
        start, end = match.span()
        if end == start:
            continue
        if start > pos:
            out.append((offset + pos, text[pos:start]))
        out.append((offset + start, text[start:end]))
        pos = end
    if pos < len(text):
        out.append((offset + pos, text[pos:]))
    return out


_GPT2 = PreTokenizer("gpt2", GPT2_PATTERN)
_LLAMA3 = PreTokenizer("llama3", LLAMA3_PATTERN)
_QWEN2 = PreTokenizer("qwen2", QWEN2_PATTERN)
_DIGITS_GPT2 = PreTokenizer("smollm", GPT2_PATTERN, (ONE_DIGIT,))

# llama.cpp's names (``tokenizer.ggml.pre``) for the pre-tokenizers we know.
GGUF_PRESETS: dict[str, PreTokenizer] = {
    "default": _GPT2,
    "gpt2": _GPT2,
    "llama-bpe": _LLAMA3,
    "llama3": _LLAMA3,
    "llama-v3": _LLAMA3,
    "smaug-bpe": _LLAMA3,
    "dbrx": _LLAMA3,
    "smollm": _DIGITS_GPT2,
    "starcoder": _DIGITS_GPT2,
    "refact": _DIGITS_GPT2,
    "codeshell": _DIGITS_GPT2,
    "qwen2": _QWEN2,
    "deepseek-r1-qwen": _QWEN2,
}


def gguf_pretokenizer(pre: str | None) -> PreTokenizer:
    """The pre-tokenizer llama.cpp uses for ``tokenizer.ggml.pre``; GPT-2's for unknown names."""
    key = pre or "default"
    if key in GGUF_PRESETS:
        return GGUF_PRESETS[key]
    logger.warning(
        "unknown GGUF pre-tokenizer %r; falling back to the GPT-2 regex, so token "
        "ids may differ from the model's own tokenizer",
        key,
    )
    return PreTokenizer(f"{key}(gpt2 fallback)", GPT2_PATTERN)


def preset_name(pat_str: str, isolate: tuple[str, ...]) -> str:
    """The name of the known pre-tokenizer with this regex and these isolate steps, or 'custom'."""
    for preset in (_GPT2, _LLAMA3, _QWEN2, _DIGITS_GPT2):
        if preset.pat_str == pat_str and preset.isolate == isolate:
            return preset.name
    return "custom"


def hf_pretokenizer(
    config: dict[str, Any] | None,
    normalizer: dict[str, Any] | None = None,
) -> PreTokenizer:
    """Convert a Hugging Face ``tokenizer.json`` pre-tokenizer to a :class:`PreTokenizer`.

    Supported: ``ByteLevel`` (last step; ``use_regex`` means the GPT-2 regex), ``Split`` with
    ``Isolated`` behaviour, ``Digits``, and ``Sequence`` of those; normalizer null or NFC.

    Raises:
        ValueError: the configuration is not a byte-level one we can reproduce exactly.
    """
    steps = _flatten(config)
    if not steps or steps[-1].get("type") != "ByteLevel":
        raise ValueError(
            "pre_tokenizer does not end with a ByteLevel step, so this is not a "
            f"byte-level BPE tokenizer (got {[s.get('type') for s in steps]})"
        )
    byte_level = steps[-1]
    if byte_level.get("add_prefix_space"):
        raise ValueError("ByteLevel add_prefix_space=true is not supported")
    isolate = [_isolate_regex(step) for step in steps[:-1]]
    if byte_level.get("use_regex", True):
        pat_str = GPT2_PATTERN
    elif isolate and isolate[-1] in KNOWN_PATTERNS:
        pat_str = _covering(isolate.pop())
    else:
        # a pattern from the file stays an isolate step (Python, with a time limit): its
        # matches and the gaps between them are whole pieces, as tiktoken's covering regex
        # would make them, but never run by tiktoken's regex engine without a limit
        pat_str = WHOLE_SEGMENT
    name = preset_name(pat_str, tuple(isolate))
    return PreTokenizer(name, pat_str, tuple(isolate), _normalizer(normalizer))


def _flatten(config: dict[str, Any] | None) -> list[dict[str, Any]]:
    if config is None:
        return []
    if not isinstance(config, dict):
        raise ValueError(f"pre_tokenizer is a {type(config).__name__}, expected an object")
    if config.get("type") == "Sequence":
        return [step for sub in config.get("pretokenizers", []) for step in _flatten(sub)]
    return [config]


def _isolate_regex(step: dict[str, Any]) -> str:
    kind = step.get("type")
    if kind == "Digits":
        return ONE_DIGIT if step.get("individual_digits") else DIGIT_RUN
    if kind != "Split":
        raise ValueError(
            f"pre_tokenizer step {kind!r} is not supported (expected Split, Digits or ByteLevel)"
        )
    behavior = str(step.get("behavior", ""))
    if behavior.lower() != "isolated" or step.get("invert"):
        raise ValueError(
            f"Split with behavior {behavior!r} invert={step.get('invert')} is not "
            "supported (expected Isolated, invert false)"
        )
    pattern = step.get("pattern") or {}
    if "Regex" in pattern:
        _compile(str(pattern["Regex"]))  # report the file's regex, not a wrapped one
        return str(pattern["Regex"])
    if "String" in pattern:
        return regex.escape(str(pattern["String"]))
    raise ValueError(f"Split pattern {pattern!r} has neither Regex nor String")


def _covering(pattern: str) -> str:
    """A tiktoken regex giving the matches of ``pattern`` and also the gaps between them.

    tiktoken silently skips text its regex does not match, whereas Hugging Face keeps it as a
    piece. The known patterns match every character already.
    """
    if pattern in (GPT2_PATTERN, LLAMA3_PATTERN, QWEN2_PATTERN):
        return pattern
    return f"(?:{pattern})|(?:(?!(?:{pattern}))[\\s\\S])+"


def _normalizer(config: dict[str, Any] | None) -> str | None:
    if config is None:
        return None
    kind = config.get("type") if isinstance(config, dict) else config
    if kind == "NFC":
        return "NFC"
    raise ValueError(f"normalizer {kind!r} is not supported (expected null or NFC)")
