"""Chat templates render exactly as transformers' ``apply_chat_template``, come from the files
transformers reads, and a hostile template neither runs code nor hangs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import transformers

from llamalens.model.errors import CheckpointError
from llamalens.model.tokenizer import ChatTemplate, Tokenizer, builtin_chat_template, load_tokenizer
from llamalens.model.tokenizer.chat import LLAMA2_FORMAT, LLAMA3_FORMAT
from llamalens.model.tokenizer.gguf_tokenizer import load_gguf_tokenizer
from tests.writers.sentencepiece_files import train_llama2_tokenizer, write_hf_tokenizer_files
from tests.writers.tiny_vocab import tiny_vocab
from tests.writers.tokenizer_files import (
    LLAMA3_CHAT_TEMPLATE,
    gguf_tokenizer_metadata,
    write_tokenizer_config,
    write_tokenizer_json,
)

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# The Llama 2 chat format written the way Hugging Face-style templates spell it (a system
# message folded into the first user turn, BOS before every user turn, stripped contents).
LLAMA2_HF_STYLE = (
    "{% if messages[0]['role'] == 'system' %}{% set rest = messages[1:] %}"
    "{% set system = messages[0]['content'] %}{% else %}{% set rest = messages %}"
    "{% set system = false %}{% endif %}{% for message in rest %}"
    "{% if loop.index0 == 0 and system != false %}"
    "{% set content = '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% else %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
# A model's own template: multi-line (trim_blocks / lstrip_blocks matter), namespace, tojson,
# loop controls, the generation tag, raise_exception and a default system message.
OWN_TEMPLATE = """\
{%- set ns = namespace(system='You are a careful assistant.', turns=0) -%}
{%- if messages and messages[0].role == 'system' -%}
    {%- set ns.system = messages[0].content -%}
    {%- set messages = messages[1:] -%}
{%- endif -%}
<|im_start|>system
{{ ns.system }}
{%- if tools %}

{% for tool in tools %}{{ tool | tojson }}{% endfor %}
{%- endif %}<|im_end|>
{% for message in messages %}
    {% if message.role not in ('user', 'assistant') %}
        {{ raise_exception('unknown role ' ~ message.role) }}
    {% endif %}
    {% if loop.index > 8 %}{% break %}{% endif %}
    {% set ns.turns = ns.turns + 1 %}
<|im_start|>{{ message.role }}
{% if message.role == 'assistant' %}
{% generation %}{{ message.content | trim }}{% endgeneration %}
{% else %}
{{ message.content }}
{% endif %}
<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}"""
CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " Why? \n"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": " Hello!  "},
        {"role": "user", "content": "日本語で?\n"},
    ],
]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tokenizer directory per template kind, each readable by transformers too."""
    root = tmp_path_factory.mktemp("chat")
    model = train_llama2_tokenizer(root / "tokenizer.model")
    out = {"llama2": write_hf_tokenizer_files(root / "llama2", model)}
    vocab = tiny_vocab()
    for name, template in (("llama3", None), ("chatml", SMOLLM2_TEMPLATE), ("own", None)):
        directory = root / name
        directory.mkdir()
        write_tokenizer_json(vocab, directory / "tokenizer.json")
        write_tokenizer_config(vocab, directory / "tokenizer_config.json", chat_template=template)
        out[name] = directory
    (out["own"] / "chat_template.jinja").write_text(OWN_TEMPLATE, encoding="utf-8")
    return out


def reference(directory: Path, messages: list, generation: bool, template: str | None) -> str:
    tok = transformers.AutoTokenizer.from_pretrained(directory)
    return tok.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation, chat_template=template
    )


@pytest.mark.parametrize("generation", [True, False])
@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_every_kind_renders_like_transformers(
    dirs: dict[str, Path], messages: list, generation: bool
) -> None:
    """Built-in Llama 2 and Llama 3 formats against the same formats written as Hugging Face
    templates; a tokenizer_config.json ChatML template and a chat_template.jinja file against
    transformers reading the same directory."""
    llama2 = builtin_chat_template("llama2", {"bos_token": "<s>", "eos_token": "</s>"})
    llama3 = builtin_chat_template("llama3", {"bos_token": "<|begin_of_text|>"})
    cases = [
        (llama2, dirs["llama2"], LLAMA2_HF_STYLE),
        (llama3, dirs["llama3"], LLAMA3_CHAT_TEMPLATE),
        (load_tokenizer(dirs["chatml"]).chat_template, dirs["chatml"], None),
        (load_tokenizer(dirs["own"]).chat_template, dirs["own"], None),
    ]
    for ours, directory, template in cases:
        expected = reference(directory, messages, generation, template)
        assert ours.render(messages, add_generation_prompt=generation) == expected, ours.name
    assert [c[0].name for c in cases] == ["llama2", "llama3", "chatml", "chatml"]


