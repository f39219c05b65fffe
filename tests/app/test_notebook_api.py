"""The Python API: load as the app does, figures through the app's figure code (inline
PNG/SVG equal to what ``llamalens export`` writes), sessions the app opens, the app."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PySide6.QtGui import QImage

import llamalens as ll
from llamalens.app.cli import main
from llamalens.model import session_io
from llamalens.model.variants import HeadAblation, RopeChange, Variant
from tests.app.test_export import png_ok, svg_texts
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    return write_hf(tmp_path_factory.mktemp("api") / "hf", tiny_tensors(cfg, 3), cfg, vocab)


@pytest.fixture(scope="module")
def engine(tiny_hf):
    return ll.load(tiny_hf, device="cpu", dtype="fp32")


def test_load_takes_the_apps_options(tiny_hf, engine):
    assert engine.dtype == torch.float32 and str(engine.device) == "cpu"
    half = ll.load(tiny_hf, device="auto", dtype="bf16")
    assert half.dtype == torch.bfloat16
    trace = half.trace(half.encode(PROMPT).ids)
    np.testing.assert_allclose(trace.probs(1, 2).sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="dtype is 'fp8'"):
        ll.load(tiny_hf, dtype="fp8")


def test_offload_options_pass_through_and_variants_run_offloaded(tiny_hf, engine, tmp_path):
    with pytest.raises(ValueError, match="--offload-dir"):  # Engine.load's own check
        ll.load(tiny_hf, device="cpu", max_memory="cpu=1KB")
    spread = ll.load(tiny_hf, device="cpu", max_memory="cpu=300KB", offload_dir=tmp_path)
    assert "disk" in spread.module.device_map.values()
    ids = engine.encode(PROMPT).ids
    variant = Variant((HeadAblation(1, 2, "mean"),), RopeChange(theta=500.0))
    with engine.varied(variant), spread.varied(variant):
        np.testing.assert_allclose(spread.logits(ids), engine.logits(ids), atol=1e-5)
        assert spread.trace(ids).variant == engine.trace(ids).variant


def test_inline_png_equals_the_command_lines_export(engine, tiny_hf, tmp_path, capsys):
    trace = engine.trace(engine.encode(PROMPT).ids)
    fig = ll.figure(trace, "map", engine=engine, prompt=PROMPT, layer=1, head=2, stage="masked")
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    inline = QImage.fromData(png)
    out = tmp_path / "cli.png"
    args = ["export", "--model", tiny_hf, "--prompt", PROMPT, "--out", out]
    assert main([str(a) for a in args] + ["--layer", "1", "--head", "2", "--stage", "masked"]) == 0
    capsys.readouterr()
    assert inline == png_ok(out)  # the same pixels: one figure code
    svg = tmp_path / "inline.svg"
    svg.write_text(fig._repr_svg_(), encoding="utf-8")
    texts = svg_texts(svg)
    assert "masked" in texts and "layer 1" in texts
    assert fig.title == f"{engine.name} · “{PROMPT}” · layer 1 · head 2 · masked"


def test_figures_of_a_variant_are_labelled(engine, tmp_path):
    ids = engine.encode(PROMPT).ids
    with engine.varied(Variant((HeadAblation(0, 1),), RopeChange(theta=321.0))):
        trace = engine.trace(ids)
        ranking = engine.rank_heads(ids)
    fig = ll.figure(trace, "grid", engine=engine, prompt=PROMPT, layer=1)
    assert "[variant: ablated L0.H1 · RoPE θ 321]" in fig.title
    png_ok(fig.save(tmp_path / "grid.png", width=700), 700)
    rank = ll.ranking_figure(ranking, engine, prompt=PROMPT)
    assert "[variant: ablated L0.H1 · RoPE θ 321]" in rank.title
    np.testing.assert_array_equal(rank.widget.values(), ranking.effect)
    png_ok(rank.save(tmp_path / "rank.png"))


def test_whatif_figures(engine, tmp_path):
    ids = engine.encode(PROMPT).ids
    a = engine.trace(ids)
    variant = Variant(rope=RopeChange(theta=100.0))
    with engine.varied(variant):
        b = engine.trace(ids)
    same = ll.compare_figure(a, a, stage="softmax", head_a=(1, 1), names=("x", "x"))
    assert not same.widget.diff.displayed_matrix().any()  # a run against itself: zeros
    diff = ll.compare_figure(a, b, head_a=(1, 1), names=("model", "variant"))
    np.testing.assert_array_equal(
        diff.widget.diff.displayed_matrix(), b.probs(1, 1) - a.probs(1, 1)
    )
    png_ok(diff.save(tmp_path / "compare.png"))
    before = engine.rope(Variant())
    curve = ll.trace_decay(b, before, "head", 1, 1)
    decay = ll.decay_figure(curve, model_name=engine.name)
    np.testing.assert_allclose(decay.widget.curve_data()["variant"][1], curve.after[1:])
    angles = ll.angles_figure(before[0], b.theta, 5)
    np.testing.assert_allclose(angles.widget.curve_data()["variant"][1], 5 * b.theta)
    bars = ll.next_token_figure(a.last_logits, b.last_logits, engine, names=("model", "θ 100"))
    assert bars.widget.names == ("model", "θ 100") and bars._repr_png_().startswith(b"\x89PNG")


def test_saved_session_opens_and_the_app_starts_on_it(engine, tiny_hf, tmp_path):
    ids = engine.encode(PROMPT).ids
    engine.set_variant(Variant((HeadAblation(1, 0, "mean"),)))
    try:
        trace = engine.trace(ids)
        path = ll.save_session(
            tmp_path / "s.llamalens",
            trace,
            engine,
            prompt=PROMPT,
            analysis=engine.analyse(trace),
            baseline=engine.baseline(ids),
            view={"layer": 1, "head": 3},
        )
    finally:
        engine.set_variant(None)
    back = session_io.load_session(path)
    np.testing.assert_array_equal(back.trace.q_rot, trace.q_rot)
    assert back.trace.variant_label == "ablated L1.H0 mean"
    assert back.meta["variant"]["label"] == "ablated L1.H0 mean"
    assert back.meta["view"]["layer"] == 1 and back.analysis is not None
    assert back.baseline is not None and back.vocab.n_vocab == engine.tokenizer.n_vocab
    app = ll.open_in_app(path, engine)
    try:
        assert app.args[-3:] == [str(engine.checkpoint.path), "--session", str(path)]
        deadline = time.monotonic() + 15
        while app.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert app.poll() is None, "the app exited instead of showing the session"
    finally:
        app.terminate()
        app.wait(30)
