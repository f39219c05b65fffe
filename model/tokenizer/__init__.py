"""Tokenizers: tiktoken byte-level BPE (Llama 3, GPT-2-style ``tokenizer.json``, GGUF ``gpt2``),
SentencePiece through ``sentencepiece`` (Llama 1/2 ``tokenizer.model``, GGUF ``llama``) and
SentencePiece-style ``tokenizer.json`` through Hugging Face ``tokenizers``; every kind is a
:class:`Tokenizer`. Chat templates are the model's own Jinja, rendered in a sandbox.
"""

from __future__ import annotations

from llamalens.model.tokenizer.byte_bpe import BpeTokenizer
from llamalens.model.tokenizer.chat import ChatTemplate, builtin_chat_template
from llamalens.model.tokenizer.core import DroppedByte, Encoded, Token, Tokenizer
from llamalens.model.tokenizer.gguf_tokenizer import load_gguf_tokenizer
from llamalens.model.tokenizer.hf_json import load_hf_tokenizer_json
from llamalens.model.tokenizer.hf_tokenizers import HfTokenizer
from llamalens.model.tokenizer.loaders import (
    llama3_special_tokens,
    load_tiktoken_model,
    load_tokenizer,
    load_tokenizer_model,
)
from llamalens.model.tokenizer.sentencepiece_model import (
    SentencePieceTokenizer,
    load_sentencepiece_model,
)

__all__ = [
    "BpeTokenizer",
    "ChatTemplate",
    "DroppedByte",
    "Encoded",
    "HfTokenizer",
    "SentencePieceTokenizer",
    "Token",
    "Tokenizer",
    "builtin_chat_template",
    "llama3_special_tokens",
    "load_gguf_tokenizer",
    "load_hf_tokenizer_json",
    "load_sentencepiece_model",
    "load_tiktoken_model",
    "load_tokenizer",
    "load_tokenizer_model",
]
