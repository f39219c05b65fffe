"""Export from the window and from the command line: the files are what they claim."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage

from llamalens.app.cli import main
from llamalens.model.tracing import run_trace
from llamalens.viz.token_text import visible_text
from tests.app.test_inspector import reference, tiny_hf, window  # noqa: F401 (fixtures)
from tests.viz.test_export import pdf_text


def png_ok(path, width: int | None = None) -> QImage:
    image = QImage(str(path))
    assert not image.isNull()
    if width is not None:
        assert image.width() == width
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colors) > 8, "the image is blank"
    return image


def svg_texts(path) -> str:
    root = ET.parse(path).getroot()
    return " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))


def test_window_exports_png_svg_pdf_and_data(qtbot, window, tmp_path):  # noqa: F811
    ex = window.exports
    amap = window.attention.map
    png_ok(ex.export(amap, tmp_path / "map.png", width=1400), 1400)
    texts = svg_texts(ex.export(amap, tmp_path / "map.svg"))
    trace = window.state.trace
    for label in trace.token_strs[:3]:
        assert visible_text(label) in texts
    assert "layer 0" in texts and "head 0" in texts
    pdf = ex.export(amap, tmp_path / "map.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    words = pdf_text(pdf)
    assert "layer 0" in words and "head 0" in words
    for label in trace.token_strs[:3]:
        assert " ".join(visible_text(label).split()) in words, label
    csv_path = ex.export_data(tmp_path / "map.csv")
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == trace.n_tokens + 1
    npy = ex.export_data(tmp_path / "map.npy")
    np.testing.assert_array_equal(np.load(npy, allow_pickle=False), window.state.current_map())


def test_window_exports_other_plots_and_grids(qtbot, window, tmp_path):  # noqa: F811
    ex = window.exports
    png_ok(ex.export(window.sampling.bars, tmp_path / "bars.png"))
    png_ok(ex.export(window.heads.grid, tmp_path / "heads.png"))
    png_ok(ex.export_built("grid", tmp_path / "grid.png"))
    texts = svg_texts(ex.export_built("sheet", tmp_path / "sheet.svg"))
    assert "L1" in texts and "H3" in texts


def test_bad_export_suffix_is_a_clear_error(qtbot, window, tmp_path):  # noqa: F811
    with pytest.raises(ValueError, match=".gif"):
        window.exports.export(window.attention.map, tmp_path / "map.gif")
    assert ".gif" in window.error_box.text()


@pytest.mark.parametrize("what", ["map", "grid", "sheet", "rope", "logits"])
def test_cli_export_each_figure(what, tiny_hf, tmp_path, capsys):  # noqa: F811
    out = tmp_path / f"{what}.png"
    code = main(
        [
            "export",
            "--model",
            str(tiny_hf),
            "--prompt",
            "the cat sat on the mat",
            "--what",
            what,
            "--layer",
            "1",
            "--head",
            "2",
            "--out",
            str(out),
            "--width",
            "800",
        ]
    )
    assert code == 0
    png_ok(out, 800)


def test_cli_export_svg_pdf_and_options(tiny_hf, reference, tmp_path, capsys):  # noqa: F811
    def export(prompt: str, out, *options: str) -> None:
        args = ["export", "--model", str(tiny_hf), "--prompt", prompt, "--out", str(out)]
        assert main([*args, *options]) == 0

    def labels(prompt: str) -> list[str]:
        ids = reference.encode(prompt).ids
        return [
            visible_text(label)
            for label in run_trace(reference.module, reference.tokenizer, ids).token_strs
        ]

    svg = tmp_path / "m.svg"
    export(
        "hello world", svg, "--stage", "raw", "--theme", "dark", "--cmap", "magma", "--scale", "log"
    )
    texts = svg_texts(svg)
    for label in labels("hello world"):
        assert label in texts, label
    assert "raw" in texts and "layer 0" in texts
    pdf = tmp_path / "m.pdf"
    export("hello", pdf, "--stage", "masked")
    assert pdf.read_bytes().startswith(b"%PDF")
    words = pdf_text(pdf)
    assert "masked" in words and all(" ".join(t.split()) in words for t in labels("hello"))
    npy = tmp_path / "m.npy"
    export("the cat sat", npy, "--layer", "1", "--head", "3")
    trace = run_trace(reference.module, reference.tokenizer, reference.encode("the cat sat").ids)
    np.testing.assert_array_equal(np.load(npy, allow_pickle=False), trace.probs(1, 3))


@pytest.mark.parametrize(
    "args, words",
    [
        (["--out", "x.gif"], [".png"]),
        (["--out", "x.png", "--layer", "7"], ["layer 7"]),
        (["--out", "x.png", "--width", "5"], ["--width"]),
        (["--out", "x.csv", "--what", "grid"], ["--what map"]),
    ],
)
def test_cli_export_bad_input(args, words, tiny_hf, tmp_path, capsys):  # noqa: F811
    code = main(
        [
            "export",
            "--model",
            str(tiny_hf),
            "--prompt",
            "hi",
            *[a if not a.startswith("x.") else str(tmp_path / a) for a in args],
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "llamalens: error:" in err
    for w in words:
        assert w in err


UI_TEXT = ("hover", "click", "pair i:", "preparing", "Run", "Examples", "Greedy", "Append")


def no_ui_text(texts: str) -> None:
    for phrase in UI_TEXT:
        assert phrase not in texts, f"{phrase!r} is screen furniture, not part of a figure"


def test_window_exports_carry_no_ui_text(qtbot, window, tmp_path):  # noqa: F811
    ex = window.exports
    window.state.set_key(1)
    for name, widget in (
        ("map", window.attention.map),
        ("rope", window.rope.plane),
        ("bars", window.sampling.bars),
        ("heads", window.heads.grid),
    ):
        texts = svg_texts(ex.export(widget, tmp_path / f"{name}.svg"))
        no_ui_text(texts)
        assert texts.count("layer 0 · head 0") <= 1  # the title once, not again inside


def svg_size_mm(path) -> tuple[float, float]:
    root = ET.parse(path).getroot()
    return tuple(float(root.get(k).removesuffix("mm")) for k in ("width", "height"))


def test_cli_writes_many_paper_figures_from_one_model_load(
    tiny_hf,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    from llamalens.model.engine import Engine

    loads = []
    original = Engine.load.__func__

    def counted(cls, *args, **kwargs):
        loads.append(args)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Engine, "load", classmethod(counted))
    out = tmp_path / "figures"
    args = ["export", "--model", str(tiny_hf), "--prompt", "the cat sat on the mat"]
    for what in ("map", "grid", "sheet", "rope", "logits"):
        args += ["--what", what]
    args += ["--out", str(out), "--format", "svg", "--size", "3.5x3.2in", "--font", "8"]
    args += ["--layers", "0-1", "--heads", "0,2", "--layer", "1", "--key", "1"]
    assert main(args) == 0
    assert len(loads) == 1  # one load, one run, five figures
    files = sorted(out.glob("*.svg"))
    assert len(files) == 5
    for path in files:
        width, height = svg_size_mm(path)
        assert width == pytest.approx(3.5 * 25.4, abs=0.5)  # 3.5 in wide, title included
        assert height == pytest.approx(3.2 * 25.4, abs=0.5)
        no_ui_text(svg_texts(path))
    sheet = svg_texts(next(p for p in files if "sheet" in p.name))
    assert all(label in sheet for label in ("L0", "L1", "H0", "H2", "softmax"))
    assert "H1" not in sheet and "L2" not in sheet.replace("L2 ", "")
    grid = svg_texts(next(p for p in files if "grid" in p.name))
    assert "H0 · kv0" in grid and "H2 · kv" in grid and "H1 · kv" not in grid
    assert visible_text(" the") in grid  # token labels on the grid's maps
    assert "softmax" in grid  # the shared colour bar's title


def test_cli_spec_file_titles_and_sizes(tiny_hf, tmp_path, capsys):  # noqa: F811
    import json

    spec = tmp_path / "figures.json"
    figures = [
        {"what": "map", "layer": 1, "head": 3, "out": str(tmp_path / "a.svg"), "no_title": True},
        {"what": "map", "out": str(tmp_path / "b.png"), "size": "600x500", "dpi": 192},
        {"what": "grid", "out": str(tmp_path / "c.pdf"), "title": "Figure 2: all heads"},
    ]
    spec.write_text(json.dumps(figures), encoding="utf-8")
    prompt = "the cat sat on the mat and the dog sat on the log, " * 3
    args = ["export", "--model", str(tiny_hf), "--prompt", prompt, "--spec", str(spec)]
    assert main(args) == 0
    texts = svg_texts(tmp_path / "a.svg")
    assert "“" not in texts and "layer 1" not in texts  # no title at all
    png = png_ok(tmp_path / "b.png", 1200)  # 600 figure pixels at 192 dpi
    assert png.height() == 1000
    assert "Figure 2: all heads" in pdf_text(tmp_path / "c.pdf")


def test_a_long_title_wraps_and_is_never_cut(tiny_hf, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "t.svg"
    title = "A deliberately long title for a narrow figure, " * 3 + "END"
    args = ["export", "--model", str(tiny_hf), "--prompt", "hello", "--out", str(out)]
    assert main([*args, "--size", "300x300", "--title", title]) == 0
    texts = svg_texts(out)
    assert "…" not in texts
    assert " ".join(texts.split()).count("END") == 1 and "deliberately" in texts


@pytest.mark.parametrize(
    "args, words",
    [
        (["--out", "x.png", "--size", "3.5in"], ["--size", "3.5x3.2in"]),
        (["--out", "x.png", "--heads", "1-x"], ["--heads"]),
        (["--what", "map", "--what", "grid", "--out", "x.png"], ["folder"]),
        (["--spec", "missing.json"], ["--spec", "no such file"]),
        (["--out", "x.png", "--what", "sheet", "--layers", "9"], ["layer 9"]),
    ],
)
def test_cli_paper_options_bad_input(args, words, tiny_hf, tmp_path, capsys):  # noqa: F811
    fixed = [str(tmp_path / a) if a.startswith(("x.", "missing")) else a for a in args]
    code = main(["export", "--model", str(tiny_hf), "--prompt", "hi", *fixed])
    err = capsys.readouterr().err
    assert code == 2 and "llamalens: error:" in err
    for w in words:
        assert w in err
