"""What the walkthrough costs (run: python benchmarks/walkthrough_capture.py).

- ``decode_ms`` / ``decode_untapped_ms``: one generated token with the KV cache, with the
  feed-forward taps the walkthrough reads and with a forward that skips them (medians of
  rounds that alternate the two; the taps must not slow the plain forward).
- ``walk_s`` vs ``plain_s``: one position's detail (:meth:`Engine.walk`) against a plain
  forward pass of the same prompt, and the detail's size in KB.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from llamalens.model.engine import Engine
from llamalens.model.llama import FeedForward

PROMPT = "The capital of France is Paris. " * 8
ROUNDS, STEPS = 5, 20


def untapped(self: FeedForward, x: torch.Tensor) -> torch.Tensor:
    gate, up = F.linear(x, self.w13).chunk(2, dim=-1)
    return self.w2(F.silu(gate) * up)


def decode_ms(engine: Engine, ids: list[int], steps: int = 60) -> float:
    module = engine.module
    module(torch.tensor([ids]), use_cache=True, last_only=True)
    times = []
    for i in range(steps):
        start = time.perf_counter()
        module(torch.tensor([[ids[-1]]]), start_pos=len(ids) + i, use_cache=True)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def seconds(call, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    engine = Engine.load(device="cpu")
    ids = engine.encode(PROMPT).ids
    # alternate the two, so that a busy machine slows both alike
    original = FeedForward.forward
    tapped, plain = [], []
    for _ in range(ROUNDS):
        tapped.append(decode_ms(engine, ids, STEPS))
        FeedForward.forward = untapped
        try:
            plain.append(decode_ms(engine, ids, STEPS))
        finally:
            FeedForward.forward = original
    t, u = statistics.median(tapped), statistics.median(plain)
    print(f"decode_ms {t:.2f}  decode_untapped_ms {u:.2f}  ratio {t / u:.3f}")
    tokens = torch.tensor([ids])
    plain_s = seconds(lambda: engine.module(tokens, last_only=True))
    walk_s = seconds(lambda: engine.walk(ids, [len(ids) - 1]))
    kb = engine.walk(ids, [len(ids) - 1]).nbytes / 1024
    print(f"tokens {len(ids)}  plain_s {plain_s:.3f}  walk_s {walk_s:.3f}  detail_kb {kb:.0f}")


if __name__ == "__main__":
    main()
