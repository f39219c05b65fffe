"""Chat templates: Llama 3 and ChatML rendering and detection from Jinja sources."""

from __future__ import annotations

import pytest

from llamalens.model.tokenizer import ChatTemplate, detect_chat_template, load_tokenizer
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import write_tokenizer_json

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]


def test_llama3_rendering() -> None:
    text = ChatTemplate("llama3").render(CONVERSATION)
    assert text == (
        "<|begin_of_text|>"
        "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    no_prompt = ChatTemplate("llama3").render(CONVERSATION, add_generation_prompt=False)
    assert no_prompt.endswith("Bye<|eot_id|>")


def test_chatml_rendering_and_default_system() -> None:
    template = detect_chat_template(SMOLLM2_TEMPLATE)
    assert template == ChatTemplate(
        "chatml", "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    )
    user_only = template.render([{"role": "user", "content": "Hi"}])
    assert user_only == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    assert template.render(CONVERSATION[:2]) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert template.render([], add_generation_prompt=False) == ""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (None, None),
        ("", None),
        ("{{ messages[0]['content'] }}", None),
        ("{% if x %}<|start_header_id|>{% endif %}", ChatTemplate("llama3")),
        ("{{'<|im_start|>' + m['role'] + '\\n'}}", ChatTemplate("chatml")),
        (
            "{{ '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{{'<|im_start|>'}}",
            ChatTemplate("chatml", "You are Qwen."),
        ),
        (
            [
                {"name": "tool_use", "template": "x"},
                {"name": "default", "template": "<|im_start|>"},
            ],
            ChatTemplate("chatml"),
        ),
    ],
)
def test_detection(source: object, expected: ChatTemplate | None) -> None:
    assert detect_chat_template(source) == expected


def test_invalid_templates_and_messages() -> None:
    with pytest.raises(ValueError, match="'vicuna' is unknown"):
        ChatTemplate("vicuna")
    with pytest.raises(ValueError, match="message 1 must be a dict"):
        ChatTemplate("chatml").render([{"role": "user", "content": "a"}, {"role": "user"}])


def test_apply_chat_needs_a_template(tmp_path) -> None:
    tok = load_tokenizer(write_tokenizer_json(tiny_vocab(), tmp_path / "tokenizer.json"))
    assert tok.chat_template is None
    with pytest.raises(ValueError, match="has no chat template"):
        tok.apply_chat("hi")
