"""GGUF header parsing times: a large vocabulary, the default model, damaged files.

Run: python benchmarks/gguf_parse.py [--repeats N]

Each line prints the best of N runs, the target and their ratio (ratio ≤ 1 meets it).
The damaged files are a tiny Q8_0 model with a tokenizer, cut every 7 bytes of its header
and overwritten with 8 garbage bytes every 7 bytes; the line reports the slowest file.
"""

from __future__ import annotations

import argparse
import contextlib
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.writers

import gguf  # noqa: E402

from llamalens.model.errors import CheckpointError  # noqa: E402
from llamalens.model.loaders.gguf_file import read_gguf  # noqa: E402

VOCAB = 150_000


def best_of(action: Callable[[], object], repeats: int) -> float:
    """Shortest wall time of ``action()`` in seconds over repeats runs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, seconds: float, target: float) -> None:
    print(f"{name:50} {seconds:8.3f} s   target ≤ {target:.1f} s   ratio {seconds / target:.3f}")


def large_vocabulary(folder: Path) -> Path:
    """A header-only GGUF with 150,000 tokens, merges and scores (300,000 strings)."""
    writer = gguf.GGUFWriter(folder / "vocab.gguf", "llama")
    writer.add_token_list([f"tok{i}\u0120{i % 97}" for i in range(VOCAB)])
    writer.add_token_merges([f"t{i % 500} o{i}" for i in range(VOCAB)])
    writer.add_token_scores([float(i) for i in range(VOCAB)])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    return folder / "vocab.gguf"


def damaged_copies(folder: Path) -> Iterator[Path]:
    """The tiny model cut short at every 7th header byte, then garbled at every 7th byte."""
    from tests.writers.checkpoints import tiny_config, tiny_tensors
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tiny_vocab import tiny_vocab
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    config = tiny_config()
    source = write_gguf(
        folder / "tiny.gguf",
        tiny_tensors(config, seed=5),
        config,
        qtype="Q8_0",
        tokenizer_metadata=gguf_tokenizer_metadata(tiny_vocab()),
    )
    raw, data_offset = source.read_bytes(), read_gguf(source).data_offset
    path = folder / "damaged.gguf"
    for cut in range(0, data_offset + 1, 7):
        path.write_bytes(raw[:cut])
        yield path
    for garbage in (b"\xff" * 8, struct.pack("<Q", 10**8), b"\0" * 8):
        for at in range(4, data_offset, 7):
            path.write_bytes(raw[:at] + garbage + raw[at + len(garbage) :])
            yield path


def parse_or_refuse(path: Path) -> None:
    with contextlib.suppress(CheckpointError):  # refusing quickly is the good outcome
        read_gguf(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per damaged file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llamalens-bench-") as tmp:
        folder = Path(tmp)
        vocab = large_vocabulary(folder)
        report(f"{VOCAB:,} tokens + merges + scores", best_of(lambda: read_gguf(vocab), 3), 2.0)

        from llamalens.model.default_model import default_model_path

        model = default_model_path()
        read_gguf(model)  # the page cache holds the file, as on every start after the first
        report(f"default model ({model.name})", best_of(lambda: read_gguf(model), 3), 1.0)

        slowest, count = 0.0, 0
        for path in damaged_copies(folder):
            slowest = max(slowest, best_of(lambda p=path: parse_or_refuse(p), args.repeats))
            count += 1
        report(f"slowest of {count} damaged files", slowest, 2.0)


if __name__ == "__main__":
    main()