def test_builtin_sources_render_like_transformers(dirs: dict[str, Path]) -> None:
    """The built-in sources given to transformers as they are."""
    for source, directory in ((LLAMA2_FORMAT, dirs["llama2"]), (LLAMA3_FORMAT, dirs["llama3"])):
        kind = "llama2" if source is LLAMA2_FORMAT else "llama3"
        specials = {"bos_token": "<s>", "eos_token": "</s>"}
        if kind == "llama3":
            specials = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
        ours = builtin_chat_template(kind, specials)
        for messages in CONVERSATIONS:
            assert ours.render(messages) == reference(directory, messages, True, source)


def test_apply_chat_wraps_one_user_message(dirs: dict[str, Path]) -> None:
    tok = load_tokenizer(dirs["chatml"])
    assert tok.apply_chat("Hi") == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    assert tok.apply_chat("Hi", system="Be brief.") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_jinja_file_wins_over_tokenizer_config(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    write_tokenizer_json(vocab, tmp_path / "tokenizer.json")
    write_tokenizer_config(vocab, tmp_path / "tokenizer_config.json", chat_template="A")
    assert load_tokenizer(tmp_path).apply_chat("x") == "A"
    (tmp_path / "chat_template.jinja").write_text("B{{ messages[0].content }}")
    tok = load_tokenizer(tmp_path)
    assert tok.apply_chat("x") == "Bx"
    assert tok.chat_template.origin == str(tmp_path / "chat_template.jinja")


def _with_config_template(tmp_path: Path, value: Any) -> Tokenizer:
    vocab = tiny_vocab()
    write_tokenizer_json(vocab, tmp_path / "tokenizer.json")
    write_tokenizer_config(vocab, tmp_path / "tokenizer_config.json")
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["chat_template"] = value
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    return load_tokenizer(tmp_path)


def test_named_templates_use_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    named = [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]
    assert _with_config_template(tmp_path, named).apply_chat("x") == "D"
    with caplog.at_level(logging.WARNING):
        tok = _with_config_template(tmp_path, named[:1])
    assert tok.chat_template is None and "no 'default' template" in caplog.text


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{% for x in %}", "chat_template does not compile \\(line 1:"),
        ("{{ x }", "chat_template does not compile"),
        (42, "chat_template is a int, expected a string or a list"),
        ([{"name": "default"}], "chat_template\\[0\\] needs a str 'name' and a str 'template'"),
        ("  ", "chat_template is empty"),
    ],
)
def test_bad_config_templates(tmp_path: Path, value: Any, problem: str) -> None:
    with pytest.raises(CheckpointError, match=problem) as info:
        _with_config_template(tmp_path, value)
    assert info.value.path == tmp_path / "tokenizer_config.json"


def test_bad_jinja_file(tmp_path: Path) -> None:
    vocab = tiny_vocab()
    write_tokenizer_json(vocab, tmp_path / "tokenizer.json")
    (tmp_path / "chat_template.jinja").write_text("ok\n{% if %}")
    with pytest.raises(CheckpointError, match="does not compile \\(line 2:") as info:
        load_tokenizer(tmp_path)
    assert info.value.path == tmp_path / "chat_template.jinja"
    (tmp_path / "chat_template.jinja").write_bytes(b"\xff\xfe bad")
    with pytest.raises(CheckpointError, match="cannot be read as UTF-8"):
        load_tokenizer(tmp_path)


