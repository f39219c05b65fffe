"""Tokenizer times: building the default model's tokenizer, encoding a 1,000,000-character prompt.

Run: python benchmarks/tokenizer_speed.py

Each line prints the best of three runs, the target and their ratio (ratio ≤ 1 meets it).
The long prompts mix ordinary text with a 100,000-letter run, which is cut every 25,000
characters before BPE (as Meta's tokenizer does), so its time stays linear.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.writers

import llama_models  # noqa: E402

from llamalens.model.default_model import default_model_path  # noqa: E402
from llamalens.model.loaders.gguf_meta import read_metadata  # noqa: E402
from llamalens.model.tokenizer import (  # noqa: E402
    load_gguf_tokenizer,
    load_hf_tokenizer_json,
    load_tiktoken_model,
)


def best_of(action: Callable[[], object], repeats: int = 3) -> float:
    """Shortest wall time of ``action()`` in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, seconds: float, target: float) -> None:
    print(f"{name:50} {seconds:8.3f} s   target ≤ {target:.1f} s   ratio {seconds / target:.3f}")


def long_prompt(words: str, run: str) -> str:
    """About 1,000,000 characters: words, a 100,000-character run of one letter, words."""
    half = words * (450_000 // len(words))
    return half + run * 100_000 + half


def tiny_tokenizer(folder: Path):
    from tests.writers.tiny_vocab import tiny_vocab
    from tests.writers.tokenizer_files import write_tokenizer_json

    return load_hf_tokenizer_json(write_tokenizer_json(tiny_vocab(), folder / "tokenizer.json"))


def main() -> None:
    gguf = default_model_path()
    metadata = read_metadata(gguf)
    report(
        "SmolLM2 tokenizer from GGUF metadata",
        best_of(lambda: load_gguf_tokenizer(metadata, gguf)),
        1.0,
    )

    with tempfile.TemporaryDirectory(prefix="llamalens-bench-") as tmp:
        tiny = tiny_tokenizer(Path(tmp))
    text = long_prompt("the cat sat on the mat, 42 times.\n", "q")
    report(
        f"tiny tokenizer.json, {len(text):,} characters", best_of(lambda: tiny.encode(text)), 10.0
    )

    llama3 = load_tiktoken_model(Path(llama_models.__file__).parent / "llama3" / "tokenizer.model")
    text = long_prompt("The quick brown fox jumps over the lazy dog 12345. ", "z")
    report(
        f"Llama 3 tokenizer.model, {len(text):,} characters",
        best_of(lambda: llama3.encode(text)),
        10.0,
    )


if __name__ == "__main__":
    main()
