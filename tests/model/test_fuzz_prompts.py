"""1000 random prompts through encode → next token: any Unicode (lone surrogates too),
control characters, special-token text, 20 000-character runs, in plain, special and
chat modes. The only error allowed is the clear one for a prompt longer than the
model's context (or with no token at all); every answer is a real distribution.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamalens.model.engine import Engine, encode_prompt
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.tiny_vocab import SPECIALS, tiny_vocab

EXAMPLES = {"hf": 350, "gguf": 350, "meta": 300}  # 1000 prompts in all


def fuzz(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,  # the same prompts on every run (CI); new ones when the code changes
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


any_char = st.characters(codec=None, exclude_categories=())  # lone surrogates included
control = st.sampled_from([chr(c) for c in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029, 0xFEFF)])
special_text = st.sampled_from(
    [*SPECIALS[:16], "<|", "|>", "<|im_start|>", "<|eot_id", "<s>", "</s>", "[INST]", "\u2581"]
)
run = st.builds(
    lambda c, n: c * n, st.one_of(any_char, control, st.just(" ")), st.integers(1, 20_000)
)
pieces = st.one_of(st.text(any_char, max_size=40), control, special_text, run)
prompts = st.lists(pieces, max_size=6).map("".join)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """The tiny model with each tokenizer kind: tokenizer.json with a chat template (HF),
    GGUF metadata (with a chat template) and a tiktoken tokenizer.model (Meta, none)."""
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tokenizer_files import (
        LLAMA3_CHAT_TEMPLATE,
        gguf_tokenizer_metadata,
        write_tokenizer_config,
    )

    vocab = tiny_vocab()
    cfg = tiny_config(vocab, max_seq_len=512)
    tensors = tiny_tensors(cfg, 11)
    root = tmp_path_factory.mktemp("fuzz-prompts")
    hf = write_hf(root / "hf", tensors, cfg, vocab)
    write_tokenizer_config(vocab, hf / "tokenizer_config.json", chat_template=LLAMA3_CHAT_TEMPLATE)
    gguf = root / "tiny.gguf"
    write_gguf(gguf, tensors, cfg, qtype="F32", tokenizer_metadata=gguf_tokenizer_metadata(vocab))
    return {
        "hf": Engine.load(hf, device="cpu"),
        "gguf": Engine.load(gguf, device="cpu"),
        "meta": Engine.load(write_meta(root / "meta", tensors, cfg, vocab), device="cpu"),
    }


def next_token_or_clear_error(engine: Engine, prompt: str, chat: bool, plain: bool) -> None:
    try:
        enc = engine.encode(prompt, chat=chat, plain=plain)
    except ValueError as exc:
        message = str(exc)
        if "the prompt is empty" in message:  # nothing the vocabulary could encode
            assert encode_prompt(engine.tokenizer, prompt, chat=chat, plain=plain).ids == []
            return
        assert "this model's context is 512 tokens" in message, message
        assert int(message.split("the prompt has ")[1].split()[0]) > 512
        return
    assert 1 <= len(enc.ids) <= engine.config.max_seq_len
    assert all(0 <= i < engine.tokenizer.n_vocab for i in enc.ids)
    top = engine.top_next(enc.ids, 5)
    probs = [t.prob for t in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9
    assert all(0 <= t.id < engine.config.vocab_size and np.isfinite(t.logit) for t in top)


@pytest.mark.parametrize("fmt", sorted(EXAMPLES))
def test_random_prompts_give_a_next_token_or_a_clear_error(engines, fmt):
    engine = engines[fmt]
    has_template = engine.tokenizer.chat_template is not None

    @fuzz(EXAMPLES[fmt])
    @given(prompt=prompts, chat=st.booleans(), plain=st.booleans())
    def check(prompt: str, chat: bool, plain: bool) -> None:
        next_token_or_clear_error(engine, prompt, chat and has_template, plain)

    check()
