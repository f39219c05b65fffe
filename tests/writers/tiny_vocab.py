"""A tiny, deterministic byte-level BPE vocabulary for test checkpoints.

Every checkpoint format the tests write (Meta ``tokenizer.model``, HF
``tokenizer.json``, GGUF metadata) encodes this one vocabulary, so a prompt
tokenizes to the same ids through every loader.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

TRAINING_TEXT = (
    "the quick brown fox jumps over the lazy dog. the cat sat on the mat. "
    "attention is all you need; rotary position embeddings rotate pairs. "
    "hello world! hello there, the model thinks."
)
# Meta's Llama 3 special tokens, so that a Meta tokenizer.model (whose loader always adds
# these 256 after the last rank) gives the same special ids as tokenizer.json and GGUF.
_NAMED = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|step_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
    "<|image|>",
]
SPECIALS = _NAMED + [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(_NAMED))]
# Qwen2's special tokens (its chat markup is ChatML)
QWEN2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
N_MERGES = 44


@dataclass(frozen=True)
class TinyVocab:
    """tokens[i] is the byte string of token id i; specials follow the BPE tokens."""

    tokens: list[bytes]
    merges: list[tuple[bytes, bytes]]
    specials: list[str]

    @property
    def n_bpe(self) -> int:
        return len(self.tokens)

    @property
    def size(self) -> int:
        return len(self.tokens) + len(self.specials)

    def special_id(self, text: str) -> int:
        return self.n_bpe + self.specials.index(text)


def tiny_vocab(specials: list[str] | None = None) -> TinyVocab:
    """Learn N_MERGES merges on TRAINING_TEXT, split on spaces like GPT-2 (space kept in front).

    Args:
        specials: the special tokens after the BPE tokens (default Meta's Llama 3 ones).
    """
    words = []
    for i, word in enumerate(TRAINING_TEXT.split(" ")):
        words.append((" " + word if i else word).encode())
    seqs = [[bytes([b]) for b in w] for w in words]
    tokens = [bytes([b]) for b in range(256)]
    merges: list[tuple[bytes, bytes]] = []
    for _ in range(N_MERGES):
        pairs = Counter()
        for s in seqs:
            pairs.update(zip(s, s[1:]))
        if not pairs:
            break
        (a, b), _n = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append((a, b))
        tokens.append(a + b)
        for s in seqs:
            i = 0
            while i < len(s) - 1:
                if s[i] == a and s[i + 1] == b:
                    s[i : i + 2] = [a + b]
                i += 1
    return TinyVocab(tokens=tokens, merges=merges, specials=list(specials or SPECIALS))
