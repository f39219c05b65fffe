"""Command-line manners: progress only where it belongs, whole characters, no stop tokens."""

from __future__ import annotations

import io
import json

import pytest

from llamalens.app.cli import main
from llamalens.app.cli.progress import TextProgress
from llamalens.model.engine import Engine
from llamalens.model.tokenizer import load_tokenizer
from llamalens.model.tokenizer.core import character_spans
from llamalens.model.tokenizer.stream import TextStream, stream_text
from tests.app.test_cli import tiny_hf  # noqa: F401 (fixture)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "mode", "shown"),
    [
        (io.StringIO, "auto", ""),  # a log or a pipe: silence
        (io.StringIO, "verbose", "llamalens: Loading\nllamalens: Done\n"),
        (Terminal, "quiet", ""),
        (Terminal, "verbose", "llamalens: Loading\nllamalens: Done\n"),
    ],
)
def test_progress_shows_only_where_it_belongs(stream, mode, shown):
    out = stream()
    with TextProgress(stream=out, mode=mode) as bar:
        for i in range(5):
            bar(i / 4, "Loading" if i < 4 else "Done")
    assert out.getvalue() == shown


def test_progress_bar_on_a_terminal_fits_its_line():
    out = Terminal()
    with TextProgress(stream=out) as bar:
        bar(0.5, "Dequantizing blk.12.ffn_down.weight (Q4_1) " * 4)
    line = out.getvalue().strip("\r\n")
    assert line.startswith("[###############...............]  50% Dequantizing")
    assert len(line) <= 80 and line.endswith("…")


def test_cli_is_silent_in_a_pipe_and_talks_with_verbose(capsys, tiny_hf):  # noqa: F811
    assert main(["info", "--model", str(tiny_hf)]) == 0
    err = capsys.readouterr().err
    assert err == ""  # no progress lines when stderr is not a terminal
    assert main(["info", "--model", str(tiny_hf), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "llamalens: Reading the safetensors headers" in err and "llamalens: Ready" in err
    # one or the other: a usage error, one line and exit code 2
    assert main(["info", "--model", str(tiny_hf), "--quiet", "--verbose"]) == 2
    err = capsys.readouterr().err
    assert "not allowed with" in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def smollm(default_gguf):
    return load_tokenizer(default_gguf)


def test_byte_pieces_make_one_character_in_the_stream(smollm):
    ids = smollm.encode("猫が好き")
    tokens = smollm.tokens(ids)
    spans = character_spans([(t.bytes, t.special) for t in tokens])
    assert spans, "猫 and が are byte pieces in this vocabulary"
    stream = TextStream(smollm)
    shown = [stream.push(i) for i in ids]
    assert "".join(shown) == "猫が好き" and "\ufffd" not in "".join(shown)
    start, end = spans[0]
    assert all(piece == "" for piece in shown[start : end - 1])  # held until complete
    text, held = stream_text(smollm, ids[: end - 1])  # a run that stops inside a character
    assert "\ufffd" not in text and held == len(b"".join(t.bytes for t in tokens[start : end - 1]))


def test_stop_token_is_not_text(smollm):
    stop = next(iter(smollm.stop_ids))
    ids = [*smollm.encode("Hello"), stop]
    text, held = stream_text(smollm, ids)
    assert text == "Hello" and held == 0


def test_tokens_cli_groups_byte_pieces(capsys, default_gguf):
    args = ["tokens", "--tokenizer", str(default_gguf), "--prompt", "a猫"]
    assert main([*args, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    pieces = [t for t in obj["tokens"] if "piece" in t]
    assert len(pieces) >= 2 and all(t["text"] == "猫" for t in pieces)
    assert [t["piece"] for t in pieces] == [[k, len(pieces)] for k in range(1, len(pieces) + 1)]
    assert bytes.fromhex("".join(t["bytes"] for t in pieces)).decode("utf-8") == "猫"
    assert main(args) == 0
    out = capsys.readouterr().out
    joined = "+".join(str(t["id"]) for t in pieces)
    assert f"[{joined}:'猫' = {len(pieces)} byte pieces]" in out


def test_generate_chat_never_prints_the_stop_token(capsys, default_gguf):
    prompt = "What is 2+2? Answer with a number only."
    args = ["generate", "--model", str(default_gguf), "--prompt", prompt]
    args += ["--chat", "--max-new-tokens", "24"]
    assert main([*args, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    engine = Engine.load(default_gguf, device="cpu")
    assert obj["stopped"] and obj["ids"][-1] in engine.tokenizer.stop_ids
    assert "<|im_end|>" not in obj["text"] and obj["text"].strip()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "<|im_end|>" not in out and out == obj["text"] + "\n"
