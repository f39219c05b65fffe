"""Where a checkpoint keeps its chat template, and reading it with clear errors.

- Hugging Face directories: ``chat_template.jinja`` (transformers >= 4.50 writes it and reads
  it first), else ``tokenizer_config.json``'s ``chat_template``: a string, or a list of
  ``{"name", "template"}`` of which transformers uses the one named ``default``.
- GGUF: the ``tokenizer.chat_template`` metadata string.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llamalens.model.errors import CheckpointError
from llamalens.model.files import read_limited
from llamalens.model.tokenizer.chat import SPECIAL_TOKEN_NAMES, ChatTemplate
from llamalens.model.tokenizer.jinja_sandbox import MAX_TEMPLATE_CHARS, compile_template

logger = logging.getLogger(__name__)

JINJA_FILE = "chat_template.jinja"


def make_template(
    source: str, origin: str, path: Path, what: str, special_tokens: Mapping[str, str]
) -> ChatTemplate:
    """A ChatTemplate, or one CheckpointError naming ``path`` when it does not compile.

    Args:
        source: the Jinja text.
        origin: where it came from, quoted when rendering fails.
        path: the file at fault, for the error.
        what: the field it was read from, e.g. ``"chat_template"``.
        special_tokens: see :attr:`ChatTemplate.special_tokens`.
    """
    try:
        compile_template(source)
    except ValueError as exc:
        raise CheckpointError(path, f"{what} {exc}") from None
    return ChatTemplate(source, origin, special_tokens)


def hf_chat_template(
    directory: Path, config: Mapping[str, Any], special_tokens: Mapping[str, str]
) -> ChatTemplate | None:
    """The template of a Hugging Face tokenizer directory, or None when it has none.

    Args:
        directory: holds ``chat_template.jinja`` and/or ``tokenizer_config.json``.
        config: the parsed ``tokenizer_config.json`` ({} when there is none).
        special_tokens: text of bos_token, eos_token... for the template.

    Raises:
        CheckpointError: the file is unreadable, the field malformed, or the template does
            not compile.
    """
    jinja = directory / JINJA_FILE
    if jinja.exists():
        try:
            source = read_limited(jinja, 4 * MAX_TEMPLATE_CHARS, "a chat template").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError(jinja, f"cannot be read as UTF-8 text ({exc})") from exc
        if not source.strip():
            raise CheckpointError(jinja, "is empty, expected a Jinja chat template")
        return make_template(source, str(jinja), jinja, "the template", special_tokens)
    config_path = directory / "tokenizer_config.json"
    source = _configured_source(config_path, config.get("chat_template"))
    if source is None:
        return None
    origin = f"{config_path} (chat_template)"
    return make_template(source, origin, config_path, "chat_template", special_tokens)


def _configured_source(config_path: Path, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise CheckpointError(config_path, "chat_template is empty, expected a Jinja template")
        return value
    if not isinstance(value, list):
        raise CheckpointError(
            config_path,
            f"chat_template is a {type(value).__name__}, expected a string or a list of "
            "{'name', 'template'} objects",
        )
    named: dict[str, str] = {}
    for k, entry in enumerate(value):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("template"), str)
        ):
            raise CheckpointError(
                config_path, f"chat_template[{k}] needs a str 'name' and a str 'template'"
            )
        named[entry["name"]] = entry["template"]
    if "default" not in named:
        logger.warning(
            "%s: chat_template names %s but no 'default' template; chat is off",
            config_path,
            sorted(named),
        )
        return None
    return _configured_source(config_path, named["default"])


def gguf_chat_template(
    metadata: Mapping[str, Any], path: Path, special_tokens: Mapping[str, str]
) -> ChatTemplate | None:
    """The ``tokenizer.chat_template`` of a GGUF file, or None.

    Raises:
        CheckpointError: the value is not a string or does not compile.
    """
    value = metadata.get("tokenizer.chat_template")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CheckpointError(
            path, f"tokenizer.chat_template is {value!r:.60}, expected a Jinja template string"
        )
    origin = f"{path} (tokenizer.chat_template)"
    return make_template(value, origin, path, "tokenizer.chat_template", special_tokens)


def special_token_texts(texts: Mapping[str, str | None]) -> dict[str, str]:
    """The special tokens a template sees: the known names whose text is set."""
    return {name: texts[name] for name in SPECIAL_TOKEN_NAMES if texts.get(name) is not None}
