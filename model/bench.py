"""Timing of plain vs captured forward passes (``llamalens bench``); numbers, not tests."""

from __future__ import annotations

import statistics
import time

import torch

from llamalens.model.tracing import run_trace


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _alternating(first, second, repeats: int) -> tuple[float, float]:
    """Median seconds of two functions run in turns."""
    a, b = [], []
    for _ in range(repeats):
        a.append(_median_time(first, 1))
        b.append(_median_time(second, 1))
    return statistics.median(a), statistics.median(b)


def bench_lengths(
    engine, lengths: list[int], with_transformers: bool = True, seed: int = 0
) -> list[dict]:
    """For each length: plain and captured forward seconds, ratio, trace MB, transformers s.

    The prompt is random token ids (no special tokens) of exactly that length. All three
    runs produce what the inspector needs: every layer's attention (captured: the q/k/v
    the maps are rebuilt from; transformers: ``output_attentions=True``) and the logits of
    the last position (``last_only`` / ``logits_to_keep=1``).
    """
    module, tok = engine.module, engine.tokenizer
    cfg = engine.checkpoint.config
    gen = torch.Generator().manual_seed(seed)
    reference = _transformers_model(engine) if with_transformers else None
    rows = []
    for n in lengths:
        if n > cfg.max_seq_len:
            raise ValueError(f"{n} tokens is longer than the model's context of {cfg.max_seq_len}")
        ids = torch.randint(100, cfg.vocab_size - 100, (1, n), generator=gen)
        repeats = 9 if n <= 256 else 3 if n <= 1024 else 1
        module(ids.to(engine.device), last_only=True)  # warm-up
        # the same outputs as the captured run: every layer, logits of the last position;
        # plain and captured runs alternate so that machine noise hits both alike
        plain, captured = _alternating(
            lambda ids=ids: module(ids.to(engine.device), last_only=True),
            lambda ids=ids: run_trace(module, tok, ids[0].tolist(), use_cache=False),
            repeats,
        )
        trace = run_trace(module, tok, ids[0].tolist(), use_cache=False)
        row = {
            "tokens": n,
            "plain_s": plain,
            "captured_s": captured,
            "capture_ratio": captured / plain,
            "trace_mb": trace.nbytes / 2**20,
        }
        del trace
        if reference is not None:
            with torch.no_grad():
                row["transformers_s"] = _median_time(
                    lambda ids=ids: reference(ids, output_attentions=True, logits_to_keep=1),
                    repeats,
                )
        rows.append(row)
    return rows


def _transformers_model(engine):
    """transformers' LlamaForCausalLM on the same GGUF, eager attention; None if unavailable."""
    path = engine.checkpoint.path
    if engine.checkpoint.format not in ("gguf", "hf"):
        return None
    try:
        import transformers
    except ImportError:
        return None
    if engine.checkpoint.format == "hf":
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path), attn_implementation="eager", dtype=torch.float32
        )
    else:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, attn_implementation="eager", dtype=torch.float32
        )
    return model.eval()
