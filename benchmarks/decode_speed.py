"""Decode speed (tokens/s) of the default model by weight storage and compute dtype.

Run: python benchmarks/decode_speed.py [--tokens 48] [--threads 1,2]

Rows: the default model's weights dequantized to float32 (compute fp32, as before), the
same weights kept in bf16 with float32 compute (each matrix upcast as it is used), and
bf16 weights with bf16 compute. Greedy decoding with the KV cache after a short prompt;
the best of three runs. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from llamalens.model.engine import Engine

PROMPT = "The capital of France is"


def bf16_copy(engine: Engine, directory: Path) -> Path:
    """The default model's (dequantized) weights written as a bf16 Meta directory."""
    import json

    cfg = engine.config
    state = {
        k: v.detach().to(torch.bfloat16).contiguous() for k, v in engine.module.state_dict().items()
    }
    state = {k: v for k, v in state.items() if not k.endswith("w13")}
    if cfg.tie_embeddings:
        state.pop("output.weight", None)
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(state, directory / "consolidated.00.pth")
    params = {"dim": cfg.dim, "n_layers": cfg.n_layers, "n_heads": cfg.n_heads,
              "n_kv_heads": cfg.n_kv_heads, "vocab_size": cfg.vocab_size,
              "norm_eps": cfg.norm_eps, "rope_theta": cfg.rope_theta,
              "max_seq_len": cfg.max_seq_len}  # fmt: skip
    (directory / "params.json").write_text(json.dumps(params))
    return directory


def tokens_per_second(engine: Engine, n: int) -> float:
    ids = engine.encode(PROMPT).ids
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        made = engine.generate(ids, n, keep_going=lambda _i: True)
        best = max(best, len(made) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    fp32 = Engine.load(device="cpu", dtype="fp32")
    with tempfile.TemporaryDirectory() as tmp:
        meta = bf16_copy(fp32, Path(tmp) / "bf16")
        runs = {"weights fp32 (dequantized), compute fp32": fp32}
        # a Meta directory carries no tokenizer of this vocabulary: borrow the GGUF's
        for label, dtype in (("weights bf16, compute fp32", "fp32"),
                             ("weights bf16, compute bf16", "bf16")):  # fmt: skip
            from llamalens.model.loaders import load_checkpoint

            ckpt = load_checkpoint(meta)
            ckpt.tokenizer = fp32.tokenizer
            runs[label] = Engine(ckpt, "cpu", dtype)
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            for label, engine in runs.items():
                rate = tokens_per_second(engine, args.tokens)
                print(f"{threads} thread(s)  {label:42s} {rate:6.1f} tokens/s")


if __name__ == "__main__":
    main()
