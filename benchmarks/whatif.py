"""What-if timings on the default model (python benchmarks/whatif.py).

Prints the time of a plain captured run, the same run as a variant (ablated heads, YaRN)
with its baseline, ranking the heads of one layer and of all layers, and a compare's two
runs, for a short and a longer prompt.
"""

from __future__ import annotations

import time

from llamalens.model.engine import Engine
from llamalens.model.variants import variant_from_options

PROMPTS = {
    "short": "The capital of France is",
    "100 tokens": " ".join(["The quick brown fox jumps over the lazy dog."] * 10),
}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    engine = Engine.load(device="cpu")
    variant = variant_from_options(
        engine.config, ablate="0.4,11.7,23.4:mean", rope_scaling="yarn:4"
    )
    print(f"{engine.name} on {engine.device}; variant: {variant.label()}")
    for name, prompt in PROMPTS.items():
        ids = engine.encode(prompt).ids
        plain = timed(lambda ids=ids: engine.trace(ids))
        with engine.varied(variant):
            varied = timed(lambda ids=ids: (engine.trace(ids), engine.baseline(ids)))
            one = timed(lambda ids=ids: engine.rank_heads(ids, layers=[10]))
            every = timed(lambda ids=ids: engine.rank_heads(ids))
        print(
            f"{name:>11} ({len(ids)} tokens): trace {plain:.2f} s · variant trace + baseline "
            f"{varied:.2f} s · rank one layer {one:.2f} s · rank all "
            f"{engine.config.n_layers} layers {every:.2f} s"
        )


if __name__ == "__main__":
    main()
