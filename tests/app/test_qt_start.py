"""When Qt cannot open a window, LlamaLens says what is missing in one line of its own."""

from __future__ import annotations

import os
import subprocess
import sys

from llamalens.app import qt_start
from llamalens.app.qt_start import display_problem, missing_libraries, qt_start_problem


def test_no_display_is_named():
    problem = display_problem({})
    assert problem.startswith("no display") and "xvfb-run" in problem


def test_a_display_without_an_x_server_is_named():
    problem = display_problem({"DISPLAY": ":987"})
    assert "no X server answers on display :987" in problem


def test_missing_libraries_are_found_by_the_loader():
    found = missing_libraries(["libllamalens-nowhere.so.7", "libc.so.6"])
    assert found == ["libllamalens-nowhere.so.7"]


def test_a_missing_library_names_its_package(monkeypatch):
    monkeypatch.setitem(qt_start.XCB_LIBRARIES, "libllamalens-nowhere.so.7", "llamalens-nowhere7")
    monkeypatch.setattr(qt_start, "display_problem", lambda environ: None)
    problem = qt_start_problem({"DISPLAY": ":0"}, platform="linux")
    assert "libllamalens-nowhere.so.7" in problem
    assert problem.endswith("sudo apt-get install llamalens-nowhere7")


def test_platforms_that_need_no_display_are_not_checked():
    assert qt_start_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert qt_start_problem({}, platform="darwin") is None


def test_the_app_says_one_line_and_exits_without_a_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    run = subprocess.run(
        [sys.executable, "-m", "llamalens"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(
        "llamalens: cannot open the window: no display"
    )
    assert "Traceback" not in run.stderr and "qt.qpa" not in run.stderr
