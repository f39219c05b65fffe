"""Shared builders for tiny checkpoints in every format (used by several test modules)."""

from __future__ import annotations

from pathlib import Path

from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.tiny_vocab import tiny_vocab


def make_all_formats(root: Path, seed: int = 0, **cfg_overrides) -> dict[str, Path]:
    """Write one tiny random Llama as Meta (1 and 2 shards), HF and GGUF F32/Q8_0."""
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    vocab = tiny_vocab()
    cfg = tiny_config(vocab, **cfg_overrides)
    tensors = tiny_tensors(cfg, seed)
    paths = {
        "meta": write_meta(root / "meta", tensors, cfg, vocab),
        "meta-2-shards": write_meta(root / "meta2", tensors, cfg, vocab, n_shards=2),
        "hf": write_hf(root / "hf", tensors, cfg, vocab),
        "hf-sharded": write_hf(root / "hf2", tensors, cfg, vocab, n_shards=3),
    }
    meta = gguf_tokenizer_metadata(vocab)
    for qtype in ("F32", "Q8_0"):
        path = root / f"tiny-{qtype}.gguf"
        write_gguf(path, tensors, cfg, qtype=qtype, tokenizer_metadata=meta)
        paths[f"gguf-{qtype}"] = path
    return paths
