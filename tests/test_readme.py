"""The README's first commands: no surprise CUDA download, every Qt system library named."""

from __future__ import annotations

import re
from pathlib import Path

from llamalens.app.qt_start import XCB_LIBRARIES

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks() -> list[str]:
    """The README's ```bash blocks, in order."""
    return re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_first_command_installs_the_cpu_torch_build_and_tells_gpu_users():
    first = blocks()[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert commands[0] == "pip install torch --index-url https://download.pytorch.org/whl/cpu"
    assert commands[-1] == "pip install . && llamalens"
    assert "GPU" in first and "CUDA" in first  # what someone with a GPU does instead


def test_every_qt_library_the_start_check_knows_is_in_the_install_line():
    install = next(b for b in blocks() if "apt-get install" in b)
    packages = set(install.replace("\\\n", " ").split()) - {"sudo", "apt-get", "install"}
    assert packages == set(XCB_LIBRARIES.values())
