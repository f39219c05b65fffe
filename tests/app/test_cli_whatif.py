"""--ablate, --rope-theta, --rope-scaling on next, dump, export and generate: the same
numbers as the engine's variant, and the variant named in every output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llamalens.app.cli import main
from llamalens.model.engine import Engine
from llamalens.model.variants import HeadAblation, Variant, variant_from_options
from tests.app.test_export import svg_texts
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("cliv") / "hf", tiny_tensors(cfg, 9), cfg, vocab)


@pytest.fixture(scope="module")
def engine(tiny_hf):
    return Engine.load(tiny_hf, device="cpu")


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def expected(engine, **options) -> Variant:
    return variant_from_options(engine.config, **options)


@pytest.mark.parametrize(
    "flags, options",
    [
        ([], {}),
        (["--ablate", "0.1,1.2"], {"ablate": "0.1,1.2"}),
        (["--ablate", "1.0:mean"], {"ablate": "1.0:mean"}),
        (["--rope-theta", "500"], {"rope_theta": 500.0}),
        (["--rope-scaling", "yarn:4"], {"rope_scaling": "yarn:4"}),
        (
            ["--rope-scaling", "ntk:2", "--ablate", "0.0", "--rotary-fraction", "0.5"],
            {"rope_scaling": "ntk:2", "ablate": "0.0", "rotary_fraction": 0.5},
        ),
    ],
)
def test_next_json_equals_the_engines_variant_and_names_it(capsys, tiny_hf, engine, flags, options):
    code, out, err = cli(capsys, "next", "--model", tiny_hf, "--prompt", PROMPT, "--json", *flags)
    assert code == 0, err
    got = json.loads(out)
    variant = expected(engine, **options)
    assert got["variant"] == variant.to_dict()
    assert (f"variant: {variant.label()}" in err) == bool(flags)
    with engine.varied(variant):
        top = engine.top_next(engine.encode(PROMPT).ids, 10)
    assert [r["id"] for r in got["top"]] == [t.id for t in top]
    np.testing.assert_allclose([r["prob"] for r in got["top"]], [t.prob for t in top], atol=1e-6)


def test_the_variant_changes_the_answer(capsys, tiny_hf):
    plain = json.loads(cli(capsys, "next", "--model", tiny_hf, "--prompt", PROMPT, "--json")[1])
    args = ("next", "--model", tiny_hf, "--prompt", PROMPT, "--json", "--ablate", "0.0,0.1,0.2")
    varied = json.loads(cli(capsys, *args)[1])
    assert varied["variant"]["label"] == "ablated L0.H0, L0.H1, L0.H2"
    assert plain["variant"] == {}
    assert abs(plain["top"][0]["logit"] - varied["top"][0]["logit"]) > 1e-3


def test_generate_json(capsys, tiny_hf, engine):
    flags = ("--rope-scaling", "linear:4", "--ablate", "1.3")
    code, out, err = cli(
        capsys, "generate", "--model", tiny_hf, "--prompt", PROMPT, "--max-new-tokens", 6, *flags
    )
    assert code == 0, err
    streamed = out
    code, out, _ = cli(
        capsys,
        "generate",
        "--model",
        tiny_hf,
        "--prompt",
        PROMPT,
        "--max-new-tokens",
        6,
        "--json",
        *flags,
    )
    got = json.loads(out)
    variant = expected(engine, rope_scaling="linear:4", ablate="1.3")
    with engine.varied(variant):
        ids = engine.generate(engine.encode(PROMPT).ids, 6)
    assert got["ids"] == ids and got["variant"] == variant.to_dict()
    assert streamed == engine.tokenizer.decode(ids) + "\n"


def test_dump_holds_the_variants_maps(capsys, tiny_hf, engine, tmp_path):
    out = tmp_path / "v.npz"
    code, _, err = cli(
        capsys, "dump", "--model", tiny_hf, "--prompt", PROMPT, "--out", out, "--ablate", "0.2:mean"
    )
    assert code == 0, err
    variant = Variant((HeadAblation(0, 2, "mean"),))
    with engine.varied(variant):
        trace = engine.trace(engine.encode(PROMPT).ids, keep_logits=True)
    with np.load(out, allow_pickle=False) as d:
        assert json.loads(str(d["variant"])) == variant.to_dict()
        np.testing.assert_array_equal(d["probs"][1, 0], trace.probs(1, 0))
        np.testing.assert_array_equal(d["logits"], trace.logits)


def test_export_title_names_the_variant(capsys, tiny_hf, tmp_path):
    svg = tmp_path / "v.svg"
    code, _, err = cli(
        capsys,
        "export",
        "--model",
        tiny_hf,
        "--prompt",
        PROMPT,
        "--out",
        svg,
        "--ablate",
        "0.1",
        "--rope-theta",
        "500",
    )
    assert code == 0, err
    # the SVG splits text runs by font (θ), so compare without spaces
    assert "[variant:ablatedL0.H1·RoPEθ500]" in "".join(svg_texts(svg).split())


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--ablate", "3.x"], ["--ablate '3.x'", "LAYER.HEAD"]),
        (["--ablate", "1.1:half"], ["--ablate", "'1.1:half'"]),
        (["--rope-scaling", "cubic:2"], ["--rope-scaling 'cubic:2'", "linear"]),
        (["--rope-scaling", "yarn"], ["positive factor"]),
        (["--ablate", "5.0"], ["ablated layer 5 is out of range 0..1"]),
        (["--ablate", "0.9"], ["ablated head 9 is out of range 0..3"]),
        (["--rope-theta", "-3"], ["--rope-theta is -3"]),
        (["--rotary-fraction", "0.1"], ["rotary_fraction is 0.1"]),
    ],
)
def test_bad_what_if_options_are_one_clear_line(capsys, tiny_hf, flags, words):
    code, out, err = cli(capsys, "next", "--model", tiny_hf, "--prompt", "hi", *flags)
    assert code == 2 and out == ""
    line = err.strip().splitlines()[-1]
    assert line.startswith("llamalens: error: ") and "Traceback" not in err
    for w in words:
        assert w in line, (w, line)
