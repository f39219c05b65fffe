"""The window fits every screen from a 1024×768 projector to 4K, in normal and presentation
mode: its frame lies inside the screen, every label, button, combo box, tab and table
header shows its whole text, plot titles, axis labels and legends stay inside their
plots, and the attention map, the tokens and the RoPE and next-token plots lie fully on
the screen. Leaving presentation mode gives back the exact geometry. The walkthrough page
(F5) fits too, in both modes.

Qt's offscreen platform takes its screens from a JSON file; one process per screen size
runs the real window on the default model (tests/app/layout_probe.py) and reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.layout_probe import screen_config

ROOT = Path(__file__).resolve().parents[2]
SCREENS = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080), (2560, 1440), (3840, 2160)]


@pytest.fixture(scope="module")
def reports(default_gguf, tmp_path_factory) -> dict[tuple[int, int], dict]:
    """One probe process, one window per screen size: {(w, h): report}."""
    env = dict(os.environ, QT_QPA_PLATFORM=screen_config(SCREENS, tmp_path_factory.mktemp("s")))
    run = subprocess.run(
        [sys.executable, "-m", "tests.app.layout_probe", str(default_gguf)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    found = [
        json.loads(line[len("PROBE ") :])
        for line in run.stdout.splitlines()
        if line.startswith("PROBE ")
    ]
    assert len(found) == len(SCREENS), (
        f"the probe reported {len(found)} of {len(SCREENS)} screens "
        f"(exit {run.returncode}):\n{run.stderr[-3000:]}"
    )
    return {tuple(r["screen"]): r for r in found}


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_window_fits_the_screen_in_both_modes(width, height, reports):
    report = reports[(width, height)]
    assert report["normal"] == [], "\n".join(report["normal"])
    assert report["presentation"] == [], "\n".join(report["presentation"])
    assert report["restored"] == [], "\n".join(report["restored"])
    assert report["walkthrough"] == [], "\n".join(report["walkthrough"])
    assert report["walkthrough presentation"] == [], "\n".join(report["walkthrough presentation"])
