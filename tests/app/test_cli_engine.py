"""dump / sample / generate / bench: documented outputs, clean failures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llamalens.app.cli import main
from llamalens.model.engine import Engine
from llamalens.model.sampling import SamplingParams, sample
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("eng") / "hf", tiny_tensors(cfg, 2), cfg, vocab)


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_dump_writes_the_documented_arrays(capsys, tiny_hf, tmp_path):
    out = tmp_path / "d.npz"
    code, _, _ = cli(capsys, "dump", "--model", tiny_hf, "--prompt", "hello world", "--out", out)
    assert code == 0
    model = Engine.load(tiny_hf, device="cpu")
    ids = model.encode("hello world").ids
    t, cfg = len(ids), model.checkpoint.config
    L, H, KV, hd = cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim  # noqa: N806
    with np.load(out, allow_pickle=False) as d:
        shapes = {k: (d[k].dtype, d[k].shape) for k in d.files}
        assert shapes["token_ids"] == (np.dtype("int64"), (t,))
        assert d["token_strs"].shape == (t,) and d["token_strs"].dtype.kind == "U"
        for name in ("scores", "masked", "probs"):
            assert shapes[name] == (np.dtype("float32"), (L, H, t, t))
        for name in ("q", "q_rot"):
            assert shapes[name] == (np.dtype("float32"), (L, H, t, hd))
        for name in ("k", "k_rot", "v"):
            assert shapes[name] == (np.dtype("float32"), (L, KV, t, hd))
        assert shapes["freqs_cis"] == (np.dtype("complex64"), (t, hd // 2))
        assert shapes["logits"] == (np.dtype("float32"), (t, cfg.vocab_size))
        assert json.loads(str(d["config"]))["n_layers"] == L
        assert d["token_ids"].tolist() == ids
        np.testing.assert_allclose(d["probs"].sum(-1), 1.0, atol=1e-5)
        np.testing.assert_allclose(d["logits"][-1], model.logits(ids)[-1], atol=1e-4)
        # q_rot is q rotated pair by pair by freqs_cis
        q = d["q"][0, 0]
        zq = (q[:, 0::2] + 1j * q[:, 1::2]) * d["freqs_cis"]
        np.testing.assert_allclose(zq.real, d["q_rot"][0, 0][:, 0::2], atol=1e-5)


def test_dump_layers_subset(capsys, tiny_hf, tmp_path):
    out = tmp_path / "d.npz"
    assert (
        cli(
            capsys, "dump", "--model", tiny_hf, "--prompt", "the cat", "--out", out, "--layers", "1"
        )[0]
        == 0
    )
    with np.load(out, allow_pickle=False) as d:
        assert d["layers"].tolist() == [1] and d["probs"].shape[0] == 1


def test_sample_json(capsys, tiny_hf):
    code, out, _ = cli(
        capsys,
        "sample",
        "--model",
        tiny_hf,
        "--prompt",
        "the cat",
        "--temperature",
        "0.8",
        "--top-p",
        "0.9",
        "--seed",
        "5",
        "--n",
        "200",
        "--json",
    )
    obj = json.loads(out)
    assert code == 0 and len(obj["ids"]) == 200
    assert set(obj["ids"]) <= set(obj["kept"])
    assert sum(obj["probs"].values()) == pytest.approx(1.0)
    model = Engine.load(tiny_hf, device="cpu")
    expected = sample(model.logits(model.encode("the cat").ids)[-1], SamplingParams(0.8, 0.9))
    assert obj["kept"] == expected.kept.tolist()


def test_sample_temperature_zero_is_greedy(capsys, tiny_hf):
    code, out, _ = cli(
        capsys,
        "sample",
        "--model",
        tiny_hf,
        "--prompt",
        "the cat",
        "--temperature",
        "0",
        "--seed",
        "1",
        "--n",
        "5",
        "--json",
    )
    model = Engine.load(tiny_hf, device="cpu")
    top = int(np.argmax(model.logits(model.encode("the cat").ids)[-1]))
    assert json.loads(out)["ids"] == [top] * 5


def test_generate_json_equals_greedy(capsys, tiny_hf):
    code, out, _ = cli(
        capsys,
        "generate",
        "--model",
        tiny_hf,
        "--prompt",
        "the cat",
        "--max-new-tokens",
        "6",
        "--json",
    )
    obj = json.loads(out)
    model = Engine.load(tiny_hf, device="cpu")
    assert obj["ids"] == sampled_without_cache(model, "the cat", 6, SamplingParams(0.0))
    stops = model.tokenizer.stop_ids
    assert obj["text"] == model.tokenizer.decode([i for i in obj["ids"] if i not in stops])
    assert obj["stopped"] == (obj["ids"][-1] in stops)


def sampled_without_cache(model, prompt: str, n: int, params: SamplingParams) -> list[int]:
    """The reference for generate: a full forward pass per token, no KV cache, one rng."""
    ids, new = model.encode(prompt).ids, []
    rng = np.random.default_rng(params.seed)
    for _ in range(n):
        token = sample(model.logits(ids + new)[-1], params, rng).token
        new.append(token)
        if token in model.tokenizer.stop_ids:
            break
    return new


def streamed_reference(model, expected: list[int], cut: bool) -> str:
    """What the stream shows: the decoded text without stop tokens, less the U+FFFD that a
    character cut off at the end decodes to (``cut``: the CLI said it held bytes back)."""
    text = model.tokenizer.decode([i for i in expected if i not in model.tokenizer.stop_ids])
    return text[:-1] if cut else text


def test_generate_streams_the_sampled_text(capsys, tiny_hf):
    args = ["generate", "--model", tiny_hf, "--prompt", "the cat", "--max-new-tokens", "8"]
    code, out, err = cli(capsys, *args, "--temperature", "1.0", "--seed", "3")
    model = Engine.load(tiny_hf, device="cpu")
    expected = sampled_without_cache(model, "the cat", 8, SamplingParams(1.0, seed=3))
    cut = "ended inside a character" in err
    assert code == 0 and out == streamed_reference(model, expected, cut) + "\n"
    assert len(set(expected)) > 1  # a sampled run, not one token repeated
    code, again, err = cli(capsys, *args, "--temperature", "1.0", "--seed", "4")
    expected = sampled_without_cache(model, "the cat", 8, SamplingParams(1.0, seed=4))
    cut = "ended inside a character" in err
    assert again == streamed_reference(model, expected, cut) + "\n" != out


def test_bench_json(capsys, tiny_hf):
    code, out, _ = cli(capsys, "bench", "--model", tiny_hf, "--tokens", "8,16", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["tokens"] for r in rows] == [8, 16]
    for r in rows:
        assert r["plain_s"] > 0 and r["captured_s"] > 0 and r["trace_mb"] > 0
        assert r["capture_ratio"] == pytest.approx(r["captured_s"] / r["plain_s"])


@pytest.mark.parametrize(
    "args, words",
    [
        (["sample", "--prompt", "x", "--temperature", "-1", "--seed", "0"], ["temperature"]),
        (
            ["sample", "--prompt", "x", "--temperature", "1", "--top-p", "2", "--seed", "0"],
            ["top_p"],
        ),
        (["dump", "--prompt", "x", "--out", "x.txt"], [".npz"]),
        (["generate", "--prompt", "x", "--max-new-tokens", "-3"], ["max-new-tokens"]),
        (["bench", "--tokens", "a,b"], ["--tokens"]),
    ],
)
def test_bad_arguments_fail_cleanly(capsys, tiny_hf, args, words):
    code, _, err = cli(capsys, *args, "--model", tiny_hf)
    assert code == 2 and err.startswith("llamalens: error:")
    for w in words:
        assert w in err


def test_dump_bad_layers(capsys, tiny_hf, tmp_path):
    code, _, err = cli(
        capsys,
        "dump",
        "--model",
        tiny_hf,
        "--prompt",
        "x",
        "--out",
        tmp_path / "a.npz",
        "--layers",
        "5",
    )
    assert code == 2 and "--layers" in err