def test_gguf_templates(tmp_path: Path) -> None:
    meta = gguf_tokenizer_metadata(tiny_vocab())
    path = tmp_path / "m.gguf"
    tok = load_gguf_tokenizer(meta, path)
    assert tok.chat_template.origin == f"{path} (tokenizer.chat_template)"
    assert tok.apply_chat("hi").startswith("<|begin_of_text|><|start_header_id|>user")
    for bad, problem in ((7, "expected a Jinja template string"), ("{% if", "does not compile")):
        with pytest.raises(CheckpointError, match=problem):
            load_gguf_tokenizer({**meta, "tokenizer.chat_template": bad}, path)
    del meta["tokenizer.chat_template"]
    assert load_gguf_tokenizer(meta, path).chat_template is None


def test_template_errors_name_the_file(tmp_path: Path) -> None:
    template = ChatTemplate(OWN_TEMPLATE, "/m/chat_template.jinja")
    with pytest.raises(ValueError, match="chat_template.jinja failed: unknown role tool"):
        template.render([{"role": "tool", "content": "x"}])
    llama2 = builtin_chat_template("llama2", {"bos_token": "<s>", "eos_token": "</s>"})
    with pytest.raises(ValueError, match="built-in llama2 format failed: Llama 2 chat needs"):
        llama2.render([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    with pytest.raises(ValueError, match="message 1 must be a dict"):
        llama2.render([{"role": "user", "content": "a"}, {"role": "user"}])


def test_apply_chat_needs_a_template(tmp_path: Path) -> None:
    tok = load_tokenizer(write_tokenizer_json(tiny_vocab(), tmp_path / "tokenizer.json"))
    assert tok.chat_template is None
    with pytest.raises(ValueError, match="has no chat template"):
        tok.apply_chat("hi")


HOSTILE = [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "sandbox forbids"),
    ("{{ cycler.__init__.__globals__.os.system('touch {marker}') }}", "sandbox forbids"),
    ("{{ self._TemplateReference__context.joiner.__init__.__globals__ }}", "sandbox forbids"),
    ("{{ messages.__class__.__base__.__subclasses__() }}", "sandbox forbids"),
    ("{{ (messages|first).update({'role': 'x'}) }}", "sandbox forbids"),
    ("{{ namespace(_secret=1) }}", "sandbox forbids"),
    ("{{ raise_exception.__globals__['__builtins__'] }}", "sandbox forbids"),
    ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "steps"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "RecursionError"),
    (
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        "'~' made a value of 1,048,576",
    ),
    ("{{ 'x' * 10**9 }}", "would make 1,000,000,000"),
    ("{{ [0] * 10**9 }}", "would make 2,000,000,000"),  # items and their own weight
    ("{{ 'x'|center(10**9) }}", "filter 'center' got the number"),
    ("{{ 'x'.ljust(10**9) }}", "a call got the number"),
    ("{{ '{:>999999999}'.format(1) }}", "huge width"),
    ("{{ '%999999999d' % 1 }}", "huge width"),
    ("{{ 7 ** 999999 }}", "too large"),
    ("{% set s = 'a' * 999999 %}{{ s | replace('a', s) }}", "could make a result of up to"),
    ("{% set s = 'x' * 99999 %}{{ s.join(['ab'] * 99999) }}", "could make a result of up to"),
    ("{% set s = 'a' * 999 %}{{ ([s] * 999999) | join }}", "would make 999,999,000 items"),
    ("{% set s = '\\n' * 99999 %}{{ s | indent(s) }}", "could make a result of up to"),
    ("{% for i in range(300) %}{{ 'y' * 999999 }}{% endfor %}", "output is longer"),
]


@pytest.mark.parametrize(("source", "problem"), HOSTILE)
def test_hostile_templates_fail_cleanly(tmp_path: Path, source: str, problem: str) -> None:
    marker = tmp_path / "ran"
    template = ChatTemplate(source.replace("{marker}", str(marker)), "/m/chat_template.jinja")
    with pytest.raises(ValueError, match=problem) as info:
        template.render([{"role": "user", "content": "hi"}])
    assert str(info.value).startswith("the chat template in /m/chat_template.jinja failed:")
    assert not marker.exists()


def test_a_budget_does_not_outlive_its_render() -> None:
    """After a stopped render the next one runs normally (the tracer was restored)."""
    import sys

    before = sys.gettrace()
    looping = ChatTemplate(HOSTILE[7][0], "loop")
    with pytest.raises(ValueError, match="steps"):
        looping.render([])
    assert sys.gettrace() is before
    fine = ChatTemplate("{% for i in range(50000) %}{% endfor %}ok", "fine")
    assert fine.render([]) == "ok"
