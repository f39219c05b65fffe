"""The distribution: one top-level name, ``llamalens``, and nothing else.

The wheel is built from a copy of the checkout (so the build leaves nothing behind) with the
documented ``pip wheel --no-deps``, then imported from a neutral folder with the unpacked
wheel first on the path.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q"]
        + [str(source), "-w", str(tmp / "dist")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    wheels = list((tmp / "dist").glob("llamalens-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_only_the_llamalens_package_and_its_dist_info(wheel: Path) -> None:
    dist_info = f"llamalens-{version('llamalens')}.dist-info/"
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] + "/" for name in names} == {"llamalens/", dist_info}
    for package in (
        "app",
        "model",
        "viz",
        "resources",
        "app/panels",
        "app/walkthrough",
        "model/loaders",
    ):
        assert f"llamalens/{package}/__init__.py" in names, package
    assert "llamalens/__main__.py" in names and "llamalens/app/cli/__init__.py" in names


def test_wheel_holds_the_theme_style_sheets(wheel: Path) -> None:
    from llamalens.app.appearance import THEMES

    names = set(zipfile.ZipFile(wheel).namelist())
    sheets = {p.name for p in (ROOT / "resources" / "themes").glob("*.qss")}
    assert {f"{theme}.qss" for theme in THEMES} <= sheets
    for sheet in sheets:
        member = f"llamalens/resources/themes/{sheet}"
        assert member in names, member
        packed = zipfile.ZipFile(wheel).read(member)
        assert packed == (ROOT / "resources" / "themes" / sheet).read_bytes()


def test_wheel_holds_the_compiled_translations(wheel: Path) -> None:
    from llamalens.app.i18n import LANGUAGES

    names = set(zipfile.ZipFile(wheel).namelist())
    for locale in LANGUAGES[1:]:  # English is the source language
        member = f"llamalens/resources/translations/llamalens_{locale}.qm"
        assert member in names, member
        packed = zipfile.ZipFile(wheel).read(member)
        assert (
            packed == (ROOT / "resources" / "translations" / f"llamalens_{locale}.qm").read_bytes()
        )


def test_console_script_is_the_cli_main(wheel: Path) -> None:
    dist_info = f"llamalens-{version('llamalens')}.dist-info"
    points = configparser.ConfigParser()
    points.read_string(zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode())
    assert dict(points["console_scripts"]) == {"llamalens": "llamalens.app.cli:main"}


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(target)
    return target


def python_in(folder: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    """Run python in a neutral folder with the unpacked wheel first on the path."""
    env = dict(os.environ, PYTHONPATH=str(site), QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


IMPORTS = """
import importlib, json, llamalens, llamalens.app.cli
failed = {}
for name in ("app", "model", "viz", "resources"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        failed[name] = exc.name
    else:
        failed[name] = None
print(json.dumps({"llamalens": llamalens.__file__, "failed": failed}))
"""


def test_only_llamalens_imports_from_a_neutral_folder(unpacked: Path, tmp_path: Path) -> None:
    import json

    proc = python_in(tmp_path, unpacked, "-c", IMPORTS)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert Path(result["llamalens"]).is_relative_to(unpacked)  # the wheel, not the checkout
    assert result["failed"] == {n: n for n in ("app", "model", "viz", "resources")}


def test_python_m_llamalens_help_prints_the_usage(unpacked: Path, tmp_path: Path) -> None:
    proc = python_in(tmp_path, unpacked, "-m", "llamalens", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: llamalens ")
    assert "info, tokens, next, dump, sample" in " ".join(proc.stdout.split())
