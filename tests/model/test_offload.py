"""Past one device: accelerate places blocks under a memory budget, the rest on disk."""

from __future__ import annotations

import numpy as np
import pytest

from llamalens.model.engine import Engine
from llamalens.model.offload import parse_max_memory
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "the quick brown fox jumps over the lazy dog. hello world!"


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab, n_layers=4)
    return write_hf(tmp_path_factory.mktemp("offload") / "hf", tiny_tensors(cfg, 9), cfg, vocab)


def test_max_memory_is_parsed_for_accelerate():
    assert parse_max_memory("cuda:0=20GiB, cpu=30GiB") == {0: 20 * 2**30, "cpu": 30 * 2**30}
    assert parse_max_memory("cuda=1.5GB,mps=2MiB") == {0: 1_500_000_000, "mps": 2 * 2**20}
    for bad in ("", "cpu", "cpu=lots", "tpu=1GiB", "cuda:x=1GiB"):
        with pytest.raises(ValueError, match="--max-memory"):
            parse_max_memory(bad)


def test_blocks_beyond_the_budget_run_from_disk_and_equal_the_in_memory_run(hf, tmp_path):
    full = Engine.load(hf, device="cpu")
    budget = "cpu=600KB"  # the 4-block model is 877 kB in float32: some blocks go to disk
    spread = Engine.load(hf, device="cpu", max_memory=budget, offload_dir=tmp_path / "off")
    placed = spread.module.device_map
    assert "disk" in placed.values() and "cpu" in placed.values()
    assert list((tmp_path / "off").glob("*.dat"))
    ids = full.encode(PROMPT).ids
    np.testing.assert_allclose(spread.logits(ids), full.logits(ids), atol=1e-5)
    a, b = full.trace(ids), spread.trace(ids)  # captures see the offloaded blocks too
    np.testing.assert_allclose(b.probs(3, 1), a.probs(3, 1), atol=1e-6)
    assert spread.generate(ids, 4) == full.generate(ids, 4)


def test_disk_blocks_without_an_offload_dir_are_refused(hf):
    with pytest.raises(ValueError, match="--offload-dir"):
        Engine.load(hf, device="cpu", max_memory="cpu=100KB")
