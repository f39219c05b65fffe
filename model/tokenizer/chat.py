"""Chat templates: wrap a conversation in a model's special-token markup.

Only two formats are needed by Llama-family chat models we load, so they are written out
here instead of evaluating the Jinja template a checkpoint ships: Llama 3's header format and
ChatML (SmolLM2, Qwen2). :func:`detect_chat_template` recognises which one a Jinja template is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

TEMPLATE_NAMES = ("llama3", "chatml")
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

# ChatML templates that add a system turn when the conversation has none spell it out as
# '<|im_start|>system\n...<|im_end|>' inside a Jinja string literal.
_CHATML_DEFAULT_SYSTEM = re.compile(
    r"""(['"])<\|im_start\|>system(?:\n|\\n)((?:(?!\1).)*?)<\|im_end\|>""", re.DOTALL
)


@dataclass(frozen=True)
class ChatTemplate:
    """A chat format.

    Attributes:
        name: ``"llama3"`` or ``"chatml"``.
        default_system: system message inserted when the conversation does not start with
            one (SmolLM2's template does this), or None.
    """

    name: str
    default_system: str | None = None

    def __post_init__(self) -> None:
        if self.name not in TEMPLATE_NAMES:
            raise ValueError(
                f"chat template {self.name!r} is unknown, expected one of {TEMPLATE_NAMES}"
            )

    def render(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """The conversation as text containing special-token text.

        Args:
            messages: ``{"role": ..., "content": ...}`` dicts, roles such as system, user,
                assistant.
            add_generation_prompt: end with the opening of an assistant turn.

        Raises:
            ValueError: a message is not a dict with str ``role`` and ``content``.
        """
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or not all(
                isinstance(message.get(key), str) for key in ("role", "content")
            ):
                raise ValueError(
                    f"message {i} must be a dict with str 'role' and 'content', got {message!r}"
                )
        if self.name == "llama3":
            return _render_llama3(messages, add_generation_prompt)
        if self.default_system is not None and messages and messages[0]["role"] != "system":
            messages = [{"role": "system", "content": self.default_system}, *messages]
        return _render_chatml(messages, add_generation_prompt)


def _render_llama3(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    parts = ["<|begin_of_text|>"]
    for message in messages:
        parts.append(
            f"<|start_header_id|>{message['role']}<|end_header_id|>\n\n"
            f"{message['content']}<|eot_id|>"
        )
    if add_generation_prompt:
        parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)


def _render_chatml(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def detect_chat_template(source: str | list | None) -> ChatTemplate | None:
    """The format a Jinja chat template (from tokenizer_config.json or GGUF) uses, or None.

    Args:
        source: the template text, or Hugging Face's list of ``{"name", "template"}`` dicts.
    """
    if isinstance(source, list):
        named = {t.get("name"): t.get("template") for t in source if isinstance(t, dict)}
        source = named.get("default") or next(iter(named.values()), None)
    if not isinstance(source, str) or not source:
        return None
    if "<|start_header_id|>" in source:
        return ChatTemplate("llama3")
    if "<|im_start|>" in source:
        match = _CHATML_DEFAULT_SYSTEM.search(source)
        system = match.group(2).replace("\\n", "\n") if match else None
        return ChatTemplate("chatml", default_system=system)
    logger.info("chat template is neither Llama 3 nor ChatML; chat wrapping is unavailable")
    return None
