"""Chat templates: a model's own Jinja template, rendered as transformers renders it.

A :class:`ChatTemplate` is the Jinja source a checkpoint ships (``chat_template.jinja``,
``tokenizer_config.json`` or GGUF ``tokenizer.chat_template``; see
:mod:`model.tokenizer.chat_sources`), compiled once in the sandbox of
:mod:`model.tokenizer.jinja_sandbox`. Checkpoints that carry none (Meta's own Llama 2 and
Llama 3 directories) get the format Meta documents for them, written here as Jinja too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llamalens.model.tokenizer.jinja_sandbox import compile_template, render_template

logger = logging.getLogger(__name__)

# Tokens that end a turn in the chat formats we know; generation stops on them.
END_OF_TURN_TEXTS = frozenset(
    {
        "<|end_of_text|>",
        "<|eot_id|>",
        "<|eom_id|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<|end|>",
        "<end_of_turn>",
    }
)
# The special tokens transformers hands to a template (its ``special_tokens_map``).
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "pad_token")

# Meta's Llama 2 chat format (llama/generation.py, chat_completion): a system message goes
# inside the first user turn between <<SYS>> markers, every turn is stripped, each
# user/assistant pair is "<s>[INST] user [/INST] answer </s>", the last user turn is open.
LLAMA2_FORMAT = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set system = none -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- for message in turns -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Llama 2 chat needs user and assistant turns in turn, user first') }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'user' -%}"
    "{%- set text = message['content'] -%}"
    "{%- if loop.first and system is not none -%}"
    "{%- set text = '<<SYS>>\\n' ~ system ~ '\\n<</SYS>>\\n\\n' ~ text -%}"
    "{%- endif -%}"
    "{{ bos_token ~ '[INST] ' ~ text | trim ~ ' [/INST]' }}"
    "{%- else -%}"
    "{{ ' ' ~ message['content'] | trim ~ ' ' ~ eos_token }}"
    "{%- endif -%}"
    "{%- endfor -%}"
)
# Meta's Llama 3 format (llama_models ChatFormat): BOS, then per message a header with the
# role, a blank line, the stripped content and <|eot_id|>; an open assistant header last.
LLAMA3_FORMAT = (
    "{%- for message in messages -%}"
    "{%- if loop.first -%}{{ bos_token }}{%- endif -%}"
    "{{ '<|start_header_id|>' ~ message['role'] ~ '<|end_header_id|>\\n\\n' ~ "
    "message['content'] | trim ~ '<|eot_id|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif -%}"
)
BUILTIN_FORMATS = {"llama2": LLAMA2_FORMAT, "llama3": LLAMA3_FORMAT}


def template_kind(source: str) -> str:
    """A short name for the markup a template writes: llama2, llama3, chatml, gemma or jinja."""
    if "<|start_header_id|>" in source:
        return "llama3"
    if "<|im_start|>" in source:
        return "chatml"
    if "[INST]" in source:
        return "llama2"
    if "<start_of_turn>" in source:
        return "gemma"
    return "jinja"


@dataclass(frozen=True, eq=False)
class ChatTemplate:
    """A chat template ready to render.

    Attributes:
        source: the Jinja text.
        origin: where it comes from, for messages (``"/m/tokenizer_config.json
            (chat_template)"`` or ``"built-in llama2 format"``).
        special_tokens: the text of ``bos_token``, ``eos_token``... handed to the template.
        name: the kind of markup (see :func:`template_kind`).

    Raises:
        ValueError: the source does not compile (the message names the origin).
    """

    source: str
    origin: str
    special_tokens: Mapping[str, str] = field(default_factory=dict)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            compile_template(self.source)
        except ValueError as exc:
            raise ValueError(f"the chat template in {self.origin} {exc}") from None
        object.__setattr__(self, "name", template_kind(self.source))
        object.__setattr__(self, "special_tokens", dict(self.special_tokens))

    def __repr__(self) -> str:
        return f"ChatTemplate(name={self.name!r}, origin={self.origin!r})"

    def render(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """The conversation as text containing special-token text.

        Args:
            messages: ``{"role": ..., "content": ...}`` dicts, roles such as system, user,
                assistant.
            add_generation_prompt: end with the opening of an assistant turn.

        Raises:
            ValueError: a message is not a dict with str ``role`` and ``content``, or the
                template fails (its own ``raise_exception``, an error, a sandbox violation or
                a budget); the message names the template's origin.
        """
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or not all(
                isinstance(message.get(key), str) for key in ("role", "content")
            ):
                raise ValueError(
                    f"message {i} must be a dict with str 'role' and 'content', got {message!r}"
                )
        variables: dict[str, Any] = {
            **self.special_tokens,
            "messages": [dict(m) for m in messages],
            "tools": None,
            "documents": None,
            "add_generation_prompt": add_generation_prompt,
        }
        try:
            return render_template(compile_template(self.source), variables)
        except ValueError as exc:
            raise ValueError(f"the chat template in {self.origin} failed: {exc}") from None


def builtin_chat_template(kind: str, special_tokens: Mapping[str, str]) -> ChatTemplate:
    """Meta's documented format for checkpoints that ship no template.

    Args:
        kind: ``"llama2"`` or ``"llama3"``.
        special_tokens: at least ``bos_token`` (and ``eos_token`` for Llama 2).
    """
    if kind not in BUILTIN_FORMATS:
        raise ValueError(f"no built-in chat format {kind!r} (known: {sorted(BUILTIN_FORMATS)})")
    return ChatTemplate(BUILTIN_FORMATS[kind], f"built-in {kind} format", special_tokens)
