"""The headless CLI: documented JSON, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llamalens.app.cli import main
from llamalens.model.engine import Engine
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("cli") / "hf", tiny_tensors(cfg, 5), cfg, vocab)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_tokens_json_matches_tokenizer(capsys, tiny_hf):
    code, out, _ = run_cli(
        capsys,
        "tokens",
        "--tokenizer",
        str(tiny_hf / "tokenizer.json"),
        "--prompt",
        "hello world<|eot_id|>",
        "--json",
    )
    assert code == 0
    obj = json.loads(out)
    vocab = tiny_vocab()
    assert obj["ids"][-1] == vocab.special_id("<|eot_id|>")
    assert [t["id"] for t in obj["tokens"]] == obj["ids"]
    assert bytes.fromhex("".join(t["bytes"] for t in obj["tokens"][:-1])) == b"hello world"
    assert obj["tokens"][-1]["special"] is True
    assert obj["tokens"][0]["special"] is False


def test_tokens_plain_mode_keeps_special_text(capsys, tiny_hf):
    code, out, _ = run_cli(
        capsys, "tokens", "--model", str(tiny_hf), "--plain", "--prompt", "<|eot_id|>", "--json"
    )
    assert code == 0
    assert not any(t["special"] for t in json.loads(out)["tokens"])


def test_tokens_input_file_one_object_per_line(capsys, tiny_hf, tmp_path):
    src = tmp_path / "prompts.jsonl"
    src.write_text("\n".join(json.dumps(p) for p in ["the cat", "", "a\nb"]) + "\n")
    code, out, _ = run_cli(capsys, "tokens", "--model", str(tiny_hf), "--input", str(src), "--json")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3
    assert json.loads(lines[1])["ids"] == []


def test_next_json_equals_model(capsys, tiny_hf):
    code, out, _ = run_cli(
        capsys, "next", "--model", str(tiny_hf), "--prompt", "the cat", "--top", "5", "--json"
    )
    assert code == 0
    obj = json.loads(out)
    model = Engine.load(tiny_hf, device="cpu")
    logits = model.logits(obj["ids"])[-1]
    assert [t["id"] for t in obj["top"]] == list(np.argsort(-logits)[:5])
    probs = [t["prob"] for t in obj["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1
    assert obj["top"][0]["logit"] == pytest.approx(float(logits.max()), abs=1e-4)


def test_info_json(capsys, tiny_hf):
    code, out, _ = run_cli(capsys, "info", "--model", str(tiny_hf), "--json")
    info = json.loads(out)
    assert code == 0
    assert info["format"] == "hf" and info["config"]["n_layers"] == 2
    assert info["dtype"] == "fp32" and info["device"] == "cpu"
    assert info["parameters"] == sum(t.numel() for t in tiny_tensors(tiny_config()).values())


@pytest.mark.parametrize(
    "args, words",
    [
        (["info", "--model", "/no/such/model.gguf"], ["does not exist"]),
        (["next", "--model", "/no/such/dir", "--prompt", "x"], ["does not exist"]),
        (["tokens", "--tokenizer", "/no/such/tokenizer.json", "--prompt", "x"], ["tokenizer.json"]),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, words):
    proc = subprocess.run(
        [sys.executable, "-m", "llamalens", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llamalens: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0]


def test_bad_input_file_line_is_named(capsys, tiny_hf, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('"fine"\n{"not": "a string"}\n')
    code, _, err = run_cli(capsys, "tokens", "--model", str(tiny_hf), "--input", str(src))
    assert code == 2 and "bad.jsonl:2" in err


def test_top_must_be_positive(capsys, tiny_hf):
    code, _, err = run_cli(capsys, "next", "--model", str(tiny_hf), "--prompt", "x", "--top", "0")
    assert code == 2 and "--top" in err


def test_every_subcommand_has_help():
    for sub in ("info", "tokens", "next"):
        proc = subprocess.run(
            [sys.executable, "-m", "llamalens", sub, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0 and "usage: llamalens " + sub in proc.stdout


def test_default_model_tokens(capsys, default_gguf):
    code, out, _ = run_cli(capsys, "tokens", "--prompt", "Hello 123", "--json")
    assert code == 0
    assert json.loads(out)["ids"] == [19556, 216, 33, 34, 35]


def test_app_arguments_open_a_session():
    from llamalens.app.cli import app_arguments

    model, options, session = app_arguments([])
    assert (model, options.device, session) == (None, None, None)
    model, options, session = app_arguments(["m.gguf", "--session", "s.llamalens"])
    assert (model, session) == ("m.gguf", "s.llamalens")
    model, options, session = app_arguments(["lesson.llamalens", "--device", "cpu"])
    assert (model, options.device, session) == (None, "cpu", "lesson.llamalens")
