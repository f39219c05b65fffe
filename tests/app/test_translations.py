"""The shipped translations: complete for every source string, compiled, placeholders kept."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import PySide6
import pytest

from llamalens.app.i18n import LANGUAGES, qm_path, translations_dir

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def qt_tool(name: str) -> str:
    """PySide6's lupdate / lrelease (in the wheel, or as the pyside6-* entry point)."""
    for candidate in (
        Path(PySide6.__file__).parent / name,
        Path(PySide6.__file__).parent / f"{name}.exe",
    ):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(f"pyside6-{name}")
    assert found, f"{name} not found: PySide6-Essentials ships it"
    return found


def sources() -> list[str]:
    files = sorted(
        str(p.relative_to(ROOT)) for d in ("app", "viz") for p in (ROOT / d).rglob("*.py")
    )
    assert len(files) > 20
    return files


def messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(ts).getroot()
    return {
        (ctx.findtext("name"), m.findtext("source")): m.find("translation")
        for ctx in root.iter("context")
        for m in ctx.iter("message")
    }


@pytest.fixture(scope="module", params=[loc for loc in LANGUAGES if loc != "en"])
def ts_file(request) -> Path:
    return translations_dir() / f"llamalens_{request.param}.ts"


def test_every_source_string_has_a_finished_translation(ts_file, tmp_path):
    shipped = messages(ts_file)
    fresh = tmp_path / ts_file.name
    shutil.copy(ts_file, fresh)
    out = subprocess.run(
        [qt_tool("lupdate"), *sources(), "-no-obsolete", "-locations", "none", "-ts", str(fresh)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    current = messages(fresh)
    assert len(current) > 150
    missing = sorted(key for key, t in current.items() if t.get("type") == "unfinished")
    assert not missing, f"{len(missing)} strings without a translation, e.g. {missing[:5]}"
    assert set(current) == set(shipped), "the .ts is not up to date: run lupdate"


def test_translations_keep_placeholders_and_are_chinese(ts_file):
    for (context, source), translation in messages(ts_file).items():
        text = translation.text or ""
        where = f"{context}: {source!r}"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), where
        assert text != source, f"untranslated: {where}"
        assert CJK.search(text), f"no Chinese in the translation of {where}"


def test_compiled_file_is_the_ts_compiled(ts_file, tmp_path):
    locale = ts_file.stem.split("_", 1)[1]
    out = tmp_path / "check.qm"
    done = subprocess.run([qt_tool("lrelease"), str(ts_file), "-qm", str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == qm_path(locale).read_bytes(), "run lrelease: the .qm is stale"
