"""How far bf16 and fp16 compute move the default model's logits and maps from fp32.

Run: python benchmarks/precision_drift.py

For a varied set of prompts (English, code, Chinese, a chat turn): the largest change
of any logit, of any attention probability (every layer and head), and whether the most
likely next token stays the same. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import numpy as np

from llamalens.model.engine import Engine

PROMPTS = {
    "english": ("The capital of France is", False),
    "code": ("def fibonacci(n):\n    if n < 2:\n        return n\n    return", False),
    "chinese": ("法国的首都是", False),
    "chat": ("What is the capital of France?", True),
    "digits": ("1, 2, 3, 4, 5, 6, 7,", False),
}


def main() -> None:
    engines = {d: Engine.load(device="cpu", dtype=d) for d in ("fp32", "bf16", "fp16")}
    exact = engines["fp32"]
    for name, (prompt, chat) in PROMPTS.items():
        ids = exact.encode(prompt, chat=chat).ids
        ref = exact.trace(ids)
        for dtype in ("bf16", "fp16"):
            t = engines[dtype].trace(ids)
            dl = float(np.abs(t.last_logits - ref.last_logits).max())
            dp = max(
                float(np.abs(t.probs(layer, h) - ref.probs(layer, h)).max())
                for layer in ref.layers
                for h in range(ref.n_heads)
            )
            same = int(np.argmax(t.last_logits)) == int(np.argmax(ref.last_logits))
            print(
                f"{name:8s} {dtype}: max |Δlogit| {dl:7.3f}  max |Δp| {dp:6.3f}  "
                f"top-1 {'kept' if same else 'CHANGED'}"
            )


if __name__ == "__main__":
    main()
