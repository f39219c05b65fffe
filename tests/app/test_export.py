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
