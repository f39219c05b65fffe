"""Figure export (PNG, SVG, PDF, clipboard) and matrix export (CSV, NPY)."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pypdf
import pytest
from PySide6.QtGui import QColor, QImage

from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.export import copy_figure_to_clipboard, export_figure, save_matrix
from tests.viz.maps import causal_probs, stage_args

LABELS = ["The", " capital", " of", " France", " is", " Paris"]
TITLE = "SmolLM2 · 'The capital of France is' · layer 3 · head 5 · probs"


@pytest.fixture
def attention_map(qtbot):
    widget = AttentionMap()
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    widget.set_map(
        causal_probs(len(LABELS)),
        LABELS,
        **stage_args("probs", causal_probs(len(LABELS))),
        title="layer 3 · head 5",
    )
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def svg_texts(path) -> list[str]:
    """The content of every <text> element of an SVG file."""
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter() if node.tag.endswith("}text")]


def pdf_text(path) -> str:
    """The text of a one-page PDF, words joined by single spaces (read with pypdf)."""
    reader = pypdf.PdfReader(str(path))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def distinct_colors(image: QImage, step: int = 7) -> set[int]:
    return {
        image.pixel(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }


def test_png_has_requested_width_and_content(attention_map, tmp_path):
    path = export_figure(attention_map, tmp_path / "map.png", title=TITLE, width=1200)
    assert path == tmp_path / "map.png"
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == 1200
    # the height keeps the widget's aspect ratio and adds the title line
    assert image.height() > 1200 * 500 / 600
    colors = distinct_colors(image)
    assert len(colors) > 20
    assert any(QColor(c).name() != "#ffffff" for c in colors)


def test_png_default_width_is_twice_the_widget(attention_map, tmp_path):
    image = QImage(str(export_figure(attention_map, tmp_path / "map.png")))
    assert image.width() == 2 * attention_map.width()


def test_png_dpi_is_stored_and_scales_the_render(attention_map, tmp_path):
    image = QImage(str(export_figure(attention_map, tmp_path / "map.png", dpi=300)))
    assert image.dotsPerMeterX() == round(300 / 0.0254)
    assert image.dotsPerMeterY() == round(300 / 0.0254)
    assert image.width() == round(attention_map.width() * 300 / 96)


def test_svg_keeps_token_labels_and_title_as_text(attention_map, tmp_path):
    path = export_figure(attention_map, tmp_path / "map.svg", title=TITLE)
    texts = svg_texts(path)
    assert TITLE in texts
    assert "layer 3 · head 5" in texts
    for token in ("Paris", "capital", "France"):
        # query axis and key axis both carry the token (whitespace shown as ·)
        assert sum(token in text for text in texts) >= 2, token
    root = ET.parse(path).getroot()
    assert any(node.tag.endswith("}image") for node in root.iter())  # the heatmap itself


def test_pdf_keeps_title_and_token_labels_as_text(attention_map, tmp_path):
    path = export_figure(attention_map, tmp_path / "map.pdf", title=TITLE)
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert " ".join(TITLE.split()) in text and "layer 3 · head 5" in text
    for token in ("Paris", "capital", "France"):
        assert text.count(token) >= 2, token  # on the query axis and on the key axis
    page = pypdf.PdfReader(str(path)).pages[0]
    assert page.images, "the heatmap is missing"
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    # the widget's aspect ratio plus a title line on top
    assert 500 / 600 < height / width < 500 / 600 * 1.25


def test_clipboard_gets_the_figure(attention_map):
    from PySide6.QtWidgets import QApplication

    image = copy_figure_to_clipboard(attention_map, title=TITLE)
    assert not image.isNull()
    assert image.width() == 2 * attention_map.width()
    assert not QApplication.clipboard().image().isNull()


@pytest.mark.parametrize("name", ["map.jpg", "map.txt", "map"])
def test_unsupported_figure_suffix_names_it(attention_map, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        export_figure(attention_map, tmp_path / name)


def test_unwritable_figure_path_raises_oserror(attention_map, tmp_path):
    for name in ("map.png", "map.svg", "map.pdf"):
        target = tmp_path / "missing" / name
        with pytest.raises(OSError, match="missing"):
            export_figure(attention_map, target)


def test_csv_round_trips_numbers_labels_and_minus_inf(tmp_path):
    matrix = np.array([[0.125, -np.inf, -np.inf], [1 / 3, 2.5e-9, -np.inf], [-1.0, 0.0, 7.0]])
    rows, cols = ["q:The", "q:cap,ital", 'q:"x"'], ["k0", "k1", "k2"]
    path = save_matrix(matrix, tmp_path / "m.csv", row_labels=rows, col_labels=cols)
    with path.open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["", *cols]
    assert [line[0] for line in table[1:]] == rows
    assert "-inf" in table[1]
    values = np.array([[float(cell) for cell in line[1:]] for line in table[1:]])
    np.testing.assert_array_equal(values, matrix)


def test_csv_without_labels_is_just_numbers(tmp_path):
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    path = save_matrix(matrix, tmp_path / "m.csv")
    loaded = np.loadtxt(path, delimiter=",", dtype=np.float32)
    np.testing.assert_array_equal(loaded, matrix)


def test_npy_loads_without_pickle(tmp_path):
    matrix = causal_probs(5)
    matrix[0, 1] = -np.inf
    path = save_matrix(matrix, tmp_path / "m.npy", row_labels=list("abcde"))
    loaded = np.load(path, allow_pickle=False)
    assert loaded.dtype == matrix.dtype
    np.testing.assert_array_equal(loaded, matrix)


def test_save_matrix_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"\.xlsx.*\.csv, \.npy"):
        save_matrix(np.eye(2), tmp_path / "m.xlsx")
    with pytest.raises(ValueError, match="2 row labels for 3 rows"):
        save_matrix(np.eye(3), tmp_path / "m.csv", row_labels=["a", "b"])
    with pytest.raises(ValueError, match="2-D"):
        save_matrix(np.zeros(3), tmp_path / "m.npy")
