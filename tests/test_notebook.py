"""The example notebook (docs/llamalens.ipynb) runs top to bottom on the default model,
offline, in a real Jupyter kernel, and shows its figures inline."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from PySide6.QtGui import QImage

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "llamalens.ipynb"


def test_example_notebook_runs_top_to_bottom(default_gguf, tmp_path, monkeypatch):
    # the model is in the cache (the fixture): the kernel must not reach a package index
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nor the Hugging Face hub
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell (with its asserts)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o["data"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 7  # map, RoPE, ranking, before/after, compare, angles, decay
    for data in images:
        image = QImage.fromData(base64.b64decode(data["image/png"]))
        assert not image.isNull() and image.width() >= 600
        assert data["image/svg+xml"].lstrip().startswith("<?xml")
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "' Paris'" in text and "ablated L" in text
    assert (tmp_path / "ablated.llamalens").is_file()
