"""DESIGN.md's module boundaries: model/ has no Qt, viz/ has no torch, both checked live."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "model": ("PySide6", "pyqtgraph", "shiboken6", "llamalens.app", "llamalens.viz"),
    "viz": ("torch", "llamalens.model", "llamalens.app", "safetensors", "gguf", "tiktoken"),
}


def all_modules(package: str) -> list[str]:
    """The package and every module below it, by walking its files."""
    names = [f"llamalens.{package}"]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"llamalens.{package}."):
        names.append(info.name)
    return names


def loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden(package: str) -> None:
    modules = all_modules(package)
    assert len(modules) > 3, f"{package} should have several modules, found {modules}"
    loaded = loaded_after_import(modules)
    for bad in FORBIDDEN[package]:
        hits = sorted(m for m in loaded if m == bad or m.startswith(bad + "."))
        assert not hits, f"importing {package} loaded {hits[:5]}"


def test_the_check_catches_a_violation() -> None:
    """The boundary check itself must be able to fail."""
    loaded = loaded_after_import(["json", "llamalens.viz.token_text"])
    assert "llamalens.viz.token_text" in loaded
    loaded = loaded_after_import(["llamalens.app.worker"])
    assert any(m.startswith("PySide6") for m in loaded)
