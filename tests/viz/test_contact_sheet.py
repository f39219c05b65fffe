"""ContactSheet: grids of small attention maps, and their export."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from llamalens.viz.colormaps import default_masked_color, lookup_table
from llamalens.viz.contact_sheet import SHEET_PIXELS, ContactSheet
from llamalens.viz.export import export_figure
from llamalens.viz.head_grid import thumbnail_rgba
from tests.viz.maps import causal_probs, future_mask


@pytest.fixture
def sheet(qtbot):
    widget = ContactSheet()
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def layers_by_heads(n_layers: int, n_heads: int, n_tokens: int) -> list[list[np.ndarray]]:
    base = [causal_probs(n_tokens, seed) for seed in range(4)]
    return [[base[(layer + head) % 4] for head in range(n_heads)] for layer in range(n_layers)]


def test_object_name(sheet):
    assert sheet.objectName() == "contactSheet"


def test_layers_by_heads_grid_has_one_image_per_map_and_all_labels(sheet):
    rows, cols = [f"L{i}" for i in range(4)], [f"H{i}" for i in range(3)]
    sheet.set_maps(layers_by_heads(4, 3, 10), rows, cols, title="all layers × heads")
    assert sheet.shape == (4, 3)
    assert len(sheet.image_items()) == 12
    assert set(rows + cols + ["all layers × heads"]) <= set(sheet.label_texts())
    assert all(item.image.shape == (10, 10, 4) for item in sheet.image_items())


def sheet_rgba(matrix, mask, colormap, color, kind="probability"):
    return thumbnail_rgba(matrix, mask, colormap, color, kind, SHEET_PIXELS)


def test_masked_cells_are_light_grey_and_visible_cells_coloured():
    probs = causal_probs(8)
    rgba = sheet_rgba(probs, future_mask(8), "viridis", default_masked_color("viridis"))
    grey = default_masked_color("viridis")
    assert tuple(rgba[0, 7, :3]) == (grey.red(), grey.green(), grey.blue())
    assert tuple(rgba[7, 0, :3]) != (grey.red(), grey.green(), grey.blue())
    scores = np.where(future_mask(8), -np.inf, 1.0).astype(np.float32)
    scores[3, 1] = -2.0
    rgba = sheet_rgba(scores, future_mask(8), "magma", grey, "score")
    assert tuple(rgba[0, 5, :3]) == (grey.red(), grey.green(), grey.blue())
    assert tuple(rgba[3, 1, :3]) != tuple(rgba[3, 2, :3])  # min..max for scores


def test_big_maps_shrink_by_block_max(sheet):
    probs = np.zeros((512, 512), dtype=np.float32)
    probs[np.arange(512), np.arange(512)] = 1.0  # one hot cell per row: must not fade
    rgba = sheet_rgba(probs, future_mask(512), "viridis", default_masked_color("viridis"))
    assert rgba.shape == (SHEET_PIXELS, SHEET_PIXELS, 4)
    diagonal = rgba[np.arange(SHEET_PIXELS), np.arange(SHEET_PIXELS), :3]
    assert (diagonal == lookup_table("viridis")[255, :3]).all()  # the top of the scale


def test_thirty_layers_by_nine_heads_of_512_tokens(sheet, qtbot):
    """The default model's shape (benchmarks/viz_repaint.py times it)."""
    maps = layers_by_heads(30, 9, 512)
    sheet.set_maps(maps, [f"L{i}" for i in range(30)], [f"H{i}" for i in range(9)])
    items = sheet.image_items()
    assert len(items) == 270
    assert max(item.image.shape[0] for item in items) <= SHEET_PIXELS
    missing = default_masked_color("viridis")
    for index in (0, 1, 137, 269):  # each cell shows its own map, shrunk by block max
        layer, head = divmod(index, 9)
        expected = sheet_rgba(maps[layer][head], None, "viridis", missing)
        np.testing.assert_array_equal(items[index].image, expected)


def test_same_grid_new_values_reuses_the_items(sheet):
    rows, cols = ["L0", "L1"], ["H0", "H1"]
    sheet.set_maps(layers_by_heads(2, 2, 6), rows, cols)
    items = sheet.image_items()
    maps = [[np.tril(np.full((6, 6), 0.5, np.float32))] * 2] * 2
    sheet.set_maps(maps, rows, cols)
    assert sheet.image_items() == items
    assert np.array_equal(items[0].image[5, 0], items[0].image[4, 0])


def test_layer_maps_wrap_near_square_with_kv_groups(sheet):
    sheet.set_layer_maps([causal_probs(7, h) for h in range(9)], layer=3, n_kv_heads=3)
    assert sheet.shape == (3, 3)
    assert len(sheet.image_items()) == 9
    texts = sheet.label_texts()
    assert "H0 · kv0" in texts and "H5 · kv1" in texts and "H8 · kv2" in texts
    assert any("layer 3" in text for text in texts)
    sheet.set_layer_maps([causal_probs(7, h) for h in range(9)], 0, 3, columns=9)
    assert sheet.shape == (1, 9)


def test_bad_input_raises(sheet):
    with pytest.raises(ValueError, match="row labels"):
        sheet.set_maps(layers_by_heads(2, 2, 4), ["L0"], ["H0", "H1"])
    with pytest.raises(ValueError, match="expected 3"):
        sheet.set_maps(layers_by_heads(2, 2, 4), ["L0", "L1"], ["H0", "H1", "H2"])
    with pytest.raises(ValueError, match="colormap"):
        sheet.set_maps(layers_by_heads(1, 1, 4), ["L0"], ["H0"], colormap="jet")
    with pytest.raises(ValueError, match="KV heads"):
        sheet.set_layer_maps([causal_probs(4)] * 4, 0, n_kv_heads=3)
    with pytest.raises(ValueError, match=r"\(T, T\)"):
        sheet.set_maps([[np.zeros((3, 4))]], ["L0"], ["H0"])


def test_contact_sheet_exports_to_png_and_svg(sheet, tmp_path):
    rows, cols = [f"L{i}" for i in range(3)], [f"H{i}" for i in range(4)]
    sheet.set_maps(layers_by_heads(3, 4, 12), rows, cols, title="probs · all heads")
    png = QImage(str(export_figure(sheet, tmp_path / "sheet.png", title="SmolLM2", width=900)))
    assert png.width() == 900
    assert any(
        QColor(png.pixel(x, y)).name() != "#ffffff"
        for x in range(0, 900, 5)
        for y in range(0, png.height(), 5)
    )
    root = ET.parse(export_figure(sheet, tmp_path / "sheet.svg", title="SmolLM2")).getroot()
    texts = {"".join(node.itertext()).strip() for node in root.iter() if node.tag.endswith("}text")}
    assert {"SmolLM2", "probs · all heads", *rows, *cols} <= texts
    assert sum(node.tag.endswith("}image") for node in root.iter()) >= 12
