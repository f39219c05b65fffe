"""Write the tiny test vocabulary as a Meta, Hugging Face or GGUF tokenizer.

Checkpoint writers call these to put the same tokenizer into every test checkpoint format:

- :func:`write_tiktoken_model`: Llama 3 ``tokenizer.model`` (``base64(token) rank`` lines; the
  loader adds Meta's 256 special tokens after the last rank).
- :func:`write_tokenizer_json` (+ :func:`write_tokenizer_config`): Hugging Face files with the
  Llama 3 split regex and the vocabulary's own specials as added tokens.
- :func:`gguf_tokenizer_metadata`: GGUF ``tokenizer.*`` keys as plain Python values.

The vocabulary's specials are Meta's 256 Llama 3 special tokens, which a Meta file implies and
the other two store as added / control tokens, so every text gets the same ids through all three.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.writers.tiny_vocab import TinyVocab

LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# ChatML with a default system message, in the manner of Qwen2.5's template
QWEN2_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' -%}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>system\\nYou are a tiny test model.<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if not (message.role == 'system' and loop.first) -%}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)
LLAMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)


def _byte_alphabet() -> list[str]:
    """Character standing for each byte in GPT-2 byte-level vocabularies (index = byte)."""
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    chars, shifted = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + shifted))
            shifted += 1
    return chars


_ALPHABET = _byte_alphabet()


def byte_level(data: bytes) -> str:
    """``data`` spelled in the GPT-2 byte-level alphabet (``b" the"`` -> ``"Ġthe"``)."""
    return "".join(_ALPHABET[b] for b in data)


def write_tiktoken_model(vocab: TinyVocab, path: str | Path) -> Path:
    """Write a Llama 3 style ``tokenizer.model``: one ``base64(token) rank`` line per token."""
    path = Path(path)
    lines = [
        f"{base64.b64encode(tok).decode('ascii')} {rank}" for rank, tok in enumerate(vocab.tokens)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def tokenizer_json_dict(
    vocab: TinyVocab,
    *,
    merges_as_strings: bool = False,
    split: str | None = None,
    normalizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of a byte-level BPE ``tokenizer.json`` for ``vocab``.

    Args:
        vocab: the tiny vocabulary.
        merges_as_strings: write merges as ``"a b"`` strings (older files) instead of pairs.
        split: the pre-tokenizer's Split regex (default Llama 3's; Qwen2's with
            :data:`QWEN2_SPLIT`).
        normalizer: e.g. ``{"type": "NFC"}`` as Qwen2's files have.
    """
    merges = [[byte_level(a), byte_level(b)] for a, b in vocab.merges]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": vocab.special_id(text),
                "content": text,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for text in vocab.specials
        ],
        "normalizer": normalizer,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": split or LLAMA3_SPLIT},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": True,
                    "use_regex": False,
                },
            ],
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {byte_level(tok): i for i, tok in enumerate(vocab.tokens)},
            "merges": [" ".join(m) for m in merges] if merges_as_strings else merges,
        },
    }


def write_tokenizer_json(vocab: TinyVocab, path: str | Path, **options: Any) -> Path:
    """Write a Hugging Face ``tokenizer.json`` (byte-level BPE; options as for
    :func:`tokenizer_json_dict`, Llama 3 split regex by default)."""
    path = Path(path)
    path.write_text(
        json.dumps(tokenizer_json_dict(vocab, **options), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return path


def write_tokenizer_config(
    vocab: TinyVocab,
    path: str | Path,
    *,
    chat_template: str | None = None,
    add_bos_token: bool = False,
    bos_token: str | None = "",
    eos_token: str | None = "",
) -> Path:
    """Write ``tokenizer_config.json`` (bos/eos, add_bos_token, optional chat template).

    ``bos_token`` / ``eos_token`` default to the vocabulary's first two specials; None writes
    ``null`` (Qwen2 has no BOS).
    """
    path = Path(path)
    config: dict[str, Any] = {
        "bos_token": vocab.specials[0] if bos_token == "" else bos_token,
        "eos_token": vocab.specials[1] if eos_token == "" else eos_token,
        "add_bos_token": add_bos_token,
    }
    if chat_template is not None:
        config["chat_template"] = chat_template
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


def gguf_tokenizer_metadata(
    vocab: TinyVocab,
    *,
    pre: str = "llama-bpe",
    chat_template: str | None = LLAMA3_CHAT_TEMPLATE,
    bos: str = "<|begin_of_text|>",
    eos: str = "<|end_of_text|>",
) -> dict[str, Any]:
    """GGUF ``tokenizer.*`` metadata for ``vocab``: key -> plain Python value.

    Types for ``gguf.GGUFWriter``: strings, lists of str (tokens, merges), a list of int
    (token_type, INT32), uint32 ids and a bool.
    """
    meta = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": pre,
        "tokenizer.ggml.tokens": [byte_level(t) for t in vocab.tokens] + list(vocab.specials),
        "tokenizer.ggml.token_type": [1] * vocab.n_bpe + [3] * len(vocab.specials),
        "tokenizer.ggml.merges": [f"{byte_level(a)} {byte_level(b)}" for a, b in vocab.merges],
        "tokenizer.ggml.bos_token_id": vocab.special_id(bos),
        "tokenizer.ggml.eos_token_id": vocab.special_id(eos),
        "tokenizer.ggml.add_bos_token": False,
    }
    if chat_template is not None:
        meta["tokenizer.chat_template"] = chat_template
    return meta
