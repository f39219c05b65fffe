"""Figure export (PNG, SVG, PDF, clipboard) and matrix export (CSV, NPY)."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pypdf
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from llamalens.viz.attention_map import AttentionMap
from llamalens.viz.export import copy_figure_to_clipboard, export_figure, save_matrix
from tests.viz.maps import causal_probs, luminance, previous_token_probs, stage_args

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
    assert "layer 3 · head 5" not in texts  # the map's own title is not repeated
    for token in ("Paris", "capital", "France"):
        # query axis and key axis both carry the token (whitespace shown as ·)
        assert sum(token in text for text in texts) >= 2, token
    assert not any("hover" in text or "click" in text for text in texts)  # no UI hints


def svg_cells(path) -> tuple[int, list]:
    """(number of <rect> elements, the <image> elements) of an SVG."""
    root = ET.parse(path).getroot()
    rects = sum(node.tag.endswith("}rect") for node in root.iter())
    return rects, [node for node in root.iter() if node.tag.endswith("}image")]


def test_svg_of_a_small_map_is_vector_cells(attention_map, tmp_path):
    rects, images = svg_cells(export_figure(attention_map, tmp_path / "map.svg", title=TITLE))
    n = len(LABELS)
    assert rects >= n * (n + 1) // 2  # every visible cell a rectangle
    assert len(images) <= 1  # at most the colour bar's gradient; no heatmap bitmap


def test_svg_of_a_large_map_is_one_pixel_per_cell_and_pixelated(qtbot, tmp_path):
    import base64

    n = 300
    widget = AttentionMap()
    qtbot.addWidget(widget)
    widget.resize(600, 560)
    probs = previous_token_probs(n)
    widget.set_map(probs, [f"t{i}" for i in range(n)], **stage_args("probs", probs))
    _, images = svg_cells(export_figure(widget, tmp_path / "big.svg"))
    sizes = []
    for node in images:
        assert "image-rendering:pixelated" in node.get("style", "")
        data = node.get("{http://www.w3.org/1999/xlink}href").split(",", 1)[1]
        picture = QImage.fromData(base64.b64decode(data))
        sizes.append((picture.width(), picture.height()))
    assert (n, n) in sizes  # the heatmap: one pixel per cell, never smoothed by a viewer


def test_png_of_a_2048_token_map_keeps_a_one_cell_diagonal(qtbot, tmp_path):
    n = 2048
    widget = AttentionMap()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    probs = previous_token_probs(n)
    widget.set_map(probs, [f"t{i}" for i in range(n)], **stage_args("probs", probs))
    image = QImage(str(export_figure(widget, tmp_path / "big.png", width=800)))
    assert image.width() == 800
    view = widget.plot_item.getViewBox()
    scale = 800 / widget.width()
    pixels_per_cell = view.width() * scale / n
    assert pixels_per_cell < 0.4  # a stride would skip most of the diagonal
    on, off = [], []
    for row in range(n // 10, n, n // 10):
        for cell, out in (((row - 0.5), on), ((row // 3 + 0.5), off)):
            point = widget.mapFromScene(view.mapViewToScene(QPointF(cell, row + 0.5)))
            out.append(
                luminance(image.pixelColor(round(point.x() * scale), round(point.y() * scale)))
            )
    assert min(on) > max(off) + 0.4


def test_pdf_keeps_title_and_token_labels_as_text(attention_map, tmp_path):
    path = export_figure(attention_map, tmp_path / "map.pdf", title=TITLE)
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert " ".join(TITLE.split()) in text
    for token in ("Paris", "capital", "France"):
        assert text.count(token) >= 2, token  # on the query axis and on the key axis
    page = pypdf.PdfReader(str(path)).pages[0]
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


def test_a_figure_never_shown_shows_the_whole_map_under_its_axes(qtbot, tmp_path):
    """A figure widget sized before it is laid out (as ``llamalens export`` builds it)
    fits the map to the final view: first and last rows and columns inside, the
    tighter axis exactly the map, and the first row's colour at the top of the plot."""
    n = 14
    probs = causal_probs(n)
    probs[:, 0] = 0.0
    probs[0, 0] = 1.0  # the brightest cell: top left
    widget = AttentionMap(font_size=8.0)
    qtbot.addWidget(widget)
    widget.resize(336, 250)
    widget.set_map(probs, [f"t{i}" for i in range(n)], **stage_args("probs", probs))
    out = export_figure(widget, tmp_path / "m.png", dpi=300)
    (x0, x1), (y0, y1) = widget.plot_item.getViewBox().viewRange()
    assert x0 <= 0 and y0 <= 0 and x1 >= n and y1 >= n
    assert min(x1 - x0, y1 - y0) == pytest.approx(n)
    image = QImage(str(out))
    scale = image.width() / widget.width()
    top_left = widget.scene_pos_of(0, 0)
    top_left = widget.mapFromScene(top_left)
    color = image.pixelColor(int(top_left.x() * scale), int(top_left.y() * scale))
    assert luminance(color) > 0.6  # viridis at 1.0 is yellow, not the dark rest
