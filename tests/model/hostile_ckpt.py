"""Shared pieces of the hostile-checkpoint tests: pristine tiny checkpoints to copy and
break, and the assertion every test makes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llamalens.model.errors import CheckpointError
from llamalens.model.loaders import load_checkpoint
from tests.bounds import bounded
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.tiny_vocab import tiny_vocab


def write_pristine(root: Path) -> dict[str, Path]:
    """One tiny Llama as HF (1 and 3 shards), Meta (1 and 2 shards) and GGUF (F32, Q4_0)."""
    from tests.writers.gguf_writer import write_gguf
    from tests.writers.tokenizer_files import gguf_tokenizer_metadata

    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    tensors = tiny_tensors(cfg, 5)
    meta = gguf_tokenizer_metadata(vocab)
    paths = {
        "hf": write_hf(root / "hf", tensors, cfg, vocab),
        "hf3": write_hf(root / "hf3", tensors, cfg, vocab, n_shards=3),
        "meta": write_meta(root / "meta", tensors, cfg, vocab),
        "meta2": write_meta(root / "meta2", tensors, cfg, vocab, n_shards=2),
    }
    for qtype in ("F32", "Q4_0"):
        paths[f"gguf-{qtype}"] = write_gguf(
            root / f"tiny-{qtype}.gguf", tensors, cfg, qtype=qtype, tokenizer_metadata=meta
        )
    return paths


def copy(pristine: dict[str, Path], kind: str, to: Path) -> Path:
    """A fresh copy of one pristine checkpoint under ``to``."""
    src = pristine[kind]
    dst = to / src.name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


def refused(path: Path, *fragments: str, at: Path | None = None, megabytes: float = 64) -> str:
    """Loading ``path`` is one CheckpointError naming ``at`` (default ``path``) and the
    problem, within ``megabytes`` of memory and a timeout that kills a hang."""
    with bounded(megabytes=megabytes, timeout=60), pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    named = at or path
    assert message.startswith(f"{named}: ") or message.startswith(f"{named}/"), message
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message
