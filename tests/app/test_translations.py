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


def test_translated_literals_are_where_lupdate_finds_them():
    """A literal passed to a helper (``_tr("…")``, ``texts.tr("…")``) is never extracted:
    literals go through ``self.tr``, ``QCoreApplication.translate`` or
    ``QT_TRANSLATE_NOOP``; helpers receive the marked constants."""
    import ast

    offenders = []
    for name in sources():
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called not in ("tr", "_tr"):
                continue
            on_self = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "self"
            literal = isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
            if literal and not on_self:
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, offenders


def test_stage_names_are_the_models():
    from llamalens.app.stage_view import STAGE_TEXT
    from llamalens.model.attention import STAGE_LABELS

    assert STAGE_TEXT == STAGE_LABELS
