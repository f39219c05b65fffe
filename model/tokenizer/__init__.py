"""Tokenizers: Llama 3 tiktoken files, Hugging Face tokenizer.json and GGUF byte-level BPE.

Every tokenizer is a :class:`Tokenizer` over a ``tiktoken.Encoding``; a token knows its id,
bytes, text (invalid UTF-8 shown as ``\\xNN``) and whether it is special.
"""

from __future__ import annotations

from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import ChatTemplate, detect_chat_template
from llamalens.model.tokenizer.core import DroppedByte, Encoded, Token, Tokenizer
from llamalens.model.tokenizer.hf_json import load_hf_tokenizer_json
from llamalens.model.tokenizer.loaders import (
    llama3_special_tokens,
    load_gguf_tokenizer,
    load_tiktoken_model,
    load_tokenizer,
)

__all__ = [
    "BpeTokenizer",
    "ChatTemplate",
    "DroppedByte",
    "Encoded",
    "Token",
    "Tokenizer",
    "detect_chat_template",
    "llama3_special_tokens",
    "load_gguf_tokenizer",
    "load_hf_tokenizer_json",
    "load_tiktoken_model",
    "load_tokenizer",
]
