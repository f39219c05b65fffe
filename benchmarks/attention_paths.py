"""Attention speed: SDPA's own causal mask vs an explicit mask, and map rebuilds.

Run: python benchmarks/attention_paths.py [--tokens 1024,4096]

1. One attention layer of the default model's shape (9 heads, 3 KV heads, head_dim 64)
   through ``scaled_dot_product_attention`` with ``is_causal=True`` (what a fresh
   prompt uses) and with the explicit boolean mask; target ratio explicit/is_causal > 1.
2. Rebuilding every head's probability map of one layer from a Trace: the whole layer
   at once vs the heads one by one; target ratio layer/one-by-one <= 1.
Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from llamalens.model.attention import causal_mask
from llamalens.model.trace import Trace

HEADS, KV_HEADS, HEAD_DIM, LAYERS = 9, 3, 64, 2


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sdpa_paths(n: int, repeats: int) -> tuple[float, float]:
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, HEADS, n, HEAD_DIM, generator=gen) for _ in range(3))
    visible = causal_mask(n)
    causal = median_seconds(
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), repeats
    )
    masked = median_seconds(
        lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=visible), repeats
    )
    return causal, masked


def random_trace(n: int) -> Trace:
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    return Trace(
        token_ids=np.arange(n),
        token_strs=[str(i) for i in range(n)],
        token_bytes=[b"x"] * n,
        token_special=[False] * n,
        config={},
        q=arr(LAYERS, HEADS, n, HEAD_DIM),
        k=arr(LAYERS, KV_HEADS, n, HEAD_DIM),
        q_rot=arr(LAYERS, HEADS, n, HEAD_DIM),
        k_rot=arr(LAYERS, KV_HEADS, n, HEAD_DIM),
        v=arr(LAYERS, KV_HEADS, n, HEAD_DIM),
        theta=np.ones(HEAD_DIM // 2),
        last_logits=np.zeros(8, np.float32),
        resid_norms=np.zeros((LAYERS, 3, n), np.float32),
        resid_post=np.zeros((LAYERS, n, 8), np.float32),
    )


def rebuild_paths(n: int, repeats: int) -> tuple[float, float]:
    trace = random_trace(n)

    def whole_layer():
        trace._cache.clear()  # noqa: SLF001 (a benchmark measures the rebuild itself)
        trace.layer_maps(0, "probs")

    def one_by_one():
        trace._cache.clear()  # noqa: SLF001
        for head in range(HEADS):
            trace.attention_map(0, head, "probs")

    layer, heads = [], []
    for _ in range(repeats):  # alternate, so machine noise hits both alike
        layer.append(median_seconds(whole_layer, 1))
        heads.append(median_seconds(one_by_one, 1))
    return statistics.median(layer), statistics.median(heads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="1024,4096", help="comma-separated lengths")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for n in (int(x) for x in args.tokens.split(",")):
        causal, masked = sdpa_paths(n, args.repeats)
        print(
            f"{n:6d} tokens  SDPA is_causal {causal * 1000:8.1f} ms  explicit mask "
            f"{masked * 1000:8.1f} ms  ratio {masked / causal:5.2f} (target > 1)"
        )
        layer, heads = rebuild_paths(n, args.repeats)
        print(
            f"{n:6d} tokens  rebuild layer {layer * 1000:8.1f} ms  heads one by one "
            f"{heads * 1000:8.1f} ms  ratio {layer / heads:5.2f} (target <= 1)"
        )


if __name__ == "__main__":
    main()
